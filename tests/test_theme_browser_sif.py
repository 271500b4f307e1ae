"""Issues 13 and 25 in a real browser (Debian Chromium through Playwright): the
architecture filter of tag tables, a tag's view (a section of its namespace
page shown as the page by CSS :target, with and without script), the
namespace table one line per tag, and the keys page of the example registry,
accessible in light and dark at a desktop's and a phone's width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import CONF, collection, manifest, sha256, write_tree
from test_theme_browser import (  # the browser, its contexts and the server
    Server,
    axe_sync,
    browser,  # noqa: F401 - a fixture
    example_site,  # noqa: F401 - a fixture
    open_context,  # noqa: F401 - a fixture
    sphinx_build,
)

ARCHES = {"r1": "amd64", "r2": "arm64", "r3": "amd64", "r4": "ppc64le", "r5": "arm64", "r6": ""}
TEST_FPR = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"


@pytest.fixture(scope="module")
def arch_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    src = tmp_path_factory.mktemp("arch-src")
    files = {
        "lab/multi/README.md": collection("Several architectures"),
        "lab/one/manifests/latest/README.md": manifest(
            sha256("one"), 900000, extra="sif:\n  arch: amd64\n"
        ),
    }
    for tag, arch in ARCHES.items():
        extra = f"sif:\n  arch: {arch}\n" if arch else ""
        files[f"lab/multi/manifests/{tag}/README.md"] = manifest(sha256(tag), 900000, extra=extra)
    write_tree(src, files)
    (src / "conf.py").write_text(CONF)
    (src / "index.md").write_text("# Registry\n\n```{registry}\n:toctree:\n```\n")
    server = Server(sphinx_build(src, tmp_path_factory.mktemp("arch-out")))
    yield server
    server.close()


#: a row's tag: its name's link to the tag's view (#tag-<name>)
ROW_TAG = "r => r.querySelector('a[href^=\"#tag-\"]').getAttribute('href').slice(5)"


def visible_tags(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "table.orgreg-tags tbody tr:not([hidden])", f"rows => rows.map({ROW_TAG})"
    )


def wait_for_tags(page: Any, tags: list[str]) -> None:
    page.wait_for_function(
        f"""tags => JSON.stringify([...document.querySelectorAll(
             'table.orgreg-tags tbody tr:not([hidden])')].map({ROW_TAG}))
             === JSON.stringify(tags)""",
        arg=tags,
        timeout=5000,
    )


def test_architecture_filter(arch_site: Server, open_context: Any) -> None:  # noqa: F811
    context, watch = open_context(arch_site.base)
    page = context.new_page()
    page.goto(arch_site.base + "lab/multi/")
    assert visible_tags(page) == list(ARCHES)
    arch = page.get_by_label("Architecture")
    assert arch.locator("option").all_inner_texts() == [
        "All architectures",
        "amd64",
        "arm64",
        "ppc64le",
    ]
    status = page.locator(".orgreg-tag-filter [role=status]")
    arch.select_option("arm64")
    wait_for_tags(page, ["r2", "r5"])
    assert status.inner_text() == "2 of 6 tags match"
    assert "arch=arm64" in page.url
    # with the search words: both must hold
    page.get_by_label("Filter tags").fill("r5")
    wait_for_tags(page, ["r5"])
    page.get_by_label("Filter tags").fill("r1")
    wait_for_tags(page, [])
    assert page.locator("p.orgreg-empty").inner_text() == "No tag matches \u201cr1\u201d."
    page.get_by_label("Filter tags").fill("")
    arch.select_option("")
    wait_for_tags(page, list(ARCHES))
    assert status.inner_text() == "6 tags"
    # the choice is kept in the address
    page.goto(arch_site.base + "lab/multi/?arch=amd64")
    wait_for_tags(page, ["r1", "r3"])
    # one architecture: no filter
    page.goto(arch_site.base + "lab/one/")
    page.wait_for_selector(".orgreg-tag-filter")
    assert page.locator("select.orgreg-arch-filter").count() == 0
    watch.check()


def serious_violations(page: Any) -> list[tuple[str, list[Any]]]:
    """axe-core's serious and critical findings on *page* (as the theme's scan)."""
    results = axe_sync.Axe().run(page)
    assert results.response["passes"], "axe ran no rule"
    return [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_tag_view_and_keys_page(
    example_site: Server,  # noqa: F811
    open_context: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The example registry's signed tag: its row's link opens its view as the page
    (the table hidden, the address #tag-signed-example), back shows the table
    again; the view leads to the keys page; both pass axe in light and dark."""
    for scheme in ("light", "dark"):
        context, watch = open_context(example_site.base, color_scheme=scheme)
        page = context.new_page()
        page.goto(example_site.base + "acme/busybox/")
        view = page.locator("section#tag-signed-example")
        table = page.locator("table.orgreg-tags")
        assert table.is_visible() and not view.is_visible()
        table.get_by_role("link", name="signed-example", exact=True).click()
        page.wait_for_url("**/acme/busybox/#tag-signed-example")
        assert view.is_visible() and not table.is_visible()
        assert not page.locator("#usage").is_visible()
        assert page.locator("h1").is_visible()  # the namespace's title stays
        page.wait_for_function("scrollY === 0", timeout=3000)  # from the top, as a page
        assert page.title().startswith("acme/busybox:signed-example")
        fingerprint = view.locator("code.orgreg-fingerprint")
        assert fingerprint.is_visible() and fingerprint.inner_text() == TEST_FPR
        assert view.locator(".orgreg-badge-trusted").inner_text() == "trusted key"
        assert page.locator("div.orgreg-tag-check pre").is_visible()  # the checksum line
        assert serious_violations(page) == []
        page.screenshot(path=str(tmp_path / f"view-{scheme}.png"), full_page=True)
        page.go_back()
        page.wait_for_url("**/acme/busybox/")
        assert table.is_visible() and not view.is_visible()
        page.go_forward()
        page.wait_for_url("**/acme/busybox/#tag-signed-example")
        assert view.is_visible()
        # the way back to the table
        page.get_by_role("link", name="All tags of acme/busybox").click()
        assert table.is_visible() and not view.is_visible()
        page.go_back()
        view.get_by_role("link", name="this registry's copy").click()
        page.wait_for_url("**/api/keys/**")
        assert page.locator(f"section#key-{TEST_FPR} h2").inner_text().startswith("Unit Test")
        assert serious_violations(page) == []
        page.screenshot(path=str(tmp_path / f"keys-{scheme}.png"), full_page=True)
        # the key file it links to is served
        link = page.get_by_role("link", name=f"{TEST_FPR}.asc")
        response = page.request.get(link.evaluate("a => a.href"))
        assert response.ok and b"BEGIN PGP PUBLIC KEY BLOCK" in response.body()
        watch.check()


