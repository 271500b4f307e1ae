"""``orgreg check`` in a registry project applies the limits of the site's build,
read from the project's conf.py without running it (issue 24)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from clitools import clean_env, orgreg
from conftest import good_tree, write_tree

from orgreg_sphinx.core.project import NOT_LITERAL, literal_settings, project_limits

BIG_README = "acme/busybox/README.md"


def project(tmp_path: Path, conf: str, *, in_source: bool = False) -> Path:
    """A registry project: conf.py beside source/ (``sphinx-build -c .``, as
    ``orgreg init`` writes it) or in it; a README of 3,000 bytes. The tree."""
    tree = tmp_path / "registry" / "source"
    files = good_tree()
    files[BIG_README] = files[BIG_README] + "x" * 3000 + "\n"
    write_tree(tree, files)
    (tree / "index.md").write_text("# Registry\n\n```{registry}\n```\n")
    conf_dir = tree if in_source else tree.parent
    (conf_dir / "conf.py").write_text('extensions = ["myst_parser", "orgreg_sphinx"]\n' + conf)
    return tree


def check_problems(tree: Path) -> str:
    result = orgreg("check", tree, "--format", "github")
    return result.out + result.err


def test_check_refuses_what_the_build_refuses(tmp_path: Path) -> None:
    tree = project(tmp_path, 'orgreg_root = ""\norgreg_max_readme_bytes = 2 * 1024\n')
    out = check_problems(tree)
    assert "over the limit of 2048" in out, out
    # the build refuses the same file, for the same reason
    built = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-c", str(tree.parent), str(tree)]
        + [str(tmp_path / "html"), "-d", str(tmp_path / "doctrees")],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
        timeout=600,
    )
    assert "acme/busybox/README.md" in built.stderr
    assert "over the limit of 2048" in built.stderr


def test_conf_in_the_source_folder(tmp_path: Path) -> None:
    tree = project(tmp_path, 'orgreg_root = "."\norgreg_max_readme_bytes = 2048\n', in_source=True)
    assert "over the limit of 2048" in check_problems(tree)


def test_without_a_project_the_defaults_apply(tmp_path: Path) -> None:
    tree = project(tmp_path, "orgreg_max_readme_bytes = 2048\n")  # no orgreg_root
    assert "over the limit" not in check_problems(tree)
    # a conf.py whose orgreg_root names another tree is not this tree's project
    tree = project(
        tmp_path / "other", 'orgreg_root = "elsewhere"\norgreg_max_readme_bytes = 2048\n'
    )
    assert "over the limit" not in check_problems(tree)


def test_only_literal_values_are_read(tmp_path: Path) -> None:
    conf = tmp_path / "conf.py"
    conf.write_text(
        "import os\n"
        'orgreg_root = ""\n'
        "orgreg_max_tags = 3\n"
        "orgreg_max_readme_bytes = int(os.environ['BIG'])\n"
        "orgreg_max_front_matter_bytes = 1 << 12\n"
        "open('/tmp/never', 'w')\n"
    )
    settings = literal_settings(conf)
    assert settings["orgreg_root"] == ""
    assert settings["orgreg_max_tags"] == 3
    assert settings["orgreg_max_readme_bytes"] is NOT_LITERAL
    assert settings["orgreg_max_front_matter_bytes"] == 4096
    limits, found = project_limits(tmp_path)
    assert found == conf
    assert (limits.max_tags, limits.max_front_matter) == (3, 4096)
    assert limits.max_readme == 512 * 1024  # not a literal: the default
