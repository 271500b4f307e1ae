"""The guide page of the example site documents the directive and role with live
examples and every option, links to the guide's configuration reference (which
names every configuration value), and builds with -W."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE_SOURCE, REPO, soup

from orgreg_sphinx.sphinxext.config import OPTIONS
from orgreg_sphinx.sphinxext.directive import RegistryDirective


def test_guide_builds_and_documents_everything(tmp_path: Path) -> None:
    out = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-c",
            str(REPO),
            str(EXAMPLE_SOURCE),
            str(out),
            "-d",
            str(tmp_path / "doctrees"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    page = soup(out / "guide/directive.html")
    # live examples: tables of the example registry and working role links
    assert len(page.select("div.orgreg table.orgreg-namespaces")) >= 2
    assert len(page.select("div.orgreg table.orgreg-tags")) >= 3
    links = {
        a["href"]
        for a in page.select("a.reference")
        if a.code and "orgreg-container" in a.code.get("class", [])
    }
    assert "../acme/busybox/index.html#tag-latest" in links
    assert page.select_one("p.orgreg-more a")["href"].endswith("index.html#tags")
    # the page names every directive option and links to the configuration
    # reference, on the guide's reference page (which a fork keeps)
    text = page.get_text()
    for option in RegistryDirective.option_spec:
        assert f":{option}:" in text, option
    config_link = page.select_one('a[href="reference.html#config-values"]')
    assert config_link is not None and config_link.get_text() == "configuration reference"
    reference = soup(out / "guide/reference.html")
    # the label is the section's id (newer docutils) or a span at its start (0.21)
    anchor = reference.find(id="config-values")
    assert anchor is not None
    section = anchor if anchor.name == "section" else anchor.find_parent("section")
    table = section.select_one("table.orgreg-config-values")
    assert table is not None
    for option in OPTIONS:
        assert option.name in table.get_text(), option.name
    # in the toctree (else -W fails with "document isn't included in any toctree")
    assert (out / "guide/index.html").is_file()
