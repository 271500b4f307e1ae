"""Benchmark: reading what a SIF image holds (issue 26), per GiB of image.

Makes (once, kept in the work folder) a root file system of about the given size
as a large real image is laid out: thousands of files of incompressible data in
library folders, a dpkg status of 2000 packages, 3000 commands on the PATH (a
third of them links), 400 Python distributions and 300 conda packages; squashes it
with ``mksquashfs -comp zstd``, assembles a SIF with ``siftool`` as Apptainer
does, then reads its contents in a fresh process (``read_contents``) and prints
the wall time and the process's peak memory (max RSS), per GiB of image.

    python bench/contents.py [--gib 1.0] [--workdir _build/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

#: files of incompressible data per GiB (about 25 KiB each, as a /usr tree has)
FILES_PER_GIB = 40_000


def make_root(root: Path, gib: float, seed: int = 26) -> None:
    rng = random.Random(seed)
    total = int(gib * (1 << 30))
    count = int(FILES_PER_GIB * gib)
    size = total // count
    blob = os.urandom(size * 64)  # a window of random bytes, sliced per file
    for index in range(count):
        folder = root / "usr/lib" / f"lib{index % 400}" / f"sub{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        start = rng.randrange(len(blob) - size)
        (folder / f"f{index}.so").write_bytes(blob[start : start + size])
    status = root / "var/lib/dpkg/status"
    status.parent.mkdir(parents=True)
    status.write_text(
        "".join(
            f"Package: pkg{i}\nStatus: install ok installed\nPriority: optional\n"
            f"Section: libs\nInstalled-Size: {i * 3}\nMaintainer: Someone <a@b.c>\n"
            f"Architecture: amd64\nVersion: 1.{i}-{i % 5}\nDepends: libc6 (>= 2.34)\n"
            f"Description: package {i}\n a longer description of package {i}\n .\n more\n\n"
            for i in range(2000)
        )
    )
    bin_folder = root / "usr/bin"
    bin_folder.mkdir(parents=True)
    for i in range(3000):
        path = bin_folder / f"tool{i}"
        if i % 3:
            path.write_bytes(b"\x7fELF" + bytes(200))
            path.chmod(0o755)
        else:
            path.symlink_to(f"tool{i + 1}")
    site = root / "opt/conda/lib/python3.11/site-packages"
    for i in range(400):
        info = site / f"dist{i}-1.{i}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: dist{i}\nVersion: 1.{i}\n\n")
        (info / "RECORD").write_text("x\n" * 50)
    meta = root / "opt/conda/conda-meta"
    meta.mkdir(parents=True)
    for i in range(300):
        (meta / f"cpkg{i}-2.{i}-h{i}_0.json").write_text(json.dumps({"name": f"cpkg{i}"}))


def make_image(workdir: Path, gib: float) -> Path:
    image = workdir / f"contents-{gib:g}gib.sif"
    if image.exists():
        return image
    root = workdir / f"contents-{gib:g}gib-root"
    if root.exists():
        subprocess.run(["rm", "-rf", str(root)], check=True)
    print(f"  making a {gib:g} GiB root file system", flush=True)
    make_root(root, gib)
    squashfs = workdir / f"contents-{gib:g}gib.squashfs"
    print("  mksquashfs -comp zstd", flush=True)
    subprocess.run(
        [
            "mksquashfs",
            str(root),
            str(squashfs),
            "-comp",
            "zstd",
            "-noappend",
            "-quiet",
            "-no-progress",
            "-all-root",
        ],
        check=True,
    )
    subprocess.run(["rm", "-rf", str(root)], check=True)
    subprocess.run(["siftool", "new", str(image)], check=True, capture_output=True)
    subprocess.run(
        [
            "siftool",
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
            str(image),
            str(squashfs),
        ],
        check=True,
        capture_output=True,
    )
    squashfs.unlink()
    return image


#: run in a fresh process: the read's time and the process's peak memory
PROBE = """
import json, resource, sys, time
from pathlib import Path
from orgreg_sphinx.core import contents
started = time.perf_counter()
cpu = time.process_time()
record = contents.read_contents(Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds,
    "cpu_seconds": time.process_time() - cpu,
    "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "packages": len(record["packages"]),
    "executables": len(record["executables"]),
}))
"""


def measure(image: Path, best_of: int = 3) -> dict[str, float]:
    """The fastest of *best_of* reads, each in a fresh process."""
    runs = []
    for _ in range(best_of):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(image)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        runs.append(json.loads(done.stdout))
    return min(runs, key=lambda r: r["seconds"])


def bench_contents(workdir: Path, gib: float) -> dict[str, float] | None:
    """Make (or reuse) the image, read it, print and return the figures (None,
    said, without mksquashfs or siftool)."""
    missing = [tool for tool in ("mksquashfs", "siftool") if shutil.which(tool) is None]
    if missing:
        print(f"\ncontents reading time per GiB: not measured ({' and '.join(missing)} missing)")
        return None
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"contents: a {gib:g} GiB SIF image", flush=True)
    image = make_image(workdir, gib)
    size_gib = image.stat().st_size / (1 << 30)
    found = measure(image)
    per_gib = found["seconds"] / size_gib
    print(
        f"\ncontents reading time per GiB: {per_gib:.2f} s "
        f"(image {size_gib:.2f} GiB read in {found['seconds']:.2f} s, "
        f"{found['cpu_seconds']:.2f} s of CPU; "
        f"peak memory of the reading process {found['peak_kib'] / 1024:.0f} MiB, "
        f"Python and imports included; {found['packages']} packages, "
        f"{found['executables']} commands found)"
    )
    return {"per_gib_seconds": per_gib, "image_gib": size_gib, **found}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=1.0, help="image size (default: 1)")
    parser.add_argument(
        "--workdir", type=Path, default=REPO / "_build" / "bench", help="where the image is made"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bench_contents(args.workdir, args.gib)
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
