"""What an image holds (issue 26): read from real SIF images, compared with Syft.

The images are built by :mod:`contentsimages` from real Debian packages, real
Python dist-info folders and a conda prefix, squashed with each compression and
assembled with Debian's ``siftool``. The oracles: the packages' own control
files (``dpkg-deb -f``), ``importlib.metadata``, the file system the image was
made from, and Syft run on the same SIF.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import random
import re
import struct
import sys
import time
from pathlib import Path
from typing import Any

import contentsimages as ci
import pytest

from orgreg_sphinx.core import contents, contentsapi, model, sif


@pytest.fixture(scope="session")
def debs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return ci.download_debs(tmp_path_factory.mktemp("debs"))


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory: pytest.TempPathFactory, debs: list[Path]) -> Path:
    return ci.make_root(tmp_path_factory.mktemp("rootfs") / "root", debs)


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory, rootfs: Path) -> dict[str, Path]:
    """One SIF image per compression, all of the same root."""
    folder = tmp_path_factory.mktemp("images")
    return {
        comp: ci.make_sif(
            folder / f"{comp}.sif", ci.squash(rootfs, folder / f"{comp}.squashfs", comp)
        )
        for comp in ci.COMPRESSIONS
    }


def expected_record(root: Path, debs: list[Path]) -> tuple[set[tuple[str, ...]], dict[str, Any]]:
    """(type, name, version[, path]) of each package and the executables, from the
    sources the image was made of, never from the image."""
    packages: set[tuple[str, ...]] = set()
    for deb in debs:
        fields = dict(line.split(": ", 1) for line in ci.control(deb).splitlines() if ": " in line)
        packages.add(("deb", fields["Package"], fields["Version"]))
    site = "/opt/venv/lib/python3.11/site-packages"
    for name in ci.PYTHON_DISTRIBUTIONS:
        meta = importlib.metadata.metadata(name)
        packages.add(("python", meta["Name"], meta["Version"], site))
    dist_packages = root / "usr/lib/python3/dist-packages"
    for info in [*dist_packages.glob("*.dist-info"), *dist_packages.glob("*.egg-info")]:
        meta = info / ("METADATA" if info.suffix == ".dist-info" else "PKG-INFO")
        fields = dict(
            line.split(": ", 1)
            for line in (meta if meta.exists() else info).read_text().split("\n\n")[0].splitlines()
            if ": " in line
        )
        packages.add(
            ("python", fields["Name"], fields["Version"], "/usr/lib/python3/dist-packages")
        )
    packages.add(("conda", "zlib", "1.2.13", "/opt/conda"))
    executables: dict[str, str | None] = {}
    for folder in contents.PATH_FOLDERS:
        where = root / folder.lstrip("/")
        if where.is_symlink() or not where.is_dir():
            continue
        for entry in where.iterdir():
            path = f"{folder}/{entry.name}"
            if entry.is_symlink():
                executables[path] = os.readlink(entry)
            elif entry.is_file() and entry.stat().st_mode & 0o111:
                executables[path] = None
    return packages, executables


def as_tuples(record: dict[str, Any]) -> set[tuple[str, ...]]:
    return {
        (p["type"], p["name"], p["version"], *([p["path"]] if "path" in p else []))
        for p in record["packages"]
    }


@pytest.mark.parametrize("compression", ci.COMPRESSIONS)
def test_each_compression_gives_what_the_image_was_made_of(
    images: dict[str, Path], rootfs: Path, debs: list[Path], compression: str
) -> None:
    record = contents.read_contents(images[compression])
    assert record["partition"] == {"fstype": "squashfs", "compression": compression}
    packages, executables = expected_record(rootfs, debs)
    assert as_tuples(record) == packages
    got = {e["path"]: e.get("target") for e in record["executables"]}
    assert got == executables
    # the link targets as written, the non-executable README left out, /bin (a link
    # to usr/bin) not listed twice
    assert got["/usr/local/bin/jq-latest"] == "/usr/bin/jq"
    assert got["/opt/conda/bin/zcat-conda"] == "zpipe"
    assert "/usr/local/bin/README" not in got
    assert not any(p.startswith("/bin/") for p in got)
    assert "truncated" not in record
    assert contents.record_problem(record) is None
    # the commands of a tag, for shpc's module aliases
    assert contents.executables(record)["jq"] == "/usr/bin/jq"
    assert contents.executables(record)["jq-latest"] == "/usr/local/bin/jq-latest"


def test_every_compression_gives_the_same_record(images: dict[str, Path]) -> None:
    records = {c: contents.read_contents(p) for c, p in images.items()}
    for record in records.values():
        del record["partition"]
    assert len({json.dumps(r, sort_keys=True) for r in records.values()}) == 1


# --- Syft, the reference --------------------------------------------------------

#: package types both read (Syft's others: binaries it classifies by their bytes)
SHARED_TYPES = {"deb", "python", "conda", "apk", "rpm"}


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def comparable(kind: str, name: str, version: str) -> tuple[str, str, str]:
    """Syft writes Python names PEP 503-normalized (``pyyaml``); we keep METADATA's
    (``PyYAML``), as pip shows them: the same package."""
    return (kind, pep503(name) if kind == "python" else name, version)


def syft_packages(report: bytes) -> set[tuple[str, str, str]]:
    return {
        comparable(a["type"], a["name"], a["version"])
        for a in json.loads(report)["artifacts"]
        if a["type"] in SHARED_TYPES
    }


def test_packages_equal_syfts_on_the_same_sif(images: dict[str, Path]) -> None:
    image = images["xz"]
    ours = {comparable(t[0], t[1], t[2]) for t in as_tuples(contents.read_contents(image))}
    theirs = syft_packages(ci.syft(f"singularity:{image}"))
    # conda: Syft's conda cataloger reads conda-meta only in directory scans of
    # some releases; where it does not, that is the one difference (said here)
    only_ours = ours - theirs
    only_theirs = theirs - ours
    assert not only_theirs, f"Syft finds what we do not: {sorted(only_theirs)}"
    assert only_ours <= {("conda", "zlib", "1.2.13")}, sorted(only_ours)
    assert {p for p in ours if p[0] == "deb"} == {p for p in theirs if p[0] == "deb"}


# --- SBOM objects ---------------------------------------------------------------


@pytest.fixture(scope="session")
def sbom_image(tmp_path_factory: pytest.TempPathFactory, rootfs: Path) -> tuple[Path, dict]:
    """An image with three SBOM objects Syft wrote of its root (CycloneDX, SPDX,
    Syft JSON), and Syft's own report."""
    folder = tmp_path_factory.mktemp("sbom")
    files = {}
    for fmt in ("cyclonedx-json", "spdx-json", "syft-json"):
        files[fmt] = folder / f"sbom.{fmt}.json"
        files[fmt].write_bytes(ci.syft(f"dir:{rootfs}", fmt))
    squashfs = ci.squash(rootfs, folder / "root.squashfs", "gzip")
    image = ci.make_sif(folder / "sbom.sif", squashfs, files)
    return image, json.loads(files["syft-json"].read_bytes())


