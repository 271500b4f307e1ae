"""Benchmark: what one search downloads, at N namespaces, with the registry's own
contents index (``api/contents/``) and, when installed, with Pagefind indexing
one page per tag holding the same names (for the comparison of issue 26).

For each size it generates (bench/run.py's generator, with contents records) a
manifest tree of N namespaces x T tags, reads it with the registry core, writes
the contents index, and for each query sums the bytes of the files the search
reads (``contentsapi.shard_paths``: the index, listings of split shards, the
shard's first part), raw and gzip-compressed (as GitHub Pages sends them).
With ``pagefind`` (pip install "pagefind[bin]") and chromium (Playwright), it
also writes one HTML page per tag (its names and versions, the organization,
architecture, signed and deprecated as Pagefind filters), indexes them with
Pagefind and measures in chromium what ``pagefind.search(query)`` downloads,
with the first ten results' data, as Pagefind's UI loads them.

    python bench/search.py --sizes 1000,10000 [--tags 5] [--pagefind]
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import run  # noqa: E402  (bench/run.py: the tree generator)

from orgreg_sphinx.core import contentsapi, model  # noqa: E402

#: a tool in some images, a command in every image (the worst case), a library,
#: a label key in every image
QUERIES = ["samtools", "bash", "libgatk12", "maintainer"]
#: what one query may download (raw JSON) at any size: the bound reported
BOUND_BYTES = 128 * 1024


def make_tree(workdir: Path, n: int, tags: int, seed: int) -> Path:
    """The generated tree of *n* namespaces with contents records (kept between runs)."""
    src = workdir / f"search-tree-{n}x{tags}-{seed}"
    if not (src / "index.md").exists():
        shutil.rmtree(src, ignore_errors=True)
        run.write_extension_project(
            src, run.synthetic_registry(n, tags, seed), "orgreg", contents=True
        )
    return src


def own_index(src: Path, out: Path) -> dict[str, Any]:
    """Write the contents index of *src* into *out*; the bytes each query reads."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    registry = model.load_registry(src)
    files = dict(contentsapi.index_files(registry))
    seconds = time.perf_counter() - started
    for path, body in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(body)

    def read(path: str) -> dict[str, Any]:
        if path not in files:
            raise FileNotFoundError(path)
        loaded: dict[str, Any] = json.loads(files[path])
        return loaded

    queries = {}
    for query in QUERIES:
        paths = contentsapi.shard_paths(query, read)
        queries[query] = {
            "files": paths,
            "bytes": sum(len(files[p]) for p in paths),
            "gzip": sum(len(gzip.compress(files[p], 6)) for p in paths),
        }
    shards = [
        b for p, b in files.items() if p not in (contentsapi.INDEX_PATH, contentsapi.TAGS_PATH)
    ]
    return {
        "seconds": round(seconds, 1),
        "files": len(files),
        "total_bytes": sum(len(b) for b in files.values()),
        "index_bytes": len(files[contentsapi.INDEX_PATH]),
        "largest_shard": max(len(b) for b in shards),
        "queries": queries,
    }


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main data-pagefind-body><h1>{title}</h1>
<span data-pagefind-filter="organization">{org}</span>
<span data-pagefind-filter="architecture">{arch}</span>
<span data-pagefind-filter="signed">{signed}</span>
<span data-pagefind-filter="deprecated">{deprecated}</span>
<ul>{items}</ul></main></body></html>
"""


def pagefind_site(src: Path, site: Path) -> None:
    """One HTML page per tag with an index record (its names and facets)."""
    shutil.rmtree(site, ignore_errors=True)
    registry = model.load_registry(src)
    for ns in registry.namespaces:
        for tag in ns.tags:
            record = tag.contents()
            if record is None:
                continue
            facts = contentsapi.tag_facts(tag)
            found = [*contentsapi.postings(record), *contentsapi.label_postings(tag)]
            items = "".join(
                f"<li>{html.escape(name)} {html.escape(version)} {kind}</li>"
                for kind, name, version in found
            )
            page = site / ns.name / tag.name / "index.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(
                PAGE.format(
                    title=html.escape(f"{ns.name}:{tag.name}"),
                    org=ns.org,
                    arch=facts["arch"],
                    signed="yes" if facts["signed"] else "no",
                    deprecated="yes" if facts["deprecated"] else "no",
                    items=items,
                )
            )
    (site / "search.html").write_text("<!doctype html><title>search</title>")


MEASURE = """async (query) => {
  const pagefind = await import("/pagefind/pagefind.js");
  await pagefind.options({});
  await pagefind.init();
  const search = await pagefind.search(query);
  const data = await Promise.all(search.results.slice(0, 10).map((r) => r.data()));
  return {count: search.results.length, first: data.map((d) => d.url)};
}"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def pagefind_payload(site: Path) -> dict[str, Any]:
    """Index *site* with Pagefind; the bytes each query downloads in chromium."""
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(site)], check=True, capture_output=True
    )
    seconds = time.perf_counter() - started
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    queries: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium")
            for query in QUERIES:
                page = browser.new_page()
                sizes: dict[str, int] = {}
                page.on(
                    "requestfinished",
                    lambda r, sizes=sizes: sizes.__setitem__(r.url, r.sizes()["responseBodySize"]),
                )
                page.goto(f"http://127.0.0.1:{server.server_port}/search.html")
                result = page.evaluate(MEASURE, query)
                sizes.pop(page.url, None)
                queries[query] = {"bytes": sum(sizes.values()), "requests": len(sizes), **result}
                page.close()
            browser.close()
    finally:
        server.shutdown()
    bundle = site / "pagefind"
    return {
        "seconds": round(seconds, 1),
        "files": sum(1 for p in bundle.rglob("*") if p.is_file()),
        "total_bytes": sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file()),
        "queries": queries,
    }


