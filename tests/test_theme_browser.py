"""The orgreg theme in a real browser: headless Debian Chromium driven by Playwright
(never a downloaded browser), against built sites served on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONF, EXAMPLE_SOURCE, REPO, collection, manifest, sha256, write_tree

from orgreg_sphinx.cli.serve import serving
from orgreg_sphinx.sphinxext.shared import human_size

sync_api = pytest.importorskip("playwright.sync_api")
axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")

CHROMIUM = os.environ.get("ORGREG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

NAMESPACE_PAGES = [
    "acme/busybox/",
    "acme/centos/",
    "bio-core/samtools/",
    "hpc-lab/openmpi/",
    "hpc-lab/pytorch-cpu/",
]
BIG_TAGS = 500
CI_VARIABLES = ("ORGREG_SITE_URL", "GITHUB_REPOSITORY", "READTHEDOCS_CANONICAL_URL")


def sphinx_build(srcdir: Path, outdir: Path, confdir: Path | None = None) -> Path:
    """Build *srcdir* into ``outdir/html`` with sphinx-build's own entry point."""
    from sphinx.cmd.build import build_main

    args = ["-q", "-b", "html", str(srcdir), str(outdir / "html"), "-d", str(outdir / "doctrees")]
    if confdir is not None:
        args += ["-c", str(confdir)]
    saved = {name: os.environ.pop(name) for name in CI_VARIABLES if name in os.environ}
    try:
        assert build_main(args) == 0, "the site did not build"
    finally:
        os.environ.update(saved)
    return outdir / "html"


class Server:
    """The built site served on 127.0.0.1 in a thread, as GitHub Pages would."""

    def __init__(self, folder: Path) -> None:
        self._serving = serving(folder)
        self.base = self._serving.__enter__()

    def close(self) -> None:
        self._serving.__exit__(None, None, None)


def big_tree() -> dict[str, str]:
    """One namespace with 500 tags of varied sizes and dates, and a small one."""
    files = {
        "big/many/README.md": collection("A namespace with 500 tags"),
        "big/small/README.md": collection("A small neighbour"),
        "big/small/manifests/latest/README.md": manifest(sha256("small")),
    }
    for i in range(BIG_TAGS):
        size = 600_000 + (i * 7919 % BIG_TAGS) * 4096
        created = f"20{20 + i % 5}-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z"
        files[f"big/many/manifests/r{i:03d}/README.md"] = manifest(
            sha256(f"many-{i}"), size, extra=f'created: "{created}"\n'
        )
    return files


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The example registry of the repository, built and served."""
    html = sphinx_build(EXAMPLE_SOURCE, tmp_path_factory.mktemp("example"), confdir=REPO)
    server = Server(html)
    yield server
    server.close()


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A registry with a 500-tag namespace, built and served."""
    src = tmp_path_factory.mktemp("big-src")
    (src / "conf.py").write_text(CONF)
    (src / "index.md").write_text(
        "# Big registry\n\n```{registry}\n```\n\n## Small\n\n"
        "```{registry}\n:namespace: big/small\n```\n"
    )
    write_tree(src, big_tree())
    html = sphinx_build(src, tmp_path_factory.mktemp("big-out"))
    server = Server(html)
    yield server
    server.close()


@pytest.fixture(scope="module")
def plain_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Sphinx site with only ``html_theme = "orgreg"`` (no orgreg_sphinx extension)."""
    src = tmp_path_factory.mktemp("plain-src")
    (src / "conf.py").write_text('project = "Plain"\nhtml_theme = "orgreg"\n')
    (src / "index.rst").write_text(
        "Plain\n=====\n\nText.\n\n.. code-block:: console\n\n   $ echo hello\n   hello\n\n"
        ".. toctree::\n   :caption: Pages\n\n   other\n"
    )
    (src / "other.rst").write_text("Other\n=====\n\nMore text.\n")
    html = sphinx_build(src, tmp_path_factory.mktemp("plain-out"))
    server = Server(html)
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Watch:
    """What a browser context did: console errors, page errors, requests elsewhere."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.requests: list[str] = []

    def check(self) -> None:
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.outside == [], f"requests that left 127.0.0.1: {self.outside}"