def test_sbom_objects_are_read_with_their_formats_libraries(sbom_image) -> None:
    image, report = sbom_image
    record = contents.read_contents(image)
    sboms = {s["format"]: s for s in record["sboms"]}
    assert set(sboms) == {"cyclonedx-json", "spdx-json", "syft-json"}
    syft_said = {(a["name"], a["version"]) for a in report["artifacts"]}
    for fmt, sbom in sboms.items():
        assert "error" not in sbom, sbom
        found = {(p["name"], p.get("version", "")) for p in sbom["packages"]}
        # every package Syft wrote is read back from each format
        assert syft_said <= found, (fmt, sorted(syft_said - found))
    # CycloneDX and SPDX name the package type through the purl
    assert any(p.get("type") == "deb" for p in sboms["cyclonedx-json"]["packages"])
    assert any(p.get("type") == "deb" for p in sboms["spdx-json"]["packages"])
    assert contents.record_problem(record) is None
    # all packages of a tag: the file system's and each SBOM's
    names = {p["name"] for p in contents.packages(record)}
    assert {"jq", "hello", "zlib"} <= names


def test_a_broken_sbom_object_is_said_and_the_rest_read(tmp_path: Path, rootfs: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{}]}')
    xml = tmp_path / "bom.xml"
    xml.write_text("<bom/>")
    squashfs = ci.squash(rootfs, tmp_path / "root.squashfs", "lz4")
    image = ci.make_sif(tmp_path / "x.sif", squashfs, {"cyclonedx-json": bad, "cyclonedx-xml": xml})
    record = contents.read_contents(image)
    sboms = {s["format"]: s for s in record["sboms"]}
    assert sboms["cyclonedx-json"]["error"].startswith("not a valid cyclonedx-json document")
    assert sboms["cyclonedx-xml"]["error"] == "the cyclonedx-xml format is not read"
    assert any(p["name"] == "jq" for p in record["packages"])


