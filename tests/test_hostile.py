"""Hostile or broken contributions never break anyone else's namespace (issue 8).

The corpus is ``tests/hostile/``: ``cases.yaml`` lists each case (the warning it
must give and the file that warning must name), ``cases/<id>/`` holds its files,
and the steps in :data:`MAKERS` add what git cannot keep (links, pipes, big
files). Each case is built next to the good namespaces of ``good_tree()`` with
warnings as errors: the build reports the case naming its file, the status is a
failure, every good namespace is complete in HTML and JSON, and nothing from
outside the tree reaches the site.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import good_tree, manifest, read_json, row_tag, sha256, soup, warnings_of, write_tree

from orgreg_sphinx.core import endpoints, names
from orgreg_sphinx.core.model import load_registry, printable

HOSTILE = Path(__file__).resolve().parent / "hostile"
CASES: list[dict] = yaml.safe_load((HOSTILE / "cases.yaml").read_text(encoding="utf-8"))
#: awkward but valid contributions: no warning, and every published file valid
ACCEPTED: list[dict] = yaml.safe_load((HOSTILE / "accepted.yaml").read_text(encoding="utf-8"))
#: the site's address, so that feed.xml is written
SITE_CONF = 'html_baseurl = "https://registry.example.org/"\n'
#: text that lives only outside the tree: it must never reach the built site
SECRET = "SECRET-OUTSIDE-THE-TREE-7c1e"
GOOD_NAMESPACES = {
    "acme/busybox": ["1.36", "latest"],
    "acme/centos": ["7"],
    "lab/pancakes": ["pancakes"],
}
BIG = 600 * 1024  # over the default cap of 512 KiB


def good_manifest(name: str = "hostile") -> str:
    return manifest(sha256(name), 900000)


def _outside(root: Path) -> Path:
    """A folder next to the tree at *root* holding files a link could point at."""
    outside = root.parent / "outside"
    if not outside.exists():
        write_tree(
            outside,
            {
                "secret.md": f"---\nlayout: collection\ndescription: {SECRET}\n---\n{SECRET}\n",
                "Singularity": f"Bootstrap: docker\nFrom: {SECRET}\n",
                "manifests/latest/README.md": manifest(
                    sha256(SECRET), 900000, url=f"https://x.org/{SECRET}"
                ),
                "ns/README.md": f"---\nlayout: collection\ndescription: {SECRET}\n---\n",
                "ns/manifests/latest/README.md": manifest(sha256(SECRET), 900000),
            },
        )
    return outside


def _many_tags(ns: Path) -> None:
    write_tree(ns, {f"manifests/v{i}/README.md": good_manifest(f"v{i}") for i in range(12)})


def _link(ns: Path, rel: str, target: str | Path, files: dict[str, str] | None = None) -> None:
    write_tree(ns, files or {})
    path = ns / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def _pipe(ns: Path) -> None:
    ns.mkdir(parents=True)
    os.mkfifo(ns / "README.md")  # opening it would wait for a writer forever


TAG = "manifests/latest/README.md"

#: steps that make what git cannot hold; each gets the case's namespace folder
MAKERS: dict[str, Callable[[Path, Path], None]] = {
    "many-tags": lambda ns, out: _many_tags(ns),
    "link-readme-out": lambda ns, out: _link(
        ns, "README.md", out / "secret.md", {TAG: good_manifest()}
    ),
    "link-manifest-device": lambda ns, out: _link(ns, TAG, "/dev/zero"),
    "link-manifests-out": lambda ns, out: _link(
        ns, "manifests", out / "manifests", {"tags/README.md": "---\nlayout: tags\n---\n"}
    ),
    "link-namespace-out": lambda ns, out: _link(ns.parent, ns.name, out / "ns"),
    "link-tag-to-folder": lambda ns, out: _link(
        ns, "manifests/alias", "latest", {TAG: good_manifest()}
    ),
    "link-readme-to-folder": lambda ns, out: _link(
        ns, "README.md", "manifests", {TAG: good_manifest()}
    ),
    "link-loop": lambda ns, out: _link(ns, TAG, "README.md"),
    "link-dangling": lambda ns, out: _link(ns, TAG, "nothing-here.md"),
    "pipe-readme": lambda ns, out: _pipe(ns),
    "recipe-link-out": lambda ns, out: _link(
        ns, "manifests/latest/Singularity", out / "Singularity", {TAG: good_manifest()}
    ),
    "recipe-too-big": lambda ns, out: write_tree(
        ns, {TAG: good_manifest(), "manifests/latest/Singularity": "# x\n" * (BIG // 4)}
    ),
    "readme-too-big": lambda ns, out: write_tree(
        ns, {TAG: good_manifest(), "README.md": "---\nlayout: collection\n---\n" + "[" * BIG}
    ),
    "control-characters-in-name": lambda ns, out: write_tree(
        ns.parent, {"bad\x1b[31mname\nWARNING: forged/" + TAG: good_manifest()}
    ),
}


def place(case: dict, root: Path) -> None:
    """Put one case into the tree at *root*."""
    source = HOSTILE / "cases" / case["id"]
    ns = root / "hostile" / case["id"]
    dest = root if case.get("root") else ns
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.name != ".keep":
            target = dest / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    if "make" in case:
        MAKERS[case["make"]](ns, _outside(root))


def expected_location(case: dict, srcdir: Path) -> str:
    where = printable(str(srcdir / case["file"])).rstrip("/")
    # without a line the path starts the message, never 'path::' (issue 25); Sphinx
    # leaves out its 'WARNING: ' prefix when the message holds that text (a forged name)
    return f"{where}:{case['line']}: " if case.get("line") else f"{where} "


def reference_files(tmp_path: Path) -> dict[str, bytes]:
    """The endpoint files of the good namespaces, built from the good tree alone."""
    root = tmp_path / "reference"
    write_tree(root, good_tree())
    files = endpoints.endpoint_files(load_registry(root), catalog=False)
    return files


def assert_good_namespaces_complete(out: Path, reference: dict[str, bytes]) -> None:
    for rel, body in reference.items():
        assert (out / rel).read_bytes() == body, rel
    catalog = read_json(out / "api" / "catalog.json")
    listed = {ns["name"]: [t["name"] for t in ns["tags"]] for ns in catalog["namespaces"]}
    for name, tags in GOOD_NAMESPACES.items():
        assert listed[name] == tags
        page = soup(out / name / "index.html")
        assert page.select_one("h1").get_text().rstrip("¶#") == name
        rows = [row_tag(r) for r in page.select("table.orgreg-tags tbody tr")]
        assert rows == tags
        assert [v["id"] for v in page.select("div.orgreg-tag-views > section")] == [
            f"tag-{t}" for t in tags
        ]
    home = soup(out / "index.html")
    listing = [row.find("td").get_text() for row in home.select("table.orgreg-namespaces tbody tr")]
    for name in GOOD_NAMESPACES:
        assert name in listing, listing


def _json_files(out: Path) -> list[Path]:
    """The published JSON files: ``*.json``, the original endpoints' ``index.html``
    (JSON under an HTML name) and the Singularity Hub answers."""
    found = [p for p in out.rglob("*.json") if "_static" not in p.parts]
    found += [p for p in out.glob("*/*/manifests/*/index.html")]
    found += [p for p in out.glob("*/*/tags/index.html")]
    found += [p for p in (out / "api" / "container").rglob("*") if p.is_file()]
    return found


def assert_published_files_valid(out: Path, work: Path) -> None:
    """Every published file is valid for its format, read by that format's own
    parser: feed.xml by expat, JSON by json, each SHA256SUMS by ``sha256sum -c``
    and each downloads.curl by ``curl -K``, their names unique; no page shows an
    image from a contributor."""
    import json
    import xml.parsers.expat

    feed = out / "feed.xml"
    assert feed.is_file()
    xml.parsers.expat.ParserCreate().Parse(feed.read_bytes(), True)
    for path in _json_files(out):
        json.loads(path.read_bytes())
    for sums in out.rglob("SHA256SUMS"):
        names = [line.split("  ", 1)[1] for line in sums.read_text().splitlines()]
        assert len(names) == len(set(names)), sums
        if not names:
            continue
        folder = work / "sums" / str(sums.relative_to(out)).replace("/", "_")
        for name in names:  # empty files: sha256sum reads each line and fails it
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).touch()
        done = subprocess.run(
            ["sha256sum", "-c", "--strict", str(sums)], cwd=folder, capture_output=True, text=True
        )
        assert "improperly formatted" not in done.stderr, done.stderr
        assert done.stdout.splitlines() == [f"{name}: FAILED" for name in names], sums
    for config in out.rglob("downloads.curl"):
        wanted = [
            line.split(" = ", 1)[1][1:-1].replace('\\"', '"').replace("\\\\", "\\")
            for line in config.read_text().splitlines()
            if line.startswith("output = ")
        ]
        assert len(wanted) == len(set(wanted)), config
        folder = work / "curl" / str(config.relative_to(out)).replace("/", "_")
        folder.mkdir(parents=True)
        done = subprocess.run(  # every address refused at once: only the config is read
            [
                "curl",
                "-sK",
                str(config),
                "--create-dirs",
                "--output-dir",
                str(folder),
                "--connect-to",
                "::127.0.0.1:9",
                "-w",
                "%{filename_effective}\\n",
            ],
            capture_output=True,
            text=True,
        )
        assert "config" not in done.stderr.lower(), done.stderr
        assert done.stdout.splitlines() == [f"{folder}/{name}" for name in wanted], config
    for page in out.rglob("*.html"):
        for image in soup(page).find_all("img"):
            assert "evil.example" not in str(image), (page, image)


def assert_nothing_from_outside(out: Path) -> None:
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_the_corpus_is_large_and_whole() -> None:
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert case.get("make") in MAKERS or (HOSTILE / "cases" / case["id"]).is_dir(), case


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_is_reported_and_everything_else_builds(
    case: dict, registry_project, build, tmp_path: Path
) -> None:
    srcdir = registry_project(conf=case.get("conf", ""))
    place(case, srcdir)
    app = build(srcdir, warningiserror=True)
    warnings = warnings_of(app)
    lines = warnings.splitlines()
    location = expected_location(case, srcdir)
    assert any(location in line and case["warning"] in line for line in lines), warnings
    assert not any(line.startswith("WARNING: forged") for line in lines)
    assert sum("WARNING" in line for line in lines) == 1, warnings  # one clear message
    assert "Traceback" not in warnings
    assert app.statuscode == 1  # -W: the build fails
    out = Path(app.outdir)
    assert_good_namespaces_complete(out, reference_files(tmp_path))
    assert_nothing_from_outside(out)
    if not case.get("kept"):  # no namespace appears but the good ones and the case's own
        catalog = read_json(out / "api" / "catalog.json")
        names = {ns["name"] for ns in catalog["namespaces"]}
        assert names - set(GOOD_NAMESPACES) <= {f"hostile/{case['id']}"}


@pytest.mark.parametrize("case", ACCEPTED, ids=[c["id"] for c in ACCEPTED])
def test_accepted_case_builds_and_every_file_is_valid(
    case: dict, registry_project, build, tmp_path: Path
) -> None:
    srcdir = registry_project(conf=SITE_CONF)
    place(case, srcdir)
    app = build(srcdir, warningiserror=True)
    assert app.statuscode == 0, warnings_of(app)
    out = Path(app.outdir)
    assert_good_namespaces_complete(out, reference_files(tmp_path))
    assert case["namespace"] in {
        ns["name"] for ns in read_json(out / "api" / "catalog.json")["namespaces"]
    }
    assert_published_files_valid(out, tmp_path / "check")


def test_all_cases_together(registry_project, build, tmp_path: Path) -> None:
    """The whole corpus in one tree: one warning per case, the good namespaces
    whole, every published file valid for its format."""
    confs = "".join(sorted({c["conf"] + "\n" for c in CASES if "conf" in c}))
    srcdir = registry_project(conf=confs + SITE_CONF)
    for case in CASES + ACCEPTED:
        place(case, srcdir)
    app = build(srcdir, parallel=2)  # worker processes read the pages
    warnings = warnings_of(app)
    assert app.statuscode == 0  # without -W the site is built
    for case in CASES:
        location = expected_location(case, srcdir)
        assert any(
            location in line and case["warning"] in line for line in warnings.splitlines()
        ), case["id"]
    out = Path(app.outdir)
    assert_good_namespaces_complete(out, reference_files(tmp_path))
    assert_nothing_from_outside(out)
    assert_published_files_valid(out, tmp_path / "check")


def test_sphinx_build_W_fails_naming_the_file(registry_project) -> None:
    """The command line a CI runs: ``sphinx-build -W`` exits non-zero, naming the file."""
    case = next(c for c in CASES if c["id"] == "alias-bomb")
    srcdir = registry_project()
    place(case, srcdir)
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", str(srcdir), str(srcdir / "_build")],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode != 0
    assert expected_location(case, srcdir) in result.stderr
    assert "uses a YAML alias" in result.stderr
    assert "Traceback" not in result.stderr


def test_pages_inside_the_tree_are_never_read(registry_project, build) -> None:
    """A contributed .md or .rst page could include files of the build machine, run
    raw HTML or loop Sphinx's folder walk: none of it is read."""
    srcdir = registry_project()
    outside = _outside(srcdir)
    write_tree(
        srcdir,
        {
            "hostile/pages/manifests/latest/README.md": good_manifest(),
            "hostile/pages/index.md": f"# Mine\n\n```{{include}} {outside / 'secret.md'}\n```\n",
            "hostile/pages/evil.rst": f"Evil\n====\n\n.. include:: {outside / 'secret.md'}\n\n"
            ".. raw:: html\n\n   <script>window.__pwned=1</script>\n",
            "hostile/pages/docs/more.md": "# More\n\n<script>alert(1)</script>\n",
        },
    )
    for name in ("a", "b", "c"):  # a walk following these would never end
        (srcdir / "hostile/pages" / name).symlink_to(".")
    app = build(srcdir)
    docnames = set(app.env.found_docs)
    contributed = {d for d in docnames if d.startswith("hostile/pages/")}
    assert contributed <= {"hostile/pages/index"}  # only the generated page
    out = Path(app.outdir)
    assert not (out / "hostile/pages/evil.html").exists()
    page = soup(out / "hostile/pages/index.html")  # the generated page, not the contributed one
    assert page.select_one("table.orgreg-tags") is not None
    assert_nothing_from_outside(out)
    assert "__pwned" not in "".join(p.read_text(errors="replace") for p in out.rglob("*.html"))


