"""A paged home page in a real browser (issue 28): the filter finds a namespace
on another page from the names index, the search page finds containers by name,
and the listing's pages pass axe. Debian Chromium through Playwright, against a
built site served on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import test_theme_browser
from conftest import CONF, INDEX, write_tree
from test_home_pages import COUNT, ORGS, PAGE, many, repo
from test_theme_browser import Server, axe_sync, sphinx_build

# the browser and its watched contexts, shared with the theme's browser tests
browser = test_theme_browser.browser
open_context = test_theme_browser.open_context

NAMES = sorted(f"{ORGS[i % len(ORGS)]}/{repo(i)}" for i in range(COUNT))


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """30 namespaces, 8 to a page."""
    src = tmp_path_factory.mktemp("paged-src")
    (src / "conf.py").write_text(CONF + f"orgreg_listing_page_size = {PAGE}\n")
    (src / "index.md").write_text(INDEX)
    write_tree(src, many())
    server = Server(sphinx_build(src, tmp_path_factory.mktemp("paged-out")))
    yield server
    server.close()


def shown_rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "table.orgreg-namespaces tr.orgreg-namespace-row:not([hidden]) td:first-child",
        "cells => cells.map(c => c.textContent.trim())",
    )


def test_the_filter_finds_a_namespace_on_another_page(
    paged_site: Server, open_context: Any
) -> None:
    context, watch = open_context(paged_site.base)
    page = context.new_page()
    page.goto(paged_site.base)
    status = page.locator(".orgreg-namespace-filter [role=status]")
    assert status.inner_text() == f"Showing {PAGE} of {COUNT} containers"
    assert shown_rows(page) == NAMES[:PAGE]
    wanted = NAMES[-1]  # on the last page
    assert wanted not in shown_rows(page)
    before = len(watch.requests)
    page.get_by_label("Filter containers").fill(wanted)
    page.wait_for_function(
        "name => [...document.querySelectorAll('tr.orgreg-namespace-row:not([hidden])')]"
        ".some(r => r.textContent.includes(name))",
        arg=wanted,
    )
    assert shown_rows(page) == [wanted]
    assert status.inner_text() == f"1 of {COUNT} containers match"
    fetched = [
        url.removeprefix(paged_site.base)
        for url in watch.requests[before:]
        if url.endswith(".json")
    ]
    word = max(wanted.replace("/", "-").split("-"), key=len)
    assert fetched == ["api/namespaces/index.json", f"api/namespaces/{word[:2]}.json"]
    assert "filter=" in page.url  # kept in the address
    # the found row links to the namespace's page
    page.get_by_role("link", name=wanted).click()
    page.wait_for_load_state("load")
    assert page.url == f"{paged_site.base}{wanted}/index.html"
    # one letter filters this page's rows only, and says so
    page.goto(paged_site.base)
    page.get_by_label("Filter containers").fill("z")
    page.wait_for_function(
        "() => document.querySelector('.orgreg-namespace-filter [role=status]')"
        ".textContent.includes('type two letters')"
    )
    page.get_by_label("Filter containers").fill("nothing")
    page.wait_for_function(
        "() => document.querySelector('.orgreg-empty').textContent"
        " === 'No container matches \u201cnothing\u201d.'"
    )
    assert page.locator(".orgreg-empty").is_visible()
    assert page.locator("table.orgreg-namespaces").is_hidden()
    watch.check()


def test_the_pager_reaches_the_last_page_and_the_other_order(
    paged_site: Server, open_context: Any
) -> None:
    context, watch = open_context(paged_site.base, java_script_enabled=False)
    page = context.new_page()
    page.goto(paged_site.base)
    page.get_by_role("link", name="Next →").click()
    assert page.url.endswith("_containers/name-2.html")
    assert shown_rows(page) == NAMES[PAGE : 2 * PAGE]
    page.get_by_role("link", name="4", exact=True).click()
    assert shown_rows(page) == NAMES[3 * PAGE :]
    page.get_by_role("link", name="Recently updated").click()
    assert page.url.endswith("_containers/updated-1.html")
    assert len(shown_rows(page)) == PAGE
    watch.check()


def test_the_search_page_finds_a_container_by_name(paged_site: Server, open_context: Any) -> None:
    context, watch = open_context(paged_site.base)
    page = context.new_page()
    wanted = NAMES[-1]
    word = max(wanted.replace("/", "-").split("-"), key=len)
    page.goto(f"{paged_site.base}search.html?q={word}")
    section = page.locator("#orgreg-ns-found")
    section.get_by_role("link", name=wanted).wait_for()
    expected = sorted(name for name in NAMES if word in name)
    links = section.locator("a").all_inner_texts()
    assert links == expected
    section.get_by_role("link", name=wanted).click()
    page.wait_for_load_state("load")
    assert page.url == f"{paged_site.base}{wanted}/index.html"
    watch.check()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["", "_containers/name-2.html", "search.html?q=samtools"])
def test_accessibility_of_the_paged_listing(
    paged_site: Server, open_context: Any, path: str, scheme: str
) -> None:
    context, watch = open_context(paged_site.base, color_scheme=scheme)
    page = context.new_page()
    page.goto(paged_site.base + path)
    page.wait_for_load_state("networkidle")
    results = axe_sync.Axe().run(page)
    assert results.response["passes"], "axe ran no rule"
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe on {path or 'home'} ({scheme}): {bad}"
    watch.check()
