"""The documentation and the pages issue 25 found hard to use at 390 px, in
Debian's Chromium (Playwright): the guide's sidebar and on-page contents, the
404 page, the keys page and a namespace page's commands, at 390 and 1280 px, in
light and dark, with no sideways scroll and nothing axe finds serious."""

# ruff: noqa: F811 (the fixtures imported from test_theme_browser are arguments here)
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import EXAMPLE_SOURCE, REPO
from test_theme_browser import (  # noqa: F401 (pytest fixtures)
    CI_VARIABLES,
    Server,
    axe_sync,
    browser,
    example_site,
    open_context,
)


@pytest.fixture(scope="module")
def published_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The example site built for the address it is served at (as a Pages build
    knows its address): the 404 page's links then work at any depth."""
    from sphinx.cmd.build import build_main

    out = tmp_path_factory.mktemp("published")
    (out / "html").mkdir()
    server = Server(out / "html")
    saved = {name: os.environ.pop(name) for name in CI_VARIABLES if name in os.environ}
    try:
        args = ["-q", "-b", "html", "-c", str(REPO), "-D", f"orgreg_site_url={server.base}"]
        args += [str(EXAMPLE_SOURCE), str(out / "html"), "-d", str(out / "doctrees")]
        assert build_main(args) == 0
    finally:
        os.environ.update(saved)
    yield server
    server.close()


PAGES = ["guide/tutorial.html", "guide/workflow.html", "api/keys/", "acme/busybox/", "nope.html"]


def open_page(open_context: Any, site: Server, path: str, width: int, scheme: str) -> Any:
    context, watch = open_context(
        site.base, viewport={"width": width, "height": 900}, color_scheme=scheme
    )
    page = context.new_page()
    page.goto(site.base + path)
    page.wait_for_load_state("load")
    watch.missing_page = path.startswith("nope")  # the 404 page comes with its status
    return page, watch


def check(watch: Any) -> None:
    """The browser saw no error but the status of the 404 page itself."""
    if getattr(watch, "missing_page", False):
        watch.errors = [
            e
            for e in watch.errors
            if not (e.startswith("HTTP 404 for ") and "/nope" in e) and "status of 404" not in e
        ]
    watch.check()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("path", PAGES)
def test_no_sideways_scroll_and_axe_finds_nothing(
    example_site: Server, open_context: Any, path: str, width: int, scheme: str
) -> None:
    page, watch = open_page(open_context, example_site, path, width, scheme)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{path} is {scroll}px wide at {width}px"
    results = axe_sync.Axe().run(page)
    assert results.response["passes"], "axe ran no rule"
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe on {path} at {width}px ({scheme}): {bad}"
    check(watch)


#: every code block with its Copy button: [pre box, button box] as rectangles
COPY_BOXES = """() => [...document.querySelectorAll('.orgreg-has-copy')].map(box => {
  const pre = box.querySelector(':scope > pre, :scope pre').getBoundingClientRect();
  const button = box.querySelector(':scope > .orgreg-copy').getBoundingClientRect();
  return [[pre.left, pre.top, pre.right, pre.bottom],
          [button.left, button.top, button.right, button.bottom]];
})"""


