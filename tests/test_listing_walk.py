"""Every listing variant looks right, in every theme: a walk in Debian's Chromium.

The example site (the guide's live examples) plus a generated page holding a
listing for every value of ``:columns:``, ``:sort:``, ``:tags:`` and ``:limit:``
is built once per theme (orgreg, furo, pydata, alabaster, rtd) and every page with
listings is opened at 360 px and 1280 px, light and dark (for the themes that have
a dark mode). On each page, measured in the browser:

- no caption, header or cell is wider than its box, and no word of a header or cell
  is broken over two lines (captions and descriptions are free text: they may wrap
  after a hyphen or a slash, or inside a word wider than the cell or listing);
- the page never scrolls sideways (a wide table scrolls in its own box);
- the sort control starts at the directive's ``:sort:``, the rows are in the
  order it names, the filter is empty and the status counts the rows shown;
- organization headings only in name order, each once, above its own rows;
- tag tables with a ``:sort:`` mark that column (``aria-sort``) and are in its order;
- no console error, no request off 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE_SOURCE, REPO
from test_theme_browser import CHROMIUM, CHROMIUM_ARGS, Server, Watch, sphinx_build

from orgreg_sphinx.core.selection import natural_key

sync_api = pytest.importorskip("playwright.sync_api")

#: theme -> (a dark mode that follows the system, the whole page is checked for
#: sideways scrolling); alabaster and rtd let other content (wide reference tables,
#: long code) widen their pages, so there only the listings' own boxes are checked
THEMES = {
    "orgreg": (True, True),
    "furo": (True, True),
    "pydata_sphinx_theme": (True, True),
    "alabaster": (False, False),
    "sphinx_rtd_theme": (False, False),
}
WIDTHS = (360, 1280)
PAGES = [
    "index.html",
    "guide/index.html",
    "guide/directive.html",
    "guide/clients.html",
    "guide/workflow.html",
    "variants.html",
    "hpc-lab/openmpi/index.html",
]
NAMESPACE_SORTS = ["", "name", "-name", "tags", "-tags", "updated", "-updated"]
NAMESPACE_COLUMNS = ["namespace", "description", "tags", "updated"]
TAG_SORTS = ["", "name", "-name", "size", "-size", "created", "-created"]
TAG_COLUMNS = ["image", "tag", "size", "digest", "created", "download", "recipe"]
#: the select's values in the orgreg theme, as the ``:sort:`` each one is
SELECT_SORTS = {
    "name": "name",
    "name-reverse": "-name",
    "updated": "-updated",
    "updated-reverse": "updated",
    "tags": "-tags",
    "tags-reverse": "tags",
}


def listing(**options: str) -> str:
    lines = "".join(f":{key}: {value}\n" for key, value in options.items() if value)
    return f"```{{registry}}\n{lines}```\n\n"


def variants_page() -> str:
    """A listing for every value of :columns:, :sort:, :tags: and :limit:."""
    parts = ["---\norphan: true\n---\n\n# Every listing variant\n\n## Namespace lists\n\n"]
    for sort in NAMESPACE_SORTS:
        parts.append(listing(sort=sort, caption=f"sort {sort or 'default'}"))
    for column in NAMESPACE_COLUMNS:
        parts.append(listing(columns=column, sort="-updated", caption=f"only {column}"))
    parts.append(listing(columns="updated, tags, namespace", sort="-tags"))
    parts.append(listing(columns="namespace, tags, updated", sort="-updated", limit="3"))
    for limit in ("1", "2", "4"):
        parts.append(listing(sort="updated", limit=limit))
    parts.append("## Tag tables\n\n")
    for sort in TAG_SORTS:
        parts.append(listing(namespace="*/*", sort=sort, caption=f"sort {sort or 'default'}"))
    for column in TAG_COLUMNS:
        parts.append(listing(namespace="hpc-lab/openmpi", columns=column, sort="-size"))
    parts.append(listing(namespace="hpc-lab/*", columns=", ".join(TAG_COLUMNS)))
    parts.append(listing(namespace="hpc-lab/*", columns="download, created, size, image"))
    for tags in ("latest", "[0-9]*", "1.* 5.*", "no-such-tag*"):
        parts.append(listing(namespace="*/*", tags=tags, sort="-created"))
    for limit in ("1", "2"):
        parts.append(listing(namespace="acme/*, bio-core/samtools", sort="-created", limit=limit))
    return "".join(parts)


def build_site(theme: str, out: Path) -> Path:
    """The example site with the variants page, in *theme*."""
    src = out / "src"
    shutil.copytree(EXAMPLE_SOURCE, src)
    (src / "variants.md").write_text(variants_page())
    conf = (REPO / "conf.py").read_text()
    conf = conf.replace('sys.path.insert(0, os.path.abspath("."))', "")
    conf += f"\nhtml_theme = {theme!r}\n"
    if theme != "orgreg":
        conf += "html_theme_options = {}\n"
    if theme == "pydata_sphinx_theme":  # its documented default; else it logs an error
        conf += 'html_context = {"default_mode": "auto"}\n'

    (src / "conf.py").write_text(conf)
    return sphinx_build(src, out)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, Server]]]:
    """Each theme's site, built on first use and served until the module ends."""
    built: dict[str, tuple[Path, Server]] = {}

    class Sites(dict[str, tuple[Path, Server]]):
        def __missing__(self, theme: str) -> tuple[Path, Server]:
            html = build_site(theme, tmp_path_factory.mktemp(f"walk-{theme}"))
            built[theme] = self[theme] = (html, Server(html))
            return built[theme]

    yield Sites()
    for _, server in built.values():
        server.close()


