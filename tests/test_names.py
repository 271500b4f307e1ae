"""One naming rule: the model, ``orgreg manifest`` and ``orgreg check`` agree on
every organization, repository and tag name (core/names.py)."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import collection, good_tree, manifest, sha256, write_tree
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orgreg_sphinx.cli import main
from orgreg_sphinx.cli.advice import advise
from orgreg_sphinx.core import model, names
from orgreg_sphinx.core.model import ReadCache, Registry, load_registry
from orgreg_sphinx.core.remote import parse_catalog

URL = "https://storage.example.org/acme/thing/image.sif"
IMAGE = b"SIF image " * 60_000  # 600,000 bytes: read as bytes, not KiB
TAG_PREFIX = "is in a folder whose name "
#: the five namespaces `orgreg manifest` used to write and the model refused
SITE_FILE_NAMESPACES = [
    "acme/notes.html",
    "acme/index.html",
    "acme/tool.json",
    "acme/genindex.html",
    "acme/search.html",
]


@pytest.fixture(scope="module")
def image() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "image.sif"
        path.write_bytes(IMAGE)
        yield path


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """``orgreg ARGS`` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def write_manifest(
    capsys: pytest.CaptureFixture[str], image: Path, root: Path, org: str, repo: str, tag: str
) -> tuple[int, str]:
    code, _, err = run(
        capsys,
        "manifest",
        image,
        f"--namespace={org}/{repo}",
        f"--url={URL}",
        f"--tag={tag}",
        f"--root={root}",
        "--created=none",
    )
    return code, err


def check(
    capsys: pytest.CaptureFixture[str], root: Path, changed: Path, org: str, repo: str
) -> tuple[int, str]:
    code, out, _ = run(capsys, "check", root, "--changed", changed, f"--branch=update/{org}/{repo}")
    return code, out


def hand_written_tree(root: Path, org: str, repo: str, tag: str) -> Path:
    """The namespace as a contributor would write it by hand; the manifest's path."""
    folder = root / org / repo
    write_tree(
        folder,
        {
            "README.md": collection("by hand"),
            "tags/README.md": "---\nlayout: tags\n---\n",
            f"manifests/{tag}/README.md": manifest(sha256(tag), 900_000),
        },
    )
    return folder / "manifests" / tag / "README.md"


def model_verdict(registry: Registry, org: str, repo: str, tag: str) -> tuple[bool, list[str]]:
    """(accepted, messages of the problems found) for the one namespace of *registry*."""
    found = [ns for ns in registry.namespaces if ns.org == org and ns.repo == repo]
    accepted = bool(found) and found[0].tag(tag) is not None and not registry.problems
    return accepted, [p.message for p in registry.problems]


# ---------------------------------------------------------------- names at the edges

ALPHABET = "abzAQZ019-_." + " :@+~%é\n"
EDGES = [
    "api",
    "v2",
    "_x",
    ".x",
    "_",
    ".",
    "..",
    "CNAME",
    "cname",
    "404.html",
    "index.html",
    "search.html",
    "genindex.html",
    "objects.inv",
    "searchindex.js",
    "robots.txt",
    "feed.xml",
    "container",
    "catalog.json",
    "schemas",
    "SHA256SUMS",
    "notes.html",
    "tool.json",
    "-x",
    "x-",
    "x.",
    "latest",
    "Latest",
    "1.36",
]
SUFFIXES = ["", "", ".html", ".HTM", ".json", ".inv", ".txt", ".md", ".sif"]
#: pairs that only collide together
PAIRS = [
    ("api", "container"),
    ("API", "Schemas"),
    ("api", "catalog.json"),
    ("api", "tools"),
    ("v2", "index.json"),
    ("v2", "tools"),
    ("api", "sha256sums"),
    ("acme", "busybox"),
]

