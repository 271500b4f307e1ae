"""The published site kept as one tar (issue 28): ``orgreg site-archive`` packs the
Pages artifact as upload-pages-artifact's GNU tar does, patching the previous one;
a build with ``ORGREG_SITE_ARCHIVE`` counts the archived files as present, writes
what changed and records what it removed; the packed site is the one a full build
publishes. Times are measured by bench/deploy.py, never asserted."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clitools import orgreg
from conftest import REPO, manifest, warnings_of, write_tree

sys.path.insert(0, str(REPO / "bench"))

import deploy  # noqa: E402

from orgreg_sphinx.core import files, sitearchive  # noqa: E402
from orgreg_sphinx.core.sitearchive import (  # noqa: E402
    BLOCK,
    INDEX_NAME,
    PACKED_NAME,
    RECORD,
    TAR_NAME,
    Overlay,
    SiteArchive,
    pack,
    unpack,
)

LONG = "n" * 90  # a path over tar's 100 bytes: a ././@LongLink member first


def gnu_tar(site: Path, tar: Path) -> Path:
    """What actions/upload-pages-artifact (v3) runs."""
    return deploy.pages_tar(site, tar)


def members(tar: Path) -> dict[str, str]:
    """name -> sha256 of the bytes (``/`` for a folder), read by Python's tarfile."""
    found: dict[str, str] = {}
    with tarfile.open(tar) as archive:
        for member in archive:
            assert member.isfile() or member.isdir(), member.name
            handle = archive.extractfile(member) if member.isfile() else None
            found[member.name] = hashlib.sha256(handle.read()).hexdigest() if handle else "/"
    return found


def headers(tar: Path) -> dict[str, bytes]:
    """Each member's header blocks (a long name's ././@LongLink ones included)."""
    found: dict[str, bytes] = {}
    with tarfile.open(tar) as archive, open(tar, "rb") as raw:
        for member in archive:
            raw.seek(member.offset)
            found[member.name] = raw.read(member.offset_data - member.offset)
    return found


def a_site(root: Path) -> Path:
    site = root / "site"
    write_tree(
        site,
        {
            "index.html": "<p>home</p>",
            ".buildinfo": "# Sphinx build info\n",
            "acme/busybox/index.html": "busybox" * 100,
            "acme/busybox/manifests/latest/index.json": "{}",
            "acme/busybox/manifests/1.36/index.json": '{"a": 1}',
            "acme/alpine/index.html": "alpine",
            f"acme/{LONG}/manifests/{LONG}/index.json": "long",
            "api/catalog.json": "[]" * 700,
            ".git/HEAD": "not published",
            ".github/x.yml": "not published",
        },
    )
    (site / "empty").mkdir()
    (site / "api/link.json").symlink_to(site / "api/catalog.json")
    return site


def test_a_full_pack_is_what_upload_pages_artifact_uploads(tmp_path: Path) -> None:
    site = a_site(tmp_path)
    done = orgreg("site-archive", site, tmp_path / "archive")
    assert done.code == 0 and "packed the whole site" in done.out, done.out
    tar = tmp_path / "archive/artifact.tar"
    reference = gnu_tar(site, tmp_path / "gnu.tar")
    # the same members with the same bytes, read by tarfile; the same header blocks
    # as GNU tar writes (names, modes, owners, sizes, times, long names)
    assert members(tar) == members(reference)
    assert "./api/link.json" in members(tar) and "./.git/HEAD" not in members(tar)
    assert headers(tar) == headers(reference)
    assert tar.stat().st_size % RECORD == 0
    listed = [
        sorted(
            subprocess.run(
                ["tar", "-tf", str(t)], capture_output=True, text=True, check=True
            ).stdout.split()
        )
        for t in (tar, reference)
    ]
    assert listed[0] == listed[1]  # GNU tar reads it
    # the index says where each file is and how it was, without reading the tar
    archive = SiteArchive.load(tmp_path / "archive")
    for rel in (
        "index.html",
        "acme/busybox/index.html",
        f"acme/{LONG}/manifests/{LONG}/index.json",
    ):
        info = (site / rel).stat()
        assert archive.status(rel) == (info.st_size, info.st_mtime_ns)
        assert archive.read(rel) == (site / rel).read_bytes()
    assert archive.status("acme") is None and archive.status("nothing") is None


