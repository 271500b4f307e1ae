"""What keeps builds fast at any size (issue 7), pinned without timing anything:
which documents a rebuild reads, which output files it rewrites, that ``-j 2``
gives the same site as ``-j 1``, and that unchanged READMEs are not parsed again.
Timings are measured by ``make bench`` (bench/run.py), never asserted."""

from __future__ import annotations

import json
import os
import pickle
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import collection, good_tree, manifest, sha256, soup, write_tree
from hypothesis import given, settings
from hypothesis import strategies as st

from orgreg_sphinx.core import frontmatter, model
from orgreg_sphinx.core.zstdlib import zstd

if TYPE_CHECKING:
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

#: files Sphinx itself rewrites on every build, with or without this extension (and
#: the orgreg theme's 404.html: an extra page, written every build as Sphinx's are)
SPHINX_EVERY_BUILD = frozenset(
    {
        "genindex.html",
        "search.html",
        "404.html",
        "searchindex.js",
        "objects.inv",
        ".buildinfo",
        ".nojekyll",
    }
)

EMBED = """\
# Embedding page

```{registry}
:namespace: acme/busybox
```
"""

OTHER = """\
# Another page

```{registry}
:namespace: lab/*
```
"""


def wide_tree(count: int = 12) -> dict[str, str]:
    """The good tree plus *count* more namespaces: enough documents for Sphinx to
    really read and write in parallel (it does not for 5 documents or fewer)."""
    files: dict[str, str] = dict(good_tree())
    for i in range(count):
        name = f"org{i % 3}/repo-{i:02d}"
        files[f"{name}/README.md"] = collection(f"Repository {i}", f"Body of *{i}*.\n")
        for tag in ("latest", "1.0"):
            files[f"{name}/manifests/{tag}/README.md"] = manifest(
                sha256(f"{name}:{tag}"), 700_000 + i, extra=f'created: "2024-03-{i + 1:02d}"\n'
            )
    return files


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(mtime_ns, inode) of every file: a rewrite changes one or the other."""
    found = {}
    for path in folder.rglob("*"):
        if path.is_file():
            info = path.stat()
            found[path.relative_to(folder).as_posix()] = (info.st_mtime_ns, info.st_ino)
    return found


def rewritten(before: dict, after: dict) -> set[str]:
    """Files written, created or removed between two snapshots, but those Sphinx
    rewrites on every build and its static assets."""
    changed = {k for k in after.keys() | before.keys() if before.get(k) != after.get(k)}
    return {k for k in changed if k not in SPHINX_EVERY_BUILD and not k.startswith("_static/")}


@pytest.fixture
def rebuild(make_app: Callable[..., object]) -> Callable[..., tuple[object, list[str]]]:
    """Build *srcdir*; returns the app and the documents Sphinx read."""

    def run(srcdir: Path, **kwargs: object) -> tuple[object, list[str]]:
        app = make_app("html", srcdir=srcdir, **kwargs)
        read: list[str] = []
        app.connect("env-before-read-docs", lambda _app, _env, docnames: read.extend(docnames))
        try:
            app.build()
        finally:
            app.cleanup()
        return app, sorted(read)

    return run


@pytest.fixture
def project(registry_project: Callable[..., Path]) -> Path:
    srcdir = registry_project(wide_tree())
    (srcdir / "embed.md").write_text(EMBED)
    (srcdir / "other.md").write_text(OTHER)
    (srcdir / "index.md").write_text(
        (srcdir / "index.md").read_text() + "\n```{toctree}\n:hidden:\n\nembed\nother\n```\n"
    )
    return srcdir


def test_one_edited_manifest_rereads_its_page_and_the_pages_embedding_it(
    project: Path, rebuild
) -> None:
    app, read = rebuild(project)
    assert len(read) == 3 + 3 + 12  # index, embed, other and every namespace page
    out = Path(app.outdir)
    before = snapshot(out)
    readme = project / "acme/busybox/manifests/1.36/README.md"
    readme.write_text(manifest(sha256("busybox-1.36-rebuilt"), 786432))

    app, read = rebuild(project)
    assert read == ["acme/busybox/index", "embed"]
    assert rewritten(before, snapshot(out)) == {
        "acme/busybox/index.html",
        "embed.html",
        # the home page's toctree holds the namespace page: Sphinx writes it again
        "index.html",
        "acme/busybox/manifests/1.36/index.html",
        "acme/busybox/manifests/1.36/index.json",
        "api/container/acme/busybox:1.36",
        "api/catalog.json",
        # bulk downloads (issue 14): the checksums and URL lists of the namespace
        # and of the registry
        "acme/busybox/SHA256SUMS",
        "acme/busybox/urls.txt",
        "acme/busybox/downloads.curl",
        "api/SHA256SUMS",
        "api/urls.txt",
        "api/downloads.curl",
    }
    assert "busybox-1.36-rebuilt" not in app.warning.getvalue()  # type: ignore[attr-defined]


def test_a_touched_manifest_rereads_nothing(project: Path, rebuild) -> None:
    """Namespace pages do not depend on their files in Sphinx's eyes (their
    stamps say when they change): a manifest given a new time with the same
    bytes re-reads no page, and Sphinx keeps no path of the tree."""
    app, _ = rebuild(project)
    assert not any(app.env.dependencies.get(d) for d in app.env.all_docs if d.count("/") == 2)
    readme = project / "acme/busybox/manifests/1.36/README.md"
    info = readme.stat()
    os.utime(readme, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))
    _, read = rebuild(project)
    assert read == []


def test_a_namespace_page_edit_does_not_rewrite_its_toctree_parent(project: Path, rebuild) -> None:
    """Sphinx rewrites the pages whose toctree holds a changed page; the home page
    holds every namespace page, whose title and contents do not change with a
    manifest: it is not rewritten (nor re-read)."""
    app, _ = rebuild(project)
    out = Path(app.outdir)
    before = snapshot(out)
    write_tree(
        project,
        {
            "org0/repo-00/manifests/1.0/README.md": manifest(
                sha256("rebuilt"), 700_000, extra='created: "2024-03-01"\n'
            )
        },
    )

    app, read = rebuild(project)
    assert read == ["org0/repo-00/index"]
    assert rewritten(before, snapshot(out)) == {
        "org0/repo-00/index.html",
        "org0/repo-00/manifests/1.0/index.html",
        "org0/repo-00/manifests/1.0/index.json",
        "api/container/org0/repo-00:1.0",
        "api/catalog.json",
        # bulk downloads (issue 14): the checksums and URL lists of the namespace
        # and of the registry
        "org0/repo-00/SHA256SUMS",
        "org0/repo-00/urls.txt",
        "org0/repo-00/downloads.curl",
        "api/SHA256SUMS",
        "api/urls.txt",
        "api/downloads.curl",
    }
    assert sha256("rebuilt") in (out / "org0/repo-00/index.html").read_text()
    # the toctree is intact for the next builds
    assert "org0/repo-00/index" in app.env.files_to_rebuild  # type: ignore[attr-defined]
    assert "isn't included in any toctree" not in app.warning.getvalue()  # type: ignore[attr-defined]


def test_an_added_tag_rereads_its_page_and_the_listings(project: Path, rebuild) -> None:
    app, _ = rebuild(project)
    out = Path(app.outdir)
    before = snapshot(out)
    write_tree(project, {"lab/pancakes/manifests/waffles/README.md": manifest(sha256("w"))})

    _, read = rebuild(project)
    # the home page lists tag counts; "other" embeds lab/*
    assert read == ["index", "lab/pancakes/index", "other"]
    assert rewritten(before, snapshot(out)) == {
        "index.html",
        "lab/pancakes/index.html",
        "other.html",
        "lab/pancakes/tags/index.html",
        "lab/pancakes/tags/index.json",
        "lab/pancakes/manifests/waffles/index.html",
        "lab/pancakes/manifests/waffles/index.json",
        "api/container/lab/pancakes:waffles",
        "api/catalog.json",
        # bulk downloads (issue 14): the checksums and URL lists of the namespace
        # and of the registry
        "lab/pancakes/SHA256SUMS",
        "lab/pancakes/urls.txt",
        "lab/pancakes/downloads.curl",
        "api/SHA256SUMS",
        "api/urls.txt",
        "api/downloads.curl",
        # the names index's shards of the namespace's words (its row shows the
        # tag count and last update): lab, pancakes
        "api/namespaces/la.json",
        "api/namespaces/pa.json",
    }


def test_no_op_build_reads_nothing_and_rewrites_no_page_or_endpoint(project: Path, rebuild) -> None:
    app, _ = rebuild(project)
    out = Path(app.outdir)
    before = snapshot(out)
    stubs = snapshot(Path(app.doctreedir))  # type: ignore[attr-defined]

    _, read = rebuild(project)
    assert read == []
    assert rewritten(before, snapshot(out)) == set()
    # nor the generated page sources, the read cache or the output list
    after_stubs = snapshot(Path(app.doctreedir))  # type: ignore[attr-defined]
    assert {k for k in after_stubs if after_stubs[k] != stubs.get(k)} <= {"environment.pickle"}


def test_parallel_build_gives_the_same_site(project: Path, rebuild, tmp_path: Path) -> None:
    serial, _ = rebuild(project, builddir=tmp_path / "j1")
    merged: list[str] = []

    def count_merges(
        app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
    ) -> None:
        merged.extend(docnames)

    from sphinx.testing.util import SphinxTestApp

    app = SphinxTestApp("html", srcdir=project, builddir=tmp_path / "j2", parallel=2)
    app.connect("env-merge-info", count_merges)
    try:
        app.build()
    finally:
        app.cleanup()
    assert merged, "the documents were not read in parallel"
    first, second = Path(serial.outdir), Path(app.outdir)
    names = {p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()}
    assert names == {p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file()}
    assert len([n for n in names if n.endswith("index.json")]) > 40
    differ = [n for n in sorted(names) if (first / n).read_bytes() != (second / n).read_bytes()]
    assert differ == []


# ------------------------------------------------------------ the read cache


def test_read_cache_gives_the_same_registry(tmp_path: Path) -> None:
    files = wide_tree(4)
    files["bad/one/manifests/x/README.md"] = "---\nsize: [1\n---\n"
    files["bad/two/manifests/y/README.md"] = manifest(digest="sha1:abc")
    write_tree(tmp_path, files)
    plain = model.load_registry(tmp_path)
    cache = model.ReadCache()
    first = model.load_registry(tmp_path, cache=cache)
    cache_file = tmp_path.parent / "cache.pickle"
    cache.save(cache_file)
    again = model.ReadCache.load(cache_file)
    second = model.load_registry(tmp_path, cache=again)
    assert again.hits == len(again.fresh) == len(cache.fresh) > 10
    assert not again.changed
    for registry in (first, second):
        assert registry.namespaces == plain.namespaces
        assert [ns.stamp() for ns in registry.namespaces] == [ns.stamp() for ns in plain.namespaces]
        assert registry.problems == plain.problems
    assert {p.code for p in plain.problems} == {"front-matter", "schema"}


def test_read_cache_reads_a_changed_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, wide_tree(2))
    cache_file = tmp_path.parent / "cache.pickle"
    cache = model.ReadCache()
    model.load_registry(tmp_path, cache=cache)
    cache.save(cache_file)

    parsed: list[int] = []
    real_parse = frontmatter.parse
    monkeypatch.setattr(model, "parse", lambda *a, **kw: parsed.append(1) or real_parse(*a, **kw))
    path = tmp_path / "acme/busybox/manifests/1.36/README.md"
    path.write_text(manifest(sha256("changed"), 786432))
    os.utime(path, ns=(0, 0))  # an old modification time: the change time still tells
    registry = model.load_registry(tmp_path, cache=model.ReadCache.load(cache_file))
    assert parsed == [1]
    assert registry.namespace("acme/busybox").tag("1.36").digest == sha256("changed")


def test_damaged_or_foreign_cache_is_ignored(tmp_path: Path) -> None:
    write_tree(tmp_path, wide_tree(1))
    cache_file = tmp_path.parent / "cache.pickle"
    cache_file.write_bytes(b"not a pickle")
    cache = model.ReadCache.load(cache_file)
    assert cache.entries == {}
    registry = model.load_registry(tmp_path, cache=cache)
    assert len(registry.namespaces) == 4
    cache.save(cache_file)
    assert len(model.ReadCache.load(cache_file).entries) > 5
    # a cache written under other reading rules (another version) is not used
    _, entries = pickle.loads(zstd().decompress(cache_file.read_bytes()))
    with open(cache_file, "wb") as handle:  # (uncompressed: read as well)
        pickle.dump(("older rules", entries), handle)
    assert model.ReadCache.load(cache_file).entries == {}


def test_endpoints_changed_or_removed_by_hand_are_written_again(project: Path, rebuild) -> None:
    """A no-op build skips the endpoints only while they are as it left them."""
    app, _ = rebuild(project)
    out = Path(app.outdir)
    tags = out / "acme/busybox/tags/index.json"
    body = tags.read_bytes()
    tags.write_text("{}")
    (out / "lab/pancakes/manifests/pancakes/index.json").unlink()
    recipe = project / "acme/busybox/manifests/latest/Singularity"
    recipe.write_text("Bootstrap: docker\nFrom: busybox:1.37\n")

    rebuild(project)
    assert tags.read_bytes() == body
    assert (out / "lab/pancakes/manifests/pancakes/index.json").is_file()
    assert (out / "acme/busybox/manifests/latest/Singularity").read_text().endswith("1.37\n")


# ------------------------------------------------------------ the fast validator

_digests = st.sampled_from(
    [
        sha256("a"),
        "md5:WGQgL3Ok6o6uD2ZRdClzDQ==",
        "sha256:abc",
        sha256("b") + "\n",
        "",
        "md5:x",
    ]
)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    _digests,
    st.sampled_from(["https://x.org/a.sif", "ftp://x", "https://x\n"]),
)
_layers = st.lists(
    st.dictionaries(
        st.sampled_from(["size", "digest", "url", "mediaType", "other"]),
        st.one_of(_values, st.integers(0, 10**9), _digests),
        max_size=5,
    ),
    max_size=3,
)
_manifests = st.dictionaries(
    st.sampled_from(["layout", "size", "digest", "layers", "created", "description"]),
    st.one_of(_values, _layers, st.sampled_from(["manifests/singularity", "collection"])),
    max_size=6,
)


def test_fast_validator_leaves_the_published_schemas_alone() -> None:
    from importlib import resources

    for kind in ("manifest", "collection"):
        stamp = model.rules_stamp()
        model._is_valid_fast(kind, {"size": 1})
        schemas = resources.files("orgreg_sphinx.core").joinpath("schemas")
        text = schemas.joinpath(f"{kind}.schema.json").read_text()
        assert model.schema(kind) == json.loads(text)
        assert model.rules_stamp.__wrapped__() == stamp  # the next build will agree


@settings(max_examples=300, deadline=None)
@given(data=_manifests, kind=st.sampled_from(["manifest", "collection"]))
def test_fast_validator_never_accepts_what_jsonschema_refuses(data: dict, kind: str) -> None:
    """The compiled schema only answers "valid" early; jsonschema has the last word."""
    if model._is_valid_fast(kind, data):
        assert model._validator(kind).is_valid(data), data


# ------------------------------------------------------------ generated pages


def test_generated_pages_skip_the_rest_parser_and_read_the_same(
    project: Path, rebuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stubs are read by running the directive directly: no docutils reST state
    machine per page, and the very pages the reST parser would give."""
    from sphinx.parsers import RSTParser

    from orgreg_sphinx.sphinxext import pages

    calls: list[str] = []
    real_parse = RSTParser.parse

    def counting_parse(
        self: RSTParser, inputstring: str | StringList, document: nodes.document
    ) -> None:
        calls.append(document["source"])
        real_parse(self, inputstring, document)

    monkeypatch.setattr(RSTParser, "parse", counting_parse)
    fast, read = rebuild(project, builddir=tmp_path / "fast")
    assert len(read) == 18
    assert calls == []  # every generated page took the short way

    monkeypatch.setattr(pages.NamespacePageParser, "parse", counting_parse)
    slow, _ = rebuild(project, builddir=tmp_path / "slow")
    assert len(calls) == 15
    for docname in (d for d in read if d.endswith("/index")):
        html = f"{docname}.html"
        assert (Path(fast.outdir) / html).read_bytes() == (Path(slow.outdir) / html).read_bytes()


