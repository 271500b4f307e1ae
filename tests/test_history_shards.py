"""The tag-history cache in shards by namespace: a build whose new commits
changed one namespace loads and writes that namespace's shard only, and the
histories are those of a read without any cache, whatever state the cache's
folder is in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import git, manifest, sha256

from orgreg_sphinx.core import history
from orgreg_sphinx.core.model import Registry, load_registry
from orgreg_sphinx.sphinxext import loader
from orgreg_sphinx.sphinxext.domain import domain_of

NAMESPACES = [f"org{i}/repo{i % 3}" for i in range(12)]
TAGS = ("latest", "1.0")
#: the namespace the last commit changes
CHANGED = NAMESPACES[5]


def put(root: Path, namespace: str, tag: str, image: str) -> None:
    path = root / namespace / "manifests" / tag / "README.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(manifest(sha256(image), 900000))


def commit_all(root: Path, date: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "change", date=date)
    return git(root, "rev-parse", "HEAD")


def made_tree(root: Path) -> Path:
    """Every namespace's tags in three commits (``latest`` re-pointed twice,
    ``1.0`` once)."""
    root.mkdir()
    git(root, "init", "-q")
    for n, date in enumerate(["2024-01-01", "2024-02-01", "2024-03-01"]):
        for ns in NAMESPACES:
            for tag in TAGS:
                if n < 2 or tag == "latest":
                    put(root, ns, tag, f"{ns}:{tag}:{n}")
        commit_all(root, f"{date}T00:00:00Z")
    return root


def new_commit(root: Path) -> str:
    """A commit re-pointing one tag of :data:`CHANGED` and adding one to it."""
    put(root, CHANGED, "latest", "re-pointed")
    put(root, CHANGED, "2.0", "added")
    return commit_all(root, "2024-04-01T00:00:00Z")


def shard_of(namespace: str) -> int:
    return history.history_shard(f"{namespace}/manifests/latest/README.md")


def files_of(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in sorted(folder.iterdir())}


def histories(registry: Registry) -> dict[str, object]:
    return {f"{ns.name}:{t.name}": t.history for ns in registry.namespaces for t in ns.tags}


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each file of the cache's folder loaded."""
    names: list[str] = []
    real = history.load_stamped

    def counting(file: Path, stamp: object) -> object:
        names.append(file.name)
        return real(file, stamp)

    monkeypatch.setattr(history, "load_stamped", counting)
    return names


def test_a_new_commit_loads_and_writes_only_its_namespaces_shard(
    tmp_path: Path, loads: list[str]
) -> None:
    root = made_tree(tmp_path / "tree")
    folder = tmp_path / "cache"
    first = history.read_history(root, current=load_registry(root))
    first.cache.save(folder)
    assert sorted(first.cache.written) == sorted(
        set(range(history.HISTORY_SHARDS))
    )  # a new cache: every shard (empty ones have no file)
    before = files_of(folder)
    assert set(before) == {
        history.HISTORY_INDEX,
        *(f"{shard_of(ns)}.pickle" for ns in NAMESPACES),
    }
    head = git(root, "rev-parse", "HEAD")
    new_commit(root)

    loads.clear()
    cache = history.HistoryCache.load(folder)
    assert loads == [history.HISTORY_INDEX]  # the index only
    current = load_registry(root)
    read = history.read_history(root, cache, current=current)
    shard = f"{shard_of(CHANGED)}.pickle"
    assert loads == [history.HISTORY_INDEX, shard]
    assert read.changed and read.since == head and read.commits_read == 1
    assert read.paths == {
        f"{CHANGED}/manifests/latest/README.md",
        f"{CHANGED}/manifests/2.0/README.md",
    }
    # both new versions are the checked-out manifests: their facts are the registry's
    assert read.blobs_parsed == 0 and read.blobs_from_registry == 2
    # the namespace changed, as the build gives it its history again
    part = Registry(root, tuple(ns for ns in current.namespaces if ns.name == CHANGED))
    given = history.apply(part, read)
    assert loads == [history.HISTORY_INDEX, shard]
    read.cache.save(folder)
    assert read.cache.written == [shard_of(CHANGED)]
    after = files_of(folder)
    assert after.keys() == before.keys()
    assert [name for name in after if after[name] != before[name]] == sorted(
        [history.HISTORY_INDEX, shard]
    )

    # the same histories as a read without any cache, loaded, new or applied in part
    fresh = history.read_history(root)
    expected = histories(history.apply(current, fresh))
    assert histories(given) == {k: v for k, v in expected.items() if k.startswith(CHANGED)}
    assert expected[f"{CHANGED}:latest"].former  # type: ignore[attr-defined]
    assert histories(history.apply(current, read)) == expected
    loaded = history.read_history(root, history.HistoryCache.load(folder))
    assert loaded.commits_read == 0 and not loaded.changed
    assert histories(history.apply(current, loaded)) == expected
    assert dict(loaded.cache.versions) == dict(fresh.cache.versions)
    assert loaded.cache.blobs == fresh.cache.blobs