def test_a_pack_patches_the_previous_tar(tmp_path: Path) -> None:
    """Members neither written again nor removed are kept (those before the first
    one left out stay in place), a removed file and the folders it empties go,
    the written files are added: the tar GNU tar makes of the new site."""
    site = a_site(tmp_path)
    archive_folder = tmp_path / "archive"
    pack(site, archive_folder)
    before = SiteArchive.load(archive_folder)
    archive = SiteArchive.load(archive_folder)
    assert archive.remove("acme/alpine/index.html")  # the folder is left empty
    assert archive.remove("acme/busybox/manifests/1.36/index.json")
    assert not archive.remove("nothing")
    assert archive.status("acme/alpine/index.html") is None
    expected = tmp_path / "expected"
    shutil.copytree(site, expected)
    shutil.rmtree(expected / "acme/alpine")
    shutil.rmtree(expected / "acme/busybox/manifests/1.36")
    # the build's output folder: only what it wrote
    shutil.rmtree(site)
    write_tree(site, {"index.html": "<p>home, again</p>", "acme/new/index.html": "new"})
    write_tree(expected, {"index.html": "<p>home, again</p>", "acme/new/index.html": "new"})
    done = pack(site, archive_folder)
    assert not done.full and (done.dropped, done.added) == (4, 3)  # 2 files, 2 folders; 1 + 2
    tar = archive_folder / "artifact.tar"
    assert members(tar) == members(gnu_tar(expected, tmp_path / "gnu.tar"))
    after = SiteArchive.load(archive_folder)
    assert after.removed == set()
    assert after.members["."].header == 0
    first = min(before.members.values(), key=lambda m: m.header if m.kind == "f" else 1 << 60)
    assert first.header < before.members["index.html"].header  # (one kept in place)
    assert {r for r, m in before.members.items() if m.header == first.header} <= set(after.members)
    for rel, member in after.members.items():
        if member.kind == "f":
            assert after.read(rel) == (expected / rel).read_bytes(), rel
    # nothing written, nothing removed: the same site again
    shutil.rmtree(site)
    site.mkdir()
    again = pack(site, archive_folder)
    assert again.copied_bytes == 0 and again.added == 0
    assert members(tar) == members(gnu_tar(expected, tmp_path / "gnu.tar"))
    assert tar.stat().st_size % RECORD == 0 and tar.stat().st_size % BLOCK == 0
    unpacked = tmp_path / "unpacked"
    assert unpack(archive_folder, unpacked) == len([p for p in after.members if p != "."]) - sum(
        1 for m in after.members.values() if m.kind == "d" and m.header != 0
    )
    assert (unpacked / "acme/new/index.html").read_text() == "new"


def zstd_cli(packed: Path, out: Path) -> bytes:
    """The zstd program's reading of a compressed copy (all its frames)."""
    subprocess.run(["zstd", "-q", "-d", "-f", str(packed), "-o", str(out)], check=True)
    return out.read_bytes()


