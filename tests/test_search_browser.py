"""The registry's software search in a real browser (Debian Chromium through
Playwright) on a built 1000-namespace site: typing a tool finds the right tags,
facets narrow them, and a query downloads only the contents index and the shard
of its name (bytes measured, printed and bounded; speed is not asserted)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_theme_browser
from conftest import REPO
from test_theme_browser import Server, axe_sync, sphinx_build

from orgreg_sphinx.core import contentsapi

sys.path.insert(0, str(REPO / "bench"))
import run as bench_trees  # noqa: E402  (bench/run.py: the tree generator)

NAMESPACES = 1000
TAGS = 2
SEED = 7
#: what one query may download (raw JSON), as bench/search.py reports it
BOUND_BYTES = 128 * 1024

# the browser fixtures of the theme's tests (Debian Chromium, requests kept on 127.0.0.1)
browser = test_theme_browser.browser
open_context = test_theme_browser.open_context


def generated() -> list[Any]:
    return bench_trees.synthetic_registry(NAMESPACES, TAGS, SEED)


def expected(tool: str) -> dict[str, dict[str, str]]:
    """Each tag (``org/repo:tag``) whose generated image holds *tool*: its
    organization, architecture and the tool's version."""
    found = {}
    for ns in generated():
        for tag in ns.tags:
            facts, record = bench_trees.contents_record(ns, tag)
            versions = [p["version"] for p in record["packages"] if p["name"] == tool]
            if versions:
                arch = re.search(r"arch: (\w+)", facts)
                assert arch is not None
                found[f"{ns.name}:{tag.name}"] = {
                    "org": ns.org,
                    "arch": arch.group(1),
                    "version": versions[0],
                }
    return found


@pytest.fixture(scope="session")
def registry_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """1000 namespaces x 2 tags with contents records (bench/run.py's generator),
    built once with the orgreg theme and served."""
    src = tmp_path_factory.mktemp("search-src") / "src"
    bench_trees.write_extension_project(src, generated(), "orgreg", contents=True)
    (src / "conf.py").write_text((src / "conf.py").read_text() + "orgreg_history = False\n")
    html = sphinx_build(src, tmp_path_factory.mktemp("search-out"))
    server = Server(html)
    yield server, html
    server.close()


def contents_requests(page: Any, base: str) -> list[tuple[str, int]]:
    """Record (path, body bytes) of each finished request under api/contents/."""
    seen: list[tuple[str, int]] = []

    def finished(request: Any) -> None:
        if request.url.startswith(base + "api/contents/"):
            seen.append((request.url[len(base) :], request.sizes()["responseBodySize"]))

    page.on("requestfinished", finished)
    return seen


def shown_refs(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all("#orgreg-find tbody tr", "rs => rs.map(r => r.dataset.ref)")
    )


def images_found(page: Any) -> int:
    """The number of images the status line says hold the query."""
    status = page.locator(".orgreg-find-status").inner_text()
    found = re.match(r"(\d+) images? hold", status)
    assert found, status
    return int(found.group(1))


def wait_for_status(page: Any, text: str) -> None:
    page.wait_for_function(
        "t => (document.querySelector('.orgreg-find-status') || {}).textContent.startsWith(t)",
        arg=text,
    )


