"""A tag's life: deprecation, former images from git, and the Atom feed.

Builds real projects (in real git repositories, with dates set through
GIT_COMMITTER_DATE) and reads what a user sees: parsed HTML, parsed JSON, the
feed parsed as XML, the build's warnings and status, ``orgreg check``'s output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import (
    good_tree,
    manifest,
    read_json,
    sha256,
    soup,
    tag_row,
    tag_view,
    warnings_of,
    write_tree,
)

from orgreg_sphinx.core import feed, history
from orgreg_sphinx.core.model import Limits, load_registry

ATOM = "{http://www.w3.org/2005/Atom}"
SITE = "https://acme.example.org/registry/"
OLD, NEW = sha256("busybox-old"), sha256("busybox-new")
LATEST = "acme/busybox/manifests/latest/README.md"


def git(folder: Path, *args: str, date: str = "2024-01-01T00:00:00Z") -> str:
    env = {
        **os.environ,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_DATE": date,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        [
            "git",
            "-C",
            str(folder),
            "-c",
            "user.name=Test",
            "-c",
            "user.email=t@example.org",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def commit_all(folder: Path, message: str, date: str) -> str:
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", message, date=date)
    return git(folder, "rev-parse", "HEAD").strip()


def repointed_project(registry_project, conf: str = "") -> tuple[Path, str]:
    """A project in a git repository whose tag ``latest`` moved from OLD to NEW
    (commits of 2024-03-01 and 2024-04-15); returns the source folder and the
    first commit."""
    files = good_tree()
    files[LATEST] = manifest(OLD, 900000)
    srcdir = registry_project(files, conf=conf)
    git(srcdir, "init", "-q")
    first = commit_all(srcdir, "first", "2024-03-01T09:30:00+01:00")
    (srcdir / LATEST).write_text(manifest(NEW, 1000000))
    commit_all(srcdir, "re-point latest", "2024-04-15T12:00:00Z")
    return srcdir, first


def status_of(app: object) -> str:
    return app._status.getvalue()  # type: ignore[attr-defined]


# ---------------------------------------------------------------- history


def test_page_shows_the_former_digest_and_date(registry_project, build) -> None:
    srcdir, first = repointed_project(registry_project)
    app = build(srcdir)
    assert warnings_of(app) == ""
    assert "tag history: 2 new commit(s) read from git" in status_of(app)
    page = soup(Path(app.outdir) / "acme/busybox/index.html")
    # the history is the tag's view's (the row stays one line)
    assert tag_row(page, "latest").find("details") is None
    details = tag_view(page, "latest")
    assert [h.get_text() for h in details.find_all("h3")][-1] == "History"
    assert "the tag named 1 other image" in details.get_text()
    former = details.select_one("ul.orgreg-history-list abbr.orgreg-digest")
    assert former["title"] == OLD
    text = details.get_text(" ", strip=True)
    assert "from 2024-03-01" in text and "until 2024-04-15" in text
    assert f"commit {first[:10]}" in text
    # the current digest is the tag's own, not in its history
    assert NEW not in str(details.select_one("ul.orgreg-history-list"))
    assert page.find("th", string="Previously") is None  # no column: the view says it
    # tags that never moved have no history
    assert tag_view(page, "1.36").select_one("ul.orgreg-history-list") is None

    catalog = read_json(Path(app.outdir) / "api/catalog.json")
    busybox = next(ns for ns in catalog["namespaces"] if ns["name"] == "acme/busybox")
    latest = next(t for t in busybox["tags"] if t["name"] == "latest")
    assert latest["history"] == [
        {
            "digest": OLD,
            "size": 900000,
            "date": "2024-03-01T08:30:00Z",
            "commit": first,
            "until": "2024-04-15T12:00:00Z",
        }
    ]
    assert "history" not in next(t for t in busybox["tags"] if t["name"] == "1.36")


def test_rebuild_reads_only_new_commits_and_rewrites_nothing(registry_project, build) -> None:
    srcdir, _ = repointed_project(registry_project, conf=f"html_baseurl = {SITE!r}\n")
    app = build(srcdir)
    out = Path(app.outdir)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build(srcdir)
    assert "tag history: 0 new commit(s) read from git" in status_of(again)
    assert "0 changed" in status_of(again) or "no targets are out of date" in status_of(again)
    changed = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and stamps.get(p) != p.stat().st_mtime_ns
    }
    # Sphinx (and sphinx.ext.githubpages) rewrite their own files every build
    sphinx_own = {
        "genindex.html",
        "search.html",
        "404.html",  # the orgreg theme's, an extra page as Sphinx's are (issue 25)
        "searchindex.js",
        "objects.inv",
        ".buildinfo",
        ".nojekyll",
        "CNAME",
    }
    assert {p for p in changed if p not in sphinx_own and not p.startswith("_static/")} == set()
    assert "feed.xml" in {p.relative_to(out).as_posix() for p in stamps}

    # one more commit: only it is read, and the page shows two former images
    (srcdir / LATEST).write_text(manifest(sha256("busybox-newest"), 1100000))
    commit_all(srcdir, "again", "2024-06-01T00:00:00Z")
    third = build(srcdir)
    assert "tag history: 1 new commit(s) read from git" in status_of(third)
    view = tag_view(soup(out / "acme/busybox/index.html"), "latest")
    digests = [a["title"] for a in view.select("ul.orgreg-history-list abbr")]
    assert digests == [NEW, OLD]


def test_shallow_clone_builds_and_says_history_is_off(registry_project, build, tmp_path) -> None:
    srcdir, _ = repointed_project(registry_project)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", srcdir.as_uri(), str(clone))
    app = build(clone)
    assert warnings_of(app) == ""
    assert status_of(app).count("tag history is off") == 1
    assert "shallow clone" in status_of(app)
    page = soup(Path(app.outdir) / "acme/busybox/index.html")
    assert page.find("details") is None
    assert page.select_one("ul.orgreg-history-list") is None
    assert tag_row(page, "latest") is not None


def test_no_git_repository_and_history_switched_off(registry_project, build) -> None:
    app = build(registry_project())
    assert warnings_of(app) == ""
    assert "tag history is off: the tree is not in a git repository" in status_of(app)

    srcdir, _ = repointed_project(registry_project, conf="orgreg_history = False\n")
    app = build(srcdir)
    assert "tag history" not in status_of(app)
    page = soup(Path(app.outdir) / "acme/busybox/index.html")
    assert page.find("details") is None and page.select_one("ul.orgreg-history-list") is None


def test_one_git_log_for_the_whole_tree(tmp_path, monkeypatch) -> None:
    """History of 60 namespaces is read with one git log (and one cat-file),
    not a process per file; a second read with the cache runs only rev-parse."""
    root = tmp_path / "tree"
    for i in range(60):
        path = root / f"org{i}/repo/manifests/latest/README.md"
        path.parent.mkdir(parents=True)
        path.write_text(manifest(sha256(f"{i}-a")))
    git(root, "init", "-q")
    commit_all(root, "one", "2024-01-01T00:00:00Z")
    for i in range(60):
        (root / f"org{i}/repo/manifests/latest/README.md").write_text(manifest(sha256(f"{i}-b")))
    commit_all(root, "two", "2024-02-01T00:00:00Z")

    calls: list[list[str]] = []
    real_run = subprocess.run

    def counting_run(args, *rest, **kw):  # type: ignore[no-untyped-def]
        calls.append(list(args))
        return real_run(args, *rest, **kw)

    monkeypatch.setattr(subprocess, "run", counting_run)
    read = history.read_history(root)
    assert [c[3] for c in calls] == ["rev-parse", "log", "cat-file"]
    registry = history.apply(load_registry(root), read)
    assert all(
        t.history and t.history.former[0].digest == sha256(f"{t.name and ns.org[3:]}-a")
        for ns in registry.namespaces
        for t in ns.tags
    )
    calls.clear()
    history.read_history(root, read.cache)
    assert [c[3] for c in calls] == ["rev-parse"]


def test_current_manifests_are_not_parsed_again_for_the_history(tmp_path, monkeypatch) -> None:
    """With the registry read from the tree, only former manifest versions are
    parsed from git: the checked-out ones take their facts from the model. An
    uncommitted edit (the file is not the newest blob) is parsed from git."""
    root = tmp_path / "tree"
    for i in range(4):
        path = root / f"org{i}/repo/manifests/latest/README.md"
        path.parent.mkdir(parents=True)
        path.write_text(manifest(sha256(f"{i}-a")))
    git(root, "init", "-q")
    commit_all(root, "one", "2024-01-01T00:00:00Z")
    for i in range(4):
        (root / f"org{i}/repo/manifests/latest/README.md").write_text(
            manifest(sha256(f"{i}-b"), extra='deprecated: "use 2.0"\n')
        )
    commit_all(root, "two", "2024-02-01T00:00:00Z")
    (root / "org0/repo/manifests/latest/README.md").write_text(manifest(sha256("0-c")))

    parsed: list[bytes] = []
    real_facts = history.manifest_facts

    def counting_facts(raw, limits):  # type: ignore[no-untyped-def]
        parsed.append(raw)
        return real_facts(raw, limits)

    monkeypatch.setattr(history, "manifest_facts", counting_facts)
    current = load_registry(root)
    read = history.read_history(root, current=current)
    # 4 former versions and org0's committed newest one (its file was edited since)
    assert (read.blobs_parsed, read.blobs_from_registry) == (5, 3)
    assert len(parsed) == 5
    digests = sorted(real_facts(raw, Limits())[0] for raw in parsed)  # type: ignore[index]
    assert digests == sorted([*(sha256(f"{i}-a") for i in range(4)), sha256("0-b")])
    # the same history as parsing every blob
    monkeypatch.setattr(history, "manifest_facts", real_facts)
    assert history.read_history(root).cache.blobs == read.cache.blobs
    assert history.apply(current, read) == history.apply(current, history.read_history(root))


def test_uncommitted_change_and_a_tag_that_came_back(tmp_path) -> None:
    root = tmp_path / "tree"
    path = root / LATEST
    path.parent.mkdir(parents=True)
    for n, (digest, date) in enumerate(
        [(OLD, "2024-01-01"), (NEW, "2024-02-01"), (OLD, "2024-03-01")]
    ):
        path.write_text(manifest(digest) + f"edit {n}\n")
        if n == 0:
            git(root, "init", "-q")
        commit_all(root, f"c{n}", f"{date}T00:00:00Z")
    path.write_text(manifest(OLD) + "only the body changed\n")
    commit_all(root, "body", "2024-03-05T00:00:00Z")
    read = history.read_history(root)
    tag = history.apply(load_registry(root), read).namespaces[0].tags[0]
    assert tag.history is not None
    assert tag.history.since == "2024-03-01T00:00:00Z"  # a body edit is no new image
    assert [(f.digest, f.date[:10], f.until[:10]) for f in tag.history.former] == [
        (NEW, "2024-02-01", "2024-03-01"),
        (OLD, "2024-01-01", "2024-02-01"),
    ]
    path.write_text(manifest(sha256("uncommitted")))
    tag = history.apply(load_registry(root), read).namespaces[0].tags[0]
    assert tag.history.since is None and tag.history.former[0].until == ""
    assert tag.history.former[0].digest == OLD


# ---------------------------------------------------------------- deprecation


def deprecated_tree() -> dict[str, str | bytes]:
    files = good_tree()
    files[LATEST] = manifest(
        sha256("busybox-latest"),
        extra='created: "2024-05-02T10:31:00Z"\n'
        'deprecated: "End of life: use [1.37](https://example.org/1.37) '
        '<script>x</script>"\n',
    )
    files["acme/busybox/manifests/1.37/README.md"] = manifest(
        sha256("busybox-1.37"), extra='created: "2024-01-01T00:00:00Z"\n'
    )
    return files


def test_deprecated_tag_is_marked_and_still_served(registry_project, build) -> None:
    app = build(registry_project(deprecated_tree(), conf=f"html_baseurl = {SITE!r}\n"))
    assert warnings_of(app) == ""
    out = Path(app.outdir)
    page = soup(out / "acme/busybox/index.html")
    row = tag_row(page, "latest")
    assert "orgreg-deprecated" in row["class"]
    assert row.find(class_="orgreg-badge-deprecated").get_text() == "deprecated"
    reason = row.find(class_="orgreg-deprecation")
    link = reason.find("a")
    assert link["href"] == "https://example.org/1.37" and link.get_text() == "1.37"
    assert reason.find("script") is None and "<script>x</script>" in reason.get_text()
    assert "orgreg-deprecated" not in (tag_row(page, "1.37").get("class") or [])
    # the view says it too
    view = tag_view(page, "latest")
    assert view.find(class_="orgreg-badge-deprecated").get_text() == "deprecated"
    assert view.find(class_="orgreg-deprecation").find("a")["href"] == "https://example.org/1.37"

    # usage: 1.37, never the deprecated latest
    usage = page.find(id="usage").get_text()
    assert "busybox_1.37.sif" in usage and ":latest" not in usage
    assert "latest" not in page.find(class_="orgreg-stats").get_text()

    catalog = read_json(out / "api/catalog.json")
    tags = {
        t["name"]: t
        for ns in catalog["namespaces"]
        for t in ns["tags"]
        if ns["name"] == "acme/busybox"
    }
    assert tags["latest"]["deprecated"].startswith("End of life: use [1.37]")
    assert "deprecated" not in tags["latest"]["extra"] and "deprecated" not in tags["1.37"]
    assert read_json(out / "api/container/acme/busybox:latest")["tag"] == "latest"
    assert read_json(out / "acme/busybox/manifests/latest/index.json")["config"][
        "digest"
    ] == sha256("busybox-latest")
    assert "latest" in read_json(out / "acme/busybox/tags/index.json")["tags"]

    home = soup(out / "index.html").find("tr", attrs={"class": "orgreg-namespace-row"})
    flagged = home.find("code", class_="orgreg-deprecated")
    assert flagged is not None and flagged.get_text() == "latest"


def test_only_deprecated_tags_still_give_usage(registry_project, build) -> None:
    files = good_tree()
    files["lab/pancakes/manifests/pancakes/README.md"] = manifest(
        sha256("pancakes"), 5000000, extra="deprecated: gone\n"
    )
    app = build(registry_project(files))
    usage = soup(Path(app.outdir) / "lab/pancakes/index.html").find(id="usage").get_text()
    assert "pancakes_pancakes.sif" in usage


def test_listings_hide_or_flag_deprecated_tags(registry_project, build) -> None:
    index = """\
