"""Rebuilds read only the namespaces that changed (issue 28): the namespace memo.

Pinned by what is read (READMEs parsed, namespaces read, git run), never by time.
Trees are given times well in the past, as a tree is when a build starts: files
changed in the last two seconds are never taken from the memo (``RACY_NS``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import git, good_tree, manifest, sha256, soup, tag_row, warnings_of, write_tree

from orgreg_sphinx.core import history, model
from orgreg_sphinx.core.model import Limits, NamespaceMemo, load_registry
from orgreg_sphinx.sphinxext import loader
from orgreg_sphinx.sphinxext.domain import domain_of

BUSYBOX = "acme/busybox"
LATEST = "acme/busybox/manifests/latest/README.md"


def age(root: Path, seconds: int = 60) -> None:
    """Give every file and folder below *root* a time *seconds* in the past."""
    past = time.time_ns() - seconds * 1_000_000_000
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            os.utime(os.path.join(folder, name), ns=(past, past), follow_symlinks=False)
    os.utime(root, ns=(past, past))


def edit(path: Path, text: str, seconds: int = 30) -> None:
    """Write *text* to *path*, dated *seconds* in the past (older than a racy change)."""
    path.write_text(text)
    past = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(past, past))


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The READMEs parsed by the model (as text; each call of the front-matter parser)."""
    calls: list[str] = []
    real = model.parse

    def counting(text: str, **kwargs: object) -> object:
        calls.append(text)
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(model, "parse", counting)
    return calls


def reload(root: Path, memo_file: Path) -> tuple[model.Registry, NamespaceMemo]:
    """Read *root* with the memo saved in *memo_file*, then save it again."""
    memo = NamespaceMemo.load(memo_file, Limits())
    found = load_registry(root, memo=memo)
    memo.save(memo_file, Limits())
    return found, memo


def test_an_unchanged_tree_is_not_read_again(tmp_path, parsed) -> None:
    root = tmp_path / "tree"
    write_tree(root, good_tree())
    age(root)
    memo_file = tmp_path / "memo.pickle"
    first, memo = reload(root, memo_file)
    assert parsed and len(memo.read) == len(first.namespaces)
    parsed.clear()
    again, memo = reload(root, memo_file)
    assert parsed == [] and memo.read == []
    assert again.namespaces == first.namespaces == load_registry(root).namespaces
    fresh = [ns.stamp() for ns in load_registry(root).namespaces]
    assert [ns.stamp() for ns in again.namespaces] == fresh


def test_namespaces_keep_their_stamps_in_the_memo(tmp_path, monkeypatch) -> None:
    """A stamp made before the memo is saved is not made again from it."""
    root = tmp_path / "tree"
    write_tree(root, good_tree())
    age(root)
    memo_file = tmp_path / "memo.pickle"
    memo = NamespaceMemo()
    first = load_registry(root, memo=memo)
    stamps = [ns.stamp() for ns in first.namespaces]
    memo.save(memo_file, Limits())
    made: list[str] = []
    real = model.Tag.stamp_data
    monkeypatch.setattr(model.Tag, "stamp_data", lambda tag: made.append(tag.name) or real(tag))
    again, _ = reload(root, memo_file)
    assert [ns.stamp() for ns in again.namespaces] == stamps
    assert made == []
    assert [ns.stamp() for ns in load_registry(root).namespaces] == stamps and made


def test_tags_from_the_memo_know_their_lines_unpacked_only_when_asked(
    tmp_path, monkeypatch
) -> None:
    """A tag's front-matter lines come back from the memo as read, kept packed
    (one string of bytes) until a line is asked for."""
    root = tmp_path / "tree"
    write_tree(root, good_tree())
    age(root)
    memo_file = tmp_path / "memo.pickle"
    first, _ = reload(root, memo_file)
    unpacked: list[bytes] = []
    real = model.pickle.loads

    def loads(data: bytes, *args: object, **kwargs: object) -> object:
        value = real(data, *args, **kwargs)  # type: ignore[arg-type]
        if isinstance(value, dict):  # a tag's lines (not a cache file's (stamp, value))
            unpacked.append(data)
        return value

    monkeypatch.setattr(model.pickle, "loads", loads)
    again, memo = reload(root, memo_file)
    assert memo.read == [] and unpacked == []
    tag = again.namespace(BUSYBOX).tag("latest")  # type: ignore[union-attr]
    fresh = first.namespace(BUSYBOX).tag("latest")  # type: ignore[union-attr]
    assert tag.line("layers", 0, "url") == fresh.line("layers", 0, "url") == 8
    assert dict(tag.lines) == dict(fresh.lines) and len(unpacked) == 1


