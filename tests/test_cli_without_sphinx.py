"""The ``orgreg`` command line runs where Sphinx cannot be imported.

Each command runs as a real process (``python -m orgreg_sphinx``) with a folder
first on ``PYTHONPATH`` that shadows sphinx, docutils, myst_parser and
sphinx_design by packages which record the attempt and raise ImportError; so
an import hidden behind ``try: ... except ImportError`` is caught too.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import Result, orgreg
from conftest import collection, manifest, sha256, write_tree

#: what a CI job that only checks pull requests has not installed
BLOCKED = ("sphinx", "docutils", "myst_parser", "sphinx_design")

SHADOW = """\
import os

with open(os.environ["ORGREG_TEST_BLOCK_LOG"], "a", encoding="utf-8") as log:
    log.write(__name__ + "\\n")
raise ImportError("{name} is blocked by tests/test_cli_without_sphinx.py")
"""

#: a 700,000-byte SIF image with no objects (global header only: magic, version
#: 01, amd64), so ``orgreg manifest`` reads it without a warning
IMAGE = struct.pack(
    "<32s10s3s3s16s8q",
    b"",
    b"SIF_MAGIC\x00",
    b"01\x00",
    b"02\x00",
    bytes(16),
    0,
    0,
    0,
    0,
    4096,
    0,
    4096,
    0,
).ljust(700_000, b"\x00")
URL = "https://storage.example.org/acme/tool/latest.sif"


class NoSphinx:
    """A process environment in which the BLOCKED packages cannot be imported."""

    def __init__(self, folder: Path) -> None:
        self.shadows = folder / "shadows"
        self.log = folder / "blocked-imports.log"
        for name in BLOCKED:
            package = self.shadows / name
            package.mkdir(parents=True)
            (package / "__init__.py").write_text(SHADOW.format(name=name))

    def env(self) -> dict[str, str]:
        """Variables that put the shadows first on the module search path."""
        path = os.pathsep.join(filter(None, [str(self.shadows), os.environ.get("PYTHONPATH")]))
        return {"PYTHONPATH": path, "ORGREG_TEST_BLOCK_LOG": str(self.log)}

    def orgreg(self, *args: str | Path, cwd: Path) -> Result:
        """``python -m orgreg_sphinx ARGS`` in this environment."""
        return orgreg(*args, cwd=cwd, **self.env())

    def attempts(self) -> list[str]:
        """The blocked modules some process tried to import, in order."""
        return self.log.read_text().split() if self.log.exists() else []


@pytest.fixture
def no_sphinx(tmp_path: Path) -> NoSphinx:
    return NoSphinx(tmp_path / "env")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """A small valid manifest tree: two namespaces, three tags, nothing to warn about."""
    root = tmp_path / "registry"
    write_tree(
        root,
        {
            "acme/tool/README.md": collection("A tool"),
            "acme/tool/manifests/latest/README.md": manifest(sha256("tool-latest"), 2_000_000),
            "acme/tool/manifests/1.0/README.md": manifest(sha256("tool-1.0"), 1_900_000),
            "lab/pancakes/manifests/pancakes/README.md": manifest(sha256("pancakes"), 5_000_000),
        },
    )
    return root


def test_the_block_works(no_sphinx: NoSphinx, tmp_path: Path) -> None:
    """In that environment each blocked package fails to import, and is logged."""
    for name in BLOCKED:
        done = subprocess.run(
            [sys.executable, "-c", f"import {name}"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **no_sphinx.env()},
        )
        assert done.returncode == 1
        assert f"ImportError: {name} is blocked" in done.stderr
    assert no_sphinx.attempts() == list(BLOCKED)
    # and the same interpreter imports them without the shadows
    done = subprocess.run([sys.executable, "-c", "import sphinx, docutils"], check=False)
    assert done.returncode == 0


def test_check_a_valid_tree(no_sphinx: NoSphinx, registry: Path) -> None:
    result = no_sphinx.orgreg("check", "registry", cwd=registry.parent)
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[-1] == "2 namespaces, 3 tags: 0 errors, 0 warnings"
    assert no_sphinx.attempts() == []


def test_check_reports_an_error_with_exit_1(no_sphinx: NoSphinx, registry: Path) -> None:
    bad = registry / "acme/tool/manifests/latest/README.md"
    bad.write_text(bad.read_text().replace("size: 2000000", "size: big", 1))
    result = no_sphinx.orgreg("check", "registry", "--format", "json", cwd=registry.parent)
    assert result.code == 1
    body = result.json()
    assert (body["ok"], body["errors"], body["warnings"]) == (False, 1, 0)
    assert body["problems"] == [
        {
            "file": "registry/acme/tool/manifests/latest/README.md",
            "line": 3,
            "severity": "error",
            "code": "schema",
            "message": "has size = 'big', which is not an integer",
        },
    ]
    assert no_sphinx.attempts() == []


def test_manifest_writes_a_tree_that_check_accepts(no_sphinx: NoSphinx, registry: Path) -> None:
    work = registry.parent
    (work / "image.sif").write_bytes(IMAGE)
    (work / "Singularity.2.0").write_text("Bootstrap: docker\nFrom: busybox\n")
    result = no_sphinx.orgreg(
        "manifest",
        "image.sif",
        "--namespace",
        "acme/tool",
        "--url",
        URL,
        "--recipe",
        "Singularity.2.0",
        "--root",
        "registry",
        cwd=work,
    )
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        "wrote registry/acme/tool/manifests/2.0/README.md",
        "wrote registry/acme/tool/manifests/2.0/Singularity",
        "wrote registry/acme/tool/tags/README.md",
    ]
    written = (registry / "acme/tool/manifests/2.0/README.md").read_text()
    assert f"digest: sha256:{hashlib.sha256(IMAGE).hexdigest()}\n" in written
    assert "size: 700000\n" in written
    result = no_sphinx.orgreg("check", "registry", cwd=work)
    assert result.code == 0
    assert result.out.splitlines()[-1] == "2 namespaces, 4 tags: 0 errors, 0 warnings"
    assert no_sphinx.attempts() == []


def test_manifest_usage_error_exits_2(no_sphinx: NoSphinx, registry: Path) -> None:
    (registry.parent / "image.sif").write_bytes(IMAGE)
    result = no_sphinx.orgreg(
        "manifest",
        "image.sif",
        "--namespace",
        "Not A Namespace",
        "--url",
        URL,
        "--root",
        "registry",
        cwd=registry.parent,
    )
    assert result.code == 2
    assert result.err.startswith("orgreg manifest: error: --namespace 'Not A Namespace' is not")
    assert not (registry / "Not A Namespace").exists()
    assert no_sphinx.attempts() == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], ["usage: orgreg", "check", "serve", "manifest"]),
        (["serve", "--help"], ["usage: orgreg serve", "--port", "--prefix"]),
        (["check", "--help"], ["usage: orgreg check"]),
        (["manifest", "--help"], ["usage: orgreg manifest", "--namespace"]),
    ],
)
def test_help(no_sphinx: NoSphinx, tmp_path: Path, args: list[str], expected: list[str]) -> None:
    result = no_sphinx.orgreg(*args, cwd=tmp_path)
    assert (result.code, result.err) == (0, "")
    for text in expected:
        assert text in result.out
    assert no_sphinx.attempts() == []