def test_the_cache_is_written_whole_to_another_folder(tmp_path: Path) -> None:
    root = made_tree(tmp_path / "tree")
    history.read_history(root).cache.save(tmp_path / "one")
    cache = history.HistoryCache.load(tmp_path / "one")
    cache.save(tmp_path / "two")
    assert files_of(tmp_path / "two").keys() == files_of(tmp_path / "one").keys()
    current = load_registry(root)
    again = history.read_history(root, history.HistoryCache.load(tmp_path / "two"))
    assert history.apply(current, again) == history.apply(current, history.read_history(root))


def damage(file: Path, how: str, folder: Path, root: Path) -> None:
    if how == "truncated":
        file.write_bytes(file.read_bytes()[:40])
    elif how == "garbage":
        file.write_bytes(os.urandom(300))
    elif how == "missing":
        file.unlink()
    else:  # "stale": a shard of another save (one interrupted before its index)
        other = folder.parent / "other"
        history.read_history(root).cache.save(other)
        os.replace(other / file.name, file)


@pytest.mark.parametrize("how", ["truncated", "garbage", "missing", "stale"])
@pytest.mark.parametrize("when", ["changed-by-new-commit", "applied-same-commit", "applied"])
def test_a_damaged_shard_gives_the_same_history(tmp_path: Path, how: str, when: str) -> None:
    """A shard the new commits changed makes the history be read whole; one
    asked for by :func:`history.apply` is read again from git (and the next save
    writes every shard)."""
    root = made_tree(tmp_path / "tree")
    folder = tmp_path / "cache"
    history.read_history(root).cache.save(folder)
    if when != "applied-same-commit":
        new_commit(root)
    damaged = CHANGED
    if when != "changed-by-new-commit":  # another shard than the new commit's
        damaged = next(ns for ns in NAMESPACES if shard_of(ns) != shard_of(CHANGED))
    damage(folder / f"{shard_of(damaged)}.pickle", how, folder, root)
    current = load_registry(root)
    expected = histories(history.apply(current, history.read_history(root)))

    read = history.read_history(root, history.HistoryCache.load(folder), current=current)
    assert read.available
    if when == "changed-by-new-commit":
        assert read.since == "" and read.commits_read == 4  # read whole
    else:
        assert read.commits_read == (0 if when == "applied-same-commit" else 1)
    part = Registry(root, tuple(ns for ns in current.namespaces if ns.name == damaged))
    assert histories(history.apply(part, read)).items() <= expected.items()
    assert histories(history.apply(current, read)) == expected
    assert read.cache.unsaved
    read.cache.save(folder)
    assert len(read.cache.written) == history.HISTORY_SHARDS
    healed = history.read_history(root, history.HistoryCache.load(folder))
    assert histories(history.apply(current, healed)) == expected


def test_a_former_or_damaged_index_reads_the_history_whole(tmp_path: Path) -> None:
    root = made_tree(tmp_path / "tree")
    folder = tmp_path / "cache"
    history.read_history(root).cache.save(folder)
    (folder / history.HISTORY_INDEX).write_bytes(b"not a pickle")
    assert history.HistoryCache.load(folder).head == ""
    history.save_stamped(folder / history.HISTORY_INDEX, 2, history.HistoryCache())
    read = history.read_history(root, history.HistoryCache.load(folder))
    assert read.commits_read == 3 and read.since == ""


def test_the_build_keeps_the_history_in_a_folder(registry_project, build) -> None:  # type: ignore[no-untyped-def]
    """The former single file is removed; a rebuild after a commit gives the
    history a build from scratch gives."""
    srcdir = registry_project()
    (srcdir / ".gitignore").write_text("_build/\n")
    git(srcdir, "init", "-q")
    commit_all(srcdir, "2024-01-01T00:00:00Z")
    put(srcdir, "acme/busybox", "latest", "moved")
    commit_all(srcdir, "2024-02-01T00:00:00Z")
    doctrees = srcdir / "_build" / "doctrees"
    doctrees.mkdir(parents=True)
    former = doctrees / loader.FORMER_HISTORY_CACHE_FILE
    former.write_bytes(b"a cache of an earlier version")
    app = build(srcdir)
    assert Path(app.doctreedir) == doctrees
    assert not former.exists()
    assert (doctrees / loader.HISTORY_CACHE_FOLDER / history.HISTORY_INDEX).is_file()
    put(srcdir, "acme/busybox", "latest", "moved again")
    commit_all(srcdir, "2024-03-01T00:00:00Z")
    again = build(srcdir)
    built = domain_of(again.env).registry
    full = history.apply(load_registry(srcdir), history.read_history(srcdir))
    assert built.namespace("acme/busybox").tag("latest").history.former
    assert [ns.tags for ns in built.namespaces] == [ns.tags for ns in full.namespaces]