def test_awkward_but_valid_files_are_accepted(registry_project, build) -> None:
    """BOMs, CRLF or CR line ends, tabs inside values, front matter only: accepted."""
    files = dict(good_tree())
    crlf = good_manifest("crlf").replace("\n", "\r\n")
    files.update(
        {
            "odd/bom-crlf/README.md": "\ufeff---\r\nlayout: collection\r\ndescription: BOM\r\n"
            "---\r\n# Title\r\n\r\nBody\r\n",
            "odd/bom-crlf/manifests/latest/README.md": "\ufeff" + crlf,
            "odd/cr-only/manifests/latest/README.md": good_manifest("cr").replace("\n", "\r"),
            "odd/tabs/README.md": '---\nlayout: collection\ndescription: "a\\tb"\n---\n\tcode\n',
            "odd/tabs/manifests/latest/README.md": good_manifest("tabs"),
            "odd/front-only/README.md": "---\nlayout: collection\ndescription: only\n---",
            "odd/front-only/manifests/latest/README.md": good_manifest("front-only").rstrip("\n"),
            "odd/no-readme/manifests/latest/README.md": good_manifest("no-readme"),
        }
    )
    srcdir = registry_project(files)
    app = build(srcdir, warningiserror=True)
    assert app.statuscode == 0, warnings_of(app)
    catalog = read_json(Path(app.outdir) / "api" / "catalog.json")
    by_name = {ns["name"]: ns for ns in catalog["namespaces"]}
    for name in ("odd/bom-crlf", "odd/cr-only", "odd/tabs", "odd/front-only", "odd/no-readme"):
        assert [t["name"] for t in by_name[name]["tags"]] == ["latest"], name
    assert by_name["odd/bom-crlf"]["description"] == "BOM"
    assert by_name["odd/tabs"]["description"] == "a\tb"
    page = soup(Path(app.outdir) / "odd/bom-crlf/index.html")
    assert page.select_one(".orgreg-readme h3").get_text() == "Title"