def watched_page(browser: Any, base: str, width: int, scheme: str) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    watch = Watch()

    def route(route: Any) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and watch.errors.append(m.text))
    page.on("pageerror", lambda e: watch.errors.append(f"page error: {e}"))
    page.on(
        "response", lambda r: r.status >= 400 and watch.errors.append(f"HTTP {r.status} {r.url}")
    )
    return context, page, watch


#: measured in the page: what a reader sees of each listing
MEASURE = """wholePage => {
  const problems = [];
  /* the page scrolls sideways if a reader can scroll it (themes hide overflow) */
  window.scrollTo(100000, window.scrollY);
  if (wholePage && window.scrollX > 0) {
    problems.push(`the page scrolls ${window.scrollX}px sideways`);
  }
  window.scrollTo(0, window.scrollY);
  const shown = node => node.getClientRects().length > 0;
  const tables = [...document.querySelectorAll('table.orgreg-namespaces, table.orgreg-tags')];
  const listings = tables.map((table, index) => {
    const caption = table.caption ? table.caption.textContent.trim() : '';
    const where = `listing ${index + 1}${caption ? ' "' + caption + '"' : ''}`;
    const scroller = table.closest('.orgreg-scroll');
    if (!scroller) { problems.push(`${where}: not in a scrolling box`); }
    else if (shown(scroller) && scroller.getBoundingClientRect().right > window.innerWidth + 1) {
      problems.push(`${where}: its box ends at ${scroller.getBoundingClientRect().right}px`);
    }
    for (const cell of (shown(table) ? table.querySelectorAll('caption, th, td') : [])) {
      if (!shown(cell)) { continue; }
      const what = `${where}, ${cell.tagName} "${cell.textContent.trim().slice(0, 40)}"`;
      if (cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(`${what}: content ${cell.scrollWidth}px in a ${cell.clientWidth}px cell`);
      }
      const style = getComputedStyle(cell);
      /* a caption has the listing's width to itself */
      const room = cell.tagName === 'CAPTION' ? (scroller || table).clientWidth
        : cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      /* free text (a caption, a description) may wrap after a hyphen or a slash */
      const prose = cell.tagName === 'CAPTION'
        || cell.matches('td.orgreg-cell-description, .orgreg-columns-default td:nth-child(2)');
      const words = prose ? /[^\\s\\/-]+[\\/-]*/g : /\\S+/g;
      for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        if (!shown(text.parentElement)) { continue; }
        for (const match of text.data.matchAll(words)) {
          const range = document.createRange();
          range.setStart(text, match.index);
          range.setEnd(text, match.index + match[0].length);
          const rects = [...range.getClientRects()].filter(r => r.width > 0);
          const lines = new Set(rects.map(r => Math.round(r.bottom)));
          const width = rects.reduce((sum, r) => sum + r.width, 0);
          /* free text may wrap a word longer than its box; nothing else may break */
          if (lines.size > 1 && (!prose || width <= room)) {
            problems.push(`${what}: "${match[0]}" is broken over ${lines.size} lines`);
          }
        }
      }
    }
    const rows = [...table.tBodies[0].rows].filter(r => !r.hidden);
    const box = table.closest('.orgreg-scroll') || table;
    const bar = box.previousElementSibling;
    const tools = bar && bar.matches('.orgreg-toolbar') ? bar : null;
    const select = tools ? tools.querySelector('select') : null;
    const filter = tools ? tools.querySelector('input') : null;
    const status = tools ? tools.querySelector('[role=status]') : null;
    const head = table.tHead ? [...table.tHead.rows[0].cells] : [];
    const sorted = head.findIndex(th => th.hasAttribute('aria-sort'));
    return {
      where, classes: [...table.classList], visible: shown(table),
      select: select ? select.value : null,
      options: select ? [...select.options].map(o => o.value) : [],
      filter: filter ? filter.value : null,
      status: status ? status.textContent : null,
      rows: rows.map(r => r.classList.contains('orgreg-org-row')
        ? { heading: r.textContent.trim() }
        : { cells: [...r.cells].map(c => {
              const abbr = c.querySelector('abbr[data-bytes]');
              // a date is shown as people read it; its <time> holds the ISO value
              const time = c.querySelector('time[datetime]');
              return abbr ? Number(abbr.getAttribute('data-bytes'))
                : time ? time.getAttribute('datetime') : c.textContent.trim();
            }) }),
      ariaSort: sorted < 0 ? null : { index: sorted, dir: head[sorted].getAttribute('aria-sort') },
    };
  });
  return { problems, listings };
}"""


