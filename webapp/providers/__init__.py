"""Carrier adapters, one module each, looked up by route name in `PROVIDERS`.

A module of this package that defines `ADAPTER` (an object implementing
`base.Provider`) is a provider: adding a carrier is adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Provider


def _discover() -> dict[str, Provider]:
    found: dict[str, Provider] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        adapter = getattr(module, "ADAPTER", None)
        if adapter is not None:
            found[adapter.name] = adapter
    return found


PROVIDERS: dict[str, Provider] = _discover()
