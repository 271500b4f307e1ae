"""Every git history oddity gives the history that can be read and at most one
warning, never a failed build (issue 23, item 4).

Repositories are written with git's plumbing (``update-index --index-info -z``,
``hash-object --literally``), so paths may hold any byte but NUL and commits any
committer line git itself would print: record separators in paths, gitlinks
and symbolic links at manifest paths, zones like ``+2500``, dates past any
calendar, messages in no encoding, rewritten and shallow histories.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import good_tree, manifest, read_json, sha256, soup, warnings_of, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgreg_sphinx.core import endpoints, history
from orgreg_sphinx.core.model import load_registry

TAG = b"acme/tools/manifests/latest/README.md"
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


def git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], input=stdin, capture_output=True, check=True, env=GIT_ENV
    )
    return done.stdout.decode().strip()


#: one entry of a commit's tree: (mode, content); content of a gitlink is ignored
Entry = tuple[str, bytes]


def commit(
    root: Path,
    files: dict[bytes, Entry | None],
    *,
    when: str = "1700000000 +0000",
    message: bytes = b"change\n",
) -> str:
    """Commit *files* (path -> entry; None deletes) on top of HEAD with a
    committer line of git's own format (``<seconds> <zone>``), whatever it says."""
    parent = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "-q", "--verify", "HEAD"],
        capture_output=True,
        env=GIT_ENV,
    ).stdout.strip()
    lines = b""
    for path, entry in files.items():
        if entry is None:
            lines += b"0 " + b"0" * 40 + b"\t" + path + b"\x00"
            continue
        mode, content = entry
        if mode == "160000":  # a commit of this repository (git cat-file gives it), or none
            sha = (
                parent.decode()
                if parent and content == b"HEAD"
                else hashlib.sha1(content).hexdigest()
            )
        else:
            sha = git(root, "hash-object", "-w", "--stdin", stdin=content)
        lines += f"{mode} {sha}\t".encode() + path + b"\x00"
    git(root, "update-index", "-z", "--index-info", stdin=lines)
    tree = git(root, "write-tree")
    body = b"tree " + tree.encode() + b"\n"
    if parent:
        body += b"parent " + parent + b"\n"
    body += b"author A <a@example.org> 1700000000 +0000\n"
    body += b"committer C <c@example.org> " + when.encode() + b"\n\n" + message
    sha = git(root, "hash-object", "-t", "commit", "-w", "--literally", "--stdin", stdin=body)
    git(root, "update-ref", "HEAD", sha)
    return sha


def new_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q")
    return root


def good(name: str) -> Entry:
    return ("100644", manifest(sha256(name), 900000).encode())


def read(root: Path) -> tuple[history.History, dict[str, object]]:
    """The history of the tree at *root* applied to its registry: (history,
    tag name -> its history)."""
    git(root, "checkout-index", "-a", "-f")  # the tree as committed
    read = history.read_history(root)
    registry = history.apply(load_registry(root), read)
    tags = {f"{ns.name}:{t.name}": t.history for ns in registry.namespaces for t in ns.tags}
    return read, tags