# --- other package databases ----------------------------------------------------


RPM_SPEC = """Name: orgreg-hello
Version: 1.2.3
Release: 4
Epoch: 2
Summary: a package made by the tests
License: MIT
BuildArch: noarch
%description
A command, installed into an rpm database.
%install
mkdir -p %{buildroot}/usr/bin
printf '#!/bin/sh\\necho hello\\n' > %{buildroot}/usr/bin/orgreg-hello
chmod 755 %{buildroot}/usr/bin/orgreg-hello
%files
/usr/bin/orgreg-hello
"""


def test_an_rpm_database_as_rpm_writes_it(tmp_path: Path) -> None:
    """A package built with rpmbuild and installed into the image's root by rpm
    (4.16 and later keep ``rpmdb.sqlite``, in SQLite's WAL mode); Syft agrees."""
    import subprocess

    rpmbuild = ci.tool("rpmbuild", "rpm")
    rpm = ci.tool("rpm", "rpm")
    (tmp_path / "hello.spec").write_text(RPM_SPEC)
    top = tmp_path / "top"
    subprocess.run(
        [rpmbuild, "-bb", "--define", f"_topdir {top}", str(tmp_path / "hello.spec")],
        check=True,
        capture_output=True,
    )
    (package,) = top.glob("RPMS/noarch/*.rpm")
    root = tmp_path / "root"
    (root / "var/lib/rpm").mkdir(parents=True)
    sqlite = ("--define", "_db_backend sqlite", "--root", str(root), "--dbpath", "/var/lib/rpm")
    subprocess.run([rpm, *sqlite, "--initdb"], check=True, capture_output=True)
    subprocess.run(
        [rpm, *sqlite, "-i", "--nodeps", "--justdb", str(package)], check=True, capture_output=True
    )
    image = ci.make_sif(tmp_path / "x.sif", ci.squash(root, tmp_path / "r.sq", "xz"))
    found = as_tuples(contents.read_contents(image))
    assert found == {("rpm", "orgreg-hello", "2:1.2.3-4")}
    assert syft_packages(ci.syft(f"singularity:{image}")) == found


def test_an_apk_database(tmp_path: Path) -> None:
    """Alpine's database as apk writes it (one paragraph per package, ``P:`` name,
    ``V:`` version; no Alpine package can be had offline to install a real one)."""
    root = tmp_path / "root"
    (root / "lib/apk/db").mkdir(parents=True)
    (root / "lib/apk/db/installed").write_text(
        "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nT:the musl c library\n\n"
        "C:Q1def=\nP:busybox\nV:1.36.1-r5\nA:x86_64\nF:bin\nR:busybox\n\n"
    )
    image = ci.make_sif(tmp_path / "x.sif", ci.squash(root, tmp_path / "r.sq", "xz"))
    assert as_tuples(contents.read_contents(image)) == {
        ("apk", "musl", "1.2.4-r2"),
        ("apk", "busybox", "1.36.1-r5"),
    }


# --- hostile images: one clear error, in bounded time ---------------------------


