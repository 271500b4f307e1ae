"""Real SIF images for the contents tests, built as a container's CI would.

A root file system of real Debian packages (``apt-get download``, unpacked with
``dpkg-deb -x``, with the dpkg status made from their own control files, as dpkg
writes it), Python distributions (the ``.dist-info`` folders of this test
environment's own installs), a conda prefix, ``mksquashfs`` with each
compression, assembled with Debian's ``siftool`` as Apptainer lays an image out
(a primary system partition: ``--datatype 4 --parttype 2 --partfs 1 --partarch
2 --groupid 1``), SBOM objects added the same way (``--datatype 9``).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
from pathlib import Path

from conftest import require_system_tool

#: small real Debian packages with commands, libraries and Python distributions
#: (base-files: /etc/os-release, by which Syft knows the distribution)
DEBIAN_PACKAGES = ("base-files", "hello", "jq", "libjq1", "libonig5", "python3-yaml", "python3-six")
#: distributions of this test environment whose dist-info folders go into the image
PYTHON_DISTRIBUTIONS = ("jsonschema", "requests", "urllib3", "PyYAML")
#: a conda package record as conda writes it (``conda-meta/<name>-<version>-<build>.json``)
CONDA_RECORD = {
    "build": "h5eee18b_0",
    "build_number": 0,
    "channel": "https://repo.anaconda.com/pkgs/main/linux-64",
    "constrains": [],
    "depends": ["libgcc-ng >=11.2.0"],
    "files": ["include/zlib.h", "lib/libz.so.1"],
    "fn": "zlib-1.2.13-h5eee18b_0.conda",
    "license": "Zlib",
    "md5": "333e31fbfbb5057c92fa845ad6adef93",
    "name": "zlib",
    "subdir": "linux-64",
    "timestamp": 1677515890390,
    "url": "https://repo.anaconda.com/pkgs/main/linux-64/zlib-1.2.13-h5eee18b_0.conda",
    "version": "1.2.13",
}
COMPRESSIONS = ("gzip", "xz", "zstd", "lz4")


def tool(name: str, package: str) -> str:
    return require_system_tool(name, f"sudo apt-get install {package}")


def download_debs(folder: Path) -> list[Path]:
    """The Debian packages, downloaded once into *folder* (needs apt's lists)."""
    folder.mkdir(parents=True, exist_ok=True)
    found = sorted(folder.glob("*.deb"))
    if len(found) >= len(DEBIAN_PACKAGES):
        return found
    apt = tool("apt-get", "apt")
    done = subprocess.run(
        [apt, "download", *DEBIAN_PACKAGES], cwd=folder, capture_output=True, text=True
    )
    found = sorted(folder.glob("*.deb"))
    if done.returncode != 0 or len(found) < len(DEBIAN_PACKAGES):
        import pytest

        message = f"apt-get download failed: {done.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def control(deb: Path) -> str:
    """The control paragraph of a package (``dpkg-deb -f``)."""
    dpkg_deb = tool("dpkg-deb", "dpkg")
    return subprocess.run(
        [dpkg_deb, "-f", str(deb)], check=True, capture_output=True, text=True
    ).stdout


def make_root(root: Path, debs: list[Path]) -> Path:
    """A root file system holding the packages, Python distributions and conda."""
    dpkg_deb = tool("dpkg-deb", "dpkg")
    root.mkdir(parents=True)
    for deb in debs:
        subprocess.run([dpkg_deb, "-x", str(deb), str(root)], check=True)
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True, exist_ok=True)
    paragraphs = []
    for deb in debs:
        fields = control(deb).rstrip("\n").split("\n")
        # dpkg puts Status right after Package
        fields.insert(1, "Status: install ok installed")
        paragraphs.append("\n".join(fields) + "\n")
    status.write_text("\n".join(paragraphs), encoding="utf-8")
    # merged /usr, as Debian has it: /bin is a link to usr/bin
    # (trixie's base-files ships the link itself; bookworm's an empty folder)
    bin_folder = root / "bin"
    if not bin_folder.is_symlink():
        if bin_folder.is_dir() and not any(bin_folder.iterdir()):
            bin_folder.rmdir()
        bin_folder.symlink_to("usr/bin")
    # a virtual environment's packages (dist-info of real installs)
    site = root / "opt/venv/lib/python3.11/site-packages"
    site.mkdir(parents=True)
    for name in PYTHON_DISTRIBUTIONS:
        dist = importlib.metadata.distribution(name)
        info = Path(str(dist.locate_file(""))) / next(
            str(f).split("/")[0] for f in dist.files or [] if ".dist-info/" in str(f)
        )
        shutil.copytree(info, site / info.name)
    # a conda prefix: its package record, a command and a link to it
    conda = root / "opt/conda"
    (conda / "conda-meta").mkdir(parents=True)
    record = CONDA_RECORD
    name = f"{record['name']}-{record['version']}-{record['build']}.json"
    (conda / "conda-meta" / name).write_text(json.dumps(record), encoding="utf-8")
    (conda / "bin").mkdir()
    tool_file = conda / "bin/zpipe"
    tool_file.write_text("#!/bin/sh\nexec cat\n")
    tool_file.chmod(0o755)
    (conda / "bin/zcat-conda").symlink_to("zpipe")
    # a file in a PATH folder that is not executable is no command
    (root / "usr/local/bin").mkdir(parents=True)
    (root / "usr/local/bin/README").write_text("not a command\n")
    (root / "usr/local/bin/jq-latest").symlink_to("/usr/bin/jq")
    return root


def squash(root: Path, out: Path, compression: str, *options: str) -> Path:
    """``mksquashfs`` of *root* (reproducible: fixed times, root-owned)."""
    mksquashfs = tool("mksquashfs", "squashfs-tools")
    subprocess.run(
        [
            mksquashfs,
            str(root),
            str(out),
            "-comp",
            compression,
            "-noappend",
            "-quiet",
            "-all-root",
            "-mkfs-time",
            "0",
            "-all-time",
            "0",
            "-no-progress",
            *options,
        ],
        check=True,
        capture_output=True,
    )
    return out


def make_sif(out: Path, squashfs: Path, sboms: dict[str, Path] | None = None) -> Path:
    """A SIF image as Apptainer writes one: the primary system partition in
    group 1, then each SBOM object (format -> file)."""
    siftool = tool("siftool", "siftool")
    out.unlink(missing_ok=True)
    subprocess.run([siftool, "new", str(out)], check=True, capture_output=True)
    subprocess.run(
        [
            siftool,
            "add",
            "--datatype",
            "4",
            "--parttype",
            "2",
            "--partfs",
            "1",
            "--partarch",
            "2",
            "--groupid",
            "1",
            str(out),
            str(squashfs),
        ],
        check=True,
        capture_output=True,
    )
    for fmt, file in (sboms or {}).items():
        subprocess.run(
            [siftool, "add", "--datatype", "9", "--sbomformat", fmt, str(out), str(file)],
            check=True,
            capture_output=True,
        )
    return out


def syft(target: str, fmt: str = "syft-json") -> bytes:
    """Syft's report on *target* (``singularity:image.sif``, ``dir:root``), offline."""
    import sys

    program = Path(sys.executable).parent / "syft"
    env = {
        **os.environ,
        "SYFT_CHECK_FOR_APP_UPDATE": "false",
        # no network: the Go module and Java lookups are off by default; be sure
        "SYFT_GOLANG_SEARCH_REMOTE_LICENSES": "false",
        "SYFT_JAVA_USE_NETWORK": "false",
    }
    done = subprocess.run(
        [str(program), "scan", target, "-o", fmt, "-q"],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return done.stdout