@pytest.fixture
def open_context(browser: Any) -> Iterator[Any]:
    """Make browser contexts that refuse and record any request off 127.0.0.1."""
    made: list[tuple[Any, Watch]] = []

    def make(base: str, **options: Any) -> tuple[Any, Watch]:
        options.setdefault("viewport", {"width": 1200, "height": 900})
        context = browser.new_context(**options)
        watch = Watch()

        def route(route: Any) -> None:
            url = route.request.url
            watch.requests.append(url)
            if url.startswith(base):
                route.continue_()
            else:
                watch.outside.append(url)
                route.abort()

        context.route("**/*", route)

        def on_page(page: Any) -> None:
            page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
            page.on("pageerror", lambda e: watch.errors.append(f"page error: {e}"))
            page.on(
                "response",
                lambda r: r.status >= 400 and watch.errors.append(f"HTTP {r.status} for {r.url}"),
            )

        context.on("page", on_page)
        made.append((context, watch))
        return context, watch

    yield make
    for context, _ in made:
        context.close()


def visible_namespaces(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "table.orgreg-namespaces tr.orgreg-namespace-row:not([hidden]) td:first-child",
        "cells => cells.map(c => c.textContent.trim())",
    )


def visible_tags(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "table.orgreg-tags tbody tr:not([hidden])",
        "rows => rows.map(r => r.querySelector('a[href^=\"#tag-\"]')"
        ".getAttribute('href').slice(5))",
    )


def shown_sizes(page: Any) -> list[int]:
    """The sizes of the visible tag rows, in bytes, in the order shown."""
    # a one-line row shows the size as text ("5.0 MiB"): the bytes it stands for
    heads = page.eval_on_selector_all(
        "table.orgreg-tags thead th", "ths => ths.map(th => th.textContent.trim())"
    )
    column = next(i for i, head in enumerate(heads) if head.startswith("Size"))
    found = page.eval_on_selector_all(
        "table.orgreg-tags tbody tr:not([hidden])",
        f"rows => rows.map(r => r.cells[{column}].textContent.trim())",
    )
    return [size_of(text) for text in found]


def size_of(text: str) -> int:
    """The bytes a shown size ("5.0 MiB") stands for, as the theme's script reads it."""
    number, unit = text.split()
    return round(float(number) * {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}[unit])


def clipboard_becomes(page: Any, expected: str) -> bool:
    """Wait until the clipboard holds *expected* (the copy is asynchronous)."""
    try:
        page.wait_for_function(
            "expected => navigator.clipboard.readText().then(text => text === expected)",
            arg=expected,
            timeout=10_000,
        )
    except sync_api.TimeoutError:
        actual = page.evaluate("navigator.clipboard.readText()")
        raise AssertionError(f"clipboard holds {actual!r}, not {expected!r}") from None
    return True


# ---------------------------------------------------------------- home page


def wait_for_namespaces(page: Any, names: list[str]) -> None:
    """Wait until the visible namespace rows are *names* (the filter runs per frame)."""
    page.wait_for_function(
        """names => JSON.stringify([...document.querySelectorAll(
             'table.orgreg-namespaces tr.orgreg-namespace-row:not([hidden]) td:first-child')]
             .map(c => c.textContent.trim())) === JSON.stringify(names)""",
        arg=names,
    )
    assert visible_namespaces(page) == names


