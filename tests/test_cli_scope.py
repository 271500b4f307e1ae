"""Pull-request scope against a real git repository (issue 4).

A branch ``update/<org>/<repo>`` may change only ``<org>/<repo>/``: not another
namespace, not a deletion elsewhere, not the site's own files.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from clitools import orgreg
from conftest import collection, good_tree, manifest, sha256, write_tree

NEW_TAG = "source/acme/busybox/manifests/2.0/README.md"
ALLOWED = "may only change acme/busybox/"


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "CI",
        "GIT_AUTHOR_EMAIL": "ci@example.org",
        "GIT_COMMITTER_NAME": "CI",
        "GIT_COMMITTER_EMAIL": "ci@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A registry repository: the tree under source/, the site's files around it."""
    top = tmp_path / "registry"
    write_tree(top, {f"source/{k}": v for k, v in good_tree().items()})
    write_tree(
        top,
        {
            "conf.py": "project = 'x'\n",
            "source/index.md": "# Registry\n",
            ".github/workflows/check.yml": "on: push\n",
        },
    )
    git(top, "init", "-q")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "registry")
    return top


def branch(
    repo: Path,
    name: str,
    files: dict[str, str] | None = None,
    delete: tuple[str, ...] = (),
    commit: bool = True,
) -> None:
    git(repo, "checkout", "-q", "-b", name)
    write_tree(repo, files or {})
    for path in delete:
        git(repo, "rm", "-q", "-r", path)
    if commit:
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "update", "--allow-empty")


def check(repo: Path, *args: str) -> tuple[int, list[str]]:
    result = orgreg("check", "source", "--base", "main", *args, cwd=repo)
    assert "Traceback" not in result.err
    return result.code, [ln for ln in result.out.splitlines() if "[scope-" in ln]


def test_change_inside_own_namespace_passes(repo: Path) -> None:
    branch(
        repo,
        "update/acme/busybox",
        {
            NEW_TAG: manifest(sha256("2.0"), 900000),
            "source/acme/busybox/manifests/2.0/Singularity": "Bootstrap: docker\nFrom: busybox\n",
            "source/acme/busybox/README.md": collection("Busybox, updated"),
        },
        delete=("source/acme/busybox/manifests/1.36",),
    )
    result = orgreg(
        "check", "source", "--base", "main", "--branch", "update/acme/busybox", cwd=repo
    )
    assert result.code == 0, result.out
    assert result.out.splitlines()[-1] == (
        "scope: 4 changed files from update/acme/busybox, for acme/busybox"
    )
    body = orgreg(
        "check",
        "source",
        "--base",
        "main",
        "--branch",
        "update/acme/busybox",
        "--format",
        "json",
        cwd=repo,
    ).json()
    assert body["scope"] == {
        "branch": "update/acme/busybox",
        "namespace": "acme/busybox",
        "changes": [
            {"file": "source/acme/busybox/README.md", "status": "modified"},
            {"file": "source/acme/busybox/manifests/1.36/README.md", "status": "deleted"},
            {"file": "source/acme/busybox/manifests/2.0/README.md", "status": "added"},
            {"file": "source/acme/busybox/manifests/2.0/Singularity", "status": "added"},
        ],
    }


def test_change_in_another_namespace_fails(repo: Path) -> None:
    branch(
        repo,
        "update/acme/busybox",
        {
            NEW_TAG: manifest(sha256("2.0"), 900000),
            "source/acme/centos/README.md": collection("taken over"),
            "source/lab/new/manifests/latest/README.md": manifest(sha256("new"), 900000),
        },
    )
    code, lines = check(repo, "--branch", "update/acme/busybox")
    assert code == 1
    assert lines == [
        "source/acme/centos/README.md: error: changes a file of another namespace, acme/centos;"
        f" a pull request from update/acme/busybox {ALLOWED} [scope-outside]",
        "source/lab/new/manifests/latest/README.md: error: adds a file of another namespace, "
        f"lab/new; a pull request from update/acme/busybox {ALLOWED} [scope-outside]",
    ]


def test_deleting_another_namespace_fails(repo: Path) -> None:
    branch(
        repo,
        "update/acme/busybox",
        {NEW_TAG: manifest(sha256("2.0"), 900000)},
        delete=("source/lab/pancakes",),
    )
    code, lines = check(repo, "--branch", "update/acme/busybox")
    assert code == 1
    assert lines == [
        "source/lab/pancakes/manifests/pancakes/README.md: error: deletes a file of another "
        f"namespace, lab/pancakes; a pull request from update/acme/busybox {ALLOWED} "
        "[scope-deletion]"
    ]