_short = st.text(ALPHABET, min_size=1, max_size=12)
#: around the length limits (100 for org and repo, 128 for tags), ASCII only so
#: that every name fits in a file name of 255 bytes
_long = st.text("aZ9_-.", min_size=95, max_size=135)
_name = st.one_of(
    st.sampled_from(EDGES),
    st.builds(str.__add__, st.one_of(_short, st.sampled_from(EDGES)), st.sampled_from(SUFFIXES)),
    _long,
)
_namespace = st.one_of(st.tuples(_name, _name), st.sampled_from(PAIRS))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(namespace=_namespace, tag=_name)
def test_model_manifest_and_check_agree_on_every_name(
    capsys: pytest.CaptureFixture[str], image: Path, namespace: tuple[str, str], tag: str
) -> None:
    org, repo = namespace
    with tempfile.TemporaryDirectory() as folder:
        by_hand, written = Path(folder) / "by-hand", Path(folder) / "written"
        written.mkdir()
        by_hand.mkdir()
        if {org, repo, tag} & {".", ".."}:  # no folder can have these names
            accepted, reasons = False, []
            readme = by_hand / "x" / "README.md"
        else:
            readme = hand_written_tree(by_hand, org, repo, tag)
            accepted, reasons = model_verdict(load_registry(by_hand), org, repo, tag)

        code, err = write_manifest(capsys, image, written, org, repo, tag)
        event("accepted" if accepted else "reported" if reasons else "skipped")
        if accepted:
            assert code == 0, err
            registry = load_registry(written)
            assert model_verdict(registry, org, repo, tag) == (True, [])
            [ns] = registry.namespaces
            status, out = check(capsys, written, ns.tag(tag).path, org, repo)
            assert status == 0, out
            return

        assert code == 2, (org, repo, tag)
        assert not any(written.iterdir()), "a refused name wrote files"
        if reasons:  # reported: manifest gives the model's own reason
            assert len(reasons) == 1, reasons
            assert reasons[0].removeprefix(TAG_PREFIX) in err, (reasons, err)
        else:  # skipped as the site's own folder (or not a folder at all)
            refused = names.namespace_problem(org, repo) or names.tag_problem(tag)
            assert refused is not None and model.printable(refused.message) in err
        status, out = check(capsys, by_hand, readme, org, repo)
        assert status == 1, out


@pytest.mark.parametrize("namespace", SITE_FILE_NAMESPACES)
def test_manifest_refuses_site_file_names_with_the_models_reason(
    capsys: pytest.CaptureFixture[str], image: Path, tmp_path: Path, namespace: str
) -> None:
    org, repo = namespace.split("/")
    hand_written_tree(tmp_path / "by-hand", org, repo, "latest")
    [problem] = load_registry(tmp_path / "by-hand").problems
    assert problem.message == (
        f"namespace '{namespace}' would collide with the file '{repo}' of the built site"
    )
    (tmp_path / "registry").mkdir()
    code, err = write_manifest(capsys, image, tmp_path / "registry", org, repo, "latest")
    assert code == 2
    assert err == f"orgreg manifest: error: --namespace '{namespace}' {problem.message}\n"
    assert not any((tmp_path / "registry").iterdir())


def test_manifest_gives_the_models_reason_for_a_bad_tag(
    capsys: pytest.CaptureFixture[str], image: Path, tmp_path: Path
) -> None:
    hand_written_tree(tmp_path / "by-hand", "acme", "thing", "-x")
    [problem] = load_registry(tmp_path / "by-hand").problems
    assert problem.message.startswith(TAG_PREFIX + "'-x' is not a valid tag (")
    (tmp_path / "registry").mkdir()
    code, err = write_manifest(capsys, image, tmp_path / "registry", "acme", "thing", "-x")
    assert code == 2
    assert problem.message.removeprefix(TAG_PREFIX) in err


def test_manifest_refuses_a_hidden_repository_the_model_never_reads(
    capsys: pytest.CaptureFixture[str], image: Path, tmp_path: Path
) -> None:
    hand_written_tree(tmp_path / "by-hand", "acme", ".thing", "latest")
    registry = load_registry(tmp_path / "by-hand")
    assert registry.namespaces == () and registry.problems == []
    (tmp_path / "registry").mkdir()
    code, err = write_manifest(capsys, image, tmp_path / "registry", "acme", ".thing", "latest")
    assert code == 2
    assert "folders whose names start with '.' are not read" in err


