"""Vendor the country flags into static/flags/ from the flag-icons npm package (MIT).

    cd /tmp && npm pack flag-icons && tar xzf flag-icons-*.tgz
    .venv/bin/python scripts/vendor_flags.py /tmp/package

Each region's 4x3 SVG is copied as it is when it is small; the few detailed ones (coats of
arms, up to 180 KB) are drawn once by Debian's Chromium into a small PNG instead, since a
flag is shown at most 48 px wide. The package's licence is copied beside them.
"""

from __future__ import annotations

import pathlib
import shutil
import sys

from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = ROOT / "static" / "flags"
MAX_SVG_BYTES = 12_000
PNG_SIZE = (96, 72)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def rasterize(svgs: list[pathlib.Path]) -> None:
    """Draw each SVG into TARGET/<code>.png at PNG_SIZE."""
    width, height = PNG_SIZE
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": height})
        for svg in svgs:
            page.set_content(
                f'<img src="data:image/svg+xml;base64,{_b64(svg)}" width="{width}" '
                f'height="{height}" style="display:block">'
            )
            page.wait_for_load_state("load")
            page.screenshot(path=str(TARGET / f"{svg.stem}.png"), omit_background=True)
        browser.close()


def _b64(path: pathlib.Path) -> str:
    import base64

    return base64.b64encode(path.read_bytes()).decode()


def main(package: pathlib.Path) -> None:
    """Copy small SVGs, rasterize large ones, copy the licence."""
    source = package / "flags" / "4x3"
    TARGET.mkdir(parents=True, exist_ok=True)
    large = []
    for svg in sorted(source.glob("??.svg")):  # regions only, not gb-eng and other subdivisions
        if svg.stat().st_size <= MAX_SVG_BYTES:
            shutil.copyfile(svg, TARGET / svg.name)
        else:
            large.append(svg)
    rasterize(large)
    shutil.copyfile(package / "LICENSE", TARGET / "LICENSE")
    print(f"{len(list(TARGET.glob('*.svg')))} SVG, {len(large)} PNG in {TARGET}")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/package"))
