"""``orgreg init`` writes a registry that builds with -W and checks clean, its
workflows are lint-clean, and the README's init and fork instructions work as
written (issue 15)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from clitools import clean_env, orgreg
from conftest import REPO, soup
from test_cli_scope import git
from test_workflows import BIN, SHA_PIN, load, run_step, step_named, steps, zizmor

from orgreg_sphinx.cli.init import CONTAINER_FILES, FILES
from orgreg_sphinx.cli.origin import from_direct_url

IMAGE = b"SIF" * 200_000  # 600,000 bytes: read as bytes, not KiB


def sphinx_build(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-c",
            ".",
            "source",
            "_build/html",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
        timeout=600,
    )


def readme_block(marker: str, page: str = "README.md") -> list[str]:
    """The shell lines of the code block that follows *marker* in *page*."""
    text = (REPO / page).read_text()
    after = text[text.index(f"<!-- {marker}") :]
    block = re.search(r"```sh\n(.*?)```", after, re.S)
    assert block is not None
    return block.group(1).strip().splitlines()


def fake_venv(tmp_path: Path) -> Path:
    """A VENV for the Makefiles: the test's own bin folder, marked as installed."""
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "bin").symlink_to(BIN)
    installed = venv / ".installed"
    installed.touch()
    later = time.time() + 3600  # newer than the requirements the script writes
    os.utime(installed, (later, later))
    return venv


def run_lines(lines: list[str], cwd: Path, venv: Path) -> None:
    """Run the README's lines one by one, as a user types them, in one shell."""
    script = "set -e\n" + "\n".join(f"echo '>>> {n}'\n{line}" for n, line in enumerate(lines))
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        env=clean_env(PATH=f"{BIN}:{os.environ['PATH']}", VENV=str(venv)),
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_init_writes_a_registry_that_builds_and_checks_clean(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    done = orgreg(
        "init",
        root,
        "--title",
        "Acme <containers>",
        "--org",
        "acme",
        "--url",
        "https://acme.github.io/registry",
    )
    assert done.code == 0, done.err
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == sorted(FILES)
    assert f"wrote {root / 'conf.py'}" in done.out
    requirements = (root / "requirements.txt").read_text().splitlines()
    # the test venv holds this checkout, installed editable: the registry names it
    assert f"orgreg-sphinx @ {REPO.as_uri()}" in requirements
    assert f"requirements.txt installs orgreg-sphinx from the folder {REPO}" in done.err
    conf = (root / "conf.py").read_text()
    assert 'orgreg_repository_url = "https://github.com/acme/registry"' in conf

    built = sphinx_build(root)
    assert built.returncode == 0, built.stderr
    home = soup(root / "_build/html/index.html")
    assert home.title is not None and "Acme <containers>" in home.title.get_text()
    assert home.find("h1").get_text().rstrip("¶") == "Acme <containers>"
    checked = orgreg("check", root / "source", "--format", "json")
    assert checked.code == 0, checked.out + checked.err

    # one manifest, as a container repository's CI writes it
    (tmp_path / "busybox.sif").write_bytes(IMAGE)
    written = orgreg(
        "manifest",
        tmp_path / "busybox.sif",
        "--namespace",
        "acme/busybox",
        "--url",
        "https://storage.example.org/busybox.sif",
        "--tag",
        "1.36",
        "--root",
        root / "source",
        "--description",
        "Busybox of Acme",
    )
    assert written.code == 0, written.err
    built = sphinx_build(root)
    assert built.returncode == 0, built.stderr
    page = soup(root / "_build/html/acme/busybox/index.html")
    assert "Busybox of Acme" in page.get_text()
    [row] = page.select("table.orgreg-tags tbody tr")
    assert "1.36" in [td.get_text(strip=True) for td in row.find_all("td")]
    tags = json.loads((root / "_build/html/acme/busybox/tags/index.json").read_text())
    assert tags == {"name": "acme/busybox", "tags": ["1.36"]}
    catalog = json.loads((root / "_build/html/api/catalog.json").read_text())
    assert [n["name"] for n in catalog["namespaces"]] == ["acme/busybox"]
    # the site address given to init is the one the pull commands use
    assert "shub://acme.github.io/registry/acme/busybox:1.36" in page.get_text()
    assert orgreg("check", root / "source").code == 0


def test_init_refuses_a_folder_with_files_and_never_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    root.mkdir()
    (root / "README.md").write_text("my own readme\n")
    done = orgreg("init", root)
    assert done.code == 2
    assert f"orgreg init: {root}: the folder is not empty; give --force" in done.err
    assert sorted(p.name for p in root.iterdir()) == ["README.md"]

    done = orgreg("init", root, "--force")
    assert done.code == 0, done.err
    assert (root / "README.md").read_text() == "my own readme\n"
    assert f"kept {root / 'README.md'}: it exists and differs from the template" in done.err
    assert (root / "conf.py").is_file() and (root / ".github/workflows/check.yml").is_file()
    # again: every file exists; identical ones are not reported, nothing is rewritten
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    again = orgreg("init", root, "--force")
    assert again.code == 0 and "wrote" not in again.out
    assert again.err.count("kept") == 1
    assert before == {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "ftp://acme.org/"], "--url 'ftp://acme.org/' is not the http(s) address"),
        (["--url", "acme.github.io/registry"], "is not the http(s) address of a site"),
        (["--org", "bad org!"], "--org 'bad org!' is not a GitHub organization name"),
        (["--title", "two\nlines"], "--title must be one line of printable text"),
    ],
)
def test_init_refuses_bad_values(tmp_path: Path, args: list[str], message: str) -> None:
    done = orgreg("init", tmp_path / "registry", *args)
    assert done.code == 2
    assert message in done.err
    assert not (tmp_path / "registry").exists()


