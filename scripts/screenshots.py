"""Screenshots of the example registry for the README (docs/screenshots/*.png).

Builds the site from source/ (unless --site points at a built one), serves it on
127.0.0.1 and drives the Debian Chromium with Playwright (no browser download):

    .venv/bin/python scripts/screenshots.py [--site _build/html] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from orgreg_sphinx.cli.serve import serving

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
#: (file name, page, viewport width, colour scheme, usage tab to open or "")
SHOTS = [
    ("home.png", "index.html", 1200, "light", ""),
    ("namespace.png", "acme/busybox/index.html", 1200, "light", "Singularity"),
    ("namespace-dark.png", "hpc-lab/openmpi/index.html", 1200, "dark", "Apptainer"),
    ("home-phone.png", "index.html", 360, "light", ""),
]


def build_site(out: Path) -> Path:
    from sphinx.cmd.build import build_main

    html = out / "html"
    code = build_main(["-q", "-b", "html", "-c", str(REPO), str(REPO / "source"), str(html),
                       "-d", str(out / "doctrees")])
    if code:
        raise SystemExit(f"sphinx-build failed ({code})")
    return html


def take(site: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serving(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, page_path, width, scheme, tab in SHOTS:
            context = browser.new_context(
                viewport={"width": width, "height": 800}, color_scheme=scheme,
                device_scale_factor=1,
            )
            context.route("**/*", lambda route: route.continue_()
                          if route.request.url.startswith(base) else route.abort())
            page = context.new_page()
            page.goto(base + page_path)
            page.wait_for_load_state("load")
            if tab and page.get_by_role("tab", name=tab).count():
                page.get_by_role("tab", name=tab).click()
            target = out / name
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build source/)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site or build_site(Path(tmp))
        for path in take(site, args.out):
            print(path)


if __name__ == "__main__":
    main()