def tiny_root(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    (root / "aaaaaaaa/bbbbbbbb").mkdir(parents=True)
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_text("#!/bin/sh\n")
    (root / "usr/bin/tool").chmod(0o755)
    return root


def patched(image: Path, out: Path, change: callable) -> Path:
    data = bytearray(image.read_bytes())
    part = contents.primary_partition(sif.read_sif_file(image))
    change(data, part.offset)
    out.write_bytes(bytes(data))
    return out


def bounded_error(image: Path, **limits: Any) -> str:
    started = time.monotonic()
    with pytest.raises(contents.ContentsError) as caught:
        contents.read_contents(image, contents.Limits(**limits))
    assert time.monotonic() - started < 10
    return str(caught.value)


def test_a_folder_loop_is_one_error(tmp_path: Path) -> None:
    """The entry of folder ``bbbbbbbb`` made to point at its parent's inode."""
    squashfs = ci.squash(tiny_root(tmp_path), tmp_path / "t.sq", "gzip", "-noI", "-noD", "-noF")
    image = ci.make_sif(tmp_path / "t.sif", squashfs)
    from dissect.squashfs import SquashFS

    with squashfs.open("rb") as handle:
        fs = SquashFS(handle)
        parent = fs.get("aaaaaaaa")

    def loop(data: bytearray, offset: int) -> None:
        name = struct.pack("<H", len("bbbbbbbb") - 1) + b"bbbbbbbb"
        at = data.index(name, offset)
        # squashfs_dir_entry: offset u16, inode_number s16, type u16, size u16, name
        struct.pack_into("<H", data, at - 6, parent.offset)

    looped = patched(image, tmp_path / "loop.sif", loop)
    message = bounded_error(looped)
    assert message == "has a folder loop at /aaaaaaaa/bbbbbbbb"

    # orgreg manifest: one warning, the manifest written, no record
    from clitools import orgreg

    root = tmp_path / "tree"
    root.mkdir()
    made = orgreg(
        "manifest",
        looped,
        "--namespace",
        "acme/loop",
        "--url",
        "https://s.example.org/l.sif",
        "--root",
        root,
    )
    assert made.code == 0
    assert made.err.splitlines() == [
        f"orgreg manifest: warning: {looped}: has a folder loop at /aaaaaaaa/bbbbbbbb; "
        "no contents.json recorded"
    ]
    assert (root / "acme/loop/manifests/latest/README.md").is_file()
    assert not (root / "acme/loop/manifests/latest/contents.json").exists()


def test_a_superblock_lying_about_its_block_size_is_one_error(tmp_path: Path) -> None:
    """The superblock says blocks are 4 KiB; they are 128 KiB: the file's block
    list is read wrong, and the first bad block stops the read."""
    root = tiny_root(tmp_path)
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: a\nVersion: 1\n\n" * 20000)
    image = ci.make_sif(tmp_path / "t.sif", ci.squash(root, tmp_path / "t.sq", "gzip"))

    def lie(data: bytearray, offset: int) -> None:
        struct.pack_into("<I", data, offset + 12, 4096)  # block_size
        struct.pack_into("<H", data, offset + 22, 12)  # block_log

    message = bounded_error(patched(image, tmp_path / "bomb.sif", lie))
    assert message.startswith("has a block that ")


@pytest.mark.parametrize("compression", ci.COMPRESSIONS)
def test_each_decompressor_stops_a_bomb(compression: str) -> None:
    """64 MiB of zeros compressed by each codec, read as one 128 KiB block."""
    import lzma
    import zlib

    import lz4.block

    bomb = bytes(64 << 20)
    packed = {
        "gzip": lambda: zlib.compress(bomb, 9),
        "xz": lambda: lzma.compress(bomb),
        "zstd": lambda: contents.zstd().compress(bomb),
        "lz4": lambda: lz4.block.compress(bomb, store_size=False),
    }[compression]()
    assert len(packed) < 1 << 20
    budget = contents._Budget(contents.Limits())
    number = {"gzip": 1, "xz": 4, "lz4": 5, "zstd": 6}[compression]
    with pytest.raises(contents.ContentsError) as caught:
        contents._Decompressor(number, budget).decompress(packed, 128 * 1024)
    assert str(caught.value).startswith(
        "has a block that decompresses to more than its 131072 bytes"
        if compression != "lz4"
        else "has a block that does not decompress"  # lz4 refuses to write past the size
    )


def test_the_decompressed_budget_holds(tmp_path: Path) -> None:
    root = tiny_root(tmp_path)
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text("Package: a\nVersion: 1\n\n" * 200000)  # 4.6 MB, compresses well
    image = ci.make_sif(tmp_path / "t.sif", ci.squash(root, tmp_path / "t.sq", "zstd"))
    message = bounded_error(image, decompressed=1024 * 1024)
    assert message.startswith("decompresses to more than 1048576 bytes")
    message = bounded_error(image, database=1000)
    assert message == "has a dpkg status of 4600000 bytes, over the limit of 1000"


def test_a_partition_offset_into_nothing_is_one_error(tmp_path: Path) -> None:
    image = ci.make_sif(
        tmp_path / "t.sif", ci.squash(tiny_root(tmp_path), tmp_path / "t.sq", "gzip")
    )

    def garbage(data: bytearray, offset: int) -> None:
        data[offset : offset + 4] = b"XXXX"

    message = bounded_error(patched(image, tmp_path / "g.sif", garbage))
    assert message == "has a system partition that is not a squashfs 4 file system"

    def tables_beyond_the_end(data: bytearray, offset: int) -> None:
        struct.pack_into("<q", data, offset + 72, 1 << 40)  # directory_table_start

    message = bounded_error(patched(image, tmp_path / "b.sif", tables_beyond_the_end))
    assert message.startswith("has a system partition that cannot be read (")


def test_a_huge_folder_is_cut_at_the_entry_limit(tmp_path: Path) -> None:
    root = tiny_root(tmp_path)
    many = root / "usr/local/bin"
    many.mkdir(parents=True)
    for index in range(3000):
        (many / f"t{index}").touch(mode=0o755)
    image = ci.make_sif(tmp_path / "t.sif", ci.squash(root, tmp_path / "t.sq", "lz4"))
    record = contents.read_contents(image, contents.Limits(entries=1000))
    assert record["truncated"] is True
    assert len(record["executables"]) < 1000
    assert len(contents.read_contents(image)["executables"]) == 3001


def test_the_time_limit_holds(images: dict[str, Path]) -> None:
    message = bounded_error(images["xz"], seconds=0.0)
    assert message == "took longer than 0 s to read"


def test_random_damage_is_a_record_or_one_error(tmp_path: Path, rootfs: Path) -> None:
    """Bytes of the file system flipped at random (seeded): never another exception,
    never long."""
    squashfs = ci.squash(rootfs, tmp_path / "t.sq", "gzip", "-b", "4096")
    image = ci.make_sif(tmp_path / "t.sif", squashfs)
    data = image.read_bytes()
    part = contents.primary_partition(sif.read_sif_file(image))
    rng = random.Random(26)
    damaged = tmp_path / "d.sif"
    outcomes = {"record": 0, "error": 0}
    for _ in range(150):
        copy = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            at = part.offset + rng.randrange(min(part.size, 200_000))
            copy[at] = rng.randrange(256)
        damaged.write_bytes(bytes(copy))
        started = time.monotonic()
        try:
            contents.read_contents(damaged, contents.Limits(seconds=5))
            outcomes["record"] += 1
        except contents.ContentsError as err:
            assert str(err).startswith(("has ", "decompresses ", "took ", "uses ")), str(err)
            outcomes["error"] += 1
        assert time.monotonic() - started < 8
    assert outcomes["error"] > 0


# --- recorded by orgreg manifest, checked by orgreg check --------------------------

FAST = ("--timeout", "10", "--retries", "0", "--no-progress", "--format", "json")


def problems(result: Any) -> list[tuple[str, str, str]]:
    """(file, code, message) of each problem (but the warning that the test
    server's http:// URLs are not https://)."""
    return [
        (p["file"], p["code"], p["message"])
        for p in result.json().get("problems", [])
        if p["code"] != "insecure-url"
    ]


def test_manifest_records_and_check_verifies_the_contents(
    tmp_path: Path, images: dict[str, Path], served: tuple[Path, str]
) -> None:
    from clitools import orgreg

    folder, base = served
    image = folder / "tools.sif"
    image.write_bytes(images["zstd"].read_bytes())
    root = tmp_path / "tree"
    root.mkdir()
    made = orgreg(
        "manifest",
        image,
        "--namespace",
        "acme/tools",
        "--url",
        f"{base}/tools.sif",
        "--tag",
        "1.0",
        "--root",
        root,
    )
    assert made.code == 0, made.err
    record_file = root / "acme/tools/manifests/1.0/contents.json"
    assert f"wrote {record_file}" in made.out.splitlines()
    record = json.loads(record_file.read_text())
    assert record == contents.read_contents(images["zstd"])
    # the manifest itself stays small: the record is beside it
    assert "packages" not in (root / "acme/tools/manifests/1.0/README.md").read_text()

    # the commands of the tag, for module aliases (shpc)
    from orgreg_sphinx.core import contentsapi, model

    (tag,) = model.load_registry(root).namespaces[0].tags
    assert contentsapi.tag_executables(tag) == contents.executables(record)
    assert contentsapi.tag_executables(tag)["zcat-conda"] == "/opt/conda/bin/zcat-conda"

    checked = orgreg("check", root, "--verify-digest", *FAST)
    assert checked.code == 0, checked.out
    assert problems(checked) == []

    # a record that claims more than the image holds fails the check
    record["packages"].append({"name": "openssl", "type": "deb", "version": "3.0.7"})
    record["executables"] = [e for e in record["executables"] if e["path"] != "/usr/bin/jq"]
    record_file.write_bytes(contents.dumps_record(record))
    failed = orgreg("check", root, "--verify-digest", *FAST)
    assert failed.code == 1
    manifest = str(root / "acme/tools/manifests/1.0/README.md")
    assert problems(failed) == [
        (
            manifest,
            "contents-differ",
            f"has a layer at {base}/tools.sif that does not hold what contents.json records: "
            "1 packages recorded but not in the image (deb openssl 3.0.7); "
            "1 executables not recorded (/usr/bin/jq) "
            "(write it again with 'orgreg manifest')",
        )
    ]
    # without --verify-digest nothing is downloaded, nothing compared
    assert orgreg("check", root, "--format", "json").code == 0

    # orgreg manifest writes it right again; --no-contents removes it
    assert (
        orgreg(
            "manifest",
            image,
            "--namespace",
            "acme/tools",
            "--url",
            f"{base}/tools.sif",
            "--tag",
            "1.0",
            "--root",
            root,
        ).code
        == 0
    )
    assert json.loads(record_file.read_text()) == contents.read_contents(images["zstd"])
    assert (
        orgreg(
            "manifest",
            image,
            "--namespace",
            "acme/tools",
            "--url",
            f"{base}/tools.sif",
            "--tag",
            "1.0",
            "--root",
            root,
            "--no-contents",
        ).code
        == 0
    )
    assert not record_file.exists()


def test_a_bad_record_is_a_problem_naming_it_and_the_tag_stays(tmp_path: Path) -> None:
    from clitools import orgreg
    from conftest import collection, manifest, write_tree

    root = tmp_path / "tree"
    write_tree(
        root,
        {
            "acme/a/README.md": collection("A"),
            "acme/a/manifests/1/README.md": manifest(),
            "acme/a/manifests/1/contents.json": '{"contentsVersion": 1, "packages": []}',
            "acme/a/manifests/2/README.md": manifest(),
            "acme/a/manifests/2/contents.json": "{not json",
            "acme/a/manifests/3/README.md": manifest(),
            "acme/a/manifests/3/contents.json": json.dumps(
                {"contentsVersion": 1, "executables": [], "packages": [{"name": ""}]}
            ),
        },
    )
    result = orgreg("check", root, "--format", "json")
    assert result.code == 1
    body = result.json()
    assert body["tags"] == 3
    # jsonschema words a short string "is too short" before 4.21, "should be
    # non-empty" after: the lowest end of the range has the former
    found = {
        p[0].split("/manifests/")[1]: (p[1], p[2].replace("is too short", "should be non-empty"))
        for p in problems(result)
    }
    assert found == {
        "1/contents.json": (
            "contents",
            "is not a contents record: 'executables' is a required property; "
            "what the image holds is not shown",
        ),
        "2/contents.json": (
            "contents",
            "is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 "
            "(char 1)); what the image holds is not shown",
        ),
        "3/contents.json": (
            "contents",
            "is not a contents record: '' should be non-empty (at packages/0/name); "
            "what the image holds is not shown",
        ),
    }


def test_a_pull_request_may_add_a_record(tmp_path: Path) -> None:
    from clitools import orgreg
    from conftest import collection, manifest, write_tree

    root = tmp_path / "tree"
    record = {"contentsVersion": 1, "executables": [], "packages": []}
    write_tree(
        root,
        {
            "acme/a/README.md": collection("A"),
            "acme/a/manifests/1/README.md": manifest(),
            "acme/a/manifests/1/contents.json": json.dumps(record),
            "acme/a/manifests/1/other.json": "{}",
        },
    )
    result = orgreg(
        "check",
        ".",
        "--branch",
        "update/acme/a",
        "--format",
        "json",
        "--changed",
        "acme/a/manifests/1/README.md",
        "acme/a/manifests/1/contents.json",
        "acme/a/manifests/1/other.json",
        cwd=root,
    )
    codes = {(p[0].rsplit("/", 1)[1], p[1]) for p in problems(result)}
    assert codes == {("other.json", "scope-file")}


# --- shown and published -----------------------------------------------------------


def test_the_site_lists_packages_and_commands_and_publishes_them(
    tmp_path: Path, images: dict[str, Path], registry_project, build
) -> None:
    from clitools import orgreg
    from conftest import read_json, soup, tag_row, tag_view, warnings_of

    root = tmp_path / "tree"
    root.mkdir()
    for tag, comp in (("1.0", "gzip"), ("2.0", "lz4")):
        assert (
            orgreg(
                "manifest",
                images[comp],
                "--namespace",
                "acme/tools",
                "--url",
                f"https://storage.example.org/{tag}.sif",
                "--tag",
                tag,
                "--root",
                root,
                "--created",
                "2024-01-01T00:00:00Z",
            ).code
            == 0
        )
    # a bad record: a warning naming it; the tag is still listed, without software
    (root / "acme/bad/manifests/1").mkdir(parents=True)
    (root / "acme/bad/manifests/1/README.md").write_text(
        (root / "acme/tools/manifests/1.0/README.md").read_text()
    )
    (root / "acme/bad/manifests/1/contents.json").write_text("[]")
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    app = build(registry_project(files))
    warned = warnings_of(app)
    assert (
        "acme/bad/manifests/1/contents.json is not a contents record: "
        "[] is not of type 'object'; what the image holds is not shown [contents]"
    ) in warned
    assert warned.count("WARNING") == 1, warned
    out = Path(app.outdir)
    record = contents.read_contents(images["gzip"])

    # the tag's endpoint: the record, named
    body = read_json(out / "acme/tools/manifests/1.0/contents.json")
    assert body.pop("name") == "acme/tools" and body.pop("tag") == "1.0"
    assert body.pop("digest").startswith("sha256:")
    assert body == record
    catalog = read_json(out / "api/catalog.json")
    tags = {t["name"]: t for ns in catalog["namespaces"] for t in ns["tags"]}
    assert tags["1.0"]["contents"] == "manifests/1.0/contents.json"
    assert "contents" not in tags["1"]

    # the registry-wide index, and the one shard a query for "jq" reads
    index = read_json(out / "api/contents/index.json")
    assert index["shardPath"] == "api/contents/{shard}.json"
    assert index["tagsPath"] == "api/contents/tags.json"
    assert index["tagCount"] == 2
    shard = read_json(out / index["shardPath"].format(shard="jq"))
    jq_version = next(p["version"] for p in record["packages"] if p["name"] == "jq")
    # each tag named once, with its facts; postings point at it
    assert shard["tags"] == [
        ["acme/tools:1.0", "amd64", False, False],
        ["acme/tools:2.0", "amd64", False, False],
    ]
    assert shard["names"]["jq"] == [
        [0, "command", ""],
        [0, "deb", jq_version],
        [1, "command", ""],
        [1, "deb", jq_version],
    ]
    assert shard["names"]["jq-latest"] == [[0, "command", ""], [1, "command", ""]]
    pyyaml = read_json(out / "api/contents/py.json")["names"]["pyyaml"]
    assert {(p[1], p[3]) for p in pyyaml} == {("python", "PyYAML")}  # the name as written
    shards = {p.name[:-5] for p in (out / "api/contents").glob("*.json")} - {"index", "tags"}
    assert set(index["shards"]) == shards
    assert index["parts"] == {} and index["split"] == []  # small: two characters, one part
    assert all(
        len(read_json(out / f"api/contents/{key}.json")["names"]) == count
        for key, count in index["shards"].items()
    )
    paths = contentsapi.shard_paths("jq", lambda path: read_json(out / path))
    assert paths == ["api/contents/index.json", "api/contents/jq.json"]
    # the facets of each tag with a record (the bad record's tag has none)
    assert read_json(out / "api/contents/tags.json") == {
        "tags": {
            "acme/tools:1.0": {"arch": "amd64", "deprecated": False, "signed": False},
            "acme/tools:2.0": {"arch": "amd64", "deprecated": False, "signed": False},
        }
    }

    # the tag's view: packages (collapsed: more than a dozen) and commands
    page = soup(out / "acme/tools/index.html")
    assert tag_row(page, "1.0").find("details") is None  # the row stays one line
    details = tag_view(page, "1.0")
    summary = details.select_one("p.orgreg-inside").get_text()
    packages_count = len(contents.unique_packages(record))
    commands = contents.executables(record)
    assert f"{packages_count} packages, {len(commands)} commands" in summary
    lists = details.select("details.orgreg-software-list")
    assert [d.find("summary").get_text() for d in lists] == [f"{packages_count} packages"]
    listed = [li.get_text(" ", strip=True) for li in details.select("ul.orgreg-packages li")]
    assert f"jq {jq_version} deb" in listed
    assert len(listed) == packages_count
    shown = [c.get_text() for c in details.select(".orgreg-commands code")]
    assert shown == sorted(commands)
    bad_view = tag_view(soup(out / "acme/bad/index.html"), "1")
    assert "Software" not in bad_view.get_text()


# --- the index a search reads ------------------------------------------------------


def test_index_shards_stay_under_the_limit_and_find_every_name(tmp_path: Path) -> None:
    """Shards split by more characters while over the limit, a name larger than it
    cut into parts; following the index (as the search page does) reaches every
    name, with all its tags, and labels are indexed by their key."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import run as bench_trees

    generated = bench_trees.synthetic_registry(40, 2, 7)
    bench_trees.write_extension_project(tmp_path / "src", generated, "orgreg", contents=True)
    registry = model.load_registry(tmp_path / "src")
    limit = 4096
    files = {path: json.loads(body) for path, body in contentsapi.index_files(registry, limit)}
    sizes = dict(contentsapi.index_files(registry, limit))
    index = files[contentsapi.INDEX_PATH]
    assert index["split"] and index["parts"]  # both happen at this limit
    shard_files = [p for p in files if p not in (contentsapi.INDEX_PATH, contentsapi.TAGS_PATH)]
    assert max(len(sizes[p]) for p in shard_files) <= limit

    def read(path: str) -> Any:
        if path not in files:
            raise FileNotFoundError(path)
        return files[path]

    expected: dict[str, set[tuple[str, str, str]]] = {}
    for ns in generated:
        for tag in ns.tags:
            facts, record = bench_trees.contents_record(ns, tag)
            ref = f"{ns.name}:{tag.name}"
            for package in record["packages"]:
                expected.setdefault(package["name"], set()).add(
                    (ref, package["type"], package["version"])
                )
            for item in record["executables"]:
                expected.setdefault(item["path"].rsplit("/", 1)[1], set()).add((ref, "command", ""))
            expected.setdefault("maintainer", set()).add((ref, "label", ns.org))
    for name, want in expected.items():
        paths = contentsapi.shard_paths(name, read)
        assert paths[0] == contentsapi.INDEX_PATH and len(paths) >= 2, name
        key = paths[-1].rsplit("/", 1)[1][: -len(".json")]
        listing = read(paths[-2]) if len(paths) > 2 else index
        parts = [paths[-1]] + [
            contentsapi.PART_PATH.format(shard=key, part=n)
            for n in range(1, listing["parts"].get(key, 1))
        ]
        found = set()
        for part in parts:
            body = read(part)
            for posting in body["names"].get(name, []):
                found.add((body["tags"][posting[0]][0], posting[1], posting[2]))
        assert found == want, name
    # every file is listed (each part of each shard, each split listing), and no other
    listed = set()
    pending = [index]
    while pending:
        listing = pending.pop()
        for key in listing["shards"]:
            listed.add(contentsapi.SHARD_PATH.format(shard=key))
            listed.update(
                contentsapi.PART_PATH.format(shard=key, part=n)
                for n in range(1, listing["parts"].get(key, 1))
            )
        for key in listing["split"]:
            listed.add(contentsapi.SHARD_PATH.format(shard=key))
            pending.append(read(contentsapi.SHARD_PATH.format(shard=key)))
    assert listed == set(shard_files)
    # the index lists two-character keys only; a listing, keys under its own
    assert all(len(key) == 2 for key in [*index["shards"], *index["split"]])
    for split in index["split"]:
        below = read(contentsapi.SHARD_PATH.format(shard=split))
        assert all(k.startswith(split) and len(k) > 2 for k in [*below["shards"], *below["split"]])