def test_an_edited_manifest_reads_only_its_namespace(tmp_path, parsed) -> None:
    root = tmp_path / "tree"
    write_tree(root, good_tree())
    age(root)
    memo_file = tmp_path / "memo.pickle"
    reload(root, memo_file)
    edit(root / LATEST, manifest(sha256("edited"), 1234567))
    parsed.clear()
    found, memo = reload(root, memo_file)
    assert memo.read == [str(root / BUSYBOX)]
    own = [p for p in (root / BUSYBOX).rglob("README.md")]
    assert 1 <= len(parsed) <= len(own)  # that namespace's READMEs, nothing else
    assert found.namespace(BUSYBOX).tag("latest").digest == sha256("edited")
    assert found.namespaces == load_registry(root).namespaces


def many_namespaces(root: Path, count: int = 40) -> dict[str, str]:
    """A tree of *count* namespaces of one tag each, spread over the memo's shards."""
    tree = {
        f"acme/tool{i:02d}/manifests/v1/README.md": manifest(sha256(f"tool{i}"))
        for i in range(count)
    }
    write_tree(root, tree)
    age(root)
    return tree


def test_a_changed_namespace_rewrites_only_its_shard(tmp_path) -> None:
    root = tmp_path / "tree"
    many_namespaces(root)
    memo_folder = tmp_path / "memo"
    _, memo = reload(root, memo_folder)
    assert len(memo.written) == model.MEMO_SHARDS  # the first save writes them all
    files = {p.name: p.stat().st_mtime_ns for p in memo_folder.iterdir()}
    assert len(files) > 10  # the namespaces are spread over many shard files
    _, memo = reload(root, memo_folder)
    assert memo.written == []  # nothing changed: only the index is written
    edit(root / "acme/tool07/manifests/v1/README.md", manifest(sha256("new"), 77))
    found, memo = reload(root, memo_folder)
    shard = model.memo_shard(str(root / "acme/tool07"))
    assert memo.read == [str(root / "acme/tool07")] and memo.written == [shard]
    changed = {p.name for p in memo_folder.iterdir() if p.stat().st_mtime_ns != files.get(p.name)}
    assert changed == {f"{shard}.pickle", model.MEMO_INDEX}
    again, memo = reload(root, memo_folder)
    assert memo.read == [] and again.namespaces == found.namespaces


def test_the_memo_survives_an_interrupted_save(tmp_path, monkeypatch) -> None:
    """A save stopped after a shard but before the index: the next build reads
    that shard's namespaces again, takes the others from the memo, and finds
    what is in the tree."""
    root = tmp_path / "tree"
    many_namespaces(root)
    memo_folder = tmp_path / "memo"
    reload(root, memo_folder)
    edit(root / "acme/tool07/manifests/v1/README.md", manifest(sha256("new"), 77))
    memo = NamespaceMemo.load(memo_folder, Limits())
    load_registry(root, memo=memo)
    real = model.save_stamped

    def interrupted(file: Path, stamp: object, value: object) -> None:
        if file.name == model.MEMO_INDEX:
            raise KeyboardInterrupt
        real(file, stamp, value)

    monkeypatch.setattr(model, "save_stamped", interrupted)
    with pytest.raises(KeyboardInterrupt):
        memo.save(memo_folder, Limits())
    monkeypatch.undo()
    found, memo = reload(root, memo_folder)
    shard = model.memo_shard(str(root / "acme/tool07"))
    in_shard = sorted(f for f in memo.fresh if model.memo_shard(f) == shard)
    assert str(root / "acme/tool07") in in_shard and sorted(memo.read) == in_shard
    assert found.namespace("acme/tool07").tag("v1").digest == sha256("new")
    assert found.namespaces == load_registry(root).namespaces
    _, memo = reload(root, memo_folder)
    assert memo.read == []