def test_huge_namespace_page_stays_usable(registry_project, build) -> None:
    """Thousands of tags: the page shows the newest 1000 (and says so), the JSON all."""
    from orgreg_sphinx.sphinxext import listing

    files = dict(good_tree())
    count = listing.MAX_TAG_ROWS + 30
    for i in range(count):
        files[f"big/many/manifests/v{i:04d}/README.md"] = manifest(
            sha256(f"v{i}"), 900000, extra=f'created: "2024-01-01T00:{i // 60:02d}:{i % 60:02d}"\n'
        )
    srcdir = registry_project(files)
    app = build(srcdir)
    out = Path(app.outdir)
    assert len(read_json(out / "big/many/tags/index.json")["tags"]) == count
    page = soup(out / "big/many/index.html")
    rows = [row_tag(r) for r in page.select("table.orgreg-tags tbody tr")]
    assert len(rows) == listing.MAX_TAG_ROWS
    assert rows[0] == "v0030" and rows[-1] == f"v{count - 1:04d}"  # the newest
    # a view for each row shown, none for the tags left out
    views = [v["id"] for v in page.select("div.orgreg-tag-views > section")]
    assert views == [f"tag-{t}" for t in rows]
    note = page.select_one(".orgreg-truncated")
    assert f"of {count} tags" in note.get_text()
    assert note.find("a")["href"] == "tags/"
    shutil.rmtree(out)