def test_filter_narrows_the_namespace_list(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base)
    page = context.new_page()
    page.goto(example_site.base)
    everything = [
        "acme/busybox",
        "acme/centos",
        "bio-core/samtools",
        "hpc-lab/openmpi",
        "hpc-lab/pytorch-cpu",
    ]
    assert visible_namespaces(page) == everything
    search = page.get_by_label("Filter containers")
    status = page.locator(".orgreg-namespace-filter [role=status]")

    search.fill("samtools")  # by name
    wait_for_namespaces(page, ["bio-core/samtools"])
    assert status.inner_text() == "1 of 5 containers match"
    # the organization headings of hidden groups are hidden too
    assert page.locator("tr.orgreg-org-row:not([hidden])").all_inner_texts() == [
        "bio-core (1 container)"
    ]

    search.fill("infiniband")  # by a word of the description, any case
    wait_for_namespaces(page, ["hpc-lab/openmpi"])

    search.fill("5.0.3")  # by a tag name
    wait_for_namespaces(page, ["hpc-lab/openmpi"])
    search.fill("1.17")  # by a tag name
    wait_for_namespaces(page, ["bio-core/samtools"])

    search.fill("acme latest")  # every word must match
    wait_for_namespaces(page, ["acme/busybox", "acme/centos"])

    search.fill("no-such-container")
    wait_for_namespaces(page, [])
    assert "No container matches" in page.inner_text(".orgreg-empty")

    search.press("Escape")
    wait_for_namespaces(page, everything)
    # "/" focuses the filter from anywhere on the page
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "orgreg-ns-filter"
    watch.check()


def test_sorting_the_namespace_list(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base)
    page = context.new_page()
    page.goto(example_site.base)
    sort = page.get_by_label("Sort")
    sort.select_option("updated")
    # newest first; those without a date keep their name order at the end
    wait_for_namespaces(
        page,
        [
            "bio-core/samtools",
            "hpc-lab/openmpi",
            "acme/busybox",
            "acme/centos",
            "hpc-lab/pytorch-cpu",
        ],
    )
    assert page.locator("tr.orgreg-org-row:not([hidden])").count() == 0  # a flat list
    assert "sort=updated" in page.url
    page.get_by_label("Filter containers").fill("acme")
    wait_for_namespaces(page, ["acme/busybox", "acme/centos"])
    page.get_by_label("Filter containers").fill("")
    sort.select_option("tags")
    # most tags first (busybox, samtools and openmpi have 3: by name), then by name
    wait_for_namespaces(
        page,
        [
            "acme/busybox",
            "bio-core/samtools",
            "hpc-lab/openmpi",
            "acme/centos",
            "hpc-lab/pytorch-cpu",
        ],
    )
    sort.select_option("name")
    wait_for_namespaces(
        page,
        [
            "acme/busybox",
            "acme/centos",
            "bio-core/samtools",
            "hpc-lab/openmpi",
            "hpc-lab/pytorch-cpu",
        ],
    )
    assert page.locator("tr.orgreg-org-row:not([hidden])").count() == 3
    page.reload()
    assert page.get_by_label("Sort").input_value() == "name"
    page.goto(example_site.base + "index.html?sort=updated")
    assert visible_namespaces(page)[0] == "bio-core/samtools"
    watch.check()


def test_filter_is_kept_in_the_address(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base)
    page = context.new_page()
    page.goto(example_site.base + "index.html?filter=centos")
    assert visible_namespaces(page) == ["acme/centos"]
    assert page.get_by_label("Filter containers").input_value() == "centos"
    watch.check()


# ------------------------------------------------------------ namespace page