def catalog_facts(html: Path) -> dict[str, tuple[int, str]]:
    """namespace -> (tag count, last update day), from the site's own catalog."""
    catalog = json.loads((html / "api" / "catalog.json").read_text())
    facts = {}
    for ns in catalog["namespaces"]:
        days = [str(t.get("extra", {}).get("created") or "") for t in ns["tags"]]
        facts[ns["name"]] = (len(ns["tags"]), max(days, default="")[:10])
    return facts


def built_sort(classes: list[str]) -> str:
    """The ``:sort:`` a table was built with, from its classes ("" = default)."""
    keys = [
        c[len("orgreg-sorted-") :]
        for c in classes
        if c.startswith("orgreg-sorted-") and c != "orgreg-sorted-reverse"
    ]
    if not keys:
        return ""
    return ("-" if "orgreg-sorted-reverse" in classes else "") + keys[0]


def columns_of(classes: list[str]) -> list[str]:
    return [c[len("orgreg-col-") :] for c in classes if c.startswith("orgreg-col-")]


def in_order(keys: list[Any], descending: bool) -> bool:
    return all((a >= b) if descending else (a <= b) for a, b in zip(keys, keys[1:], strict=False))


def check_namespace_list(
    item: dict[str, Any], facts: dict[str, tuple[int, str]], scripted: bool
) -> list[str]:
    """The sort control, the order of the rows, the headings and the count."""
    where, problems = item["where"], []
    columns = columns_of(item["classes"])
    name_at = columns.index("namespace") if "namespace" in columns else None
    rows = [r for r in item["rows"] if "cells" in r]
    names = [r["cells"][name_at] for r in rows] if name_at is not None else []
    sort = built_sort(item["classes"]) or "name"
    if scripted:
        if item["select"] is not None:
            if SELECT_SORTS.get(item["select"]) != sort:
                problems.append(
                    f"{where}: the sort control says {item['select']!r}, "
                    f"the listing is sorted by {sort!r}"
                )
            sort = SELECT_SORTS.get(item["select"], sort)
            # the other orders offered can be read from the columns shown
            for value in item["options"]:
                key = SELECT_SORTS[value].lstrip("-")
                column = "namespace" if key == "name" else key
                if value != item["select"] and column not in columns:
                    problems.append(f"{where}: offers {value!r} without its column")
        if item["filter"] not in (None, ""):
            problems.append(f"{where}: the filter starts as {item['filter']!r}")
        count = f"{len(rows)} container{'' if len(rows) == 1 else 's'}"
        if item["status"] is not None and item["status"] != count:
            problems.append(f"{where}: the status says {item['status']!r} for {count}")
    if names:
        key, descending = sort.lstrip("-"), sort.startswith("-")
        keys: list[Any] = [
            n.lower() if key == "name" else facts[n][0] if key == "tags" else facts[n][1]
            for n in names
        ]
        if not in_order(keys, descending):
            problems.append(f"{where}: rows {names} are not in {sort!r} order")
    headings = [r["heading"] for r in item["rows"] if "heading" in r]
    if headings:
        orgs = [h.split(" (")[0] for h in headings]
        if sort.lstrip("-") != "name":
            problems.append(f"{where}: organization headings {headings} in {sort!r} order")
        if len(set(orgs)) != len(orgs):
            problems.append(f"{where}: an organization is headed twice: {headings}")
        current = None
        for row in item["rows"]:
            if "heading" in row:
                current = row["heading"].split(" (")[0]
            elif name_at is not None and row["cells"][name_at].split("/")[0] != current:
                problems.append(f"{where}: {row['cells'][name_at]} under {current}'s heading")
    return problems


