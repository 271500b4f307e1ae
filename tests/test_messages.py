"""Messages name the problem where it is, in the user's words (issue 25): YAML
errors on the line the author must fix, no empty line number for a file or
folder that has none."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clitools import orgreg
from conftest import good_tree, warnings_of, write_tree

#: front matter whose error is on the file's line 3 (the opening '---' is line 1)
LINE_3 = {
    "unclosed quote": 'layout: manifests/singularity\nsize: "788480\ndigest: x\n',
    "unclosed bracket": "layout: manifests/singularity\nlayers: [\n",
    "key without a colon": "layout: manifests/singularity\nsize\n",
    "two colons": "layout: manifests/singularity\nsize: a: b\ndigest: x\n",
}


@pytest.mark.parametrize("front", LINE_3.values(), ids=LINE_3.keys())
def test_a_yaml_error_names_the_line_to_fix(tmp_path: Path, front: str) -> None:
    path = "acme/busybox/manifests/bad/README.md"
    write_tree(tmp_path, {**good_tree(), path: f"---\n{front}---\nbody\n"})
    done = orgreg("check", tmp_path)
    assert done.code == 1
    [error] = [line for line in done.out.splitlines() if "invalid YAML" in line]
    assert error.startswith(f"{tmp_path / path}:3: error: has invalid YAML front matter"), error


def test_the_build_names_the_same_yaml_line(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    path = "acme/busybox/manifests/bad/README.md"
    srcdir = registry_project({**good_tree(), path: f"---\n{LINE_3['unclosed quote']}---\n"})
    warnings = warnings_of(build(srcdir))
    assert re.search(rf"{re.escape(path)}:3: WARNING: .*invalid YAML", warnings), warnings


def test_a_problem_without_a_line_prints_no_empty_line_number(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    """A folder (a tag folder without its manifest) and a file that cannot be read
    have no line: the location is the path alone, never 'README.md::'."""
    srcdir = registry_project({**good_tree(), "acme/busybox/manifests/empty/.keep": ""})
    (srcdir / "acme/busybox/manifests/broken").mkdir()
    (srcdir / "acme/busybox/manifests/broken/README.md").symlink_to("/nonexistent")
    warnings = warnings_of(build(srcdir))
    assert "is a tag folder without a README.md manifest" in warnings, warnings
    assert "broken/README.md" in warnings
    assert not re.search(r"::\s*(\x1b\[[0-9;]*m)?\s*WARNING", warnings), warnings
    plain = re.sub(r"\x1b\[[0-9;]*m", "", warnings)
    assert re.search(r"^WARNING: \S*/acme/busybox/manifests/empty is a tag folder", plain, re.M)
    assert ".rst" not in plain  # a path is not a docname


def test_a_key_file_problem_names_the_file_not_a_page(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    srcdir = registry_project({**good_tree(), "_keys/notakey.asc": "not a key\n"})
    plain = re.sub(r"\x1b\[[0-9;]*m", "", warnings_of(build(srcdir)))
    [line] = [w for w in plain.splitlines() if "notakey" in w]
    assert re.match(r"WARNING: \S*_keys/notakey\.asc ", line), line
    assert ".asc.rst" not in line and "::" not in line
