"""`orgreg keep-times --git`: in a fresh git checkout (a CI runner's), unchanged
files and folders get their former times back from what git's index says, without
reading the files; changed, edited and added ones keep their new times, and the
build's namespace memo then reads only what the merge changed (issue 28)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from clitools import orgreg

from orgreg_sphinx.core.filetimes import keep_times, keep_times_from_git

GIT = [
    "git",
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@example.org",
    "-c",
    "init.defaultBranch=main",
]


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run([*GIT, "-C", str(cwd), *args], env=env, check=True, capture_output=True)
    return done.stdout.decode()


def origin_repository(tmp_path: Path) -> Path:
    origin = tmp_path / "origin"
    for ns in ("same", "grown", "edited"):
        folder = origin / "source/acme" / ns / "manifests/1.0"
        folder.mkdir(parents=True)
        (folder / "README.md").write_text(f"---\nsize: 1\n---\n{ns}\n")
    (origin / ".gitignore").write_text("_build/\n")
    git(origin, "init", "-q")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "first")
    return origin


def checkout(origin: Path, workspace: Path, record: Path | None) -> Path:
    """A fresh clone at *workspace* (every file and folder new), with *record*
    (the previous run's, as a restored cache holds it)."""
    shutil.rmtree(workspace, ignore_errors=True)
    git(origin.parent, "clone", "-q", str(origin), str(workspace))
    for path in [workspace, *workspace.rglob("*")]:  # a later checkout: newer times
        if ".git" not in path.parts:
            info = path.stat()
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5 * 10**9))
    if record is not None:
        (workspace / "_build").mkdir()
        shutil.copy(record, workspace / "_build/orgreg-file-times.json")
    return workspace


def times(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns
        for p in root.joinpath("source").rglob("*")
    }