def test_the_compressed_copy_makes_the_tar_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the cache keeps: the tar compressed in frames, which zstd reads as the
    tar; without the tar, loading the archive makes it again, byte for byte and
    with its time; a pack that changes the tar's end copies the frames before
    the change and compresses the rest."""
    monkeypatch.setattr(sitearchive, "FRAME", 4 * BLOCK)  # many frames in a small tar
    site = a_site(tmp_path)
    write_tree(site, {f"acme/busybox/manifests/{i}/index.json": "x" * 700 for i in range(20)})
    folder = tmp_path / "archive"
    done = pack(site, folder)
    tar, packed = folder / TAR_NAME, folder / PACKED_NAME
    assert done.frames == -(-tar.stat().st_size // (4 * BLOCK)) > 10 and done.frames_kept == 0
    assert zstd_cli(packed, tmp_path / "cli.tar") == tar.read_bytes()
    before, when = tar.read_bytes(), tar.stat().st_mtime_ns
    tar.unlink()  # a cache restores the index and the compressed copy
    archive = SiteArchive.load(folder)
    assert archive and (tar.read_bytes(), tar.stat().st_mtime_ns) == (before, when)
    assert archive.read("index.html") == (site / "index.html").read_bytes()
    # a file added: appended, the frames before the former tar's end kept
    old_frames, old_packed = archive.frames, packed.read_bytes()
    shutil.rmtree(site)
    write_tree(site, {"acme/new/index.html": "new"})
    again = pack(site, folder)
    assert again.frames_kept == archive.end // (4 * BLOCK) > 0
    kept = sum(old_frames[: again.frames_kept])
    assert packed.read_bytes()[:kept] == old_packed[:kept]
    assert zstd_cli(packed, tmp_path / "cli2.tar") == tar.read_bytes()
    assert set(members(tar)) == {
        *members(tmp_path / "cli.tar"),
        "./acme/new",
        "./acme/new/index.html",
    }
    assert SiteArchive.load(folder).read("acme/new/index.html") == b"new"


def test_a_damaged_compressed_copy_is_not_used(tmp_path: Path) -> None:
    """A compressed copy cut short, or of another tar, without the tar: the
    archive is not used and says why (the build then writes the whole site)."""
    site = a_site(tmp_path)
    folder = tmp_path / "archive"
    pack(site, folder)
    (folder / TAR_NAME).unlink()
    packed = folder / PACKED_NAME
    whole = packed.read_bytes()
    packed.write_bytes(whole[: len(whole) // 2])
    archive = SiteArchive.load(folder)
    assert not archive and "shorter than its index says" in archive.problem
    assert sorted(os.listdir(folder)) == [PACKED_NAME, INDEX_NAME]  # no tar, no leftovers
    packed.unlink()
    archive = SiteArchive.load(folder)
    assert not archive and PACKED_NAME in archive.problem
    assert not SiteArchive.load(tmp_path / "nothing").problem  # none yet: no problem


def test_the_output_writer_counts_archived_files_as_present(tmp_path: Path) -> None:
    out, state, folder = tmp_path / "html", tmp_path / "state.json", tmp_path / "archive"
    made = {"a/one.json": b"1", "a/two.json": b"22", "b/three.json": b"333"}

    def batches(files_: dict[str, bytes], stamp: str) -> list[files.Batch]:
        return [
            files.Batch(f"ns:{folder_}", stamp, lambda f=folder_: _items(files_, f))
            for folder_ in ("a", "b")
        ]

    assert files.sync_batches(out, batches(made, "s1"), state) == (3, 0)
    pack(out, folder)
    shutil.rmtree(out)  # a cached deploy's output folder: empty
    archive = SiteArchive.load(folder)
    assert files.up_to_date(out, state, "", archive=archive) is False
    # the same batches: nothing made, written or removed
    assert files.sync_batches(out, batches(made, "s1"), state, archive=archive) == (0, 0)
    assert not out.exists()
    # batch "a" changed (one file dropped), its unchanged file compared with the tar
    changed = {"a/one.json": b"1", "b/three.json": b"333"}
    assert files.sync_batches(out, batches(changed, "s2"), state, archive=archive) == (0, 1)
    assert archive.removed == {"a/two.json"} and not out.exists()
    changed["a/one.json"] = b"9"
    assert files.sync_batches(out, batches(changed, "s3"), state, archive=archive) == (1, 0)
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["one.json"]
    pack(out, folder)
    after = SiteArchive.load(folder)
    assert {r for r, m in after.members.items() if m.kind == "f"} == set(changed)
    assert after.read("a/one.json") == b"9"


def test_the_output_writer_asks_the_disk_only_about_files_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an archive, the output folder (a cached deploy's: what this build
    wrote) is listed once: checking that the archived files are as recorded
    asks the disk about none of them, while a file on disk still wins over the
    archive's copy."""
    out, state, folder = tmp_path / "html", tmp_path / "state.pickle", tmp_path / "archive"
    made = {f"ns{n}/file{k}.json": b"x" * (n + k) for n in range(20) for k in range(3)}

    def batches(stamp: str) -> list[files.Batch]:
        return [
            files.Batch(f"ns:{n}", stamp, lambda n=n: _items(made, f"ns{n}")) for n in range(20)
        ]

    assert files.sync_batches(out, batches("s1"), state) == (60, 0)
    pack(out, folder)
    shutil.rmtree(out)
    (out / "ns3").mkdir(parents=True)
    (out / "ns3" / "file1.json").write_bytes(b"y" * 4)  # written by this build: it wins
    archive = SiteArchive.load(folder)
    asked: list[str] = []
    real_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        asked.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    site = Overlay(out, archive)
    assert site.status("ns0/file0.json") == archive.status("ns0/file0.json")
    assert site.status("ns3/file1.json")[1] == real_stat(out / "ns3/file1.json").st_mtime_ns
    assert site.status("missing.json") is None
    assert asked == [str(out / "ns3/file1.json")]
    asked.clear()
    # batch ns:3's file on disk is not as recorded: only that batch is made again
    assert files.sync_batches(out, batches("s1"), state, archive=archive) == (1, 0)
    assert (out / "ns3" / "file1.json").read_bytes() == b"x" * 4
    assert {p for p in asked if p.startswith(str(out))} == {str(out / "ns3/file1.json")}
    monkeypatch.undo()
    without = Overlay(out)  # no archive: no listing, the disk is asked
    assert without.on_disk is None and without.status("ns0/file0.json") is None


