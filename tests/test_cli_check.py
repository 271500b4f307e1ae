"""``orgreg check`` as a user runs it: messages, formats and exit codes (issue 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clitools import orgreg
from conftest import EXAMPLE_SOURCE, collection, good_tree, manifest, sha256, write_tree

GOOD = manifest(sha256("extra"), 900000)
BAD = "acme/busybox/manifests/bad/README.md"

# (id, file, content, code, message, line): one of each class of error
ERRORS = [
    (
        "malformed-yaml",
        BAD,
        "---\nsize: [1, 2\ndigest: x\n---\n",
        "front-matter",
        "has invalid YAML front matter",
        3,
    ),
    ("no-front-matter", BAD, "just text\n", "front-matter", "has no YAML front matter", 1),
    (
        "missing-key",
        BAD,
        GOOD.replace(f"digest: {sha256('extra')}\n", "", 1),
        "schema",
        "is missing the required key 'digest'",
        2,
    ),
    (
        "wrong-type",
        BAD,
        GOOD.replace("size: 900000", "size: big", 1),
        "schema",
        "has size = 'big', which is not an integer",
        3,
    ),
    (
        "invalid-digest",
        BAD,
        GOOD.replace(sha256("extra"), "sha256:xyz", 1),
        "schema",
        "has an invalid digest 'sha256:xyz'",
        4,
    ),
    (
        "url-not-http",
        BAD,
        GOOD.replace("https://storage.example.org", "file:///etc/passwd#"),
        "schema",
        "has an invalid layers[0].url",
        8,
    ),
    (
        "empty-layers",
        BAD,
        "---\nsize: 1\ndigest: " + sha256("x") + "\nlayers: []\n---\n",
        "schema",
        "has an empty layers",
        4,
    ),
    (
        "duplicate-key",
        BAD,
        GOOD.replace("size: 900000\n", "size: 900000\nsize: 1\n", 1),
        "front-matter",
        "repeats the key 'size'",
        4,
    ),
    ("not-utf8", BAD, b"---\nsize: 1\nx: caf\xe9\n---\n", "front-matter", "is not UTF-8", 3),
    (
        "tag-without-manifest",
        "acme/busybox/manifests/bad/notes.txt",
        "hi",
        "missing",
        "is a tag folder without a README.md manifest",
        None,
    ),
    (
        "invalid-tag-name",
        "acme/busybox/manifests/-bad/README.md",
        GOOD,
        "name",
        "is not a valid tag",
        None,
    ),
    (
        "invalid-namespace",
        "bad org/x/manifests/latest/README.md",
        GOOD,
        "name",
        "is not a valid namespace name 'bad org/x'",
        None,
    ),
    (
        "reserved-namespace",
        "api/container/manifests/latest/README.md",
        GOOD,
        "reserved",
        "would hide a published endpoint",
        None,
    ),
    (
        "bad-collection",
        "acme/busybox/README.md",
        "---\nlayout: post\n---\n",
        "schema",
        "has layout = 'post', expected 'collection'",
        2,
    ),
]
#: errors reported on a folder rather than a file
FOLDER_ERRORS = {
    "tag-without-manifest": "acme/busybox/manifests/bad",
    "invalid-namespace": "bad org/x",
    "reserved-namespace": "api/container",
}


def tree(tmp_path: Path, extra: dict[str, str | bytes] | None = None) -> Path:
    root = tmp_path / "registry"
    write_tree(root, {**good_tree(), **(extra or {})})
    return root


def test_clean_tree_exits_0_with_a_summary(tmp_path: Path) -> None:
    root = tree(tmp_path)
    result = orgreg("check", root)
    assert result.code == 0, result.out + result.err
    # the good tree holds one legacy KiB size: a warning, not an error
    assert result.out.splitlines()[-1] == "3 namespaces, 4 tags: 0 errors, 1 warning"


def test_console_script_and_module_agree(tmp_path: Path) -> None:
    root = tree(tmp_path)
    assert orgreg("check", root, module=False).out == orgreg("check", root).out
    assert "orgreg check" in orgreg("check", "--help", module=False).out
    assert orgreg("--version", module=False).out.startswith("orgreg ")


def test_example_registry_has_no_errors() -> None:
    result = orgreg("check", EXAMPLE_SOURCE, "--format", "json")
    assert result.code == 0
    body = result.json()
    assert body["errors"] == 0 and body["namespaces"] >= 4


@pytest.mark.parametrize(
    ("case", "path", "content", "code", "message", "line"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_each_error_class(
    tmp_path: Path,
    case: str,
    path: str,
    content: str | bytes,
    code: str,
    message: str,
    line: int | None,
) -> None:
    root = tree(tmp_path, {path: content})
    result = orgreg("check", root, cwd=tmp_path)
    assert result.code == 1, result.out
    errors = [ln for ln in result.out.splitlines() if ": error: " in ln]
    assert len(errors) == 1, result.out
    where, rest = errors[0].split(": error: ")
    assert message in rest and rest.endswith(f"[{code}]")
    expected = f"registry/{path}:{line}" if line else "registry/" + FOLDER_ERRORS.get(case, path)
    assert where == expected
    assert result.out.splitlines()[-1].endswith("1 error, 1 warning")


def test_json_output_lists_every_problem(tmp_path: Path) -> None:
    files = {
        BAD: GOOD.replace("size: 900000", "size: big", 1),
        "acme/busybox/manifests/empty/notes.txt": "hi",
        "bad org/x/manifests/latest/README.md": GOOD,
    }
    root = tree(tmp_path, files)
    result = orgreg("check", "registry", "--format", "json", cwd=tmp_path)
    assert result.code == 1
    body = result.json()
    assert {
        k: body[k]
        for k in ("root", "ok", "namespaces", "tags", "errors", "warnings", "scope", "online")
    } == {
        "root": "registry",
        "ok": False,
        "namespaces": 3,
        "tags": 4,
        "errors": 3,
        "warnings": 1,
        "scope": None,
        "online": None,
    }
    assert body["problems"] == [
        {
            "file": f"registry/{BAD}",
            "line": 3,
            "severity": "error",
            "code": "schema",
            "message": "has size = 'big', which is not an integer",
        },
        {
            "file": "registry/acme/busybox/manifests/empty",
            "line": None,
            "severity": "error",
            "code": "missing",
            "message": "is a tag folder without a README.md manifest",
        },
        {
            "file": "registry/acme/centos/manifests/7/README.md",
            "line": 3,
            "severity": "warning",
            "code": "kib-size",
            "message": "has size 75412, which looks like KiB (written by 'du -k'), not bytes: it "
            "is read as 77221888 bytes. New manifests hold the size in bytes "
            "('orgreg manifest' writes them)",
        },
        {
            "file": "registry/bad org/x",
            "line": None,
            "severity": "error",
            "code": "name",
            "message": "is not a valid namespace name 'bad org/x': use letters, digits, '-', '_' "
            "and '.'",
        },
    ]
    assert root.is_dir()


def test_github_annotations(tmp_path: Path) -> None:
    root = tree(tmp_path, {BAD: GOOD.replace("size: 900000", "size: big", 1)})
    result = orgreg("check", "registry", "--format", "github", cwd=tmp_path)
    assert result.code == 1
    lines = result.out.splitlines()
    assert (
        f"::error file=registry/{BAD},line=3,title=orgreg check (schema)::registry/{BAD} "
        "has size = 'big', which is not an integer" in lines
    )
    warning = [ln for ln in lines if ln.startswith("::warning ")]
    assert warning == [
        "::warning file=registry/acme/centos/manifests/7/README.md,line=3,title=orgreg check "
        "(kib-size)::registry/acme/centos/manifests/7/README.md has size 75412, which looks "
        "like KiB (written by 'du -k'), not bytes: it is read as 77221888 bytes. New manifests "
        "hold the size in bytes ('orgreg manifest' writes them)"
    ]
    assert root.is_dir()


def test_github_annotations_cannot_be_forged_by_names(tmp_path: Path) -> None:
    """A folder name with a newline and '::' must not start a workflow command."""
    evil = "x\n::error file=README.md::forged%0A"
    root = tree(tmp_path, {f"acme/busybox/manifests/{evil}/README.md": GOOD})
    result = orgreg("check", root, "--format", "github", cwd=tmp_path)
    assert result.code == 1
    assert not any(ln.startswith("::error file=README.md") for ln in result.out.splitlines())
    forged = [ln for ln in result.out.splitlines() if "forged" in ln]
    assert len(forged) == 1 and forged[0].startswith("::error file=registry/acme/busybox/")
    # the newline is shown escaped, as text
    assert "\\n::error file=README.md::forged%250A" in forged[0]


WARNINGS = [
    (
        "uppercase-namespace",
        {"Acme/BusyBox/manifests/latest/README.md": GOOD},
        "uppercase",
        "namespace 'Acme/BusyBox' has upper-case letters",
    ),
    (
        "uppercase-tag",
        {"acme/busybox/manifests/Latest/README.md": GOOD},
        "uppercase",
        "tag 'Latest' has upper-case letters",
    ),
    (
        "kib-layer",
        {BAD: manifest(sha256("k"), 900000).replace("- size: 900000", "- size: 879")},
        "kib-size",
        "has size 879, which looks like KiB",
    ),
    (
        "api-org",
        {"api/tools/manifests/latest/README.md": GOOD},
        "reserved",
        "is inside 'api/', which the site uses for the JSON API",
    ),
    ("v2-org", {"v2/tools/manifests/latest/README.md": GOOD}, "reserved", "the OCI-style layout"),
    (
        "underscore-org",
        {"_static/tools/manifests/latest/README.md": GOOD},
        "reserved",
        "looks like a namespace but is not published",
    ),
    (
        "page-collision",
        {"guide/workflow/manifests/latest/README.md": GOOD, "guide/workflow.md": "# Workflow\n"},
        "reserved",
        "published at the same address as namespace 'guide/workflow'",
    ),
    (
        "http-url",
        {BAD: manifest(sha256("h"), 900000, url="http://storage.example.org/h.sif")},
        "insecure-url",
        "has a layer URL without TLS",
    ),
]


@pytest.mark.parametrize(
    ("case", "files", "code", "message"), WARNINGS, ids=[w[0] for w in WARNINGS]
)
def test_each_warning_class(
    tmp_path: Path, case: str, files: dict[str, str], code: str, message: str
) -> None:
    root = tree(tmp_path, files)
    result = orgreg("check", root, "--format", "json")
    assert result.code == 0, result.out
    body = result.json()
    assert body["errors"] == 0 and body["ok"] is True
    found = [
        p
        for p in body["problems"]
        if p["code"] == code and "acme/centos/manifests/7" not in p["file"]
    ]  # the good tree's legacy size
    assert len(found) == 1, body["problems"]
    assert found[0]["severity"] == "warning" and message in found[0]["message"]


def test_strict_fails_on_warnings(tmp_path: Path) -> None:
    root = tree(tmp_path)
    assert orgreg("check", root).code == 0
    strict = orgreg("check", root, "--strict")
    assert strict.code == 1
    assert "warning: has size 75412, which looks like KiB" in strict.out


def test_warnings_show_in_human_output_without_failing(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {"Acme/Tools/README.md": collection("x"), "Acme/Tools/manifests/latest/README.md": GOOD},
    )
    result = orgreg("check", root, cwd=tmp_path)
    assert result.code == 0
    assert (
        "registry/Acme/Tools: warning: namespace 'Acme/Tools' has upper-case letters: "
        "clients that lower-case names (sregistry) ask for 'acme/tools' and may not find "
        "it [uppercase]"
    ) in result.out.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing-folder"], "'missing-folder' is not a folder"),
        (["check", ".", "--format", "xml"], "invalid choice: 'xml'"),
        (["check", ".", "--jobs", "0"], "--jobs must be 1 or more"),
        (["check", ".", "--base", "main", "--changed", "x"], "not allowed with argument"),
        (["check", ".", "--timeout", "soon"], "invalid float value"),
        (["check", ".", "--base", "main"], "not a git repository"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    write_tree(tmp_path, good_tree())
    result = orgreg(*args, cwd=tmp_path)
    assert result.code == 2, result.out + result.err
    assert message in result.err
    assert "Traceback" not in result.err


def test_github_step_summary_lists_every_problem(tmp_path: Path) -> None:
    """Annotations are capped per step; the step summary has them all, as inert text."""
    files = {f"acme/busybox/manifests/bad{i}/README.md": "---\nsize: [\n---\n" for i in range(12)}
    files["acme/busybox/manifests/x|<b>[y](z)/README.md"] = "---\nsize: [\n---\n"
    root = tree(tmp_path, files)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = orgreg(
        "check", "registry", "--format", "github", cwd=tmp_path, GITHUB_STEP_SUMMARY=str(summary)
    )
    assert result.code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n### orgreg check\n\n- 3 namespaces, 4 tags: 13 errors")
    rows = [ln for ln in text.splitlines() if ln.startswith("| error |")]
    assert len(rows) == 13
    assert (
        "| error | registry/acme/busybox/manifests/x\\|\\<b\\>\\[y\\]\\(z\\)/README\\.md "
        "| is in a folder" in text
    )
    assert root.is_dir()
    # other formats leave the summary alone
    orgreg("check", "registry", cwd=tmp_path, GITHUB_STEP_SUMMARY=str(summary))
    assert summary.read_text() == text
