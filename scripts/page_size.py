"""Does a namespace page grow with the registry? Build two generated registries
(by default 20 and 2000 namespaces, 3 tags each) and compare the HTML size of the
same namespace page in both.

    .venv/bin/python scripts/page_size.py [--small 20] [--large 2000] [-j 2]

Prints one line per registry and the difference; exits 1 if it is 5% or more.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from pathlib import Path

CONF = """\
extensions = ["myst_parser", "sphinx_design", "orgreg_sphinx"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "orgreg"
project = "Generated registry"
"""
INDEX = "# Generated registry\n\n```{registry}\n:toctree:\n```\n"
#: the page compared in both registries (its neighbours differ in name length too)
PROBE = "org00/probe"


def manifest(seed: str, size: int) -> str:
    digest = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    return (
        "---\nlayout: manifests/singularity\n"
        f"size: {size}\ndigest: {digest}\nlayers:\n"
        f'- size: {size}\n  digest: "{digest}"\n'
        f'  url: "https://storage.example.org/{digest[-12:]}.sif"\n'
        f'created: "2024-0{1 + size % 9}-1{size % 10}T00:00:00Z"\n---\n'
    )


def write_registry(root: Path, count: int, tags: int = 3) -> None:
    """*count* namespaces in count // 10 + 1 organizations, *tags* tags each."""
    root.mkdir(parents=True)
    (root / "conf.py").write_text(CONF)
    (root / "index.md").write_text(INDEX)
    names = [PROBE] + [
        f"org{i % (count // 10 + 1):02d}/container-{i:05d}" for i in range(count - 1)
    ]
    for name in names:
        folder = root / name
        (folder / "tags").mkdir(parents=True)
        (folder / "README.md").write_text(
            f'---\nlayout: collection\ndescription: "The {name} container"\n---\n'
            f"# {name}\n\nBuilt by CI.\n"
        )
        (folder / "tags" / "README.md").write_text("---\nlayout: tags\n---\n")
        for t in range(tags):
            tag = folder / "manifests" / f"1.{t}"
            tag.mkdir(parents=True)
            (tag / "README.md").write_text(manifest(f"{name}:{t}", 700_000 + 4096 * t))


def build(count: int, workdir: Path, jobs: str) -> tuple[int, float]:
    """Build a *count*-namespace registry; the probe page's size and the build time."""
    from sphinx.cmd.build import build_main

    src = workdir / f"src-{count}"
    write_registry(src, count)
    out = workdir / f"out-{count}"
    started = time.perf_counter()
    code = build_main(
        ["-q", "-j", jobs, "-b", "html", str(src), str(out / "html"), "-d", str(out / "doctrees")]
    )
    elapsed = time.perf_counter() - started
    if code:
        raise SystemExit(f"the {count}-namespace build failed ({code})")
    page = out / "html" / PROBE / "index.html"
    return page.stat().st_size, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("-j", "--jobs", default="1")
    args = parser.parse_args()
    os.environ.pop("ORGREG_SITE_URL", None)
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {}
        for count in (args.small, args.large):
            size, elapsed = build(count, Path(tmp), args.jobs)
            sizes[count] = size
            print(
                f"{count:6d} namespaces: {PROBE}/index.html is {size} bytes "
                f"(whole build {elapsed:.1f} s)"
            )
    small, large = sizes[args.small], sizes[args.large]
    change = (large - small) / small * 100
    print(f"difference: {large - small:+d} bytes ({change:+.2f}%)")
    return 0 if abs(change) < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