def test_init_refuses_a_file_as_folder(tmp_path: Path) -> None:
    (tmp_path / "registry").write_text("x")
    done = orgreg("init", tmp_path / "registry")
    assert done.code == 2 and "exists and is not a folder" in done.err


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("init") / "registry"
    assert orgreg("init", root, "--org", "acme").code == 0
    return root


def generated_workflows(root: Path) -> list[Path]:
    return sorted((root / ".github/workflows").glob("*.yml"))


def test_generated_workflows_pass_the_schema_and_zizmor(generated: Path) -> None:
    paths = generated_workflows(generated)
    assert [p.name for p in paths] == ["check.yml", "open-pull-request.yml", "pages.yml"]
    for schema, files in (
        ("vendor.github-workflows", paths),
        ("vendor.dependabot", [generated / ".github/dependabot.yml"]),
        ("vendor.readthedocs", [generated / ".readthedocs.yaml"]),
    ):
        done = subprocess.run(
            [str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    code, findings = zizmor(*paths, generated / ".github/dependabot.yml")
    assert findings == [] and code == 0, json.dumps(findings, indent=1)[:3000]


def test_generated_workflows_are_hardened_and_install_from_requirements(generated: Path) -> None:
    ours = {
        s["uses"].split("@")[0]: s["uses"]
        for p in REPO.glob(".github/workflows/*.yml")
        for s in steps(load(p))
        if "uses" in s
    }
    for path in generated_workflows(generated):
        workflow = load(path)
        assert workflow["permissions"] == {}
        for job in workflow["jobs"].values():
            assert "permissions" in job and "timeout-minutes" in job
        for step in steps(workflow):
            assert "${{" not in step.get("run", "")
            if "uses" in step:
                assert SHA_PIN.match(step["uses"])
                # the same pins as this repository's workflows, which Dependabot moves
                assert step["uses"] == ours[step["uses"].split("@")[0]]
            if step.get("uses", "").startswith("actions/setup-python@"):
                assert step["with"]["python-version"] in ("3.11", "3.13")
    check = load(generated / ".github/workflows/check.yml")
    runs = [s.get("run", "") for s in steps(check)]
    assert "python -m pip install --quiet -r trusted/requirements.txt" in runs
    assert 'make html SPHINXOPTS="-W --keep-going"' in runs
    pages = load(generated / ".github/workflows/pages.yml")
    assert "make html" in [s.get("run") for s in steps(pages)]
    dependabot = yaml.safe_load((generated / ".github/dependabot.yml").read_text())
    assert {u["package-ecosystem"] for u in dependabot["updates"]} == {"pip", "github-actions"}
    rtd = yaml.safe_load((generated / ".readthedocs.yaml").read_text())
    assert "python -m pip install --quiet -r requirements.txt" in rtd["build"]["commands"]


def test_readme_init_instructions_as_written(tmp_path: Path) -> None:
    lines = readme_block("init-instructions", "source/guide/tutorial.md")
    assert lines[0].startswith("orgreg init registry ")
    (tmp_path / "registry").mkdir()  # busybox.sif is in the folder the admin works in
    (tmp_path / "registry/busybox.sif").write_bytes(IMAGE)
    (tmp_path / "registry/busybox.sif").rename(tmp_path / "busybox.sif")
    (tmp_path / "registry").rmdir()
    # the image sits next to the folder, the README's lines run from the registry
    lines = [line.replace(" busybox.sif ", " ../busybox.sif ") for line in lines]
    run_lines(lines, tmp_path, fake_venv(tmp_path))
    site = tmp_path / "registry/_build/html"
    assert "1.36" in soup(site / "acme/busybox/index.html").get_text()
    assert json.loads((site / "acme/busybox/tags/index.json").read_text())["tags"] == ["1.36"]


def test_readme_fork_instructions_as_written(tmp_path: Path) -> None:
    """Clone (this checkout's committed HEAD), remove the example namespaces, add one."""
    lines = readme_block("fork-instructions")
    assert lines[0].startswith("git clone https://github.com/")
    lines[0] = f"git clone --quiet {REPO} registry"
    (tmp_path / "busybox.sif").write_bytes(IMAGE)
    lines = [line.replace(" busybox.sif ", " ../busybox.sif ") for line in lines]
    run_lines(lines, tmp_path, fake_venv(tmp_path))
    site = tmp_path / "registry/_build/html"
    assert not (site / "bio-core").exists() and not (site / "guide/directive.html").exists()
    assert (site / "guide/workflow.html").is_file()
    home = soup(site / "index.html")
    assert [a.get_text() for a in home.select("table.orgreg-namespaces td a")] == ["acme/busybox"]


def test_reference_names_every_command_flag_and_config_value(tmp_path: Path) -> None:
    """The built reference page (from source/, as the example site publishes it)
    names every sub-command and flag of the command line and every configuration
    value (the page a fork keeps: the directive page is left out there); so does
    the README."""
    import argparse

    from orgreg_sphinx.cli import COMMANDS, build_parser
    from orgreg_sphinx.sphinxext.config import OPTIONS

    out = tmp_path / "html"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-c",
            str(REPO),
            str(REPO / "source"),
            str(out),
            "-d",
            str(tmp_path / "doctrees"),
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    text = soup(out / "guide/reference.html").get_text()
    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert sorted(commands.choices) == sorted(COMMANDS)
    for name, parser in commands.choices.items():
        assert f"orgreg {name}" in text, name
        for action in parser._actions:
            for flag in action.option_strings:
                if flag not in ("-h", "--help"):
                    assert flag in text, f"orgreg {name} {flag}"
    readme = (REPO / "README.md").read_text()
    for option in OPTIONS:
        assert f"`{option.name}`" in readme, option.name
        assert option.name in text, option.name


# PEP 610's own examples of direct_url.json, and what `orgreg init` writes for each
WHEEL = "orgreg_sphinx-0.1.0-py3-none-any.whl"


@pytest.mark.parametrize(
    ("direct_url", "requirement", "kind", "note"),
    [
        (None, "orgreg-sphinx==0.1.0", "index", ""),
        (
            {"url": "file:///home/me/orgreg-sphinx", "dir_info": {"editable": True}},
            "orgreg-sphinx @ file:///home/me/orgreg-sphinx",
            "folder",
            "from the folder /home/me/orgreg-sphinx, which only this machine has",
        ),
        (
            {"url": "file:///home/me/orgreg-sphinx", "dir_info": {}},
            "orgreg-sphinx @ file:///home/me/orgreg-sphinx",
            "folder",
            "before you push the registry, replace that line",
        ),
        (
            {"url": f"file:///tmp/dist/{WHEEL}", "archive_info": {"hashes": {"sha256": "ab"}}},
            f"orgreg-sphinx @ file:///tmp/dist/{WHEEL}",
            "archive",
            f"from the file /tmp/dist/{WHEEL}, which only this machine has",
        ),
        (
            {"url": f"https://example.org/{WHEEL}", "archive_info": {}},
            f"orgreg-sphinx @ https://example.org/{WHEEL}",
            "archive",
            "",
        ),
        (
            {
                "url": "https://github.com/acme/orgreg-sphinx.git",
                "vcs_info": {
                    "vcs": "git",
                    "requested_revision": "v0.1.0",
                    "commit_id": "7921be1537eac1e97bc40179a57f0349c2aee67d",
                },
            },
            "orgreg-sphinx @ git+https://github.com/acme/orgreg-sphinx.git"
            "@7921be1537eac1e97bc40179a57f0349c2aee67d",
            "vcs",
            "installed from v0.1.0 of https://github.com/acme/orgreg-sphinx.git",
        ),
        (
            {"url": "https://example.org/x"},
            "orgreg-sphinx==0.1.0",
            "unknown",
            "cannot tell where this orgreg-sphinx was installed from",
        ),
        (
            ["not", "an", "object"],
            "orgreg-sphinx==0.1.0",
            "unknown",
            "its direct_url.json is not as PEP 610 describes it",
        ),
    ],
)
def test_the_requirement_follows_how_orgreg_sphinx_was_installed(
    direct_url: object, requirement: str, kind: str, note: str
) -> None:
    origin = from_direct_url(direct_url, "0.1.0")
    assert (origin.requirement, origin.kind) == (requirement, kind)
    assert note in origin.note
    assert bool(note) == bool(origin.note)


@pytest.mark.parametrize(
    ("args", "repository_url", "note"),
    [
        (
            ["--url", "https://hpcc.github.io/registry/"],
            "https://github.com/hpcc/registry",
            "the registry repository is hpcc/registry (from --url)",
        ),
        (
            ["--url", "https://hpcc.github.io/"],
            "https://github.com/hpcc/hpcc.github.io",
            "the registry repository is hpcc/hpcc.github.io (from --url)",
        ),
        (
            ["--url", "https://hpcc.github.io/registry/", "--repository", "hpcc/containers"],
            "https://github.com/hpcc/containers",
            "",
        ),
        (
            ["--repository", "https://github.com/hpcc/containers.git"],
            "https://github.com/hpcc/containers",
            "",
        ),
        (
            ["--url", "https://registry.hpcc.example.org/", "--org", "hpcc"],
            "",
            "cannot tell the registry's GitHub repository from --url "
            "https://registry.hpcc.example.org/ (not a https://ORG.github.io/ address): "
            "give --repository ORG/REPO",
        ),
        (
            ["--org", "hpcc"],
            "",
            "the registry's GitHub repository is not known: give --repository ORG/REPO",
        ),
    ],
)
def test_the_repository_comes_from_the_url_or_is_said_unknown(
    tmp_path: Path, args: list[str], repository_url: str, note: str
) -> None:
    """Never the folder's name (issue 25: myreg became github.com/hpcc/myreg)."""
    done = orgreg("init", tmp_path / "myreg", *args)
    assert done.code == 0, done.err
    conf = (tmp_path / "myreg/conf.py").read_text()
    assert f"orgreg_repository_url = {json.dumps(repository_url)}" in conf
    assert "myreg" not in conf
    notes = [line for line in done.err.splitlines() if "repository" in line and "note" in line]
    if note:
        assert [n for n in notes if note in n], done.err
    else:
        assert notes == [], done.err


@pytest.mark.parametrize("value", ["a b", "acme", "https://gitlab.com/acme/registry", "acme/.."])
def test_init_refuses_a_repository_that_is_not_one(tmp_path: Path, value: str) -> None:
    done = orgreg("init", tmp_path / "registry", "--repository", value)
    assert done.code == 2
    assert f"--repository {value!r} is not a GitHub repository: give ORG/REPO" in done.err


def test_help_lists_init_first_and_the_container_option() -> None:
    done = orgreg("--help")
    listed = re.findall(r"^    (\w+) ", done.out, re.M)
    assert listed[0] == "init" and sorted(listed) == ["check", "init", "manifest", "serve"]
    init_help = orgreg("init", "--help").out
    assert "--container" in init_help and "publish-to-registry.yml" in init_help


def test_init_container_writes_a_repository_whose_workflow_submits(tmp_path: Path) -> None:
    """`orgreg init --container`: its files, and its workflow's manifest step run
    against a registry made by `orgreg init` (the images as Apptainer built them)."""
    registry = tmp_path / "registry"
    assert orgreg("init", registry, "--url", "https://acme.github.io/registry/").code == 0
    git(registry, "init", "-q")
    git(registry, "add", "-A")
    git(registry, "commit", "-q", "-m", "registry")

    done = orgreg("init", "--container", tmp_path / "container", "--repository", "acme/registry")
    assert done.code == 0, done.err
    container = tmp_path / "container"
    written = sorted(str(p.relative_to(container)) for p in container.rglob("*") if p.is_file())
    assert written == sorted(CONTAINER_FILES)
    readme = (container / "README.md").read_text()
    assert "variable `REGISTRY_REPOSITORY`: the registry repository (`acme/registry`)" in readme
    assert (container / "Singularity").read_text().startswith("# ")
    assert "Bootstrap: docker\nFrom: busybox:1.36\n" in (container / "Singularity").read_text()
    workflow = container / ".github/workflows/publish-to-registry.yml"
    assert (
        workflow.read_bytes()
        == (
            REPO / "orgreg_sphinx/cli/templates/container/.github/workflows/publish-to-registry.yml"
        ).read_bytes()
    )

    # the install step takes orgreg-sphinx as the registry's requirements.txt names it
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "python").write_text('#!/bin/sh\necho "$@" > "$(dirname "$0")/log"\n')
    (fake / "python").chmod(0o755)
    step = step_named(workflow, "Install orgreg as the registry names it")["run"]
    subprocess.run(
        ["bash", "-e", "-c", step],
        cwd=tmp_path,
        env=clean_env(PATH=f"{fake}:{os.environ['PATH']}"),
        check=True,
    )
    assert (fake / "log").read_text() == "-m pip install --quiet -r registry/requirements.txt\n"

    (tmp_path / "images").mkdir()
    (tmp_path / "images/latest.sif").write_bytes(IMAGE)
    sha = "0123456789abcdef0123456789abcdef01234567"
    env = {"GITHUB_REPOSITORY": "acme/tools", "GITHUB_SHA": sha, "REGISTRY_ROOT": "source"}
    done = run_step(workflow, "Write the manifests", tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = registry / "source/acme/tools/manifests/latest/README.md"
    data = yaml.safe_load(manifest.read_text().split("---\n")[1])
    assert data["layers"][0]["url"] == (
        "https://github.com/acme/tools/releases/download/images-0123456789ab/latest.sif"
    )
    assert (data["size"], data["recipe"]) == (len(IMAGE), "Singularity")
    assert (registry / "source/acme/tools/manifests/latest/Singularity").read_text() == (
        container / "Singularity"
    ).read_text()
    # the registry's own check and build accept what it wrote
    assert orgreg("check", registry / "source").code == 0
    built = sphinx_build(registry)
    assert built.returncode == 0, built.stderr