# Test registry

```{registry}
:deprecated: hide
:toctree:
```

```{registry}
:namespace: acme/busybox
:deprecated: hide
:caption: Supported
```

```{registry}
:namespace: acme/busybox
:caption: All
```
"""
    app = build(registry_project(deprecated_tree(), index=index))
    assert warnings_of(app) == ""
    home = soup(Path(app.outdir) / "index.html")
    names = [
        c.get_text() for c in home.find(class_="orgreg-namespaces").select(".orgreg-tag-names code")
    ]
    assert "latest" not in names and "1.37" in names
    tables = home.find_all("table", class_="orgreg-tags")
    supported, every = (
        [r.find_all("td")[1].find("strong").get_text() for r in t.tbody.find_all("tr")]
        for t in tables
    )
    assert "latest" not in supported and "1.37" in supported
    assert "latest" in every
    assert every and tables[1].find(class_="orgreg-badge-deprecated") is not None


def test_bad_deprecated_values_name_the_file_and_line(registry_project, build, tmp_path) -> None:
    files = good_tree()
    files["acme/busybox/manifests/1.36/README.md"] = manifest(
        sha256("busybox-1.36"), extra="deprecated: 5\n"
    )
    files["acme/busybox/manifests/1.35/README.md"] = manifest(
        sha256("busybox-1.35"), extra='deprecated: "  "\n'
    )
    app = build(registry_project(files))
    warnings = warnings_of(app)
    assert "acme/busybox/manifests/1.36/README.md:9" in warnings
    assert "has deprecated = 5, which is not a string" in warnings
    assert "acme/busybox/manifests/1.35/README.md:9" in warnings
    assert "invalid deprecated" in warnings
    tags = read_json(Path(app.outdir) / "acme/busybox/tags/index.json")["tags"]
    assert "1.36" not in tags and "1.35" not in tags and "latest" in tags


def test_orgreg_check_reports_deprecations_as_information(tmp_path) -> None:
    from conftest import write_tree

    files = deprecated_tree()
    del files["acme/centos/manifests/7/README.md"]  # its KiB size warns
    write_tree(tmp_path, files)
    line = next(
        n
        for n, text in enumerate((tmp_path / LATEST).read_text().splitlines(), 1)
        if text.startswith("deprecated:")
    )
    run = [sys.executable, "-m", "orgreg_sphinx", "check", str(tmp_path), "--strict"]
    human = subprocess.run(run, capture_output=True, text=True)
    assert human.returncode == 0, human.stdout
    assert f"{LATEST}:{line}: info: is deprecated: End of life" in human.stdout.replace(
        str(tmp_path) + "/", ""
    )
    assert "0 errors, 0 warnings (1 deprecated tag)" in human.stdout
    github = subprocess.run([*run, "--format", "github"], capture_output=True, text=True)
    assert "::notice file=" in github.stdout and github.returncode == 0
    body = json.loads(
        subprocess.run([*run, "--format", "json"], capture_output=True, text=True).stdout
    )
    assert body["info"] == 1 and body["warnings"] == 0 and body["ok"] is True
    assert body["problems"][0]["code"] == "deprecated"


# ---------------------------------------------------------------- feed


def test_feed_is_atom_with_absolute_links_newest_first(registry_project, build) -> None:
    srcdir, _ = repointed_project(registry_project, conf=f"html_baseurl = {SITE!r}\n")
    (srcdir / "acme/busybox/manifests/1.36/README.md").write_text(
        manifest(sha256("busybox-1.36"), 786432, extra="deprecated: use latest\n")
    )
    commit_all(srcdir, "deprecate 1.36", "2024-05-01T00:00:00Z")
    app = build(srcdir)
    assert warnings_of(app) == ""
    feed = ET.parse(Path(app.outdir) / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == SITE + "feed.xml"
    entries = feed.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.findtext(f"{ATOM}updated") == updated[0]
    # the newest: created 2024-05-02 (busybox latest's manifest lacks created here:
    # the deprecation of 1.36, committed 2024-05-01, comes first)
    assert titles[0] == "acme/busybox:1.36 deprecated"
    assert updated[0] == "2024-05-01T00:00:00Z"
    assert "acme/busybox:latest" in titles
    latest = entries[titles.index("acme/busybox:latest")]
    assert latest.findtext(f"{ATOM}updated") == "2024-04-15T12:00:00Z"
    assert latest.find(f"{ATOM}category").get("term") == "changed"
    assert OLD in latest.findtext(f"{ATOM}summary")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) and all(i.startswith("urn:uuid:") for i in ids)
    for entry in entries:
        href = entry.find(f"{ATOM}link").get("href")
        assert href.startswith(SITE) and "#tag-" in href
    assert latest.find(f"{ATOM}link").get("href") == SITE + "acme/busybox/#tag-latest"

    home = soup(Path(app.outdir) / "index.html")
    alternate = home.find("link", rel="alternate", type="application/atom+xml")
    assert alternate["href"] == SITE + "feed.xml"
    page = soup(Path(app.outdir) / "acme/busybox/index.html")
    assert page.find("link", type="application/atom+xml") is None

    # the same tree built elsewhere gives the same bytes (no build time in it)
    first = (Path(app.outdir) / "feed.xml").read_bytes()
    other = build(srcdir, builddir=srcdir.parent / "other-build")
    assert (Path(other.outdir) / "feed.xml").read_bytes() == first


def test_feed_is_capped(registry_project, build) -> None:
    app = build(registry_project(conf=f"html_baseurl = {SITE!r}\norgreg_feed_entries = 1\n"))
    feed = ET.parse(Path(app.outdir) / "feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    # only busybox:latest has a date (created) in the test tree: it is the newest
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["acme/busybox:latest"]
    assert entries[0].findtext(f"{ATOM}updated") == "2024-05-02T10:31:00Z"


def test_a_capped_feed_keeps_the_newest_with_ties_by_key(tmp_path) -> None:
    """``feed.events`` keeps the *limit* newest events (sorted by date, newest
    first, ties in the order of their keys), however many events tie at the cut."""
    tree = {}
    for i in range(12):
        date = f"2024-05-0{1 + i % 3}T10:00:00Z"
        tree[f"acme/t{i % 4}/manifests/v{i}/README.md"] = manifest(
            sha256(f"t{i}"), extra=f"created: '{date}'\n"
        )
    write_tree(tmp_path, tree)
    registry = load_registry(tmp_path)
    every = feed.events(registry, limit=100)
    assert len(every) == 12
    assert every == sorted(sorted(every, key=feed.Event.key), key=lambda e: e.updated, reverse=True)
    for limit in range(13):
        assert feed.events(registry, limit) == every[:limit]


def test_no_feed_without_the_site_url(registry_project, build) -> None:
    app = build(registry_project())
    assert warnings_of(app) == ""
    assert not (Path(app.outdir) / "feed.xml").exists()
    assert soup(Path(app.outdir) / "index.html").find("link", rel="alternate") is None

    app = build(registry_project(conf="orgreg_feed = True\n", name="asked"))
    warnings = warnings_of(app)
    assert warnings.count("orgreg_feed: no feed.xml is written without the site's address") == 1
    assert not (Path(app.outdir) / "feed.xml").exists()

    app = build(
        registry_project(conf=f"html_baseurl = {SITE!r}\norgreg_feed = False\n", name="off")
    )
    assert not (Path(app.outdir) / "feed.xml").exists()


@pytest.mark.parametrize("value", ["yes", 0])
def test_feed_settings_are_validated(registry_project, make_app, value) -> None:
    from sphinx.errors import ConfigError

    name = "orgreg_feed" if isinstance(value, str) else "orgreg_feed_entries"
    with pytest.raises(ConfigError, match=name):
        make_app("html", srcdir=registry_project(conf=f"{name} = {value!r}\n"))


def test_pages_workflow_fetches_the_whole_history() -> None:
    import yaml
    from conftest import REPO

    steps = yaml.safe_load((REPO / ".github/workflows/pages.yml").read_text())["jobs"]["build"][
        "steps"
    ]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