def _items(made: dict[str, bytes], folder: str) -> list[tuple[str, bytes]]:
    return [(rel, data) for rel, data in made.items() if rel.startswith(folder + "/")]


# --------------------------------------------------------------------------- builds


def site_files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(search_index(p.read_bytes(), p.name)).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def search_index(data: bytes, name: str) -> bytes:
    """*data*, but for ``searchindex.js`` without the terms no page has: Sphinx
    8.2 keeps a removed page's terms as empty lists in any incremental build
    (``"9": []``), archived or not; later releases drop them."""
    if name != "searchindex.js":
        return data
    text = data.decode()
    start, end = text.index("(") + 1, text.rindex(")")
    index = json.loads(text[start:end])
    for part in ("terms", "titleterms"):
        index[part] = {k: v for k, v in index.get(part, {}).items() if v != []}
    return json.dumps(index, sort_keys=True).encode()


def archived_site(folder: Path) -> dict[str, str]:
    found = {
        name.removeprefix("./"): digest
        for name, digest in members(folder / "artifact.tar").items()
        if digest != "/"
    }
    with tarfile.open(folder / "artifact.tar") as archive:
        handle = archive.extractfile("./searchindex.js")
        if handle is not None:
            data = search_index(handle.read(), "searchindex.js")
            found["searchindex.js"] = hashlib.sha256(data).hexdigest()
    return found