def test_branch_of_a_refused_namespace_says_why(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    readme = hand_written_tree(tmp_path, "acme", "busybox", "latest")
    code, out = check(capsys, tmp_path, readme, "acme", "notes.html")
    assert code == 1
    assert (
        f"{tmp_path}: error: branch 'update/acme/notes.html' is for a namespace the "
        "registry never publishes: namespace 'acme/notes.html' would collide with the "
        "file 'notes.html' of the built site [scope-branch]"
    ) in out.splitlines()


def test_remote_catalog_leaves_out_names_the_model_refuses() -> None:
    catalog = {
        "namespaces": [
            {"name": n, "tags": []}
            for n in ("acme/busybox", "acme/notes.html", "_static/x", "api/container")
        ]
    }
    namespaces, problems = parse_catalog(catalog, "catalog")
    assert [ns.name for ns in namespaces] == ["acme/busybox"]
    assert problems == [
        f"catalog: namespaces[{i}] has no valid 'name'; left out" for i in (1, 2, 3)
    ]


# ---------------------------------------------------------------- line numbers


LINES_MANIFEST = manifest(
    sha256("lines"),
    879,
    url="http://storage.example.org/x.sif",
    extra="""\
                          labels:
                            a: 1
                            b: {c: 2}
                          """,
).replace(
    "layout: manifests/singularity\n", "layout: manifests/singularity\ncreated: '2024-01-01'\n"
)


def test_advice_lines_come_from_the_model_not_from_rereading(tmp_path: Path) -> None:
    write_tree(tmp_path, {**good_tree(), "acme/lines/manifests/v1/README.md": LINES_MANIFEST})
    registry = load_registry(tmp_path)
    tag = registry.namespace("acme/lines").tag("v1")
    assert tag.lines[("size",)] == 4 and tag.line("layers", 0, "url") == 9
    # nested extra keys are not kept: the read cache stays small
    assert all(len(k) == 1 or k[0] == "layers" for k in tag.lines)
    tag.path.write_text("---\nmoved: away\n---\n")  # the file changes after the read
    found = {(p.code, p.line) for p in advise(registry) if p.path == tag.path}
    assert found == {("kib-size", 4), ("insecure-url", 9)}


def test_read_cache_keeps_the_lines(tmp_path: Path) -> None:
    write_tree(tmp_path, {"acme/lines/manifests/v1/README.md": LINES_MANIFEST})
    cache = ReadCache()
    first = load_registry(tmp_path, cache=cache).namespace("acme/lines").tag("v1")
    reloaded = ReadCache(pickle.loads(pickle.dumps(cache.fresh)))
    second = load_registry(tmp_path, cache=reloaded).namespace("acme/lines").tag("v1")
    assert reloaded.hits == 1
    assert second.lines == first.lines and second.line("layers", 0, "size") == 7


def test_rules_stamp_changes_with_the_naming_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    before = model.rules_stamp.__wrapped__()
    real = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        return real(path) + (b"\n# another rule\n" if path.name == "names.py" else b"")

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert model.rules_stamp.__wrapped__() != before


def test_read_cache_survives_a_fresh_checkout_with_the_former_times(tmp_path: Path) -> None:
    """A CI build restored from a cache (orgreg keep-times gave unchanged files their
    former times): new inodes and change times, same bytes and modification times;
    nothing is parsed again. A changed file is."""
    write_tree(tmp_path, {**good_tree(), "acme/lines/manifests/v1/README.md": LINES_MANIFEST})
    cache = ReadCache()
    load_registry(tmp_path, cache=cache)
    read = len(cache.fresh)
    for path in sorted(tmp_path.rglob("README.md")):  # as a checkout writes them: new files
        info = path.stat()
        copy = path.with_name("checkout.tmp")
        copy.write_bytes(path.read_bytes())
        os.replace(copy, path)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    again = ReadCache(pickle.loads(pickle.dumps(cache.fresh)))
    load_registry(tmp_path, cache=again)
    assert again.hits == read > 3
    edited = tmp_path / "acme/lines/manifests/v1/README.md"
    info = edited.stat()
    edited.write_text(LINES_MANIFEST.replace("879", "880"))
    os.utime(edited, ns=(info.st_atime_ns, info.st_mtime_ns + 1))
    third = ReadCache(pickle.loads(pickle.dumps(again.fresh)))
    registry = load_registry(tmp_path, cache=third)
    assert third.hits == read - 1
    assert registry.namespace("acme/lines").tag("v1").size == 880


def test_names_that_are_not_utf8_are_told() -> None:
    """A name read from bytes that are not UTF-8 is told apart from any text name."""
    assert names.undecodable(os.fsdecode(b"_\x80"))
    assert names.undecodable(os.fsdecode(b"acme/t\xffols"))
    assert not names.undecodable("acme/tools")
    assert not names.undecodable("caf\u00e9/\u00fcber")  # UTF-8 text is text
