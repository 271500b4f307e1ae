"""No false green from ``orgreg check`` and ``orgreg manifest`` (issue 23, items 7
and 8): a secret key fails every check, the top of a registry project means its
manifest tree, an empty tree is a warning."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from clitools import orgreg
from conftest import good_tree, manifest, sha256, write_tree

from orgreg_sphinx.core.model import load_registry

SIF_SRC = Path(os.environ.get("ORGREG_SIF_SRC", "/usr/share/gocode/src/github.com/sylabs/sif"))
SECRET_KEY = SIF_SRC / "test/keys/private.asc"


def exported(what: str) -> bytes:
    """The test key exported by gpg: ``--export-secret-keys`` (binary) or
    ``--export --armor`` (its public key)."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "GNUPGHOME": home}
        subprocess.run(
            ["gpg", "--batch", "--quiet", "--import", str(SECRET_KEY)],
            env=env,
            check=True,
            capture_output=True,
        )
        args = ["--export-secret-keys"] if what == "secret" else ["--export", "--armor"]
        done = subprocess.run(["gpg", "--batch", *args], env=env, check=True, capture_output=True)
        subprocess.run(["gpgconf", "--kill", "all"], env=env, check=False)
    return done.stdout


@pytest.mark.parametrize("form", ["armored", "binary", "armored-other-name"])
def test_a_secret_key_fails_a_plain_check(tmp_path: Path, form: str) -> None:
    if not SECRET_KEY.is_file():
        pytest.skip(f"{SECRET_KEY}: apt-get install golang-github-sylabs-sif-dev")
    write_tree(tmp_path, good_tree())
    name = {"armored": "signer.asc", "binary": "signer.gpg", "armored-other-name": "id.key"}[form]
    data = exported("secret") if form == "binary" else SECRET_KEY.read_bytes()
    write_tree(tmp_path, {f"_keys/{name}": data})
    done = orgreg("check", tmp_path, "--no-progress", cwd=tmp_path)
    assert done.code == 1, done.out
    assert f"_keys/{name}" in done.out and "holds a SECRET key" in done.out
    assert done.out.count("holds a SECRET key") == 1


def test_a_public_key_passes(tmp_path: Path) -> None:
    if not SECRET_KEY.is_file():
        pytest.skip(f"{SECRET_KEY}: apt-get install golang-github-sylabs-sif-dev")
    write_tree(tmp_path, good_tree())
    write_tree(tmp_path, {"_keys/signer.asc": exported("public")})
    done = orgreg("check", tmp_path, "--no-progress")
    assert done.code == 0, done.out


PROJECT_CONF = 'extensions = ["myst_parser", "orgreg_sphinx"]\norgreg_root = "registry"\n'


def project(top: Path, conf: str = PROJECT_CONF, tree: str = "source/registry") -> Path:
    """A registry project as ``orgreg init`` lays it out: conf.py at the top, the
    pages in source/, the manifest tree where orgreg_root says."""
    write_tree(top, {"conf.py": conf, "source/index.md": "# Registry\n", "Makefile": "x\n"})
    write_tree(top / tree, good_tree())
    return top / tree


def test_check_at_the_top_of_a_project_checks_its_tree(tmp_path: Path) -> None:
    tree = project(tmp_path)
    bad = "acme/broken/manifests/latest/README.md"
    write_tree(tree, {bad: "---\nsize: x\n---\n"})
    done = orgreg("check", "--no-progress", cwd=tmp_path)  # ROOT: . (the default)
    assert done.code == 1, done.out
    assert "4 namespaces" in done.out, done.out
    assert f"source/registry/{bad}" in done.out
    assert orgreg("check", tmp_path, "--no-progress").code == 1  # the top given


@pytest.mark.parametrize(
    ("conf", "tree"),
    [
        ('extensions = ["orgreg_sphinx"]\norgreg_root = ""\n', "source"),
        ('orgreg_root: str = "trees/main"\n', "source/trees/main"),
        ('extensions = ["orgreg_sphinx"]\n', "source"),
        ('import os\norgreg_root = os.environ["X"]\norgreg_root = "lit"\n', "source/lit"),
    ],
    ids=["empty-root", "annotated", "no-root", "last-literal"],
)
def test_the_tree_named_by_conf_py_is_read_without_running_it(
    tmp_path: Path, conf: str, tree: str
) -> None:
    marker = tmp_path / "ran"
    project(tmp_path, f"open({str(marker)!r}, 'w').close()\n" + conf, tree)
    done = orgreg("check", "--no-progress", "--format", "json", cwd=tmp_path)
    assert done.code == 0, done.out + done.err
    assert done.json()["namespaces"] == 3
    assert not marker.exists()  # conf.py was parsed, not run


