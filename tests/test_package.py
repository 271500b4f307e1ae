"""The package is ready to publish: a clean clone builds an sdist and a wheel
that pass ``twine check --strict``, the wheel holds what a registry needs and
nothing else, and a registry made by ``orgreg init`` builds with it in a fresh
virtual environment (issue 15)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from clitools import clean_env
from conftest import REPO, soup
from test_workflows import BIN, SHA_PIN, load, steps, triggers, zizmor

from orgreg_sphinx import __version__

RELEASE = REPO / ".github/workflows/release.yaml"


def run(
    *args: str | Path, cwd: Path, timeout: float = 900, **env: str
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` in a clean clone of the committed tree."""
    work = tmp_path_factory.mktemp("package")
    run("git", "clone", "--quiet", REPO, work / "clone", cwd=work)
    built = run(sys.executable, "-m", "build", "--outdir", work / "dist", ".", cwd=work / "clone")
    # every data folder is declared: no setuptools warning per folder (issue 25)
    assert "would be ignored" not in built.stdout + built.stderr
    return work / "dist"


def test_build_and_twine_check_strict(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert names == [
        f"orgreg_sphinx-{__version__}-py3-none-any.whl",
        f"orgreg_sphinx-{__version__}.tar.gz",
    ]
    done = run(BIN / "twine", "check", "--strict", *sorted(dist.iterdir()), cwd=dist)
    assert done.stdout.count("PASSED") == 2


def test_wheel_holds_the_theme_schemas_and_templates_only(dist: Path) -> None:
    [wheel] = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        files = archive.namelist()
        metadata = archive.read(f"orgreg_sphinx-{__version__}.dist-info/METADATA").decode()
    for needed in (
        "orgreg_sphinx/theme/orgreg/theme.toml",
        "orgreg_sphinx/theme/orgreg/layout.html",
        "orgreg_sphinx/theme/orgreg/static/orgreg.css",
        "orgreg_sphinx/core/schemas/manifest.schema.json",
        "orgreg_sphinx/core/schemas/collection.schema.json",
        "orgreg_sphinx/cli/templates/conf.py.tmpl",
        "orgreg_sphinx/cli/templates/check.yml",
        # the container repository of `orgreg init --container` (issue 25)
        "orgreg_sphinx/cli/templates/container/Singularity",
        "orgreg_sphinx/cli/templates/container/README.md.tmpl",
        "orgreg_sphinx/cli/templates/container/.github/workflows/publish-to-registry.yml",
        "orgreg_sphinx/py.typed",
    ):
        assert needed in files, needed
    assert all(f.startswith(("orgreg_sphinx/", "orgreg_sphinx-")) for f in files), files
    assert not [f for f in files if re.search(r"(^|/)(tests|source|bench|acme)/", f)]
    assert f"Version: {__version__}\n" in metadata
    assert "License-Expression: MIT" in metadata
    [sdist] = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = archive.getnames()
    assert f"orgreg_sphinx-{__version__}/CHANGELOG.md" in members
    assert not [m for m in members if "/tests/" in m or "/source/" in m]


def test_changelog_names_the_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text()
    assert re.findall(r"^## (\S+)", text, re.M)[0] == __version__
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'version = { attr = "orgreg_sphinx._version.__version__" }' in pyproject
    assert __version__ not in pyproject  # written once, in _version.py


def test_release_workflow_publishes_with_trusted_publishing() -> None:
    for schema in ("vendor.github-workflows",):
        done = subprocess.run(
            [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(RELEASE)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    code, findings = zizmor(RELEASE)
    assert findings == [] and code == 0, json.dumps(findings, indent=1)[:3000]
    workflow = load(RELEASE)
    assert triggers(workflow) == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {}
    publish = workflow["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [s["uses"] for s in steps(workflow) if "uses" in s]
    assert all(SHA_PIN.match(u) for u in uses)
    assert uses[-1].startswith("pypa/gh-action-pypi-publish@")
    assert not [s for s in steps(workflow) if "with" in s and "password" in s["with"]]
    build = " ".join(s.get("run", "") for s in workflow["jobs"]["build"]["steps"])
    assert "python -m build" in build and "twine check --strict dist/*" in build


def generated_readme_block(readme: Path, marker: str) -> list[str]:
    """The shell lines of the generated README's code block after *marker*."""
    text = readme.read_text()
    after = text[text.index(f"<!-- {marker}") :]
    block = re.search(r"```sh\n(.*?)```", after, re.S)
    assert block is not None
    return block.group(1).strip().splitlines()


@pytest.mark.parametrize("installed_from", ["wheel", "clone"])
def test_init_registry_builds_in_a_fresh_venv_as_its_readme_says(
    dist: Path, tmp_path: Path, installed_from: str
) -> None:
    """An admin installs orgreg-sphinx (a built wheel, or a clone's folder), runs
    ``orgreg init`` and then the generated README's commands, line by line: its
    Makefile sets up the registry's own venv from requirements.txt, which must
    install that same orgreg-sphinx (issue 25: it named an index release that
    does not exist)."""
    [wheel] = dist.glob("*.whl")
    source = wheel if installed_from == "wheel" else dist.parent / "clone"
    venv = tmp_path / "admin-venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin/python", "-m", "pip", "install", "--quiet", source, cwd=tmp_path)
    where = run(
        venv / "bin/python",
        "-c",
        "import orgreg_sphinx; print(orgreg_sphinx.__file__)",
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv))  # the installed package, not this checkout
    done = run(
        venv / "bin/orgreg",
        "init",
        "registry",
        "--org",
        "acme",
        "--url",
        "https://acme.github.io/registry/",
        cwd=tmp_path,
    )
    registry = tmp_path / "registry"
    requirement = f"orgreg-sphinx @ {source.resolve().as_uri()}"
    assert requirement in (registry / "requirements.txt").read_text().splitlines()
    assert "which only this machine has" in done.stderr  # and the admin is told

    (registry / "image.sif").write_bytes(b"SIF" * 200_000)
    lines = generated_readme_block(registry / "README.md", "build-instructions")
    lines += generated_readme_block(registry / "README.md", "add-instructions")
    assert [line.split()[:2] for line in lines] == [
        ["make", "html"],
        ["make", "check"],
        [".venv/bin/orgreg", "manifest"],
        ["make", "html"],
        ["make", "check"],
    ]
    script = "set -e\n" + "\n".join(lines)
    # a shell with neither the test's venv nor the admin's on PATH
    path = ":".join(p for p in os.environ["PATH"].split(":") if not p.startswith(str(REPO)))
    run("bash", "-c", script, cwd=registry, PATH=path)
    assert (registry / ".venv/bin/orgreg").is_file()  # the registry's own venv
    origin = registry / ".venv/lib"
    [record] = origin.glob("python3*/site-packages/orgreg_sphinx-*.dist-info/direct_url.json")
    assert json.loads(record.read_text())["url"] == source.resolve().as_uri()
    page = soup(registry / "_build/html/acme/busybox/index.html")
    assert "latest" in page.get_text()
    tags = json.loads((registry / "_build/html/acme/busybox/tags/index.json").read_text())
    assert tags == {"name": "acme/busybox", "tags": ["latest"]}
    assert (registry / "_build/html/_static/orgreg.css").is_file()  # the theme, installed
