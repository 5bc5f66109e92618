"""Carrier adapters, one module each, looked up by route name in `PROVIDERS`."""

from __future__ import annotations

from .base import Provider
from .generic import GenericProvider
from .twilio import TwilioProvider

PROVIDERS: dict[str, Provider] = {
    adapter.name: adapter
    for adapter in (
        TwilioProvider(),
        GenericProvider(),
    )
}
