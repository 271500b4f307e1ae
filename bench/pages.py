"""What a person downloads from a large registry (issue 28): one full build of
bench/run.py's generated tree, then the largest HTML page a person opens, the
home page's parts, the listing's pages, Sphinx's search index and the names
index's download per query.

    python bench/pages.py --size 10000 --tags 10 --workdir /tmp/pages [--repo PATH]
        [--query samtools --query "bio-core5/sam" ...]

``--repo`` builds with the orgreg-sphinx of another checkout (its ``bench/run.py``
makes the same tree), to compare before and after on the same machine. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run as bench  # noqa: E402

QUERIES = ["samtools", "acme7", "image", "rstudio-00000", "bio-core5/sam", "deepvariant 0321"]


def build(repo: Path, src: Path, out: Path, doctrees: Path) -> tuple[float, float, int]:
    """A full build with *repo*'s package: wall and CPU seconds, peak KiB."""
    env = dict(os.environ, PYTHONPATH=str(repo))
    start = time.time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src), str(out)]
    # not run from a checkout: `python -m` puts the working folder before PYTHONPATH
    subprocess.run([*command, "-d", str(doctrees)], env=env, check=True, cwd=out.parent)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.time() - start, cpu, after.ru_maxrss


def home_parts(out: Path) -> str:
    """The home page's bytes: head, header, the listing's table, pager, the rest."""
    from bs4 import BeautifulSoup

    html = (out / "index.html").read_bytes()
    page = BeautifulSoup(html, "html.parser")

    def size(selector: str) -> int:
        node = page.select_one(selector)
        return len(str(node).encode()) if node is not None else 0

    parts = {
        "<head>": size("head"),
        "header": size("header.orgreg-header"),
        "table": size("table.orgreg-namespaces"),
        "pager": size(".orgreg-listing-pager"),
        "footer": size("footer"),
    }
    rows = len(page.select("tr.orgreg-namespace-row"))
    rest = len(html) - sum(parts.values())
    shown = ", ".join(f"{k} {v}" for k, v in parts.items())
    return f"home page {len(html)} B: {shown}, the rest {rest} ({rows} rows)"


def names_queries(out: Path, queries: list[str]) -> list[str]:
    """What each query downloads from the names index (as the theme's script)."""
    from orgreg_sphinx.core import namesindex

    def read(path: str) -> Any:
        if not (out / path).is_file():
            raise FileNotFoundError(path)
        return json.loads((out / path).read_text())

    lines = []
    for query in queries:
        found, paths = namesindex.lookup(query, read)
        size = sum((out / p).stat().st_size for p in paths)
        files = ", ".join(p.rsplit("/", 1)[-1] for p in paths)
        lines.append(
            f"  {query!r:22} {size:7d} B in {len(paths)} files ({files}): {len(found)} found"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=HERE.parent)
    parser.add_argument("--query", action="append", default=[])
    args = parser.parse_args(argv)
    src = args.workdir / "src"
    if not src.exists():
        bench.write_extension_project(
            src, bench.synthetic_registry(args.size, args.tags, 7), "orgreg"
        )
    out = args.workdir / "out"
    wall, cpu, peak = build(args.repo.resolve(), src, out, args.workdir / "doctrees")
    tags = args.size * args.tags
    site = bench.site_figures(out, tags)
    size = f"N={args.size} x {args.tags}"
    print(f"{size}: full build {wall:.1f} s, {cpu:.1f} s of CPU, peak {peak / 1024:.0f} MiB")
    print(
        f"site {site.bytes / 1e6:.1f} MB in {site.files} files ({site.bytes / tags:.0f} B "
        f"per tag); as the Pages artifact (tar) {site.tar_bytes / 1e6:.1f} MB "
        f"({site.tar_bytes / tags:.0f} B per tag)"
    )
    pages = sorted(
        (p.stat().st_size, p.relative_to(out).as_posix())
        for p in out.rglob("*.html")
        if "/manifests/" not in p.as_posix() and "/tags/" not in p.as_posix()
    )
    print(f"largest HTML page a person opens: {pages[-1][1]} {pages[-1][0]} B")
    print(home_parts(out))
    listing = sorted((out / "_containers").glob("*.html")) if (out / "_containers").is_dir() else []
    if listing:
        sizes = [p.stat().st_size for p in listing]
        print(f"listing pages: {len(listing)}, {sum(sizes) / 1e6:.2f} MB, largest {max(sizes)} B")
    print(f"searchindex.js (Sphinx's search, every query): {site.search_bytes} B")
    names = list((out / "api/namespaces").glob("*.json"))
    if names:
        total = sum(p.stat().st_size for p in names)
        largest = max(p.stat().st_size for p in names)
        mb = total / 1e6
        print(f"names index: {len(names)} files, {mb:.2f} MB, largest {largest} B, per query:")
        print("\n".join(names_queries(out, args.query or QUERIES)))
    for kind, (files, size) in site.by_kind.items():
        if files:
            print(f"  {kind:50} {files:7d} {size / 1e6:8.2f} MB {size / tags:6.0f} B/tag")
    return 0


if __name__ == "__main__":
    sys.exit(main())