def test_tag_view_without_script(
    example_site: Server,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The view is CSS alone: with JavaScript off, #tag-<name> shows the view as
    the page and the table is back without it."""
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(example_site.base + "acme/busybox/#tag-latest")
    assert page.locator("section#tag-latest").is_visible()
    assert not page.locator("section#tag-1\\.36").is_visible()
    assert not page.locator("table.orgreg-tags").is_visible()
    page.goto(example_site.base + "acme/busybox/#tag-1.36")  # a dot in the name
    assert page.locator("section#tag-1\\.36").is_visible()
    assert not page.locator("section#tag-latest").is_visible()
    page.goto(example_site.base + "acme/busybox/")
    assert page.locator("table.orgreg-tags").is_visible()
    assert page.locator("div.orgreg-tag-views > section:visible").count() == 0
    context.close()


VIEW_LAYOUT = """view => {
  const rect = el => el.getBoundingClientRect();
  const right = innerWidth;
  const lines = el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
  };
  const overlaps = (a, b) =>
    !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);
  const blocks = [...view.querySelectorAll('pre'),
                  ...document.querySelectorAll('div.orgreg-tag-check pre')];
  return {
    page_scrolls: document.documentElement.scrollWidth > innerWidth,
    right,
    widest: Math.max(...[...view.querySelectorAll('*')].map(el => rect(el).right)),
    // each command whole inside its own box (wrapped), the Copy button off its text
    commands: blocks.map(pre => {
      const copy = pre.parentElement.querySelector(':scope > .orgreg-copy');
      const range = document.createRange();
      range.selectNodeContents(pre);
      const text = [...range.getClientRects()];
      return [pre.scrollWidth - pre.clientWidth, rect(pre).right,
              copy ? text.some(r => overlaps(r, rect(copy))) : false];
    }),
    broken_labels: [...view.querySelectorAll('dl.field-list > dt')].filter(dt => lines(dt) !== 1)
      .map(dt => dt.textContent),
  };
}"""

TABLE_LAYOUT = """table => {
  const rect = el => el.getBoundingClientRect();
  const heads = [...table.querySelectorAll('thead th')];
  return {
    page_scrolls: document.documentElement.scrollWidth > innerWidth,
    right: innerWidth,
    last_column_right: rect(heads[heads.length - 1]).right,
    // one line per tag: no text in a cell wraps (a wrapped text has several boxes)
    wrapped: [...table.querySelectorAll('tbody td')].filter(td => {
      const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
      for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        if (!text.textContent.trim()) { continue; }
        const range = document.createRange();
        range.selectNodeContents(text);
        if (range.getClientRects().length > 1) { return true; }
      }
      return false;
    }).map(td => td.textContent),
  };
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_table_and_tag_view_read_well(
    example_site: Server,  # noqa: F811
    open_context: Any,  # noqa: F811
    width: int,
    scheme: str,
    tmp_path: Path,
) -> None:
    """At 1280px and at a phone's width, light and dark: the namespace table is
    one line per tag with every column in view (1280px; cards on a phone), and
    the signed tag's view shows every field with no sideways scroll, every
    command whole in its own box with the Copy button off its text, labels never
    broken inside a word; axe finds nothing on either."""
    context, watch = open_context(
        example_site.base, viewport={"width": width, "height": 900}, color_scheme=scheme
    )
    page = context.new_page()
    page.goto(example_site.base + "acme/busybox/")
    table = page.locator("table.orgreg-tags")
    found = table.evaluate(TABLE_LAYOUT)
    assert not found["page_scrolls"], found
    if width >= 1000:
        assert found["last_column_right"] <= found["right"], found
        assert found["wrapped"] == [], found
    assert serious_violations(page) == []
    page.goto(example_site.base + "acme/busybox/#tag-signed-example")
    view = page.locator("section#tag-signed-example")
    assert view.is_visible()
    page.wait_for_selector("section#tag-signed-example .orgreg-copy")
    found = view.evaluate(VIEW_LAYOUT)
    page.screenshot(path=str(tmp_path / f"view-{width}-{scheme}.png"), full_page=True)
    assert not found["page_scrolls"], found
    assert found["widest"] <= found["right"] + 1, found
    commands = view.locator("pre").all_inner_texts()
    text = "\n".join(commands)
    for expected in (
        "curl -L -o busybox_signed-example.sif",
        "singularity pull",
        "apptainer pull",
        "sregistry pull --name busybox_signed-example.sif",
        "apptainer verify",
    ):
        assert expected in text, expected
    assert len(found["commands"]) >= 6, found
    for hidden, right, covered in found["commands"]:
        assert hidden <= 1 and right <= found["right"] + 1 and not covered, found
    assert found["broken_labels"] == [], found
    assert serious_violations(page) == []
    watch.check()