def check_tag_table(item: dict[str, Any], scripted: bool) -> list[str]:
    """A tag table built with :sort: marks that column and is in its order."""
    where, problems = item["where"], []
    columns = columns_of(item["classes"])
    sort = built_sort(item["classes"])
    key = sort.lstrip("-")
    column = ("tag" if "tag" in columns else "image") if key == "name" else key
    if scripted and sort and column in columns:
        expected = {
            "index": columns.index(column),
            "dir": "descending" if sort.startswith("-") else "ascending",
        }
        if item["ariaSort"] != expected:
            problems.append(
                f"{where}: built with :sort: {sort}, the header marks {item['ariaSort']}"
            )
    if sort and column in columns:
        at = columns.index(column)
        values = [r["cells"][at] for r in item["rows"] if "cells" in r]
        values = [v for v in values if v != ""]  # undated tags come last either way
        if column in ("tag", "image"):
            values = [natural_key(str(v).rsplit(":", 1)[-1]) for v in values]
        if not in_order(values, sort.startswith("-")):
            problems.append(f"{where}: {column} column not in {sort!r} order")
    return problems


@pytest.mark.parametrize(
    ("theme", "scheme"),
    [
        (theme, scheme)
        for theme, (dark, _) in THEMES.items()
        for scheme in (("light", "dark") if dark else ("light",))
    ],
)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_listing_variant(
    browser: Any, sites: dict[str, tuple[Path, Server]], theme: str, scheme: str, width: int
) -> None:
    html, server = sites[theme]
    facts = catalog_facts(html)
    context, page, watch = watched_page(browser, server.base, width, scheme)
    problems: list[str] = []
    listings = 0
    try:
        for path in PAGES:
            page.goto(server.base + path)
            page.wait_for_load_state("load")
            scripted = page.evaluate("!!document.querySelector('script[src*=\"orgreg.js\"]')")
            assert scripted == (theme == "orgreg")
            found = page.evaluate(MEASURE, THEMES[theme][1])
            problems += [f"{path}: {p}" for p in found["problems"]]
            for item in found["listings"]:
                listings += 1
                if "orgreg-namespaces" in item["classes"]:
                    found_here = check_namespace_list(item, facts, scripted)
                else:
                    found_here = check_tag_table(item, scripted)
                problems += [f"{path}: {p}" for p in found_here]
    finally:
        context.close()
    assert listings > 60  # the walk saw the guide's and the variants' listings
    assert problems == [], f"{theme}, {width}px, {scheme}:\n" + "\n".join(problems)
    watch.check()