@pytest.fixture
def archived_build(
    registry_project: Callable[..., Path],
    build: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Callable[..., Any]:
    """Build as a cached deploy does: ORGREG_SITE_ARCHIVE set, an empty output
    folder (the doctrees kept), then ``orgreg site-archive``. *from_cache*: the
    archive folder as the workflow's cache restores it, without the tar."""
    folder = tmp_path / "site-archive"

    def run(srcdir: Path, from_cache: bool = False, **kwargs: Any) -> Any:
        if from_cache:
            assert sorted(os.listdir(folder)) == [TAR_NAME, PACKED_NAME, INDEX_NAME]
            (folder / TAR_NAME).unlink()
        monkeypatch.setenv("ORGREG_SITE_ARCHIVE", str(folder))
        shutil.rmtree(srcdir / "_build/html", ignore_errors=True)
        app = build(srcdir, **kwargs)
        monkeypatch.delenv("ORGREG_SITE_ARCHIVE")
        written = site_files(Path(app.outdir))
        pack(Path(app.outdir), folder)
        return app, written

    run.folder = folder  # type: ignore[attr-defined]
    return run


def full_site(build: Callable[..., Any], srcdir: Path, tmp_path: Path, **kwargs: Any) -> dict:
    app = build(srcdir, builddir=tmp_path / "reference", **kwargs)
    return site_files(Path(app.outdir))


def test_an_archived_build_writes_only_what_changed(
    registry_project: Callable[..., Path],
    build: Callable[..., Any],
    archived_build: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orgreg_sphinx.core import endpoints

    srcdir = registry_project()
    app, written = archived_build(srcdir)  # the first deploy: the whole site
    assert "acme/busybox/index.html" in written
    assert archived_site(archived_build.folder) == written
    # one tag added: its namespace's page and files, the home page, Sphinx's own;
    # the catalog (written again) takes the other namespaces' entries from the tar
    tag = srcdir / "acme/busybox/manifests/9.9/README.md"
    tag.parent.mkdir()
    tag.write_text(manifest(size=123))
    entries: list[str] = []
    real_entry = endpoints.catalog_namespace
    monkeypatch.setattr(
        endpoints, "catalog_namespace", lambda ns: entries.append(ns.name) or real_entry(ns)
    )
    app, written = archived_build(srcdir, from_cache=True)
    assert entries == ["acme/busybox"]
    assert "api/catalog.json" in written
    assert "acme/busybox/manifests/9.9/index.json" in written
    assert "acme/busybox/index.html" in written
    assert not any(rel.startswith("acme/centos/") for rel in written), sorted(written)
    assert archived_site(archived_build.folder) == full_site(build, srcdir, tmp_path)
    # the tag removed: its files are gone from the artifact
    shutil.rmtree(tag.parent)
    app, written = archived_build(srcdir, from_cache=True)
    site = archived_site(archived_build.folder)
    assert not any("/9.9/" in rel for rel in site)
    assert site == full_site(build, srcdir, tmp_path / "2")


def test_an_archived_build_with_another_setting_writes_every_page(
    registry_project: Callable[..., Path],
    build: Callable[..., Any],
    archived_build: Callable[..., Any],
    tmp_path: Path,
) -> None:
    srcdir = registry_project()
    archived_build(srcdir)
    other = {"confoverrides": {"html_title": "Another title"}}
    app, written = archived_build(srcdir, **other)
    assert {"index.html", "acme/busybox/index.html", "acme/centos/index.html"} <= set(written)
    site = archived_site(archived_build.folder)
    # (Sphinx keeps the former build information aside, as in any incremental build
    # of a folder whose configuration changed)
    assert site.pop(".buildinfo.bak")
    assert site == full_site(build, srcdir, tmp_path, **other)


def test_a_local_build_ignores_the_archive(
    registry_project: Callable[..., Path],
    build: Callable[..., Any],
    archived_build: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """Without ORGREG_SITE_ARCHIVE (a local ``make html``) the build neither reads
    nor changes an archive: an empty output folder gets the whole site."""
    srcdir = registry_project()
    archived_build(srcdir)
    tar = archived_build.folder / "artifact.tar"
    before = (tar.stat().st_mtime_ns, tar.read_bytes())
    shutil.rmtree(srcdir / "_build/html")
    app = build(srcdir)
    assert site_files(Path(app.outdir)) == full_site(build, srcdir, tmp_path)
    assert (tar.stat().st_mtime_ns, tar.read_bytes()) == before
    assert sorted(os.listdir(archived_build.folder)) == [
        "artifact.tar",
        "artifact.tar.zst",
        "index.pickle",
    ]


def test_an_archive_sphinx_cannot_be_told_of_writes_every_page(
    registry_project: Callable[..., Path],
    build: Callable[..., Any],
    archived_build: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A Sphinx whose outdated-page check cannot be wrapped: a warning, and every
    page written again (the same site, built slower), never a failed build."""
    from orgreg_sphinx.sphinxext import internals

    srcdir = registry_project()
    archived_build(srcdir)
    monkeypatch.setattr(internals, "archived_outputs_problem", lambda: "no such check")
    app, written = archived_build(srcdir)
    assert "every page is written again: no such check" in warnings_of(app)
    assert {"index.html", "acme/busybox/index.html", "acme/centos/index.html"} <= set(written)
    assert archived_site(archived_build.folder) == full_site(build, srcdir, tmp_path)


def test_an_archived_build_keeps_no_read_cache(
    registry_project: Callable[..., Path],
    build: Callable[..., Any],
    archived_build: Callable[..., Any],
) -> None:
    """A cached deploy's doctrees come back only for the same code and settings,
    where the namespace memo serves: the read cache (for builds without the memo)
    is not kept for the CI cache to pack and unpack. A local build keeps it."""
    srcdir = registry_project()
    app = build(srcdir)
    cache = Path(app.doctreedir) / "orgreg-read-cache.pickle"
    assert cache.is_file()
    app, _ = archived_build(srcdir)
    assert not cache.exists()
    assert "acme/busybox/index.html" in archived_site(archived_build.folder)