def test_a_fresh_checkout_gets_the_former_times_of_what_the_merge_left(tmp_path: Path) -> None:
    origin = origin_repository(tmp_path)
    first = checkout(origin, tmp_path / "run1", None)
    done = orgreg("keep-times", "--git", first)
    assert done.code == 0, done.out + done.err
    assert "0 given back their former time, 4 changed or new" in done.out  # .gitignore too
    before = times(first)
    record = first / "_build/orgreg-file-times.json"
    # the merge: a tag added to one namespace, a manifest edited in another
    (origin / "source/acme/grown/manifests/2.0").mkdir()
    (origin / "source/acme/grown/manifests/2.0/README.md").write_text("---\nsize: 2\n---\n")
    (origin / "source/acme/edited/manifests/1.0/README.md").write_text("---\nsize: 3\n---\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "merge")
    second = checkout(origin, tmp_path / "run2", record)
    done = orgreg("keep-times", "--git", second)
    assert done.code == 0, done.out + done.err
    assert "3 given back their former time, 2 changed or new" in done.out
    after = times(second)
    restored = {rel for rel in after if after[rel] == before.get(rel)}
    assert restored == {
        "source/acme/same",
        "source/acme/same/manifests",
        "source/acme/same/manifests/1.0",
        "source/acme/same/manifests/1.0/README.md",
        "source/acme/grown/manifests/1.0",
        "source/acme/grown/manifests/1.0/README.md",
    }
    # what changed keeps the checkout's newer time
    for rel in (
        "source/acme/grown/manifests",
        "source/acme/grown/manifests/2.0/README.md",
        "source/acme/edited/manifests/1.0/README.md",
    ):
        assert after[rel] > before.get(rel, 0)


def test_an_edit_not_committed_is_seen_by_its_bytes(tmp_path: Path) -> None:
    """The index says nothing of a file edited in the work tree: it is digested
    from its bytes, and keeps its new time when those differ from the record."""
    origin = origin_repository(tmp_path)
    first = checkout(origin, tmp_path / "run1", None)
    keep_times_from_git(first, first / "_build/orgreg-file-times.json")
    second = checkout(origin, tmp_path / "run2", first / "_build/orgreg-file-times.json")
    edited = second / "source/acme/edited/manifests/1.0/README.md"
    edited.write_text("---\nsize: 4\n---\n")
    new_time = edited.stat().st_mtime_ns
    kept = keep_times_from_git(second, second / "_build/orgreg-file-times.json")
    assert (kept.restored, kept.changed) == (3, 1)
    assert edited.stat().st_mtime_ns == new_time
    # the folders holding the edit keep theirs too (source, acme, edited, its
    # manifests and tag: 5 of 11); the others are given back theirs
    assert kept.folders_restored == 11 - 5
    for rel in ("source/acme/same", "source/acme/edited/manifests"):
        given_back = (second / rel).stat().st_mtime_ns == (first / rel).stat().st_mtime_ns
        assert given_back == (rel == "source/acme/same")


def test_files_only_takes_the_work_tree_to_be_the_commit(tmp_path: Path, monkeypatch) -> None:
    """A run for a build told ORGREG_GIT_CHECKOUT trusts the checkout as that
    build does: no ``git status`` (it looks at every tracked file); so a recipe
    edited since the checkout is taken by its blob id and given its former time
    (without --files-only the edit is seen by its bytes, as above)."""
    from orgreg_sphinx.core import filetimes

    origin = origin_repository(tmp_path)
    with_a_page_and_recipes(origin)
    first = checkout(origin, tmp_path / "run1", None)
    keep_times_from_git(first, first / "_build/orgreg-file-times.json", git_build=True)
    second = checkout(origin, tmp_path / "run2", first / "_build/orgreg-file-times.json")
    recipe = second / "source/acme/same/manifests/1.0/Singularity"
    recipe.write_text("Bootstrap: scratch\n")
    asked: list[str] = []
    real = filetimes._git
    monkeypatch.setattr(filetimes, "_git", lambda root, *a: asked.append(a[0]) or real(root, *a))
    kept = keep_times_from_git(second, second / "_build/orgreg-file-times.json", git_build=True)
    assert "status" not in asked and "ls-files" in asked
    assert kept.changed == 0
    assert recipe.stat().st_mtime_ns == (first / recipe.relative_to(second)).stat().st_mtime_ns
    asked.clear()
    kept = keep_times_from_git(second, second / "_build/orgreg-file-times.json")
    assert "status" in asked and kept.changed >= 1


def test_the_records_of_both_ways_agree_on_nothing_wrongly(tmp_path: Path) -> None:
    """A record made by reading the files does not give its times to a git run (the
    digests differ in kind), nor the reverse: at worst a file counts as changed."""
    origin = origin_repository(tmp_path)
    first = checkout(origin, tmp_path / "run1", None)
    state = first / "_build/orgreg-file-times.json"
    keep_times(first, state)
    second = checkout(origin, tmp_path / "run2", state)
    kept = keep_times_from_git(second, second / "_build/orgreg-file-times.json")
    assert (kept.restored, kept.changed, kept.folders_restored) == (0, 4, 0)
    third = checkout(origin, tmp_path / "run3", second / "_build/orgreg-file-times.json")
    again = keep_times(third, third / "_build/orgreg-file-times.json")
    assert again.restored == 0


def test_without_git_it_looks_at_every_file(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / "source").mkdir(parents=True)
    (root / "source/index.md").write_text("x")
    done = orgreg("keep-times", "--git", root, GIT_CEILING_DIRECTORIES=str(tmp_path))
    assert done.code == 0, done.out + done.err
    assert "not a git checkout" in done.out
    assert "1 changed or new" in done.out


def with_a_page_and_recipes(origin: Path) -> None:
    """A Sphinx page and two tags' Singularity recipes in *origin*, committed."""
    (origin / "source/index.md").write_text("# Registry\n")
    for ns in ("same", "edited"):
        (origin / "source/acme" / ns / "manifests/1.0/Singularity").write_text(
            "Bootstrap: docker\nFrom: alpine\n"
        )
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "a page and recipes")


