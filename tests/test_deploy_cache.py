"""The Pages workflow restores the previous build, keyed so that a setting, the
theme or the extension's version rebuilds everything (issue 28); bench/deploy.py
runs that workflow's build job as written, and `orgreg keep-times` gives a fresh
checkout's unchanged files their former times. Times are measured by
bench/deploy.py, never asserted."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from clitools import orgreg
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))

import deploy  # noqa: E402

from orgreg_sphinx.core.filetimes import keep_times  # noqa: E402
from orgreg_sphinx.core.model import RACY_NS  # noqa: E402

#: the cache action's post step, as bench/deploy.py names it
SAVE = (
    "Post: save _build/doctrees _build/site-archive/index.pickle "
    "_build/site-archive/artifact.tar.zst _build/orgreg-file-times.json"
)
WORKFLOWS = [REPO / ".github/workflows/pages.yml", REPO / "orgreg_sphinx/cli/templates/pages.yml"]


def cache_steps(path: Path) -> dict[str, dict]:
    steps = yaml.safe_load(path.read_text())["jobs"]["build"]["steps"]
    return {
        s["with"]["path"].split()[0]: s
        for s in steps
        if s.get("uses", "").startswith("actions/cache@")
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=["pages.yml", "init template"])
def test_the_build_is_restored_by_settings_then_newest_commit(path: Path) -> None:
    caches = cache_steps(path)
    assert set(caches) == {".venv", "_build/doctrees"}
    build = caches["_build/doctrees"]["with"]
    # the site is cached as one file (the last Pages artifact, compressed, and its
    # index), never as its files nor as the tar: the build and the pack step are
    # told where it is
    paths = build["path"].split()
    assert paths == [
        "_build/doctrees",
        "_build/site-archive/index.pickle",
        "_build/site-archive/artifact.tar.zst",
        "_build/orgreg-file-times.json",
    ]
    prefix = build["restore-keys"]
    # the exact key is the restore key plus the commit: the newest build with the same
    # settings is restored, and each commit saves its own
    assert build["key"] == prefix + "${{ github.sha }}"
    for part in ("runner.os", "steps.python.outputs.python-version", "hashFiles("):
        assert part in prefix
    [inputs] = [s for s in prefix.split("${{ ") if s.startswith("hashFiles(")]
    names = {n.strip(" '") for n in inputs.split("(", 1)[1].split(")")[0].split(",")}
    assert {"conf.py", "requirements.txt", "Makefile"} <= names
    if path.parent.name == "workflows":  # this repository installs the extension from itself
        assert "orgreg_sphinx/**" in names and "pyproject.toml" in names
    venv = caches[".venv"]
    assert "requirements.txt" in venv["with"]["key"]
    steps = yaml.safe_load(path.read_text())["jobs"]["build"]["steps"]
    names_in_order = [s.get("name") for s in steps]
    # the environment is installed only when not restored; the times are kept before
    # the build, which comes after both restores
    [install] = [s for s in steps if s.get("name") == "Install"]
    assert install["if"] == f"steps.{venv['id']}.outputs.cache-hit != 'true'"
    keep = names_in_order.index("Give unchanged files their former times")
    # files only: the build takes which namespaces changed from git (ORGREG_GIT_CHECKOUT)
    assert steps[keep]["run"] == ".venv/bin/orgreg keep-times --git --files-only"
    assert names_in_order.index("Restore the previous build") < keep < names_in_order.index("Build")
    [build_step] = [s for s in steps if s.get("name") == "Build"]
    assert build_step["env"]["ORGREG_SITE_ARCHIVE"] == "_build/site-archive"
    assert build_step["env"]["ORGREG_GIT_CHECKOUT"]
    assert build_step["run"] == "make html"  # the Makefile's, as a local build
    pack = names_in_order.index("Pack the site")
    assert steps[pack]["run"] == ".venv/bin/orgreg site-archive _build/html _build/site-archive"
    assert names_in_order.index("Build") < pack < names_in_order.index("Upload the site")


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    work = tmp_path_factory.mktemp("deploy")
    return work, deploy.make_registry(work / "origin", 4, 2, seed=3, commits=2)


def test_the_key_changes_with_settings_not_with_manifests(registry, tmp_path: Path) -> None:
    work, _ = registry
    origin = work / "origin"
    build = cache_steps(origin / deploy.WORKFLOW)["_build/doctrees"]["with"]

    def keys() -> tuple[str, str]:
        context = deploy.Context(origin, "c0ffee")
        context.outputs["python"] = {"python-version": "3.13.1"}
        return context.expand(build["restore-keys"]), context.expand(build["key"])

    prefix, key = keys()
    assert key == prefix + "c0ffee" and len(prefix) > 60
    manifest = next((origin / "source").glob("*/*/manifests/*/README.md"))
    original = manifest.read_text()
    conf = (origin / "conf.py").read_text()
    requirements = (origin / "requirements.txt").read_text()
    try:
        manifest.write_text(original.replace("layout:", "created: '2024-01-01'\nlayout:"))
        assert keys()[0] == prefix  # a new or changed tag: the same start, the build restored
        (origin / "conf.py").write_text(conf + "\nhtml_title = 'Other'\n")
        assert keys()[0] != prefix  # a setting: everything rebuilt
        (origin / "conf.py").write_text(conf)
        # (the orgreg-sphinx line names a folder, a wheel or a version, by how it was
        # installed: another pinned package stands for another version)
        (origin / "requirements.txt").write_text(requirements + "\nfuro==2024.8.6\n")
        assert keys()[0] != prefix  # another extension (or theme) version
    finally:
        manifest.write_text(original)
        (origin / "conf.py").write_text(conf)
        (origin / "requirements.txt").write_text(requirements)
    assert keys()[0] == prefix


def plain(log: str) -> str:
    """*log* without terminal colour codes (Sphinx colours its output where the
    environment asks for it, as the newest end's root does)."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", log)


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_a_deploy_with_the_restored_build_reads_only_the_change(registry) -> None:
    """The workflow's steps as written, twice, the second time with one tag added:
    with the cache only the changed namespace's page and the home page are read and
    written, and the published site is the one a build from nothing makes."""
    work, namespaces = registry
    origin, workspace, store = work / "origin", work / "workspace", work / "caches"
    cold = deploy.run_job(origin, workspace, store, "cold", prepare_venv=deploy.offline_venv)
    workflow = [s.get("name") for s in deploy.job_steps(origin / deploy.WORKFLOW)]
    ran = [s.name for s in cold.steps]
    assert ran == [*workflow, SAVE]  # every step of the job, in its order
    assert cold.step("Restore the previous build").note == "miss"
    assert "packed the whole site" in cold.step("Pack the site").note
    # what is cached: Sphinx's environment and doctrees, the memo, the output's
    # record, the files' times, and the site as one tar with its index (never its
    # files), saved as actions/cache saves it
    [archive] = store.glob(f"*{Path(deploy.cache_commands()[0]).suffix}")
    listed = subprocess.run(  # (tar finds the compression itself)
        ["tar", "-tf", str(archive)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {p.split("/")[0] for p in listed} == {"_build"}
    assert not [p for p in listed if p.startswith("_build/html")]
    for kept in (
        "_build/doctrees/environment.pickle",
        "_build/doctrees/orgreg-namespaces/index.pickle",
        "_build/site-archive/artifact.tar.zst",
        "_build/site-archive/index.pickle",
        "_build/orgreg-file-times.json",
    ):
        assert kept in listed
    assert "_build/site-archive/artifact.tar" not in listed  # made again from the .zst
    assert (
        "0 given back their former time"
        in cold.step("Give unchanged files their former times").note
    )
    # The next deploy gives unchanged files the cold checkout's times, which a build
    # keeps in its namespace memo only when they are older than the memo's racy
    # window (files changed less than RACY_NS before a read are never kept). Deploys
    # are minutes apart; this tiny one can end within the window on a fast machine
    # (then no namespace was kept, and the deploy after reads all 4): wait it out.
    checked_out = max(p.lstat().st_mtime_ns for p in (workspace / "source").rglob("*"))
    time.sleep(max(0.0, (checked_out + RACY_NS - time.time_ns()) / 1e9))
    changed = deploy.add_tag(origin, namespaces, seed=3)

    cached = deploy.run_job(origin, workspace, store, "cached", prepare_venv=deploy.offline_venv)
    assert [s.name for s in cached.steps] == ran
    assert cached.step("Restore the previous build").note.startswith("restored by prefix ")
    # (the added tag is a README.md: left at the checkout's time, as every README,
    # and not recorded; git tells the build which namespace changed)
    assert ", 0 changed or new," in cached.step("Give unchanged files their former times").note
    assert "README.md left at the checkout's time" in plain(cached.log)
    read = [ln for ln in plain(cached.log).splitlines() if ln.startswith("reading sources...")]
    assert sorted(ln.rsplit(" ", 1)[1] for ln in read) == [f"{changed}/index", "index"]
    # folders keep their checkout times: the build took what changed from git
    assert "; 0 folders given back their former time" in cached.log
    # the next merge: only the changed namespace's folder is read from the tree (git
    # says the others did not change: the namespace memo holds them)
    deploy.add_tag(origin, namespaces, seed=4)
    cached = deploy.run_job(origin, workspace, store, "cached", prepare_venv=deploy.offline_venv)
    assert "[orgreg] namespaces: 1 read, 3 unchanged" in plain(cached.log), plain(cached.log)
    assert "ORGREG_GIT_CHECKOUT: 1 namespace folders changed since" in plain(cached.log)
    read = [ln for ln in plain(cached.log).splitlines() if ln.startswith("reading sources...")]
    assert sorted(ln.rsplit(" ", 1)[1] for ln in read) == [f"{changed}/index", "index"]
    # the site was not unpacked: the build wrote the changed pages and files only
    written = tree(workspace / "_build/html")
    assert f"{changed}/index.html" in written and "index.html" in written
    others = [f"{ns.name}/index.html" for ns in namespaces if ns.name != changed]
    assert len(others) == 3 and not set(others) & set(written), sorted(written)
    assert ", 0 removed;" in cached.log

    uncached = deploy.run_job(
        origin, workspace, store, "uncached", use_cache=False, prepare_venv=deploy.offline_venv
    )
    assert uncached.step("Restore the previous build").note == "miss"
    read = [ln for ln in plain(uncached.log).splitlines() if ln.startswith("reading sources...")]
    assert len(read) > 2
    # the published sites: the same members with the same bytes
    assert (
        deploy.compare_artifacts(work / "cached-artifact.tar", work / "uncached-artifact.tar") == []
    )
    assert cached.artifact_files == uncached.artifact_files > 0

    # a tag removed: its files are gone from the artifact
    tag = next((origin / "source" / changed / "manifests").iterdir())
    deploy.git(origin, "rm", "-q", "-r", str(tag))
    deploy.git(origin, "commit", "-q", "-m", f"Remove {tag.name}", date="2024-03-02T12:00:00Z")
    cached = deploy.run_job(origin, workspace, store, "cached", prepare_venv=deploy.offline_venv)
    assert re.search(r", [1-9][0-9]* removed;", cached.log), cached.log
    files, _ = deploy.tar_members(work / "cached-artifact.tar")
    gone = f"./{changed}/manifests/{tag.name}/"
    assert not [n for n in files if n.startswith(gone)]
    uncached = deploy.run_job(
        origin, workspace, store, "uncached", use_cache=False, prepare_venv=deploy.offline_venv
    )
    assert (
        deploy.compare_artifacts(work / "cached-artifact.tar", work / "uncached-artifact.tar") == []
    )


def test_keep_times_restores_unchanged_files_only(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    (root / "source").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    same, edited = root / "source/same.md", root / "source/edited.md"
    same.write_text("same")
    edited.write_text("before")
    state = root / "_build/orgreg-file-times.json"
    first = keep_times(root, state)
    assert (first.restored, first.changed, first.files) == (0, 2, 2)  # .git is not walked
    recorded = {p: p.stat().st_mtime_ns for p in (same, edited)}
    # a fresh checkout: every file newer, one of them changed
    for path in (same, edited):
        os.utime(path, ns=(0, recorded[path] + 10**9))
    edited.write_text("after")
    done = orgreg("keep-times", root)
    assert done.code == 0 and "1 given back their former time, 1 changed or new" in done.out
    assert same.stat().st_mtime_ns == recorded[same]
    assert edited.stat().st_mtime_ns > recorded[edited]
    again = keep_times(root, state)
    assert (again.restored, again.changed, again.unchanged) == (0, 0, 2)


def test_keep_times_restores_folders_whose_entries_are_the_same(tmp_path: Path) -> None:
    """A folder's time follows its entries: given back when their names are the
    recorded ones, left when a file was added."""
    root = tmp_path / "registry"
    same, grown = root / "source/acme/same", root / "source/acme/grown"
    for folder in (same, grown):
        folder.mkdir(parents=True)
        (folder / "README.md").write_text("x")
    state = root / "_build/orgreg-file-times.json"
    keep_times(root, state)
    recorded = {p: p.stat().st_mtime_ns for p in (same, grown)}
    for folder in (same, grown):  # a fresh checkout: every folder newer
        os.utime(folder, ns=(0, recorded[folder] + 10**9))
    (grown / "Singularity").write_text("Bootstrap: docker\n")
    kept = keep_times(root, state)
    assert same.stat().st_mtime_ns == recorded[same]
    assert grown.stat().st_mtime_ns > recorded[grown]
    assert kept.folders_restored >= 1
    assert keep_times(root, state).folders_restored == 0  # idempotent


def test_endpoint_batches_survive_a_fresh_checkout_with_the_former_times(tmp_path: Path) -> None:
    """A namespace's endpoint files are not made again after a restored build when
    its files (recipes included) got their former times back; an edited recipe is."""
    from conftest import good_tree, write_tree

    from orgreg_sphinx.core.endpoints import endpoint_batches
    from orgreg_sphinx.core.model import load_registry

    write_tree(tmp_path, good_tree())
    recipe = tmp_path / "acme/busybox/manifests/latest/Singularity"
    assert recipe.is_file()

    def stamps() -> dict[str, str]:
        return {b.key: b.stamp for b in endpoint_batches(load_registry(tmp_path), "s")}

    before = stamps()
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        info = path.stat()
        copy = path.with_name(path.name + ".checkout")
        copy.write_bytes(path.read_bytes())
        os.replace(copy, path)  # a new file: new inode and change time
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert stamps() == before
    info = recipe.stat()
    recipe.write_text("Bootstrap: docker\nFrom: alpine\n")
    os.utime(recipe, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
    after = stamps()
    assert {k for k in before if after[k] != before[k]} == {"namespace:acme/busybox"}


def test_a_contents_record_stamp_survives_a_fresh_checkout(tmp_path: Path) -> None:
    """A tag's change stamp holds its contents record's status: the same bytes and
    modification time in a new file (a checkout restored by keep-times) keep it."""
    from orgreg_sphinx.core.contents import file_stamp

    record = tmp_path / "contents.json"
    record.write_text('{"executables": []}')
    before = file_stamp(record)
    info = record.stat()
    copy = tmp_path / "checkout.tmp"
    copy.write_bytes(record.read_bytes())
    os.replace(copy, record)
    os.utime(record, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert file_stamp(record) == before
    os.utime(record, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
    assert file_stamp(record) != before


def test_keep_times_starts_without_the_other_sub_commands(tmp_path: Path) -> None:
    """A deploy runs ``orgreg keep-times`` every time: the command line imports the
    module of the sub-command it runs only (not the checks' schemas and HTTP
    client), and still lists every sub-command."""
    (tmp_path / "source").mkdir()
    (tmp_path / "source/README.md").write_text("x")
    code = (
        "import sys\nfrom orgreg_sphinx.cli import main\n"
        "assert main(['keep-times', sys.argv[1]]) == 0\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('orgreg_sphinx.cli.'))))\n"
        "print('jsonschema' in sys.modules, 'requests' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    kept, modules, heavy = done.stdout.splitlines()
    assert "1 changed or new" in kept
    assert modules.split() == ["orgreg_sphinx.cli.keep_times"]
    assert heavy == "False False"
    listed = orgreg("--help").out
    assert all(name in listed for name in ("init", "check", "serve", "manifest", "keep-times"))