def bench_search(
    workdir: Path, sizes: list[int], tags: int = 5, seed: int = 7, pagefind: bool = False
) -> dict[int, dict[str, Any]]:
    """The figures of each size: the own index's, and Pagefind's when asked."""
    figures: dict[int, dict[str, Any]] = {}
    for n in sizes:
        src = make_tree(workdir, n, tags, seed)
        figures[n] = {"own": own_index(src, workdir / f"search-own-{n}")}
        if pagefind:
            site = workdir / f"search-pagefind-{n}"
            pagefind_site(src, site)
            figures[n]["pagefind"] = pagefind_payload(site)
    return figures


def print_search(figures: dict[int, dict[str, Any]], tags: int) -> None:
    """The figures, and the bound each size MET or MISSED (nothing is asserted)."""
    print(f"\nsearch payload per query (N namespaces x {tags} tags, contents records)")
    for n, found in figures.items():
        own = found["own"]
        print(
            f"N={n:<6} own index: {own['files']} files, {own['total_bytes'] / 2**20:.1f} MiB "
            f"in all, index.json {own['index_bytes']} B, largest shard "
            f"{own['largest_shard']} B, written in {own['seconds']} s"
        )
        for query, q in own["queries"].items():
            print(
                f"         {query:<12} {q['bytes']:>8} B ({q['gzip']:>6} B gzip) in "
                f"{len(q['files'])} files: {', '.join(p.rsplit('/', 1)[1] for p in q['files'])}"
            )
        pf = found.get("pagefind")
        if pf:
            print(
                f"N={n:<6} Pagefind: {pf['files']} files, {pf['total_bytes'] / 2**20:.1f} MiB "
                f"in all, indexed in {pf['seconds']} s"
            )
            for query, q in pf["queries"].items():
                print(
                    f"         {query:<12} {q['bytes']:>8} B in {q['requests']} requests "
                    f"({q['count']} results, first 10 loaded)"
                )
    print("\ntarget of issue 26 (a query's download bounded as the registry grows):")
    for n, found in figures.items():
        worst = max(q["bytes"] for q in found["own"]["queries"].values())
        verdict = "MET   " if worst <= BOUND_BYTES else "MISSED"
        print(
            f"  {verdict} N={n}: every query downloads <= {BOUND_BYTES // 1024} KiB of "
            f"JSON (the index and one shard): at most {worst} B"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="namespace counts")
    parser.add_argument("--tags", type=int, default=5, help="tags per namespace (default: 5)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pagefind", action="store_true", help="also measure Pagefind")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/orgreg-bench"))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    figures = bench_search(args.workdir, sizes, args.tags, args.seed, args.pagefind)
    print_search(figures, args.tags)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