def test_files_only_leaves_the_folders_and_readmes_at_the_checkouts_time(
    tmp_path: Path,
) -> None:
    """``--files-only`` (for a build told ORGREG_GIT_CHECKOUT, which takes what
    changed from git): files get their times back, but not the README.md files
    (read only by the namespace reader) nor the folders; neither is recorded."""
    import json

    origin = origin_repository(tmp_path)
    with_a_page_and_recipes(origin)
    first = checkout(origin, tmp_path / "run1", None)
    done = orgreg("keep-times", "--git", "--files-only", first)
    assert done.code == 0, done.out + done.err
    assert "0 given back their former time, 4 changed or new" in done.out
    assert "3 README.md left at the checkout's time" in done.out
    before = times(first)
    record = first / "_build/orgreg-file-times.json"
    recorded = json.loads(record.read_text())
    assert recorded["folders"] == {}
    assert sorted(recorded["files"]) == [
        ".gitignore",
        "source/acme/edited/manifests/1.0/Singularity",
        "source/acme/same/manifests/1.0/Singularity",
        "source/index.md",
    ]
    # the merge: a recipe edited (its README, as every other, unchanged)
    (origin / "source/acme/edited/manifests/1.0/Singularity").write_text("Bootstrap: scratch\n")
    git(origin, "commit", "-q", "-am", "merge")
    second = checkout(origin, tmp_path / "run2", record)
    done = orgreg("keep-times", "--git", "--files-only", second)
    assert done.code == 0, done.out + done.err
    assert "3 given back their former time, 1 changed or new" in done.out
    assert "3 README.md left at the checkout's time; 0 folders given back" in done.out
    after = times(second)
    assert {rel for rel in after if after[rel] == before[rel]} == {
        "source/index.md",
        "source/acme/same/manifests/1.0/Singularity",
    }
    for rel in after:  # the others, READMEs and folders too, keep the checkout's time
        assert after[rel] >= before[rel]
    assert "README.md" not in "".join(json.loads(record.read_text())["files"])


def test_without_files_only_readmes_get_their_former_times(tmp_path: Path) -> None:
    """A run without ``--files-only`` gives README.md files their former times, as
    any file; after a ``--files-only`` run (whose record holds none) they count
    as new once: their newer time is kept, and the next run gives it back."""
    origin = origin_repository(tmp_path)
    with_a_page_and_recipes(origin)
    first = checkout(origin, tmp_path / "run1", None)
    assert orgreg("keep-times", "--git", "--files-only", first).code == 0
    second = checkout(origin, tmp_path / "run2", first / "_build/orgreg-file-times.json")
    done = orgreg("keep-times", "--git", second)
    assert done.code == 0, done.out + done.err
    assert "4 given back their former time, 3 changed or new" in done.out
    assert "README.md left" not in done.out
    readmes = sorted((second / "source").rglob("README.md"))
    assert len(readmes) == 3
    for readme in readmes:
        rel = readme.relative_to(second)
        assert readme.stat().st_mtime_ns > (first / rel).stat().st_mtime_ns
    third = checkout(origin, tmp_path / "run3", second / "_build/orgreg-file-times.json")
    done = orgreg("keep-times", "--git", third)
    assert "7 given back their former time, 0 changed or new" in done.out
    for readme in readmes:
        rel = readme.relative_to(second)
        assert (third / rel).stat().st_mtime_ns == readme.stat().st_mtime_ns