def test_manifest_at_the_top_of_a_project_writes_into_its_tree(tmp_path: Path) -> None:
    tree = project(tmp_path)
    image = tmp_path / "image.sif"
    image.write_bytes(b"\0" * 600_000)
    done = orgreg(
        "manifest",
        image,
        "--namespace",
        "lab/new",
        "--url",
        "https://storage.example.org/new.sif",
        "--tag",
        "v1",
        cwd=tmp_path,
    )
    assert done.code == 0, done.err
    assert (tree / "lab/new/manifests/v1/README.md").is_file()
    assert not (tmp_path / "lab").exists()
    assert orgreg("check", "--no-progress", cwd=tmp_path).code == 0


def test_a_tree_with_no_namespace_is_a_warning(tmp_path: Path) -> None:
    write_tree(tmp_path, {"docs/index.md": "# not a tree\n"})
    done = orgreg("check", tmp_path, "--no-progress", "--format", "json")
    assert done.code == 0
    body = done.json()
    assert body["namespaces"] == 0 and body["warnings"] == 1
    assert orgreg("check", tmp_path, "--no-progress", "--strict").code == 1


def test_a_namespace_digest_that_is_not_its_image_fails_the_check(tmp_path: Path) -> None:
    text = manifest(sha256("victim"), 900000).replace(
        f'digest: "{sha256("victim")}"', f'digest: "{sha256("attacker")}"'
    )
    write_tree(tmp_path, {"evil/poison/manifests/latest/README.md": text})
    done = orgreg("check", tmp_path, "--no-progress")
    assert done.code == 1
    assert "evil/poison/manifests/latest/README.md:4" in done.out
    assert "the top-level digest must be the image's" in done.out


# ------------------------------------------------------------------ orgreg manifest

HOSTILE_SIF = Path(__file__).resolve().parent / "hostile" / "sif"


def sif_image(path: Path, objects: list[tuple[int, bytes, bytes]]) -> Path:
    """A SIF image of *objects* (data type, extra, data), built field by field
    by tests/hostile/sif/make_cases.py."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_cases", HOSTILE_SIF / "make_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path.write_bytes(module.image(objects))
    return path


DEFFILE, LABELS = 0x4001, 0x4003
BIG_DEFINITION = "Bootstrap: docker\nFrom: alpine\n%post\n" + "    echo 'a step'\n" * 8000


@pytest.mark.parametrize(
    ("objects", "warning"),
    [
        (
            [(DEFFILE, b"", BIG_DEFINITION.encode())],
            f"the definition file is {len(BIG_DEFINITION)} characters",
        ),
        (
            [(LABELS, b"", json.dumps({f"l{i}": "v" * 8 for i in range(12_000)}).encode())],
            "the image has 12000 labels: the manifest keeps the first 64",
        ),
        (
            [(LABELS, b"", json.dumps({f"k{i}": "x" * 5000 for i in range(40)}).encode())],
            "each key and value cut to 1024 characters",
        ),
        (
            [
                (DEFFILE, b"", BIG_DEFINITION.encode()),
                (LABELS, b"", json.dumps({f"k{i}": "x" * 1024 for i in range(64)}).encode()),
            ],
            "the manifest keeps",
        ),
        ([(LABELS, b"", b"[" * 100_000 + b"]" * 100_000)], "nested too deeply; left out"),
        (
            [(LABELS, b"", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")],
            "nested too deeply; left out",
        ),
    ],
    ids=["definition-150k", "labels-12000", "labels-long", "both", "deep-list", "deep-value"],
)
def test_manifest_always_writes_what_its_registry_accepts(
    tmp_path: Path, objects: list[tuple[int, bytes, bytes]], warning: str
) -> None:
    image = sif_image(tmp_path / "image.sif", objects)
    tree = tmp_path / "tree"
    tree.mkdir()
    done = orgreg(
        "manifest",
        image,
        "--namespace",
        "acme/big",
        "--url",
        "https://storage.example.org/big.sif",
        "--tag",
        "v1",
        "--root",
        tree,
    )
    assert done.code == 0, done.err
    assert warning in done.err, done.err
    assert "Traceback" not in done.err
    registry = load_registry(tree)
    assert registry.problems == []
    assert [t.name for t in registry.namespace("acme/big").tags] == ["v1"]
    assert orgreg("check", tree, "--no-progress").code == 0