def test_copy_buttons_put_command_and_digest_on_the_clipboard(
    example_site: Server, open_context: Any
) -> None:
    context, watch = open_context(example_site.base)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=example_site.base[:-1])
    page = context.new_page()
    page.goto(example_site.base + "acme/busybox/")
    # a "Copy command" button on every block of commands: the usage tabs' (bare
    # pre.orgreg-command), the views' (one per client, the verify commands) and
    # the lines they share (the views' bare after "Pull", each in the script's copy box)
    blocks = page.locator(
        "pre.orgreg-command, .orgreg-command pre, .orgreg-tag-views > section > .orgreg-pre > pre"
    )
    buttons = page.get_by_role("button", name="Copy command", include_hidden=True)
    assert blocks.count() >= 10
    assert buttons.count() == blocks.count()
    copied = {}
    for panel in page.locator(".orgreg-usage-tab").all():  # every client's tab
        page.locator(f"[role=tab][aria-controls='{panel.get_attribute('id')}']").click()
        assert panel.is_visible()
        expected = panel.locator("pre.orgreg-command").inner_text().strip()
        panel.locator(".orgreg-copy").click()
        assert clipboard_becomes(page, expected)
        copied[panel.get_attribute("class")] = expected
    download = next(text for cls, text in copied.items() if "orgreg-usage-download" in cls)
    assert download.startswith("curl -L -o busybox_latest.sif https://storage.example.org/")
    api = next(text for cls, text in copied.items() if "orgreg-usage-curl" in cls)
    assert api.splitlines() == [
        "curl -s https://<your-registry-site>/acme/busybox/tags/",
        "curl -s https://<your-registry-site>/acme/busybox/manifests/latest/",
    ]

    # the row's short digest copies the whole one, which the tag's view holds
    row = page.locator("tr:has(a[href='#tag-latest'])")
    full = page.locator("section#tag-latest > dl:first-of-type code").first.text_content()
    assert full.startswith("sha256:") and len(full) == 71
    assert full.startswith(row.locator("abbr.orgreg-digest").inner_text())
    row.locator(".orgreg-copy-digest").click()
    assert clipboard_becomes(page, full)
    # and says so to screen readers (the last thing announced stays until the next one)
    page.wait_for_function(
        "document.querySelector('.orgreg-sr-only[role=status]')"
        ".textContent === 'Digest copied to the clipboard'"
    )
    # every digest has its button
    assert (
        page.locator(".orgreg-copy-digest").count()
        == page.locator("abbr.orgreg-digest").count()
        == 3
    )  # latest, 1.36 and the signed example
    watch.check()


def test_sorting_the_tag_table_by_size(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base)
    page = context.new_page()
    page.goto(example_site.base + "bio-core/samtools/")
    before = shown_sizes(page)
    assert len(set(before)) == 3
    size_header = page.locator("table.orgreg-tags th", has_text="Size")
    page.get_by_role("button", name="Sort by size").click()
    assert shown_sizes(page) == sorted(before, reverse=True)  # largest first
    assert size_header.get_attribute("aria-sort") == "descending"
    page.get_by_role("button", name="Sort by size").click()
    assert shown_sizes(page) == sorted(before)
    assert size_header.get_attribute("aria-sort") == "ascending"
    page.get_by_role("button", name="Sort by tag").click()
    assert visible_tags(page) == ["1.17", "1.18", "1.19"]
    watch.check()


def test_usage_tabs_switch_by_mouse_and_keyboard(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base)
    page = context.new_page()
    page.goto(example_site.base + "acme/busybox/")
    tabs = page.get_by_role("tab")
    labels = tabs.all_inner_texts()
    assert len(labels) >= 2
    panels = page.locator(".orgreg-usage-tab")
    assert panels.nth(0).is_visible() and not panels.nth(1).is_visible()
    assert tabs.nth(0).get_attribute("aria-selected") == "true"

    tabs.nth(1).click()
    assert not panels.nth(0).is_visible() and panels.nth(1).is_visible()
    assert tabs.nth(1).get_attribute("aria-selected") == "true"
    assert tabs.nth(0).get_attribute("aria-selected") == "false"

    tabs.nth(1).focus()
    page.keyboard.press("ArrowLeft")
    assert panels.nth(0).is_visible() and not panels.nth(1).is_visible()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "tab"
    page.keyboard.press("End")
    assert panels.nth(len(labels) - 1).is_visible()

    # the chosen client is remembered on the next namespace page
    chosen = tabs.nth(len(labels) - 1).inner_text()
    page.goto(example_site.base + "hpc-lab/openmpi/")
    assert page.get_by_role("tab", name=chosen).get_attribute("aria-selected") == "true"
    watch.check()