def test_folder_names_that_are_not_utf8(registry_project, build) -> None:
    """Folder names in no encoding are refused, named with their bytes escaped."""
    srcdir = registry_project()
    bad_org = os.fsencode(srcdir) + b"/h\xffx/repo/manifests/latest"
    bad_tag = os.fsencode(srcdir) + b"/hostile/repo/manifests/bad\xfe"
    for folder in (bad_org, bad_tag):
        os.makedirs(folder)
        with open(folder + b"/README.md", "w") as handle:
            handle.write(good_manifest())
    app = build(srcdir, warningiserror=True)
    warnings = warnings_of(app)
    assert f"{srcdir}/h\\udcffx/repo " in warnings
    assert "is not a valid namespace name" in warnings
    assert f"{srcdir}/hostile/repo/manifests/bad\\udcfe/README.md " in warnings
    assert "is not a valid tag" in warnings
    assert app.statuscode == 1
    assert "hostile/repo" in {
        ns["name"] for ns in read_json(Path(app.outdir) / "api" / "catalog.json")["namespaces"]
    }
    assert_good_namespaces_complete(Path(app.outdir), reference_files(srcdir.parent))


@pytest.mark.parametrize(
    ("made", "named", "message"),
    [
        # a folder of the site (its name starts with '_'): Sphinx would read it
        (b"_\x80/tools/manifests/latest", "_\\udc80 ", "(1 page in it not read)"),
        (b"_tools/\x81/manifests/latest", "_tools/\\udc81 ", "(1 page in it not read)"),
        # an organization's repository: the model refuses the namespace
        (b"acme/\x82/manifests/latest", "acme/\\udc82 ", "is not a valid namespace name"),
        # a hand-written page
        (b"guide/page\x83", "guide/page\\udc83 ", "(1 page in it not read)"),
    ],
)
def test_pages_under_names_that_are_not_utf8_are_left_out(
    registry_project, build, made: bytes, named: str, message: str
) -> None:
    """A folder whose name is not valid UTF-8, wherever it is, is named in a
    warning and left out; the rest of the site builds (no page address can
    spell it: Sphinx crashed writing such a page)."""
    srcdir = registry_project()
    folder = os.fsencode(srcdir) + b"/" + made
    os.makedirs(folder)
    with open(folder + b"/README.md", "w") as handle:
        handle.write(good_manifest())
    with open(os.fsencode(srcdir) + b"/guide-\x84.md", "w") as handle:
        handle.write("# A page whose name is no text\n")
    app = build(srcdir)
    warnings = warnings_of(app)
    assert f"{srcdir}/{named}" in warnings
    assert message in warnings
    assert f"{srcdir}/guide-\\udc84.md is left out: its name is not valid UTF-8" in warnings
    assert app.statuscode == 0
    assert not any(names.undecodable(str(p)) for p in Path(app.outdir).rglob("*"))
    assert soup(Path(app.outdir) / "index.html").find("a", string="acme/busybox")
    assert_good_namespaces_complete(Path(app.outdir), reference_files(srcdir.parent))