def reader(html: Path) -> Any:
    def read(path: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((html / path).read_bytes())
        return loaded

    return read


def test_typing_a_tool_finds_its_tags_and_facets_narrow_them(
    registry_site: tuple[Server, Path], open_context: Any
) -> None:
    server, html = registry_site
    want = expected("samtools")
    assert len(want) > 10
    context, watch = open_context(server.base)
    page = context.new_page()
    fetched = contents_requests(page, server.base)
    page.goto(server.base + "search.html")
    page.get_by_role("searchbox", name="Search").press_sequentially("samtools", delay=20)
    wait_for_status(page, f"{len(want)} images hold")
    assert shown_refs(page) == set(want)

    # what the query downloaded: the index and the shard of "samtools", nothing else
    paths = contentsapi.shard_paths("samtools", reader(html))
    assert paths == ["api/contents/index.json", "api/contents/sa.json"]
    assert [p for p, _ in fetched] == paths
    downloaded = sum(size for _, size in fetched)
    assert downloaded == sum((html / p).stat().st_size for p in paths)
    print(f"\nsearch 'samtools' at {NAMESPACES} namespaces downloaded {downloaded} bytes: {paths}")
    assert downloaded <= BOUND_BYTES

    # facets narrow: the architecture, then also the organization
    arm = {ref for ref, w in want.items() if w["arch"] == "arm64"}
    assert arm and arm != set(want)
    facets = page.get_by_role("group", name="Narrow the results")
    facets.get_by_role("group", name="Architecture").get_by_role(
        "checkbox", name=re.compile(r"^arm64 ")
    ).check()
    wait_for_status(page, f"{len(arm)} image")
    assert shown_refs(page) == arm
    org = sorted(want[ref]["org"] for ref in arm)[0]
    both = {ref for ref in arm if want[ref]["org"] == org}
    facets.get_by_role("group", name="Organization").get_by_role(
        "checkbox", name=re.compile(f"^{re.escape(org)} ")
    ).check()
    wait_for_status(page, f"{len(both)} image")
    assert shown_refs(page) == both

    # a version after the name narrows to the tags holding that version
    version = sorted(w["version"] for w in want.values())[0]
    with_version = {ref for ref, w in want.items() if w["version"] == version}
    box = page.get_by_role("searchbox", name="Search")
    box.fill(f"samtools {version}")
    wait_for_status(page, f"{len(with_version)} image")
    assert shown_refs(page) == with_version
    # the shard was read once: a new query reads nothing again
    assert [p for p, _ in fetched] == paths

    # a result links to the tag's view on its namespace page
    first = sorted(with_version)[0]
    page.get_by_role("link", name=first, exact=True).click()
    namespace, tag = first.split(":")
    page.wait_for_url(f"**/{namespace}/index.html#tag-{tag}")
    assert page.locator(f"section[id='tag-{tag}']").is_visible()
    watch.check()


def test_a_name_in_every_image_is_read_a_part_at_a_time(
    registry_site: tuple[Server, Path], open_context: Any
) -> None:
    server, html = registry_site
    index = json.loads((html / contentsapi.INDEX_PATH).read_bytes())
    paths = contentsapi.shard_paths("maintainer", reader(html))
    key = paths[-1].rsplit("/", 1)[1][: -len(".json")]
    parts = index["parts"][key]  # a label key in every tag: larger than one shard
    assert parts > 1
    sizes = [(html / contentsapi.PART_PATH.format(shard=key, part=n)) for n in range(1, parts)]
    assert all(p.stat().st_size <= contentsapi.MAX_SHARD_BYTES for p in [html / paths[-1], *sizes])
    context, watch = open_context(server.base)
    page = context.new_page()
    fetched = contents_requests(page, server.base)
    page.goto(server.base + "search.html?q=maintainer")
    page.wait_for_selector("#orgreg-find tbody tr")
    first = images_found(page)
    assert (
        f"(in the first 1 of {parts} parts of the index)"
        in page.locator(".orgreg-find-status").inner_text()
    )
    assert [p for p, _ in fetched] == paths
    page.get_by_role("button", name="Search the next part of the index").click()
    page.wait_for_function(
        "t => document.querySelector('.orgreg-find-status').textContent.includes(t)",
        arg=f"first 2 of {parts}",
    )
    assert images_found(page) > first > 0
    assert len(shown_refs(page)) == 50  # shown 50 at a time
    page.get_by_role("button", name=re.compile(r"^Show 50 more images")).click()
    assert len(shown_refs(page)) == 100
    assert [p for p, _ in fetched] == [*paths, contentsapi.PART_PATH.format(shard=key, part=1)]
    # a stem of many names spread over several shards: asked for more of the name
    box = page.get_by_role("searchbox", name="Search")
    box.fill("lib")
    wait_for_status(page, 'Many names begin with "lib": type more of the name.')
    assert shown_refs(page) == set()
    watch.check()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_search_page_accessibility(
    registry_site: tuple[Server, Path], open_context: Any, scheme: str
) -> None:
    server, _ = registry_site
    context, watch = open_context(server.base, color_scheme=scheme)
    page = context.new_page()
    page.goto(server.base + "search.html?q=samtools")
    page.wait_for_selector("#orgreg-find tbody tr")
    results = axe_sync.Axe().run(page)
    assert results.response["passes"], "axe ran no rule"
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad
    watch.check()


@pytest.mark.parametrize("theme", ["alabaster", "furo"])
def test_other_themes_keep_sphinx_search(theme: str, tmp_path: Path, open_context: Any) -> None:
    """Another theme: the site builds, its search page is Sphinx's and finds a
    namespace page; the software search is the orgreg theme's only."""
    src = tmp_path / "src"
    bench_trees.write_extension_project(
        src, bench_trees.synthetic_registry(12, 1, SEED), theme, contents=True
    )
    html = sphinx_build(src, tmp_path / "out")
    assert (html / contentsapi.INDEX_PATH).is_file()  # the API is the extension's
    page_html = (html / "search.html").read_text()
    assert "orgreg-find" not in page_html and "orgreg-search.js" not in page_html
    name = bench_trees.synthetic_registry(12, 1, SEED)[3].repo
    server = Server(html)
    try:
        context, watch = open_context(server.base)
        page = context.new_page()
        page.goto(server.base + f"search.html?q={name}")
        page.wait_for_selector(f"#search-results a[href*='{name}']")
        watch.check()
    finally:
        server.close()