def test_tag_rows_are_linkable(example_site: Server, open_context: Any) -> None:
    """#tag-<name> (the anchor rows had) opens the tag's view; the way back to the
    table finds the tag's row marked."""
    context, watch = open_context(example_site.base)
    page = context.new_page()
    page.goto(example_site.base + "hpc-lab/openmpi/#tag-4.1.5")
    assert page.locator("section#tag-4\\.1\\.5").is_visible()
    row = page.locator("tr:has(a[href='#tag-4.1.5'])")
    assert not row.is_visible()
    page.get_by_role("link", name="All tags of hpc-lab/openmpi").click()
    assert row.is_visible()
    assert "orgreg-target" in row.get_attribute("class")
    watch.check()


def test_500_tags_are_paged_filtered_sorted_and_linkable(
    big_site: Server, open_context: Any
) -> None:
    context, watch = open_context(big_site.base)
    page = context.new_page()
    page.goto(big_site.base)
    # the home page shows the newest tag names, and finds a namespace by any of
    # its newest 100 (a row's size does not grow with the namespace's tags)
    assert page.locator("tr.orgreg-namespace-row .orgreg-tag-names code").count() == 4 + 1
    page.get_by_label("Filter containers").fill("r004")  # of 2024: among the newest 100
    wait_for_namespaces(page, ["big/many"])
    page.get_by_label("Filter containers").fill("r123")  # of 2023
    wait_for_namespaces(page, [])
    page.get_by_label("Filter containers").fill("")
    # one organization: no organization headings
    assert page.locator("tr.orgreg-org-row").count() == 0
    # a small tag table embedded in a page sorts, without a filter of its own
    assert page.locator("table.orgreg-tags").count() == 1
    assert page.locator(".orgreg-tag-filter").count() == 0
    assert page.locator("table.orgreg-tags th[aria-sort]").count() == 0
    page.get_by_role("button", name="Sort by size").click()
    assert page.locator("table.orgreg-tags th[aria-sort]").count() == 1

    page.goto(big_site.base + "big/many/")
    assert page.locator("table.orgreg-tags tbody tr").count() == BIG_TAGS
    assert len(visible_tags(page)) == 50
    status = page.locator(".orgreg-tag-filter [role=status]")
    assert status.inner_text() == "Showing 50 of 500 tags"
    page.get_by_role("button", name="Show 50 more").click()
    assert len(visible_tags(page)) == 100
    page.get_by_role("button", name="Show all 500").click()
    assert len(visible_tags(page)) == BIG_TAGS

    page.get_by_label("Filter tags").fill("r49")
    page.wait_for_function(
        "document.querySelectorAll('table.orgreg-tags tbody tr:not([hidden])').length === 10"
    )
    assert visible_tags(page) == [f"r{490 + i}" for i in range(10)]
    assert status.inner_text() == "10 of 500 tags match"
    page.get_by_label("Filter tags").fill("")
    page.wait_for_function(
        "document.querySelectorAll('table.orgreg-tags tbody tr:not([hidden])').length === 50"
    )

    page.get_by_role("button", name="Sort by size").click()
    sizes = shown_sizes(page)
    assert len(sizes) == 50 and sizes == sorted(sizes, reverse=True)
    # the largest of all 500, as its row shows it
    assert sizes[0] == size_of(human_size(600_000 + (BIG_TAGS - 1) * 4096))

    # an anchor to a tag far beyond the first page opens its view; back at the
    # table, its row is shown and marked
    row = page.locator("tr:has(a[href='#tag-r487'])")
    assert not row.is_visible()
    page.goto(big_site.base + "big/many/#tag-r487")  # same page: a hashchange
    page.locator("section#tag-r487").wait_for(state="visible")
    page.get_by_role("link", name="All tags of big/many").click()
    row.wait_for(state="visible")
    assert "orgreg-target" in row.get_attribute("class")
    page.goto(big_site.base + "big/small/")
    page.goto(big_site.base + "big/many/index.html#tag-r499")
    assert page.locator("section#tag-r499").is_visible()
    watch.check()


