"""Bad input never crashes the build and never loses good data (issue 2).

Each case adds one bad file to a good tree: the build warns once, naming the
file (and line where known), leaves that tag or namespace out, and builds
everything else; ``-W`` turns the warning into a failing build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import good_tree, manifest, read_json, row_tag, sha256, soup, warnings_of

GOOD = manifest(sha256("extra"), 900000)
BAD_TAG = "acme/busybox/manifests/bad/README.md"


@dataclass
class Case:
    id: str
    path: str
    content: str | bytes | None
    message: str
    line: int | None = None
    #: a namespace the case removes entirely (else: the tag "bad" of acme/busybox)
    lost_namespace: str | None = None


CASES = [
    Case(
        "malformed-yaml",
        BAD_TAG,
        "---\nsize: [1, 2\ndigest: x\n---\n",
        "has invalid YAML front matter",
        3,
    ),
    Case("no-front-matter", BAD_TAG, "just some text\n", "has no YAML front matter", 1),
    Case("unclosed-front-matter", BAD_TAG, "---\nsize: 1\n", "is never closed", 1),
    Case("front-matter-not-mapping", BAD_TAG, "---\n- a\n- b\n---\n", "not a mapping", 2),
    Case(
        "missing-digest",
        BAD_TAG,
        GOOD.replace(f"digest: {sha256('extra')}\n", "", 1),
        "is missing the required key 'digest'",
        2,
    ),
    Case(
        "size-wrong-type",
        BAD_TAG,
        GOOD.replace("size: 900000", "size: big", 1),
        "has size = 'big', which is not an integer",
        3,
    ),
    Case(
        "negative-size",
        BAD_TAG,
        GOOD.replace("size: 900000", "size: -5", 1),
        "has size = -5, which is below 0",
        3,
    ),
    Case(
        "invalid-digest",
        BAD_TAG,
        GOOD.replace(sha256("extra"), "sha256:xyz", 1),
        "has an invalid digest 'sha256:xyz'",
        4,
    ),
    Case(
        "layer-url-not-http",
        BAD_TAG,
        GOOD.replace("https://storage.example.org", "file:///etc/passwd#"),
        "has an invalid layers[0].url",
        8,
    ),
    Case(
        "digest-trailing-newline",
        BAD_TAG,
        GOOD.replace(f"digest: {sha256('extra')}", f'digest: "{sha256("extra")}\\n"', 1),
        "it holds control characters",
        4,
    ),
    Case(
        "url-with-escape-sequence",
        BAD_TAG,
        GOOD.replace('.sif"', '.sif\\e[31mFAKE"', 1),
        "it holds control characters",
        8,
    ),
    Case(
        "layers-not-a-list",
        BAD_TAG,
        "---\nsize: 1\ndigest: " + sha256("x") + "\nlayers: nope\n---\n",
        "has layers = 'nope', which is not a list",
        4,
    ),
    Case(
        "empty-layers",
        BAD_TAG,
        "---\nsize: 1\ndigest: " + sha256("x") + "\nlayers: []\n---\n",
        "has an empty layers",
        4,
    ),
    Case(
        "duplicate-key",
        BAD_TAG,
        GOOD.replace("size: 900000\n", "size: 900000\nsize: 1\n", 1),
        "repeats the key 'size'",
        4,
    ),
    Case(
        "yaml-alias",
        BAD_TAG,
        "---\nsize: &s 1\ndigest: " + sha256("x") + "\nlayers:\n- size: *s\n"
        "  digest: x\n  url: https://x.org/a\n---\n",
        "uses a YAML alias",
        5,
    ),
    Case(
        "tab-indent",
        BAD_TAG,
        GOOD.replace('  digest: "', '\tdigest: "', 1),
        "indents front matter with a tab",
        7,
    ),
    Case("not-utf8", BAD_TAG, b"---\nsize: 1\ndescription: caf\xe9\n---\n", "is not UTF-8", 3),
    Case("empty-file", BAD_TAG, "", "is empty", 1),
    Case("readme-is-a-folder", BAD_TAG + "/x", "", "is not a regular file"),
    Case(
        "tag-without-manifest",
        "acme/busybox/manifests/bad/notes.txt",
        "hi",
        "is a tag folder without a README.md manifest",
    ),
    Case("invalid-tag-name", "acme/busybox/manifests/-bad/README.md", GOOD, "is not a valid tag"),
    Case(
        "invalid-namespace-name",
        "bad org/x/manifests/latest/README.md",
        GOOD,
        "is not a valid namespace name 'bad org/x'",
        lost_namespace="bad org/x",
    ),
    Case(
        "repo-named-like-a-site-file",
        "v2/index.json/manifests/latest/README.md",
        GOOD,
        "namespace 'v2/index.json' would collide with the file 'index.json'",
        lost_namespace="v2/index.json",
    ),
    Case(
        "wrong-layout",
        BAD_TAG,
        GOOD.replace("manifests/singularity", "post", 1),
        "has layout = 'post', expected 'manifests/singularity'",
        2,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file_is_reported_and_left_out(case: Case, registry_project, build) -> None:
    files: dict[str, str | bytes] = dict(good_tree())
    if case.id == "readme-is-a-folder":
        files[case.path] = case.content  # a file inside a folder named README.md
    else:
        files[case.path] = case.content
    srcdir = registry_project(files)
    app = build(srcdir)
    out = Path(app.outdir)
    warnings = warnings_of(app)

    bad_path = srcdir / case.path
    if case.id == "readme-is-a-folder" or case.id == "tag-without-manifest":
        bad_path = bad_path.parent
    elif case.id == "invalid-namespace-name":
        bad_path = srcdir / "bad org" / "x"
    elif case.id == "repo-named-like-a-site-file":
        bad_path = srcdir / "v2" / "index.json"
    # a file or folder without a line is named alone, never 'path::' (issue 25)
    where = f"{bad_path}:{case.line}: " if case.line else f"WARNING: {bad_path} "
    assert where in warnings, warnings
    assert case.message in warnings, warnings
    assert warnings.count("WARNING") == 1, warnings

    # the bad tag (or namespace) is left out ...
    catalog = read_json(out / "api" / "catalog.json")
    names = [ns["name"] for ns in catalog["namespaces"]]
    busybox = next(ns for ns in catalog["namespaces"] if ns["name"] == "acme/busybox")
    assert [t["name"] for t in busybox["tags"]] == ["1.36", "latest"]
    assert not (out / "acme/busybox/manifests/bad").exists()
    if case.lost_namespace:
        assert case.lost_namespace not in names
    # ... and every good namespace is complete, in HTML and JSON
    assert names == ["acme/busybox", "acme/centos", "lab/pancakes"]
    for name, tags in [
        ("acme/busybox", ["1.36", "latest"]),
        ("acme/centos", ["7"]),
        ("lab/pancakes", ["pancakes"]),
    ]:
        assert read_json(out / name / "tags" / "index.json")["tags"] == tags
        page = soup(out / name / "index.html")
        assert [row_tag(r) for r in page.select("table.orgreg-tags tbody tr")] == tags
        for tag in tags:
            assert (out / name / "manifests" / tag / "index.json").is_file()


def test_broken_collection_readme_keeps_the_namespace(registry_project, build) -> None:
    """A bad collection README is left out; the namespace and its tags are kept."""
    files = dict(good_tree())
    files["acme/busybox/README.md"] = "---\ndescription: [unclosed\n---\nBody\n"
    srcdir = registry_project(files)
    app = build(srcdir)
    warnings = warnings_of(app)
    # the line of the unclosed bracket, not the end of the front matter (issue 25)
    assert f"{srcdir / 'acme/busybox/README.md'}:2: " in warnings
    assert "invalid YAML" in warnings
    out = Path(app.outdir)
    assert read_json(out / "acme/busybox/tags/index.json")["tags"] == ["1.36", "latest"]
    assert soup(out / "acme/busybox/index.html").select_one(".orgreg-description") is None


def test_symlink_leaving_the_tree_is_refused(registry_project, build, tmp_path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(manifest(sha256("secret"), 900000))
    srcdir = registry_project()
    link = srcdir / BAD_TAG
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    app = build(srcdir)
    warnings = warnings_of(app)
    assert f"{link}:" in warnings or f"WARNING: {link} " in warnings
    assert "symbolic link that leaves the registry tree" in warnings
    assert not (Path(app.outdir) / "acme/busybox/manifests/bad").exists()


def test_warnings_fail_the_build_with_W(registry_project) -> None:
    """`make html SPHINXOPTS=-W` fails on a bad manifest, naming it."""
    files = dict(good_tree())
    files[BAD_TAG] = "---\nsize: big\n---\n"
    srcdir = registry_project(files)
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", str(srcdir), str(srcdir / "_build")],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode != 0
    assert f"{srcdir / BAD_TAG}:2" in result.stderr
    assert "is missing the required key" in result.stderr or "not an integer" in result.stderr
    # without -W the same tree builds
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", str(srcdir), str(srcdir / "_build2")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