# ------------------------------------------------ the guide's "Recently updated"


def test_recently_updated_controls_follow_the_directive(
    browser: Any, sites: dict[str, tuple[Path, Server]]
) -> None:
    """The guide's example (``:columns: namespace, tags, updated``, ``:sort: -updated``,
    ``:limit: 3``) as a reader meets it at 1280 px, then re-sorted by hand."""
    _, server = sites["orgreg"]
    context, page, watch = watched_page(browser, server.base, 1280, "light")
    try:
        page.goto(server.base + "guide/directive.html")
        table = page.locator("table.orgreg-namespaces", has_text="Recently updated")
        toolbar = page.locator(".orgreg-namespace-filter").nth(1)
        sort = toolbar.get_by_label("Sort")
        rows = table.locator("tr.orgreg-namespace-row:not([hidden]) td.orgreg-cell-namespace")
        headings = table.locator("tr.orgreg-org-row:not([hidden])")
        newest = ["bio-core/samtools", "hpc-lab/openmpi", "acme/busybox"]

        assert sort.input_value() == "updated"
        assert sort.locator("option:checked").inner_text() == "Recently updated"
        assert rows.all_inner_texts() == newest
        assert headings.count() == 0
        assert toolbar.get_by_label("Filter containers").input_value() == ""
        assert toolbar.locator("[role=status]").inner_text() == "3 containers"
        # the header and the dates are one line each: as tall as the namespace cells
        heights = table.evaluate(
            "t => [...t.querySelectorAll('thead th, tbody tr:not([hidden]) td')]"
            ".map(c => { const e = c.querySelector('a') || c.firstElementChild;"
            " if (e) { return e.getClientRects().length; }"
            " const r = document.createRange(); r.selectNodeContents(c);"
            " return r.getClientRects().length; })"
        )
        assert set(heights) == {1}

        sort.select_option("name")  # by name: each organization once, above its rows
        assert rows.all_inner_texts() == sorted(newest)
        assert headings.all_inner_texts() == [
            "acme (1 container)",
            "bio-core (1 container)",
            "hpc-lab (1 container)",
        ]
        assert "sort-1=name" in page.url  # the second listing of the page keeps its own
        sort.select_option("name-reverse")
        assert rows.all_inner_texts() == sorted(newest, reverse=True)
        assert headings.all_inner_texts()[0] == "hpc-lab (1 container)"
        sort.select_option("tags-reverse")  # fewest tags first, ties by name
        assert rows.all_inner_texts() == ["acme/busybox", "bio-core/samtools", "hpc-lab/openmpi"]
        assert headings.count() == 0
        sort.select_option("updated")
        assert rows.all_inner_texts() == newest
        assert "sort-1" not in page.url
        # the first listing on the page (the whole registry) still starts by name
        first = page.locator(".orgreg-namespace-filter").nth(0).get_by_label("Sort")
        assert first.input_value() == "name"
    finally:
        context.close()
    watch.check()