# ------------------------------------------------------------ whole site


def test_dark_mode_toggle_is_remembered(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base, color_scheme="light")
    page = context.new_page()
    page.goto(example_site.base)
    background = "getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    assert page.evaluate("document.documentElement.dataset.theme") is None  # follows the system
    toggle = page.get_by_role("button", name="Dark mode")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    dark = page.evaluate(background)
    assert dark != light
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate(background) == dark
    assert page.get_by_role("button", name="Dark mode").get_attribute("aria-pressed") == "true"
    page.goto(example_site.base + "acme/busybox/")  # and on every page of the site
    assert page.evaluate(background) == dark
    page.get_by_role("button", name="Dark mode").click()
    page.reload()
    assert page.evaluate(background) == light
    watch.check()


def test_follows_the_system_colour_scheme(example_site: Server, open_context: Any) -> None:
    background = "getComputedStyle(document.body).backgroundColor"
    colours = {}
    for scheme in ("light", "dark"):
        context, watch = open_context(example_site.base, color_scheme=scheme)
        page = context.new_page()
        page.goto(example_site.base)
        colours[scheme] = page.evaluate(background)
        pressed = page.get_by_role("button", name="Dark mode").get_attribute("aria-pressed")
        assert pressed == ("true" if scheme == "dark" else "false")
        watch.check()
    assert colours["light"] != colours["dark"]


@pytest.mark.parametrize("path", ["", *NAMESPACE_PAGES, "search.html?q=busybox", "genindex.html"])
def test_nothing_overflows_at_360px(example_site: Server, open_context: Any, path: str) -> None:
    context, watch = open_context(example_site.base, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(example_site.base + path)
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{path or 'home'} is {width}px wide at 360px"
    # and nothing inside pokes out of the viewport (except scrolling code blocks
    # and the usage tabs, one row that scrolls sideways in its own box)
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => {
             const r = e.getBoundingClientRect();
             return r.width > 0 && r.right > 361 && !e.closest('pre')
               && !e.closest('.orgreg-sr-only') && !e.closest('.orgreg-tablist');
           }).map(e => e.tagName + '.' + e.className)"""
    )
    assert wide == []
    watch.check()


def test_keyboard_reaches_controls(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base)
    page = context.new_page()
    page.goto(example_site.base + "acme/busybox/")
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                "(() => { const e = document.activeElement;"
                " return (e.id === 'orgreg-tag-filter' ? 'Filter tags' :"
                " e.getAttribute('role') === 'tab' ? 'a usage tab' :"
                " e.getAttribute('aria-label') || e.textContent || '').trim(); })()"
            )
        )
    joined = " | ".join(reached)
    assert reached[0] == "Skip to content"
    for control in (
        "Dark mode",
        "a usage tab",
        "Copy command",
        "Filter tags",
        "Sort by size",
        "Copy digest sha256:",
    ):
        assert control in joined, f"{control!r} not reachable with Tab: {joined}"
    watch.check()


def test_works_without_javascript(example_site: Server, open_context: Any) -> None:
    context, watch = open_context(example_site.base, java_script_enabled=False)
    page = context.new_page()
    page.goto(example_site.base + "acme/busybox/")
    panels = page.locator(".orgreg-usage-tab")
    assert panels.count() >= 2
    assert all(panels.nth(i).is_visible() for i in range(panels.count()))  # plain blocks
    assert page.locator(".orgreg-command").first.is_visible()
    assert not page.locator(".orgreg-theme-toggle").is_visible()
    page.goto(example_site.base)
    assert page.locator("tr.orgreg-namespace-row").count() == 5
    assert all(r.is_visible() for r in page.locator("tr.orgreg-namespace-row").all())
    watch.check()


def test_pages_make_no_console_errors_and_no_outside_requests(
    example_site: Server, open_context: Any
) -> None:
    context, watch = open_context(example_site.base)
    page = context.new_page()
    for path in ["", *NAMESPACE_PAGES, "search.html?q=busybox", "genindex.html"]:
        page.goto(example_site.base + path)
        page.wait_for_load_state("networkidle")
    assert any(url.endswith("orgreg.js") for url in watch.requests)
    assert all(url.startswith(example_site.base) for url in watch.requests)
    watch.check()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["", "acme/busybox/", "hpc-lab/openmpi/"])
def test_accessibility_scan(
    example_site: Server, open_context: Any, path: str, scheme: str
) -> None:
    context, watch = open_context(example_site.base, color_scheme=scheme)
    page = context.new_page()
    page.goto(example_site.base + path)
    page.wait_for_load_state("load")
    results = axe_sync.Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"
    assert results.response["passes"], "axe ran no rule"
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe on {path or 'home'} ({scheme}): {bad}"
    watch.check()


def test_theme_alone_in_the_browser(plain_site: Server, open_context: Any) -> None:
    context, watch = open_context(plain_site.base)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=plain_site.base[:-1])
    page = context.new_page()
    page.goto(plain_site.base)
    page.get_by_role("button", name="Copy code").click()
    assert clipboard_becomes(page, "echo hello")  # the command, without prompt and output
    page.get_by_role("button", name="Dark mode").click()
    page.get_by_role("link", name="Next Other").click()
    page.wait_for_url("**/other.html")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    results = axe_sync.Axe().run(page)
    assert [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ] == []
    watch.check()


# ------------------------------------------------------ the script on hand-made pages

LISTING_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script defer src="orgreg.js"></script></head>
<body><main><h1>{title}</h1>{table}</main></body></html>
"""
MANY_NAMESPACES = 250