def watch_doctree_cache(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many read doctrees Sphinx holds after each page is read (filled as
    the build goes)."""
    from orgreg_sphinx.sphinxext import internals

    held: list[int] = []
    real_bound = internals.bound_doctree_cache

    def watch(app: Sphinx, docname: str, source: list[str]) -> None:
        real_bound(app, docname, source)
        held.append(len(app.env._write_doc_doctree_cache))

    monkeypatch.setattr(internals, "bound_doctree_cache", watch)
    return held


def differing_files(first: Path, second: Path) -> list[str]:
    """The files of output folder *first* whose bytes differ in *second*."""
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    return [n for n in names if (first / n).read_bytes() != (second / n).read_bytes()]


def test_doctrees_held_in_memory_are_bounded(
    project: Path, rebuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sphinx keeps every read doctree in memory until it writes it; generated
    pages beyond a bound are read back from disk instead: same site."""
    from orgreg_sphinx.sphinxext import internals

    unbounded, _ = rebuild(project, builddir=tmp_path / "unbounded")
    monkeypatch.setattr(internals, "DOCTREES_IN_MEMORY", 4)
    held = watch_doctree_cache(monkeypatch)
    bounded, read = rebuild(project, builddir=tmp_path / "bounded")
    assert len(read) == 18
    assert max(held) <= 5  # the bound, and the document being read
    assert differing_files(Path(unbounded.outdir), Path(bounded.outdir)) == []


@pytest.mark.parametrize(("in_memory", "kept_all"), [(20, True), (14, False)])
def test_large_builds_keep_few_doctrees_in_memory(
    project: Path,
    rebuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_memory: int,
    kept_all: bool,
) -> None:
    """A build whose generated pages all fit under the bound keeps every doctree
    until it is written; one with more keeps only the small window
    (``DOCTREES_IN_MEMORY_LARGE``): the same site either way."""
    from orgreg_sphinx.sphinxext import internals

    unbounded, _ = rebuild(project, builddir=tmp_path / "unbounded")
    monkeypatch.setattr(internals, "DOCTREES_IN_MEMORY", in_memory)
    monkeypatch.setattr(internals, "DOCTREES_IN_MEMORY_LARGE", 4)
    held = watch_doctree_cache(monkeypatch)
    bounded, read = rebuild(project, builddir=tmp_path / "bounded")
    assert len(read) == 18
    assert len(internals.generated_pages(bounded)) == 15
    if kept_all:  # every page read before the last one, 15 of them generated
        assert max(held) == 17
    else:  # the window, and the page being read
        assert max(held) <= 5
    assert differing_files(Path(unbounded.outdir), Path(bounded.outdir)) == []


# ------------------------------------------------------------ endpoint batches (issue 17)


def test_an_added_tag_makes_only_its_namespaces_endpoints_again(
    project: Path, rebuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint files of a namespace are made again only when its data (or
    its recipe files) changed, or one of its files was changed or removed by
    hand; the files made from the whole registry are always made, each
    unchanged namespace's part of them copied from the former file."""
    from orgreg_sphinx.core import endpoints

    made: list[str] = []
    real = endpoints.namespace_endpoint_files
    entries: list[str] = []  # the namespaces whose catalog entry was made
    real_entry = endpoints.catalog_namespace

    def counted(ns: model.Namespace, **kwargs: bool):  # type: ignore[no-untyped-def]
        made.append(ns.name)
        return real(ns, **kwargs)

    def counted_entry(ns: model.Namespace):  # type: ignore[no-untyped-def]
        entries.append(ns.name)
        return real_entry(ns)

    monkeypatch.setattr(endpoints, "namespace_endpoint_files", counted)
    monkeypatch.setattr(endpoints, "catalog_namespace", counted_entry)
    app, _ = rebuild(project)
    out = Path(app.outdir)
    everything = sorted(made)
    assert len(everything) == 15  # the good tree's 3 namespaces and wide_tree's 12
    catalog = json.loads((out / "api/catalog.json").read_text())

    assert len(entries) == 15
    made.clear()
    entries.clear()
    write_tree(project, {"lab/pancakes/manifests/waffles/README.md": manifest(sha256("w"))})
    rebuild(project)
    assert made == ["lab/pancakes"]
    assert entries == ["lab/pancakes"]
    # the registry-wide files still know every namespace, and the new tag
    after = json.loads((out / "api/catalog.json").read_text())
    assert [ns["name"] for ns in after["namespaces"]] == [
        ns["name"] for ns in catalog["namespaces"]
    ]
    pancakes = next(ns for ns in after["namespaces"] if ns["name"] == "lab/pancakes")
    assert "waffles" in [tag["name"] for tag in pancakes["tags"]]
    assert "lab/pancakes_waffles.sif" in (out / "api/SHA256SUMS").read_text()

    # an endpoint edited or removed by hand: its namespace's files are made again
    made.clear()
    (out / "org1/repo-01/tags/index.json").write_text("{}")
    (out / "acme/busybox/SHA256SUMS").unlink()
    rebuild(project)
    assert sorted(made) == ["acme/busybox", "org1/repo-01"]
    assert json.loads((out / "org1/repo-01/tags/index.json").read_text())["name"] == (
        "org1/repo-01"
    )
    assert (out / "acme/busybox/SHA256SUMS").is_file()

    # a switch every file depends on: all made again
    made.clear()
    (project / "conf.py").write_text(
        (project / "conf.py").read_text() + "orgreg_oci_layout = True\n"
    )
    rebuild(project)
    assert sorted(made) == everything
    assert (out / "v2/lab/pancakes/manifests/waffles").is_file()


def test_batches_are_kept_only_as_written(tmp_path: Path) -> None:
    """``sync_batches`` does not make a keyed batch whose stamp is the one
    recorded and whose files are as it wrote them; it makes it when the stamp
    changed or a file was edited or removed, and always makes unkeyed ones."""
    from orgreg_sphinx.core.files import Batch, sync_batches

    out, state = tmp_path / "out", tmp_path / "state.json"
    made: list[str] = []

    def batch(key: str, stamp: str, files: dict[str, bytes]) -> Batch:
        def make() -> Iterator[tuple[str, bytes]]:
            made.append(key)
            yield from files.items()

        return Batch(key, stamp, make)

    def run(a: str = "1", b: str = "1") -> tuple[int, int]:
        return sync_batches(
            out,
            [
                batch("a", a, {"a/one.json": b"A" + a.encode(), "a/two.json": b"two"}),
                batch("b", b, {"b/one.json": b"B" + b.encode()}),
                batch("", "", {"all.json": b"all"}),
            ],
            state,
        )

    assert run() == (4, 0)
    assert made == ["a", "b", ""]
    made.clear()
    assert run() == (0, 0)
    assert made == [""]
    made.clear()
    assert run(b="2") == (1, 0)
    assert made == ["b", ""]
    assert (out / "b/one.json").read_bytes() == b"B2"
    made.clear()
    (out / "a/two.json").write_bytes(b"owt")  # same size, edited by hand
    assert run(b="2") == (1, 0)
    assert made == ["a", ""]
    assert (out / "a/two.json").read_bytes() == b"two"
    made.clear()
    (out / "a/one.json").unlink()
    assert run(b="2") == (1, 0)
    assert (out / "a/one.json").read_bytes() == b"A1"
    made.clear()
    # a batch no longer given: its files are removed
    assert sync_batches(out, [batch("a", "1", {})], state) == (0, 2)
    assert not (out / "b/one.json").exists() and not (out / "all.json").exists()
    assert (out / "a/one.json").is_file() and made == []


def test_the_output_state_keeps_a_kept_batchs_record_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The state is kept as one group of columns per batch: a batch that is not
    made again keeps its group object, whose files are not gone through one
    record at a time (only their status is checked); it loads as saved, and the
    former JSON state (a list per file) is read as the same groups."""
    from orgreg_sphinx.core import files
    from orgreg_sphinx.core.files import Batch, OutputState, sync_batches

    out, state_file = tmp_path / "out", tmp_path / "doctrees" / "state.pickle"

    def batches(b: str) -> list[Batch]:
        return [
            Batch("ns:a", "1", lambda: [("a/one.json", b"A1"), ("a/two.json", b"two")]),
            Batch("ns:b", b, lambda: [("b/one.json", b"B" + b.encode())]),
            Batch("", "", lambda: [("all.json", b"all")]),
        ]

    assert sync_batches(out, batches("1"), state_file, stamp="s1") == (4, 0)
    first = OutputState.load(state_file)
    assert sorted(first.groups) == ["", "ns:a", "ns:b"]
    assert first.groups["ns:a"].paths == ["a/one.json", "a/two.json"]
    assert first.files["a/one.json"][2:] == [files.content_hash(b"A1"), "ns:a"]
    assert first.files["all.json"][2:] == [files.content_hash(b"all")]
    gone_through: list[str] = []
    real_records = files.Group.records

    def records(group: files.Group) -> Iterator[tuple[str, int, int, str]]:
        gone_through.extend(group.paths)
        return real_records(group)

    monkeypatch.setattr(files.Group, "records", records)
    assert sync_batches(out, batches("2"), state_file, stamp="s2", previous=first) == (1, 0)
    monkeypatch.undo()
    assert sorted(gone_through) == ["all.json", "b/one.json"]  # not batch ns:a's
    second = OutputState.load(state_file)
    assert second.groups["ns:a"] == first.groups["ns:a"]
    assert second.groups["ns:b"].stamp == "2" and second.stamp == "s2"
    # the former format: the same groups
    former = tmp_path / "former.json"
    whole = {"stamp": "s2", "files": second.files, "owned": [], "batches": {"ns:a": "1"}}
    former.write_text(json.dumps(whole))
    again = OutputState.load(former)
    assert again.files == second.files and again.groups["ns:a"] == second.groups["ns:a"]
    assert OutputState.load(tmp_path / "missing") == OutputState()


def test_reading_the_tree_asks_each_files_status_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the read cache warm, each README's status is asked once (it serves
    both the link check and the cache's key), and plain folders none at all:
    the folders' listings tell what they are (issue 17)."""
    root = tmp_path / "tree"
    write_tree(root, wide_tree())
    cache = model.ReadCache()
    first = model.load_registry(root, cache=cache)
    asked: list[str] = []
    real_lstat, real_stat = os.lstat, os.stat

    def lstat(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        asked.append(os.fspath(path))
        return real_lstat(path, *args, **kwargs)  # type: ignore[arg-type]

    def stat(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        asked.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "lstat", lstat)
    monkeypatch.setattr(os, "stat", stat)
    warm = model.ReadCache(cache.fresh)
    again = model.load_registry(root, cache=warm)
    monkeypatch.undo()
    assert again.namespaces == first.namespaces and again.problems == first.problems
    readmes = [str(p) for p in root.rglob("README.md")]
    # the namespaces' and tags' READMEs (a tags/README.md marker is not read)
    read = [p for p in readmes if not p.endswith("/tags/README.md")]
    assert warm.hits == len(read)  # none parsed again
    counts = Counter(p for p in asked if p.endswith("README.md"))
    assert set(readmes) <= set(counts)
    assert {p: n for p, n in counts.items() if n > 1} == {}
    tag_folders = {str(tag.path.parent) for ns in first.namespaces for tag in ns.tags}
    assert not tag_folders & set(asked)
    assert not {str(ns.path) for ns in first.namespaces} & set(asked)


# ------------------------------------------------------------ exclude patterns (issue 17)

_top_names = st.text(alphabet="ab._-Z9", min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(
    others=st.lists(_top_names, max_size=6, unique=True),
    names=st.lists(_top_names, min_size=1, max_size=12),
)
def test_complement_patterns_exclude_exactly_the_other_folders(
    others: list[str], names: list[str]
) -> None:
    """Sphinx's own matcher: what lies two levels below a top-level folder is
    excluded unless the folder is one of *others*; nothing less deep ever is."""
    from sphinx.util.matching import Matcher

    from orgreg_sphinx.sphinxext.pages import complement_patterns

    excluded = Matcher(complement_patterns(others))
    for name in [*names, *others]:
        assert excluded(f"{name}/repo/README.md") == (name not in others), name
        assert excluded(f"{name}/repo/manifests") == (name not in others), name
        assert not excluded(f"{name}/page.md") and not excluded(name)


def test_exclude_patterns_do_not_grow_with_organizations(
    registry_project: Callable[..., Path], rebuild
) -> None:
    """Thirty organizations need no more exclude patterns than three, and a
    namespace in a new organization changes none (Sphinx reads every page again
    when ``exclude_patterns`` changes); the same files are read as ever."""
    srcdir = registry_project(wide_tree())
    write_tree(
        srcdir,
        {
            "guide/howto/deep.md": "# Deep page\n\nHand-written.\n",
            "acme/notes.md": "# Notes\n\nBy the site's maintainers.\n",
            "acme/busybox/evil.md": "# Evil\n",
            "acme/busybox/manifests/latest/evil.md": "# Evil\n",
        },
    )
    toctree = "\n```{toctree}\n:hidden:\n\nguide/howto/deep\nacme/notes\n```\n"
    (srcdir / "index.md").write_text((srcdir / "index.md").read_text() + toctree)
    app, read = rebuild(srcdir)
    few = list(app.config.exclude_patterns)  # type: ignore[attr-defined]
    out = Path(app.outdir)  # type: ignore[attr-defined]
    assert (out / "guide/howto/deep.html").is_file() and (out / "acme/notes.html").is_file()
    assert not list(out.rglob("evil.html"))
    assert "acme/busybox/evil" not in read

    write_tree(
        srcdir,
        {f"team{i:02d}/tool/manifests/1.0/README.md": manifest(sha256(f"t{i}")) for i in range(30)},
    )
    app, read = rebuild(srcdir)
    assert app.config.exclude_patterns == few  # type: ignore[attr-defined]
    assert "team00/tool/index" in read and "guide/howto/deep" not in read
    assert (out / "team29/tool/manifests/1.0/index.json").is_file()
    assert not list(out.rglob("evil.html"))


def test_no_op_build_sees_no_configuration_change(
    registry_project: Callable[..., Path], rebuild
) -> None:
    """The extension's settings of Sphinx's own values (the listings' stylesheet
    in ``html_static_path``) are the same in every build: a rebuild of a project
    as ``orgreg init`` makes it logs no changed configuration and reads nothing.
    (sphinx_design, which the other tests' projects load, appends its own static
    folder at ``builder-inited``: its rebuilds do log a change.)"""
    project = registry_project(wide_tree(), conf='extensions = ["myst_parser", "orgreg_sphinx"]\n')
    rebuild(project)
    app, read = rebuild(project)
    assert read == []
    log = app._status.getvalue()  # type: ignore[attr-defined]
    assert "configuration has changed" not in log
    assert "config changed" not in log
    css = Path(app.outdir) / "_static" / "orgreg-listings.css"  # type: ignore[attr-defined]
    assert css.is_file()


def test_stubs_are_links_to_one_file_in_a_folder_per_organization(
    project: Path, rebuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The namespace pages' stubs are ``<org>/<repo>.orgreg`` under the doctree
    folder, hard links to one file (a CI cache packs and unpacks links, not
    files, and no folder per namespace); the former layout, a folder per
    namespace, is removed at the next build. Where there are no hard links the
    stubs are copies, and the pages the same."""
    from orgreg_sphinx.sphinxext import stubs as stubs_module

    doctrees = project / "_build" / "doctrees"
    former = doctrees / "orgreg-pages" / "acme" / "busybox" / "index.orgreg"
    former.parent.mkdir(parents=True)
    former.write_text(".. registry::\n   :namespace: acme/busybox\n   :page:\n")
    app, _ = rebuild(project)
    stubs = doctrees / "orgreg-stubs"
    shared = stubs / "namespace-page.orgreg"
    found = sorted(p.relative_to(stubs).as_posix() for p in stubs.rglob("*.orgreg"))
    folders = sorted(p.relative_to(stubs).as_posix() for p in stubs.rglob("*") if p.is_dir())
    assert "acme/busybox.orgreg" in found
    assert folders == sorted({name.split("/")[0] for name in found if "/" in name})
    namespace_stubs = [stubs / n for n in found if n.count("/") == 1 and not n.startswith("api/")]
    assert len(namespace_stubs) == 15
    assert {s.stat().st_ino for s in namespace_stubs} == {shared.stat().st_ino}
    assert shared.read_text() == ".. registry::\n   :page:\n"
    assert not (doctrees / "orgreg-pages").exists()
    page = soup(Path(app.outdir) / "acme/centos/index.html")  # type: ignore[attr-defined]
    assert "acme/centos" in page.find("h1").get_text()
    _, read = rebuild(project)
    assert read == []

    def no_links(*args: object) -> None:
        raise OSError("no hard links here")

    monkeypatch.setattr(stubs_module.os, "link", no_links)
    copied, _ = rebuild(project, builddir=tmp_path / "copies")
    copies = Path(copied.doctreedir) / "orgreg-stubs"  # type: ignore[attr-defined]
    assert (copies / "acme/busybox.orgreg").read_text() == shared.read_text()
    assert (copies / "acme/busybox.orgreg").stat().st_nlink == 1
    differing = differing_files(Path(app.outdir), Path(copied.outdir))  # type: ignore[attr-defined]
    assert set(differing) <= {".buildinfo"}


def test_pickled_paths_are_made_again_without_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caches' paths (:func:`files.save_stamped`) load equal to what was
    saved; on Python 3.11, whose paths are parsed when made, without parsing
    them again: from the parts pickled once each."""
    import pathlib
    import sys

    from orgreg_sphinx.core import files

    paths = [tmp_path / "acme" / f"tool-{n}" / "manifests" / "1.0" / "README.md" for n in range(3)]
    value = {"paths": paths, "relative": Path("a/b"), "root": Path("/")}
    file = tmp_path / "cache.pickle"
    files.save_stamped(file, "s", value)
    parsed_when_made = sys.version_info < (3, 12)
    assert parsed_when_made == files.PARSED_PARTS
    if files.PARSED_PARTS:

        def parse(*args: object) -> None:
            raise AssertionError("parsed again")

        monkeypatch.setattr(pathlib.PurePath, "_parse_args", classmethod(parse))
    loaded = files.load_stamped(file, "s")
    monkeypatch.undo()
    assert loaded == value
    assert [str(p) for p in loaded["paths"]] == [str(p) for p in paths]
    assert loaded["paths"][0].parent.name == "1.0" and loaded["relative"] / "c" == Path("a/b/c")
    assert str(loaded["root"]) == "/" and type(loaded["root"]) is type(Path())


def test_stubs_are_never_pages_of_their_own(registry_project: Callable[..., Path], rebuild) -> None:
    """A project whose doctree folder is inside its source folder with no exclude
    pattern for it: the stub files are found there, but are not read as pages
    (no warning, each namespace page once)."""
    srcdir = registry_project(conf="exclude_patterns = []\n")
    app, read = rebuild(srcdir)
    app, read = rebuild(srcdir)  # the stubs are there now
    assert not [d for d in read if "orgreg-stubs" in d]
    assert "orgreg-stubs" not in app._status.getvalue() + app._warning.getvalue()  # type: ignore[attr-defined]
    assert not [d for d in app.env.found_docs if "orgreg-stubs" in d]  # type: ignore[attr-defined]
    assert "acme/busybox/index" in app.env.found_docs  # type: ignore[attr-defined]


def test_caches_are_kept_compressed(tmp_path: Path) -> None:
    """A cache file is its pickle compressed with zstd (a CI deploy restores every
    byte of it); a damaged one is not used; one written uncompressed (before)
    is still read."""
    from orgreg_sphinx.core import files
    from orgreg_sphinx.core.zstdlib import MAGIC

    value = {f"acme/tool-{n}": ["1.0", "latest"] * 50 for n in range(200)}
    file = tmp_path / "cache.pickle"
    files.save_stamped(file, "s", value)
    data = file.read_bytes()
    assert data.startswith(MAGIC) and len(data) * 10 < len(pickle.dumps(("s", value)))
    assert pickle.loads(zstd().decompress(data)) == ("s", value)
    assert files.load_stamped(file, "s") == value and files.load_stamped(file, "t") is None
    file.write_bytes(data[: len(data) // 2])
    assert files.load_stamped(file, "s") is None
    file.write_bytes(pickle.dumps(("s", value)))
    assert files.load_stamped(file, "s") == value