def test_wrong_branch_name_fails(repo: Path) -> None:
    branch(repo, "feature/new-tag", {NEW_TAG: manifest(sha256("2.0"), 900000)})
    code, lines = check(repo, "--branch", "feature/new-tag")
    assert code == 1
    assert lines == [
        "source: error: branch 'feature/new-tag' is not named update/<org>/<repo>: a pull "
        "request to the registry comes from the branch of the namespace it changes "
        "[scope-branch]"
    ]
    for crafted in (
        "update/acme/busybox\n",
        "update/acme/busybox/x",
        "update/acme/..",
        # folders the model never reads as namespaces (Sphinx would read them)
        "update/_x/y",
        "update/.x/y",
        "update/api/container",
    ):
        code, lines = check(repo, "--branch", crafted)
        assert code == 1 and len(lines) == 1 and "[scope-branch]" in lines[0], crafted
    # a well-formed branch of another namespace: every change is outside it
    code, lines = check(repo, "--branch", "update/acme/centos")
    assert code == 1
    assert lines == [
        f"{NEW_TAG}: error: adds a file of another namespace, acme/busybox; a pull request "
        "from update/acme/centos may only change acme/centos/ [scope-outside]"
    ]


def test_site_files_and_stray_files_fail(repo: Path) -> None:
    os.symlink(
        "../../../centos/manifests/7/README.md",
        repo / "source/acme/busybox/manifests/latest/link.md",
    )
    branch(
        repo,
        "update/acme/busybox",
        {
            "conf.py": "import os\n",
            ".github/workflows/check.yml": "on: pull_request_target\n",
            "source/index.md": "# Mine now\n",
            "source/acme/busybox/page.md": "```{include} /etc/passwd\n```\n",
        },
    )
    code, lines = check(repo, "--branch", "update/acme/busybox")
    assert code == 1
    assert [ln.split(": error: ")[0] for ln in lines] == [
        ".github/workflows/check.yml",
        "conf.py",
        "source/acme/busybox/manifests/latest/link.md",
        "source/acme/busybox/page.md",
        "source/index.md",
    ]
    assert lines[0].endswith(
        f"changes a file outside the manifest tree; a pull request from "
        f"update/acme/busybox {ALLOWED} [scope-outside]"
    )
    assert lines[2].endswith(
        "is a symbolic link: a pull request may only add regular files [scope-link]"
    )
    assert lines[3].endswith(
        "is not a file a namespace holds (README.md, tags/README.md, "
        "manifests/<tag>/README.md, manifests/<tag>/Singularity, "
        "manifests/<tag>/contents.json) [scope-file]"
    )
    assert "changes a file outside any namespace" in lines[4]


def test_uncommitted_and_untracked_changes_count(repo: Path) -> None:
    branch(repo, "update/acme/busybox", {NEW_TAG: manifest(sha256("2.0"), 900000)}, commit=False)
    (repo / "source/acme/centos/manifests/7/README.md").unlink()
    code, lines = check(repo, "--branch", "update/acme/busybox")
    assert code == 1
    assert lines == [
        "source/acme/centos/manifests/7/README.md: error: deletes a file of another namespace,"
        f" acme/centos; a pull request from update/acme/busybox {ALLOWED} [scope-deletion]"
    ]


def test_github_annotations_for_scope(repo: Path) -> None:
    branch(repo, "update/acme/busybox", delete=("source/acme/centos/README.md",))
    result = orgreg(
        "check",
        "source",
        "--base",
        "main",
        "--branch",
        "update/acme/busybox",
        "--format",
        "github",
        cwd=repo,
    )
    assert result.code == 1
    assert (
        "::error file=source/acme/centos/README.md,title=orgreg check (scope-deletion)::"
        "source/acme/centos/README.md deletes a file of another namespace, acme/centos; "
        f"a pull request from update/acme/busybox {ALLOWED}"
    ) in result.out.splitlines()


def test_changed_list_without_git(tmp_path: Path) -> None:
    write_tree(tmp_path, good_tree())
    changed = (
        "--changed",
        "acme/busybox/manifests/latest/README.md",
        "acme/busybox/manifests/9/README.md",
        "lab/pancakes/manifests/gone/README.md",
    )
    ok = orgreg("check", ".", "--branch", "update/acme/busybox", *changed[:3], cwd=tmp_path)
    assert ok.code == 0, ok.out
    bad = orgreg(
        "check", ".", "--branch", "update/acme/busybox", *changed, "--format", "json", cwd=tmp_path
    )
    assert bad.code == 1
    body = bad.json()
    assert body["scope"]["namespace"] == "acme/busybox"
    assert [c["status"] for c in body["scope"]["changes"]] == ["deleted", "modified", "deleted"]
    assert [(p["file"], p["code"]) for p in body["problems"] if p["code"].startswith("scope")] == [
        ("lab/pancakes/manifests/gone/README.md", "scope-deletion")
    ]
    # without a branch, nothing is enforced: the list only says what is new
    unscoped = orgreg("check", ".", *changed, cwd=tmp_path)
    assert unscoped.code == 0
    assert unscoped.out.splitlines()[-1] == "scope: 3 changed files (not checked: no --branch)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base", "no-such-branch"], "--base 'no-such-branch' is not a commit"),
        (["--base", "main", "--changed", "x"], "not allowed with argument --base"),
    ],
)
def test_scope_usage_errors(repo: Path, args: list[str], message: str) -> None:
    result = orgreg("check", "source", *args, cwd=repo)
    assert result.code == 2
    assert message in result.err
