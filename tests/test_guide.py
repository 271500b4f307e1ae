"""The workflow guide is a page of the example site and matches what is shipped."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml
from clitools import clean_env
from conftest import REPO, soup

GUIDE = REPO / "source/guide/workflow.md"


def test_guide_is_built_and_linked_from_the_home_page(tmp_path: Path) -> None:
    out = tmp_path / "html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-W",
            "--keep-going",
            "-b",
            "html",
            "-c",
            str(REPO),
            str(REPO / "source"),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page = soup(out / "guide/workflow.html")
    headings = [h.get_text(strip=True).rstrip("¶") for h in page.find_all(["h1", "h2"])]
    assert headings == [
        "Connecting repositories: the pull-request workflow",
        "For a container maintainer: connect a repository",
        "For an admin: set up the registry",
        "Command reference",
    ]
    home = soup(out / "index.html")
    guide = soup(out / "guide/index.html")
    assert home.find("a", href="guide/index.html") is not None
    assert guide.find("a", href="workflow.html") is not None


def test_guide_names_files_and_checks_that_exist() -> None:
    text = GUIDE.read_text()
    named = set(re.findall(r"`((?:templates|\.github)/[\w./-]+\.yml)`", text))
    named |= {f".github/workflows/{n}" for n in re.findall(r"`([\w-]+\.yml)`", text)}
    assert len(named) >= 4
    # the container repository's files are those `orgreg init --container` writes
    container = REPO / "orgreg_sphinx/cli/templates/container"
    for path in named:
        assert (REPO / path).is_file() or (container / path).is_file(), path
    assert "`.readthedocs.yaml`" in text and (REPO / ".readthedocs.yaml").is_file()
    jobs = yaml.safe_load((REPO / ".github/workflows/check.yml").read_text())["jobs"]
    for job in jobs.values():
        assert f"*{job['name'].split(' (')[0]}" in text