def test_the_walk_for_undecodable_names_finds_what_sphinx_walks(tmp_path) -> None:
    """``internals.source_files`` finds the files Sphinx's own walk finds, and
    skipping the namespace folders (whose files the exclude patterns all leave
    out) finds the same: the warnings need no listing of 10,000 folders."""
    from sphinx.util.matching import compile_matchers, get_matching_files

    from orgreg_sphinx.sphinxext import internals, pages

    root = os.fsencode(tmp_path)
    for rel in (
        b"index.md",
        b"acme/busybox/README.md",
        b"acme/busybox/manifests/1/README.md",
        b"acme/page.md",
        b"acme/n\x85.md",
        b"guide/p\x86/x.md",
        b"_b/skip.md",
        b"acme/tool/manifests/bad\x87/README.md",
    ):
        os.makedirs(os.path.dirname(root + b"/" + rel), exist_ok=True)
        with open(root + b"/" + rel, "w") as handle:
            handle.write("# page\n")
    exclude = ["_b", *pages.organization_patterns(tmp_path)]
    for include in (["**"], [pages.UNDECODABLE_PATTERN]):
        walked = list(get_matching_files(tmp_path, include, exclude))
        matchers = compile_matchers(include), compile_matchers(exclude)
        assert list(internals.source_files(tmp_path, *matchers)) == walked
        skip = frozenset({"acme/busybox", "acme/tool"})
        assert list(internals.source_files(tmp_path, *matchers, skip)) == walked
    assert walked == ["acme/n\udc85.md", "guide/p\udc86/x.md"]


def test_size_caps_are_configurable(registry_project, build) -> None:
    files = dict(good_tree())
    files["caps/readme/README.md"] = "---\nlayout: collection\n---\n" + "word " * 600
    files["caps/readme/manifests/latest/README.md"] = good_manifest("readme")
    files["caps/front/manifests/latest/README.md"] = manifest(
        sha256("front"), 900000, extra=f"notes: {'n' * 400}\n"
    )
    srcdir = registry_project(
        files, conf="orgreg_max_readme_bytes = 2000\norgreg_max_front_matter_bytes = 500\n"
    )
    app = build(srcdir)
    warnings = warnings_of(app)
    assert f"WARNING: {srcdir / 'caps/readme/README.md'} is 3027 bytes" in warnings
    assert "over the limit of 2000" in warnings
    assert f"{srcdir / 'caps/front/manifests/latest/README.md'}:2" in warnings
    assert "over the limit of 500" in warnings
    catalog = read_json(Path(app.outdir) / "api" / "catalog.json")
    by_name = {ns["name"]: ns for ns in catalog["namespaces"]}
    assert [t["name"] for t in by_name["caps/readme"]["tags"]] == ["latest"]
    assert by_name["caps/front"]["tags"] == []