def test_a_path_holding_the_record_separator(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    commit(root, {TAG: good("one")})
    commit(root, {TAG: good("two"), b"ac\x1eme/x/manifests/latest/README.md": good("odd")})
    found, tags = read(root)
    assert found.available and not found.warning
    assert [f.digest for f in tags["acme/tools:latest"].former] == [sha256("one")]


@pytest.mark.parametrize(
    "entry",
    [("160000", b"gitlink"), ("160000", b"HEAD"), ("120000", b"../../../../README.md")],
    ids=["gitlink", "gitlink-to-a-commit-here", "symlink"],
)
def test_a_manifest_path_that_is_no_file_in_git(tmp_path: Path, entry: Entry) -> None:
    root = new_repo(tmp_path / "repo")
    other = b"acme/other/manifests/latest/README.md"
    commit(root, {TAG: good("one")})
    commit(root, {TAG: good("two"), other: entry})
    commit(root, {other: None})
    found, tags = read(root)
    assert found.available and not found.warning
    assert [f.digest for f in tags["acme/tools:latest"].former] == [sha256("one")]
    assert (
        found.cache.versions["acme/other/manifests/latest/README.md"][1].blob == history.NULL_BLOB
    )


def test_a_committer_zone_out_of_range(tmp_path: Path) -> None:
    """``git fsck --strict`` accepts ``+2500``; ISO readers do not."""
    root = new_repo(tmp_path / "repo")
    commit(root, {TAG: good("one")}, when="1700000000 +2500")
    commit(root, {TAG: good("two")}, when="1700086400 -9999")
    found, tags = read(root)
    assert found.available and not found.warning
    tag = tags["acme/tools:latest"]
    assert tag.since == "2023-11-15T22:13:20Z"  # the commit time, which has no zone
    assert [(f.digest, f.date) for f in tag.former] == [(sha256("one"), "2023-11-14T22:13:20Z")]


def test_a_date_past_any_calendar_is_left_out_with_one_warning(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    commit(root, {TAG: good("one")})
    commit(root, {TAG: good("two")}, when="99999999999999999 +0000")
    commit(root, {TAG: good("three")}, when="1700000100 +0000")
    found, tags = read(root)
    assert found.available
    assert found.warning.startswith("1 commit(s) changing manifests have a date out of")
    assert tags["acme/tools:latest"].since == "2023-11-14T22:15:00Z"
    assert [f.digest for f in tags["acme/tools:latest"].former] == [sha256("one")]
    again = history.read_history(root, found.cache)  # a rebuild warns again, once
    assert again.commits_read == 0 and again.warning == found.warning


def test_messages_and_paths_in_no_encoding(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    commit(root, {TAG: good("one")}, message=b"\xff\xfe\x00 not text\n")
    commit(root, {TAG: good("two"), b"acme/\xffx/manifests/latest/README.md": good("x")})
    found, tags = read(root)
    assert found.available and not found.warning
    assert [f.digest for f in tags["acme/tools:latest"].former] == [sha256("one")]


def test_a_rewritten_history_is_read_again(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    first = commit(root, {TAG: good("one")})
    commit(root, {TAG: good("two")})
    cached = history.read_history(root)
    git(root, "update-ref", "HEAD", first)  # a force-push dropped "two"
    git(root, "read-tree", "HEAD")
    commit(root, {TAG: good("three")})
    git(root, "checkout-index", "-a", "-f")
    found = history.read_history(root, cached.cache)
    registry = history.apply(load_registry(root), found)
    assert [f.digest for f in registry.namespaces[0].tags[0].history.former] == [sha256("one")]


def test_a_shallow_clone_has_no_history_and_says_why(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    for name in ("one", "two", "three"):
        commit(root, {TAG: good(name)})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{root}", str(clone)],
        check=True,
        env=GIT_ENV,
    )
    found, tags = read(clone)
    assert not found.available and "shallow" in found.reason
    assert tags["acme/tools:latest"] is None


def test_former_images_are_capped_with_a_count(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "repo")
    count = history.MAX_FORMER + 15
    for index in range(count):
        commit(root, {TAG: good(f"v{index}")}, when=f"{1700000000 + index} +0000")
    commit(root, {TAG: good("now")}, when="1800000000 +0000")
    git(root, "checkout-index", "-a", "-f")
    registry = history.apply(load_registry(root), history.read_history(root))
    tag = registry.namespaces[0].tags[0]
    assert len(tag.history.former) == history.MAX_FORMER
    assert tag.history.former[0].digest == sha256(f"v{count - 1}")  # the newest
    assert tag.history.more == count - history.MAX_FORMER
    body = endpoints.catalog_tag(tag)
    assert len(body["history"]) == history.MAX_FORMER
    assert body["history_more"] == count - history.MAX_FORMER


def test_one_build_over_every_oddity(registry_project, build) -> None:
    """The build that crashed at builder-inited: history of what can be read,
    one warning for the rest, every page and the catalog written."""
    srcdir = registry_project(files={})
    new_repo(srcdir)
    commit(srcdir, {TAG: good("one")}, when="1700000000 +2500")
    for index in range(history.MAX_FORMER + 5):
        commit(srcdir, {TAG: good(f"v{index}")}, when=f"{1700000100 + index} +0000")
    commit(
        srcdir,
        {
            b"acme/\x1e/manifests/latest/README.md": good("rs"),
            b"acme/link/manifests/latest/README.md": ("160000", b"HEAD"),
            b"acme/sym/manifests/latest/README.md": ("120000", b"/etc/passwd"),
        },
        message=b"\xff\n",
    )
    commit(srcdir, {TAG: good("two")}, when="99999999999999999 +0000")
    odd = [b"acme/\x1e/manifests/latest/README.md", b"acme/link/manifests/latest/README.md"]
    odd.append(b"acme/sym/manifests/latest/README.md")
    commit(srcdir, {TAG: good("now"), **dict.fromkeys(odd)}, when="1800000000 -9999")
    git(srcdir, "checkout", "-q", "--", ".")
    app = build(srcdir)
    warnings = [line for line in warnings_of(app).splitlines() if "WARNING" in line]
    assert [w for w in warnings if "history" in w] == warnings, warnings
    assert len(warnings) == 1 and "1 commit(s) changing manifests" in warnings[0]
    out = Path(app.outdir)
    catalog = read_json(out / "api/catalog.json")
    tag = next(ns for ns in catalog["namespaces"] if ns["name"] == "acme/tools")["tags"][0]
    assert len(tag["history"]) == history.MAX_FORMER
    assert tag["history_more"] == 6  # "one" and four of the "v" images
    page = soup(out / "acme/tools/index.html")
    box = page.select_one("div.orgreg-tag-views > section")  # the tag's view holds its history
    assert f"the tag named {history.MAX_FORMER + 6} other images" in box.get_text()
    assert len(box.select("ul.orgreg-history-list > li")) == history.MAX_FORMER
    note = box.select_one(".orgreg-history-more").get_text()
    assert "acme/tools/manifests/latest/README.md" in note and "6 older" in note


# ------------------------------------------------------------------ property

paths = st.one_of(
    st.just(TAG),
    st.builds(
        lambda org, repo, tag: b"/".join([org, repo, b"manifests", tag, b"README.md"]),
        st.binary(min_size=1, max_size=6).filter(lambda b: b"\x00" not in b and b"/" not in b),
        st.sampled_from([b"tools", b"x\x1ey", b"\xff", b"a b"]),
        st.sampled_from([b"latest", b"v1", b"\x1e", b"..x"]),
    ).filter(lambda p: b"/./" not in p and b"/../" not in p and not p.startswith((b"./", b"../"))),
)
entries = st.one_of(
    st.none(),
    st.builds(lambda name: good(name), st.text(max_size=3)),
    st.tuples(st.just("100644"), st.binary(max_size=60)),
    st.tuples(st.just("100644"), st.sampled_from([b"---\n- a\n---\n", b"---\n[[[\n---\n"])),
    st.tuples(st.sampled_from(["160000", "120000", "100755"]), st.binary(min_size=1, max_size=8)),
    st.just(("160000", b"HEAD")),
)
whens = st.one_of(
    st.integers(min_value=0, max_value=2**40).map(lambda s: f"{s} +0000"),
    st.sampled_from(["1700000000 +2500", "1700000000 -9999", "99999999999999999 +0000", "0 +0000"]),
)
commits = st.lists(
    st.tuples(st.dictionaries(paths, entries, min_size=1, max_size=3), whens, st.binary()),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commits, st.integers(min_value=0, max_value=4))
def test_hostile_repositories_never_break_the_history(
    made: list[tuple[dict[bytes, Entry | None], str, bytes]], rewrite_at: int
) -> None:
    """Whatever a repository holds, reading its history (and a rebuild after a
    rewrite) gives a history or a reason and at most one warning, never an error."""
    with tempfile.TemporaryDirectory() as folder:
        root = new_repo(Path(folder) / "repo")
        write_tree(root, {"acme/tools/manifests/latest/README.md": manifest(sha256("now"))})
        shas = []
        for files, when, message in made:
            shas.append(commit(root, files, when=when, message=message.replace(b"\x00", b"")))
        first = history.read_history(root)
        assert first.available, first.reason
        registry = history.apply(load_registry(root), first)
        endpoints.endpoint_files(registry)  # everything published can be made
        if rewrite_at < len(shas):
            git(root, "update-ref", "HEAD", shas[rewrite_at])
            again = history.read_history(root, first.cache)
            assert again.available
            history.apply(load_registry(root), again)


def test_a_former_version_claiming_another_image_is_left_out(tmp_path: Path) -> None:
    """Every digest shown comes from a checked one: a version whose top-level
    digest is not its layer's is no former image."""
    root = new_repo(tmp_path / "repo")
    commit(root, {TAG: good("one")})
    lying = manifest(sha256("victim"), 900000).replace(
        f'digest: "{sha256("victim")}"', f'digest: "{sha256("attacker")}"'
    )
    commit(root, {TAG: ("100644", lying.encode())})
    commit(root, {TAG: good("now")})
    found, tags = read(root)
    assert [f.digest for f in tags["acme/tools:latest"].former] == [sha256("one")]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commits)
def test_hostile_repositories_never_break_the_build(
    made: list[tuple[dict[bytes, Entry | None], str, bytes]],
) -> None:
    """The same repositories under ``sphinx-build``, as pages.yml runs it: the
    site is built, with at most one warning about the history."""
    import sys

    from conftest import CONF, INDEX

    with tempfile.TemporaryDirectory() as folder:
        root = new_repo(Path(folder) / "site")
        for files, when, message in made:
            commit(root, files, when=when, message=message.replace(b"\x00", b""))
        subprocess.run(
            ["git", "-C", str(root), "checkout-index", "-a", "-f"], env=GIT_ENV, check=False
        )
        write_tree(root, {"conf.py": CONF, "index.md": INDEX, **good_tree()})
        done = subprocess.run(
            [sys.executable, "-m", "sphinx", "-q", str(root), str(root / "_build")],
            capture_output=True,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "Exception" not in done.stderr
        history_lines = [line for line in done.stderr.splitlines() if "tag history" in line]
        assert len(history_lines) <= 1, history_lines
        assert (root / "_build/api/catalog.json").is_file()