def test_added_and_removed_tags_and_files_are_seen(tmp_path) -> None:
    """Entries added or removed change their folder's time: the namespace is read."""
    root = tmp_path / "tree"
    write_tree(root, good_tree())
    age(root)
    memo_file = tmp_path / "memo.pickle"
    reload(root, memo_file)
    write_tree(root, {"acme/busybox/manifests/2.0/README.md": manifest(sha256("two"))})
    (root / "acme/busybox/manifests/latest/Singularity").unlink()
    age(root / BUSYBOX, 20)  # what changed is older than a racy change
    found, memo = reload(root, memo_file)
    assert memo.read == [str(root / BUSYBOX)]
    busybox = found.namespace(BUSYBOX)
    assert busybox.tag("2.0") is not None
    assert busybox.tag("latest").recipe_file is None
    assert found.namespaces == load_registry(root).namespaces


def test_bad_files_are_reported_again_from_the_memo(tmp_path) -> None:
    root = tmp_path / "tree"
    write_tree(root, {**good_tree(), "acme/broken/manifests/v1/README.md": "---\nsize: [\n---\n"})
    age(root)
    memo_file = tmp_path / "memo.pickle"
    first, _ = reload(root, memo_file)
    assert first.problems
    again, memo = reload(root, memo_file)
    assert memo.read == []
    assert again.problems == first.problems == load_registry(root).problems


def test_links_and_racy_changes_are_never_kept(tmp_path) -> None:
    root = tmp_path / "tree"
    files = good_tree()
    write_tree(root, files)
    target = root / "acme/busybox/manifests/1.36/README.md"
    link = root / "acme/busybox/manifests/linked/README.md"
    link.parent.mkdir()
    link.symlink_to(target)
    age(root)
    memo_file = tmp_path / "memo.pickle"
    reload(root, memo_file)
    _, memo = reload(root, memo_file)
    assert memo.read == [str(root / BUSYBOX)]  # the namespace holding a link, every time
    (root / "acme/centos/README.md").write_text(files["acme/centos/README.md"] + "\nMore.\n")
    _, memo = reload(root, memo_file)  # changed just now: read, and not kept
    assert str(root / "acme/centos") in memo.read
    _, memo = reload(root, memo_file)
    assert str(root / "acme/centos") in memo.read


# ---------------------------------------------------------------- in the build


@pytest.fixture
def history_reads(monkeypatch) -> list[str]:
    """Each time the build reads the git history (loads its cache, runs git log)."""
    calls: list[str] = []
    real = history.read_history

    def counting(root: object, *args: object, **kwargs: object) -> history.History:
        calls.append(str(root))
        return real(root, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "read_history", counting)
    return calls


def test_a_no_op_rebuild_reads_no_manifest_and_no_history(
    registry_project, build, parsed, history_reads
) -> None:
    srcdir = registry_project()
    git(srcdir, "init", "-q")
    git(srcdir, "add", "-A")
    git(srcdir, "commit", "-q", "-m", "first")
    age(srcdir)
    first = build(srcdir)
    assert parsed and history_reads == [str(srcdir)]
    assert (Path(first.doctreedir) / loader.MEMO_FOLDER).is_dir()
    parsed.clear()
    history_reads.clear()
    again = build(srcdir)
    assert parsed == [] and history_reads == []
    assert warnings_of(again) == ""

    # an edit (not committed): its namespace read, and its history from the cache
    edit(srcdir / LATEST, manifest(sha256("edited"), 1234567))
    third = build(srcdir)
    assert len(parsed) >= 1 and history_reads == [str(srcdir)]
    row = tag_row(soup(Path(third.outdir) / "acme/busybox/index.html"), "latest")
    assert sha256("edited")[7:19] in str(row)

    # committed: the same files, a new commit: every namespace's history read again
    git(srcdir, "add", "-A")
    git(srcdir, "commit", "-q", "-m", "edited")
    parsed.clear()
    history_reads.clear()
    fourth = build(srcdir)
    assert parsed == [] and history_reads == [str(srcdir)]
    # the namespaces given their history again (those the new commit changed)
    # have the history a build from scratch gives, and so have the others
    full = history.apply(load_registry(srcdir), history.read_history(srcdir))
    built = domain_of(fourth.env).registry
    assert built.namespace(BUSYBOX).tag("latest").history.since is not None
    assert [ns.tags for ns in built.namespaces] == [ns.tags for ns in full.namespaces]