def test_a_checkout_takes_what_changed_from_git(tmp_path: Path) -> None:
    """The namespace memo of a build in a tree that is exactly a commit
    (ORGREG_GIT_CHECKOUT): a namespace no commit since the memo's touched is taken
    from the memo although every file and folder has a new time; the one a
    commit changed is read again, and gives what a fresh read gives."""
    from orgreg_sphinx.core import history
    from orgreg_sphinx.core.model import Limits, NamespaceMemo, load_registry

    origin = origin_repository(tmp_path)
    workspace = checkout(origin, tmp_path / "run", None)
    root = workspace / "source"
    memo = NamespaceMemo()
    memo.checkout = True  # (the clone is seconds old: no read is too recent to keep)
    load_registry(root, memo=memo)
    assert len(memo.read) == 3
    memo.commit = git(workspace, "rev-parse", "HEAD").strip()
    memo.save(tmp_path / "memo", Limits())
    # the merge: a tag added to one namespace
    (origin / "source/acme/grown/manifests/2.0").mkdir()
    (origin / "source/acme/grown/manifests/2.0/README.md").write_text("---\nsize: 2\n---\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "merge")
    workspace = checkout(origin, workspace, None)  # every file and folder newer
    head = git(workspace, "rev-parse", "HEAD").strip()
    assert history.changed_folders(root, memo.commit, head) == {"acme/grown"}
    assert history.changed_folders(root, "0" * 40, head) is None  # git cannot tell

    by_times = NamespaceMemo.load(tmp_path / "memo", Limits())
    load_registry(root, memo=by_times)
    assert len(by_times.read) == 3  # the new times: every namespace read again

    by_git = NamespaceMemo.load(tmp_path / "memo", Limits())
    by_git.checkout = True
    by_git.settle(os.fspath(root), history.changed_folders(root, memo.commit, head) or set())
    found = load_registry(root, memo=by_git)
    assert by_git.read == [os.fspath(root / "acme/grown")]
    fresh = load_registry(root)
    assert [(ns.name, [t.name for t in ns.tags]) for ns in found.namespaces] == [
        (ns.name, [t.name for t in ns.tags]) for ns in fresh.namespaces
    ]
    problems = sorted((str(p.path), p.message) for p in found.problems)
    assert problems == sorted((str(p.path), p.message) for p in fresh.problems)
    assert any("grown/manifests/2.0" in path for path, _ in problems)


def test_a_checkout_build_takes_what_changed_from_git_without_history(
    registry_project, build, monkeypatch, tmp_path: Path
) -> None:
    """A site build with ORGREG_GIT_CHECKOUT, the tag history off: after a commit
    and a checkout that gave every file and folder a new time, only the namespace
    the commit changed is read from the tree."""
    from conftest import manifest

    srcdir = registry_project(conf="orgreg_history = False\n")
    (srcdir / ".gitignore").write_text("_build/\n")
    git(srcdir, "init", "-q")
    git(srcdir, "add", "-A")
    git(srcdir, "commit", "-q", "-m", "first")
    monkeypatch.setenv("ORGREG_GIT_CHECKOUT", "true")
    app = build(srcdir)
    assert "[orgreg] namespaces: 3 read, 0 unchanged" in app._status.getvalue()
    tag = srcdir / "acme/busybox/manifests/9.9/README.md"
    tag.parent.mkdir()
    tag.write_text(manifest(size=123))
    git(srcdir, "add", "-A")
    git(srcdir, "commit", "-q", "-m", "a tag")
    for path in srcdir.rglob("*"):  # a fresh checkout's times, folders too
        if ".git" not in path.parts and "_build" not in path.parts:
            info = path.stat()
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5 * 10**9))
    app = build(srcdir)
    status = app._status.getvalue()
    assert "ORGREG_GIT_CHECKOUT: 1 namespace folders changed since" in status
    assert "[orgreg] namespaces: 1 read, 2 unchanged" in status
    assert (Path(app.outdir) / "acme/busybox/manifests/9.9/index.json").is_file()
    # without it, the new times say every namespace changed
    monkeypatch.delenv("ORGREG_GIT_CHECKOUT")
    for path in srcdir.rglob("*"):
        if ".git" not in path.parts and "_build" not in path.parts:
            info = path.stat()
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5 * 10**9))
    app = build(srcdir)
    assert "[orgreg] namespaces: 3 read, 0 unchanged" in app._status.getvalue()
