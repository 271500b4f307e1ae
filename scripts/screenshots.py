"""Screenshots of the example registry for the README (docs/screenshots/*.png).

Builds the site from source/ (unless --site points at a built one), and once more
with furo for an embedded listing, serves them on 127.0.0.1 and drives the Debian
Chromium with Playwright (no browser download):

    .venv/bin/python scripts/screenshots.py [--site _build/html] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import Locator, Page, sync_playwright

from orgreg_sphinx.cli.serve import serving

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
#: (file name, page, viewport width, colour scheme, usage tab to open or "", the
#: caption of the one listing to show or "" for the whole page)
SHOTS = [
    ("home.png", "index.html", 1200, "light", "", ""),
    ("namespace.png", "acme/busybox/index.html", 1200, "light", "Singularity", ""),
    ("namespace-dark.png", "hpc-lab/openmpi/index.html", 1200, "dark", "Apptainer", ""),
    ("home-phone.png", "index.html", 360, "light", "", ""),
    # the guide (sidebar, on-page contents), the keys page on a phone, the 404 page
    ("guide-tutorial.png", "guide/tutorial.html", 1280, "light", "", ""),
    ("guide-tutorial-dark-phone.png", "guide/tutorial.html", 390, "dark", "", ""),
    ("keys-phone.png", "api/keys/index.html", 390, "light", "", ""),
    ("namespace-phone.png", "acme/busybox/index.html", 390, "light", "", ""),
    # a tag's view (a section of its namespace page, shown as the page by #tag-<name>)
    ("tag-view.png", "acme/busybox/index.html#tag-signed-example", 1280, "light", "", ""),
    ("tag-view-dark.png", "acme/busybox/index.html#tag-signed-example", 1280, "dark", "", ""),
    ("tag-view-phone.png", "acme/busybox/index.html#tag-signed-example", 390, "light", "", ""),
    ("tag-view-phone-dark.png", "hpc-lab/openmpi/index.html#tag-4.1.5", 390, "dark", "", ""),
    ("not-found.png", "404.html", 1280, "light", "", ""),
    # the guide's listing variants (source/guide/directive.md)
    ("listing-recent.png", "guide/directive.html", 1280, "light", "", "Recently updated"),
    ("listing-recent-dark.png", "guide/directive.html", 1280, "dark", "", "Recently updated"),
    ("listing-newest.png", "guide/directive.html", 1280, "light", "", "Newest release"),
    ("listing-recent-phone.png", "guide/directive.html", 360, "light", "", "Recently updated"),
]
#: pages in another theme: (file name, theme, page, scheme, caption): the same guide
#: listing embedded, and a tag's view (the listings' stylesheet works in any theme)
THEME_SHOTS = [
    ("listing-recent-furo-dark.png", "furo", "guide/directive.html", "dark", "Recently updated"),
    ("tag-view-furo.png", "furo", "acme/busybox/index.html#tag-signed-example", "light", ""),
]


def build_site(out: Path, theme: str = "") -> Path:
    from sphinx.cmd.build import build_main

    html = out / "html"
    extra = ["-D", f"html_theme={theme}"] if theme else []
    code = build_main(
        [
            "-q",
            "-b",
            "html",
            "-c",
            str(REPO),
            *extra,
            str(REPO / "source"),
            str(html),
            "-d",
            str(out / "doctrees"),
        ]
    )
    if code:
        raise SystemExit(f"sphinx-build failed ({code})")
    return html


def listing_box(page: Page, caption: str) -> Locator:
    """The directive's box (toolbar, table, "more" line) of the listing *caption*."""
    table = page.locator("table.orgreg-namespaces, table.orgreg-tags", has_text=caption)
    return table.first.locator("xpath=ancestor::div[contains(@class, 'orgreg ')][1]")


def take(site: Path, out: Path, shots: list[tuple[str, str, int, str, str, str]]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serving(site) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, page_path, width, scheme, tab, caption in shots:
            context = browser.new_context(
                viewport={"width": width, "height": 800},
                color_scheme=scheme,
                device_scale_factor=1,
            )
            context.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith(base) else route.abort()
                ),
            )
            page = context.new_page()
            page.goto(base + page_path)
            page.wait_for_load_state("load")
            if tab and page.get_by_role("tab", name=tab).count():
                page.get_by_role("tab", name=tab).click()
            target = out / name
            if caption:
                listing_box(page, caption).screenshot(path=str(target))
            else:
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
        site = args.site or build_site(Path(tmp) / "orgreg")
        for path in take(site, args.out, SHOTS):
            print(path)
        themed: dict[str, Path] = {}
        for name, theme, page, scheme, caption in THEME_SHOTS:
            if theme not in themed:
                themed[theme] = build_site(Path(tmp) / theme, theme)
            shot = (name, page, 1280, scheme, "", caption)
            for path in take(themed[theme], args.out, [shot]):
                print(path)


if __name__ == "__main__":
    main()