def namespace_table_html(count: int) -> str:
    """A namespace listing as the extension writes it, with *count* rows."""
    rows = "".join(
        f'<tr class="orgreg-namespace-row"><td><p><a href="#">acme/c{i:03d}</a></p></td>'
        f"<td><p>Container {i}</p></td><td><p>1</p></td><td><p>2024-01-01</p></td></tr>"
        for i in range(count)
    )
    return (
        '<table class="orgreg-namespaces orgreg-col-namespace orgreg-col-description '
        'orgreg-col-tags orgreg-col-updated"><thead><tr><th>Namespace</th><th>Description'
        f"</th><th>Tags</th><th>Updated</th></tr></thead><tbody>{rows}</tbody></table>"
    )


#: (tag, shown size, tooltip, data-bytes): tooltips in wordings the script must not parse
SIZED_TAGS = [
    ("medium", "5.0 MiB", "5 MiB", 5 * 1024 * 1024),
    ("large", "1.0 GiB", "1 GiB", 1024**3),
    ("small", "700.0 KiB", "700 KiB", 700 * 1024),
]


def tag_table_html() -> str:
    rows = "".join(
        f'<tr><td><a class="orgreg-tag-link" href="#tag-{tag}"><strong>{tag}</strong></a></td>'
        f'<td><abbr title="{title}" data-bytes="{size}">{text}</abbr></td></tr>'
        for tag, text, title, size in SIZED_TAGS
    )
    return (
        '<table class="orgreg-tags orgreg-col-tag orgreg-col-size"><thead><tr><th>Tag</th>'
        f"<th>Size</th></tr></thead><tbody>{rows}</tbody></table>"
    )