def overlaps(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("path", ["api/keys/", "acme/busybox/", "guide/workflow.html"])
def test_copy_buttons_never_cover_their_code_at_390px(
    example_site: Server, open_context: Any, path: str
) -> None:
    page, watch = open_page(open_context, example_site, path, 390, "light")
    page.wait_for_selector(".orgreg-has-copy .orgreg-copy")
    boxes = page.evaluate(COPY_BOXES)
    assert boxes
    for pre, button in boxes:
        if pre[2] > pre[0]:  # a visible block (a closed tab's has no size)
            assert not overlaps(pre, button), (path, pre, button)
    check(watch)


def test_the_keys_page_at_390px(example_site: Server, open_context: Any) -> None:
    """No 'Fingerprin/t:', the fingerprint on screen (its groups wrap, whole)."""
    page, watch = open_page(open_context, example_site, "api/keys/", 390, "light")
    names = page.eval_on_selector_all(
        "dl.orgreg-facts > dt",
        "dts => dts.map(d => [d.textContent.trim(), d.getClientRects().length,"
        " d.getBoundingClientRect().height, parseFloat(getComputedStyle(d).lineHeight)])",
    )
    assert "Fingerprint:" in [n[0] for n in names]
    for text, _, height, line in names:
        assert height < 1.5 * line, f"{text!r} breaks over lines"
    fingerprint = page.eval_on_selector(
        "code.orgreg-fingerprint",
        "c => [c.getBoundingClientRect().right, [...c.querySelectorAll('span.pre')]"
        ".map(s => s.getClientRects().length)]",
    )
    right, pieces = fingerprint
    assert right <= 390, f"the fingerprint ends at {right}px"
    assert set(pieces) == {1}  # no group of four is broken
    check(watch)


@pytest.mark.parametrize("width", [390, 1280])
def test_usage_tabs_on_one_row(example_site: Server, open_context: Any, width: int) -> None:
    page, watch = open_page(open_context, example_site, "acme/busybox/", width, "light")
    page.wait_for_selector(".orgreg-tab")
    tops = page.eval_on_selector_all(
        ".orgreg-usage .orgreg-tab", "tabs => tabs.map(t => t.getBoundingClientRect().top)"
    )
    assert len(tops) >= 4 and len(set(tops)) == 1, tops
    check(watch)


def test_the_guides_diagram_scrolls_and_is_not_cut_at_390px(
    example_site: Server, open_context: Any
) -> None:
    page, watch = open_page(open_context, example_site, "guide/workflow.html", 390, "light")
    pre = page.locator("div.highlight-text pre").first
    style = pre.evaluate(
        "p => [getComputedStyle(p).overflowX, p.scrollWidth, p.clientWidth,"
        " p.getBoundingClientRect().right]"
    )
    overflow, scroll_width, client_width, right = style
    assert right <= 390
    assert overflow in ("auto", "scroll") and scroll_width > client_width  # all of it, by scroll
    pre.evaluate("p => { p.scrollLeft = p.scrollWidth; }")
    assert pre.evaluate("p => p.scrollLeft + p.clientWidth >= p.scrollWidth - 1")
    check(watch)


def test_the_guide_has_a_sidebar_and_on_page_contents(
    example_site: Server, open_context: Any
) -> None:
    page, watch = open_page(open_context, example_site, "guide/tutorial.html", 1280, "light")
    header = page.locator(".orgreg-nav > a", has_text="Guide")
    assert header.get_attribute("aria-current") == "true"
    sidebar = page.locator("nav.orgreg-docs-nav")
    assert sidebar.is_visible()
    captions = sidebar.locator(".orgreg-docs-caption").all_inner_texts()
    assert [c.strip().lower() for c in captions] == [
        "tutorial",
        "how-to guides",
        "reference",
        "explanation",
    ]
    current = sidebar.locator('a[aria-current="page"]')
    assert current.inner_text() == "Your registry in 15 minutes"
    contents = page.locator("nav.orgreg-page-toc")
    assert contents.is_visible()
    assert "4. A signing key" in contents.inner_text()
    # the sidebar and the contents stay beside the text while it scrolls
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(200)
    assert sidebar.bounding_box()["y"] >= 0 and contents.bounding_box()["y"] >= 0
    check(watch)

    small, watch = open_page(open_context, example_site, "guide/tutorial.html", 390, "light")
    menu = small.locator("details.orgreg-docs-menu")
    assert menu.is_visible() and menu.get_attribute("open") is None  # closed: the page first
    assert not small.locator("nav.orgreg-page-toc").is_visible()
    menu.locator("summary").click()
    assert small.locator("nav.orgreg-docs-nav a", has_text="How it works").is_visible()
    check(watch)


def test_namespace_pages_have_no_docs_sidebar(example_site: Server, open_context: Any) -> None:
    page, watch = open_page(open_context, example_site, "acme/busybox/", 1280, "light")
    assert page.locator("nav.orgreg-docs-nav").count() == 0
    assert page.locator("nav.orgreg-page-toc").count() == 0
    check(watch)


def test_the_404_page_at_any_depth(published_site: Server, open_context: Any) -> None:
    """Served for a missing address at any depth, styled, its links working."""
    page, watch = open_page(open_context, published_site, "nope/x/", 1280, "light")
    assert page.locator("h1").inner_text().startswith("Page not found")
    background = page.evaluate("getComputedStyle(document.querySelector('.orgreg-header')).display")
    assert background == "flex"  # the theme's stylesheet loaded from the nested address
    page.locator("a", has_text="Browse every container").click()
    page.wait_for_load_state("load")
    assert page.url == published_site.base + "index.html"
    check(watch)
