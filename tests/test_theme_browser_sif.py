"""Issue 13 in a real browser (Debian Chromium through Playwright): the
architecture filter of tag tables, a tag's details opened without script, and
the keys page of the example registry, accessible in light and dark."""

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


def visible_tags(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "table.orgreg-tags tbody tr:not([hidden])", "rows => rows.map(r => r.id.slice(4))"
    )


def wait_for_tags(page: Any, tags: list[str]) -> None:
    page.wait_for_function(
        """tags => JSON.stringify([...document.querySelectorAll(
             'table.orgreg-tags tbody tr:not([hidden])')].map(r => r.id.slice(4)))
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


def test_signed_tag_details_and_keys_page(
    example_site: Server,  # noqa: F811
    open_context: Any,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The example registry's signed tag: its details open on a click (closed
    before), lead to the keys page, and both pages pass axe in light and dark."""
    for scheme in ("light", "dark"):
        context, watch = open_context(example_site.base, color_scheme=scheme)
        page = context.new_page()
        page.goto(example_site.base + "acme/busybox/#tag-signed-example")
        details = page.locator("#tag-signed-example details.orgreg-details")
        fingerprint = details.locator("code.orgreg-fingerprint")
        assert not fingerprint.is_visible()
        details.locator("summary").click()
        assert fingerprint.is_visible() and fingerprint.inner_text() == TEST_FPR
        assert details.locator(".orgreg-badge-trusted").inner_text() == "trusted key"
        assert serious_violations(page) == []
        page.screenshot(path=str(tmp_path / f"details-{scheme}.png"), full_page=True)
        details.get_by_role("link", name="this registry's copy").click()
        page.wait_for_url("**/api/keys/**")
        assert page.locator(f"section#key-{TEST_FPR} h2").inner_text().startswith("Unit Test")
        assert serious_violations(page) == []
        page.screenshot(path=str(tmp_path / f"keys-{scheme}.png"), full_page=True)
        # the key file it links to is served
        link = page.get_by_role("link", name=f"{TEST_FPR}.asc")
        response = page.request.get(link.evaluate("a => a.href"))
        assert response.ok and b"BEGIN PGP PUBLIC KEY BLOCK" in response.body()
        watch.check()


LAYOUT = """details => {
  const visible = el => el.getBoundingClientRect();
  const box = details.closest('div.orgreg-scroll') || document.documentElement;
  const right = Math.min(visible(box).right, innerWidth);
  const row = details.closest('tr');
  const cell = name => row.querySelector('td.orgreg-cell-' + name);
  const labels = [...details.querySelectorAll('dl.field-list > dt')];
  return {
    page_scrolls: document.documentElement.scrollWidth > innerWidth,
    details_right: visible(details).right, right,
    size_right: cell('size') && visible(cell('size')).right,
    digest_right: cell('digest') && visible(cell('digest')).right,
    commands: [...details.querySelectorAll('div.orgreg-command pre')].map(
      pre => [pre.scrollWidth - pre.clientWidth, visible(pre).right]),
    // a label on one line: its text makes one line box
    broken_labels: labels.filter(dt => {
      const range = document.createRange();
      range.selectNodeContents(dt);
      return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size !== 1;
    }).map(dt => dt.textContent),
  };
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_open_details_read_well(
    example_site: Server,  # noqa: F811
    open_context: Any,  # noqa: F811
    width: int,
    tmp_path: Path,
) -> None:
    """The signed tag's details opened at 1280px and at a phone's width: the page
    never scrolls sideways, every command is whole inside its own box (wrapped,
    nothing cut at the table's edge), labels never break inside a word, and at
    1280px the row's size and digest stay in view beside the open details."""
    context, watch = open_context(example_site.base, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(example_site.base + "acme/busybox/")
    details = page.locator("#tag-signed-example details.orgreg-details")
    details.locator("summary").click()
    details.scroll_into_view_if_needed()
    found = details.evaluate(LAYOUT)
    page.screenshot(path=str(tmp_path / f"details-{width}.png"), full_page=True)
    assert not found["page_scrolls"]
    assert found["details_right"] <= found["right"] + 1, found
    commands = details.locator("div.orgreg-command pre").all_inner_texts()
    assert "apptainer verify" in "".join(commands) and "singularity verify" in "".join(commands)
    assert len(found["commands"]) == len(commands) >= 1, found
    for hidden, right in found["commands"]:
        assert hidden <= 1 and right <= found["right"] + 1, found
    assert found["broken_labels"] == [], found
    if width >= 1000:
        assert found["size_right"] <= found["right"] + 1, found
        assert found["digest_right"] <= found["right"] + 1, found
    watch.check()