@pytest.fixture(scope="module")
def listing_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The theme's script alone on two pages: 250 namespaces, and a tag table whose
    size tooltips say nothing the script could sort by."""
    from orgreg_sphinx.theme import THEME_PATH

    folder = tmp_path_factory.mktemp("listing-pages")
    (folder / "orgreg.js").write_bytes((THEME_PATH / "static" / "orgreg.js").read_bytes())
    (folder / "namespaces.html").write_text(
        LISTING_PAGE.format(title="Namespaces", table=namespace_table_html(MANY_NAMESPACES))
    )
    (folder / "tags.html").write_text(LISTING_PAGE.format(title="Tags", table=tag_table_html()))
    server = Server(folder)
    yield server
    server.close()


def test_a_long_namespace_list_is_paged_and_filtered(
    listing_pages: Server, open_context: Any
) -> None:
    """The namespace list shares the tag tables' paging: 200 rows, then "Show all"."""
    context, watch = open_context(listing_pages.base)
    page = context.new_page()
    page.goto(listing_pages.base + "namespaces.html")
    status = page.locator(".orgreg-namespace-filter [role=status]")
    assert status.inner_text() == f"Showing 200 of {MANY_NAMESPACES} containers"
    assert len(visible_namespaces(page)) == 200
    assert page.get_by_role("button", name="Show more").count() == 0  # no steps here
    page.get_by_role("button", name="Show all").click()
    assert len(visible_namespaces(page)) == MANY_NAMESPACES
    assert status.inner_text() == f"{MANY_NAMESPACES} containers"
    assert page.get_by_role("button", name="Show all").is_hidden()
    page.get_by_label("Filter containers").fill("c24")
    wait_for_namespaces(page, [f"acme/c{240 + i}" for i in range(10)])
    assert status.inner_text() == f"10 of {MANY_NAMESPACES} containers match"
    page.get_by_label("Filter containers").fill("nothing-like-this")
    wait_for_namespaces(page, [])
    assert page.locator(".orgreg-empty").inner_text() == (
        "No container matches \u201cnothing-like-this\u201d."
    )
    assert page.locator("table.orgreg-namespaces").is_hidden()
    watch.check()


def test_size_sort_reads_the_bytes_the_html_carries(
    listing_pages: Server, open_context: Any
) -> None:
    """Sorting by size orders rows by ``data-bytes``, whatever the tooltip says."""
    context, watch = open_context(listing_pages.base)
    page = context.new_page()
    page.goto(listing_pages.base + "tags.html")
    page.get_by_role("button", name="Sort by size").click()
    assert visible_tags(page) == ["large", "medium", "small"]
    page.get_by_role("button", name="Sort by size").click()
    assert visible_tags(page) == ["small", "medium", "large"]
    watch.check()


@pytest.mark.parametrize("system", ["light", "dark"])
def test_a_remembered_choice_overrides_the_system_palette(
    example_site: Server, open_context: Any, system: str
) -> None:
    """Whichever way the system leans, a remembered light or dark choice gives the
    same colours as a system in that scheme (text, links, borders, code, header)."""
    probe = """() => {
      const pick = (selector, props) => {
        const s = getComputedStyle(document.querySelector(selector));
        return props.map(p => s[p]);
      };
      return [pick('body', ['color', 'backgroundColor']),
              pick('.orgreg-header', ['backgroundColor', 'borderBottomColor']),
              pick('table.orgreg-namespaces', ['borderTopColor', 'boxShadow']),
              pick('table.orgreg-namespaces td a', ['color']),
              pick(".orgreg-tag-names code", ['color', 'backgroundColor']),
              pick('.orgreg-summary', ['color'])];
    }"""

    def colours(scheme: str, remembered: str | None) -> Any:
        context, watch = open_context(example_site.base, color_scheme=scheme)
        if remembered:
            # in a try: the script also runs in about:blank, which has no storage
            context.add_init_script(
                f"try {{ localStorage.setItem('orgreg-theme', '{remembered}'); }} catch (e) {{}}"
            )
        page = context.new_page()
        page.goto(example_site.base)
        found = page.evaluate(probe)
        watch.check()
        return found

    light, dark = colours("light", None), colours("dark", None)
    assert light != dark
    assert colours(system, "light") == light
    assert colours(system, "dark") == dark
