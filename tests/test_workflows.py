"""The shipped CI workflows are valid, pass zizmor, and their scripts work (issue 4)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from clitools import clean_env
from conftest import REPO, collection, good_tree, write_tree
from test_cli_scope import git

BIN = Path(sys.executable).parent
WORKFLOWS = sorted(
    [
        *REPO.glob(".github/workflows/*.yml"),
        REPO / "orgreg_sphinx/cli/templates/container/.github/workflows/publish-to-registry.yml",
    ]
)
NAMES = [str(p.relative_to(REPO)) for p in WORKFLOWS]
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def step_named(path: Path, name: str) -> dict[str, Any]:
    [step] = [s for s in steps(load(path)) if s.get("name") == name]
    return step


def zizmor(*paths: Path) -> tuple[int, list[dict[str, Any]]]:
    done = subprocess.run(
        [
            str(BIN / "zizmor"),
            "--offline",
            "--no-progress",
            "--format",
            "json",
            "--persona",
            "auditor",
            "--min-severity",
            "medium",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    return done.returncode, json.loads(done.stdout or "[]")


def test_the_expected_workflows_are_shipped() -> None:
    assert NAMES == [
        ".github/workflows/check.yml",
        ".github/workflows/open-pull-request.yml",
        ".github/workflows/pages.yml",
        ".github/workflows/tests.yml",  # the project's own tests (issue 12)
        "orgreg_sphinx/cli/templates/container/.github/workflows/publish-to-registry.yml",
    ]


@pytest.mark.parametrize("path", WORKFLOWS, ids=NAMES)
def test_workflow_matches_the_github_schema(path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readthedocs_config_matches_its_schema() -> None:
    done = subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.readthedocs",
            str(REPO / ".readthedocs.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    commands = load(REPO / ".readthedocs.yaml")["build"]["commands"]
    assert any("-c . source" in c and "$READTHEDOCS_OUTPUT/html" in c for c in commands)


def test_dependabot_keeps_the_pins_fresh() -> None:
    config = REPO / ".github/dependabot.yml"
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    [update] = load(config)["updates"]
    assert update["package-ecosystem"] == "github-actions"
    folders = {str(Path(d.strip("/"), ".github/workflows")) for d in update["directories"]}
    assert folders == {str(p.parent.relative_to(REPO)) for p in WORKFLOWS}


def test_zizmor_finds_nothing_of_medium_or_higher() -> None:
    code, findings = zizmor(*WORKFLOWS, REPO / ".github/dependabot.yml")
    assert findings == [] and code == 0, json.dumps(findings, indent=1)[:3000]


def test_zizmor_would_catch_the_original_mistakes(tmp_path: Path) -> None:
    """A control: a branch-pinned action, default permissions, a branch name in a script."""
    bad = tmp_path / ".github/workflows/bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request\njobs:\n  check:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@main\n"
        '      - run: echo "${{ github.head_ref }}"\n'
    )
    code, findings = zizmor(bad)
    assert code != 0
    assert {"unpinned-uses", "excessive-permissions", "template-injection"} <= {
        f["ident"] for f in findings
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=NAMES)
def test_workflow_hardening(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "no default token permissions"
    for job in workflow["jobs"].values():
        assert "permissions" in job and "timeout-minutes" in job
        assert "write-all" not in str(job["permissions"])
    for step in steps(workflow):
        if "uses" in step:
            assert SHA_PIN.match(step["uses"]), f"{step['uses']} is not pinned to a commit"
            if step["uses"].startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
        # expressions reach scripts only through env: never expanded in the script
        assert "${{" not in step.get("run", "")


def test_pull_request_check_runs_every_part() -> None:
    path = REPO / ".github/workflows/check.yml"
    workflow = load(path)
    assert set(triggers(workflow)) == {"pull_request", "push"}
    assert triggers(workflow)["push"]["branches"] == ["update/**"]
    assert step_named(path, "Build")["run"] == 'make html SPHINXOPTS="-W --keep-going"'
    trusted = step_named(path, "Check out the checker from the base branch")
    assert "base.sha" in trusted["with"]["ref"]
    assert step_named(path, "Install orgreg")["run"].strip().endswith("./trusted")


def test_pages_workflow_builds_uploads_and_deploys() -> None:
    workflow = load(REPO / ".github/workflows/pages.yml")
    assert triggers(workflow)["push"]["branches"] == ["main"]
    uses = [s["uses"].split("@")[0] for s in steps(workflow) if "uses" in s]
    assert uses[-2:] == ["actions/upload-artifact", "actions/deploy-pages"]
    # what upload-pages-artifact uploads: the tar orgreg site-archive made, under the
    # name deploy-pages reads; the build told where the archive is
    [upload] = [s for s in steps(workflow) if s.get("uses", "").startswith("actions/upload-art")]
    archive = step_named(REPO / ".github/workflows/pages.yml", "Build")["env"]
    folder = archive["ORGREG_SITE_ARCHIVE"]
    assert upload["with"]["name"] == "github-pages"
    assert upload["with"]["path"] == f"{folder}/artifact.tar"
    pack = step_named(REPO / ".github/workflows/pages.yml", "Pack the site")["run"]
    assert pack.split()[-3:] == ["site-archive", "_build/html", folder]
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}


def run_step(path: Path, name: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = step_named(path, name)["run"]
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=clean_env(PATH=f"{BIN}:{os.environ['PATH']}", **env),
        check=False,
    )


@pytest.fixture
def pushed_branch(tmp_path: Path) -> Path:
    """A registry checkout whose update/acme/busybox branch also edits acme/centos."""
    write_tree(tmp_path, {f"source/{k}": v for k, v in good_tree().items()})
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "registry")
    git(tmp_path, "checkout", "-q", "-b", "update/acme/busybox")
    write_tree(
        tmp_path,
        {
            "source/acme/busybox/README.md": collection("new text"),
            "source/acme/centos/README.md": collection("taken over"),
        },
    )
    git(tmp_path, "commit", "-q", "-am", "update")
    return tmp_path


def test_check_script_fails_a_change_outside_the_branch_namespace(pushed_branch: Path) -> None:
    path = REPO / ".github/workflows/check.yml"
    env = {
        "REGISTRY_ROOT": "source",
        "HEAD_BRANCH": "update/acme/busybox",
        "EVENT": "push",
        "DEFAULT_BRANCH": "main",
    }
    git(pushed_branch, "branch", "-q", "-f", "origin/main", "main")  # as a fetched remote
    done = run_step(path, "Run orgreg check", pushed_branch, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith(
        "::error file=source/acme/centos/README.md,title=orgreg check (scope-outside)::"
    )
    # the same change from the branch of acme/centos: busybox is now outside
    done = run_step(
        path, "Run orgreg check", pushed_branch, {**env, "HEAD_BRANCH": "update/acme/centos"}
    )
    assert "acme/busybox/README.md" in done.stdout and done.returncode == 1
    # not an update branch: a notice, and the tree alone is checked
    done = run_step(path, "Run orgreg check", pushed_branch, {**env, "HEAD_BRANCH": "fix-typo"})
    assert done.returncode == 0
    assert done.stdout.startswith("::notice title=orgreg check::not an update/<org>/<repo>")


def test_check_script_on_the_merge_commit_of_a_pull_request(pushed_branch: Path) -> None:
    """main moved on after the branch was made: only the pull request's own change counts."""
    path = REPO / ".github/workflows/check.yml"
    git(pushed_branch, "checkout", "-q", "main")
    write_tree(pushed_branch, {"source/lab/pancakes/README.md": collection("merged meanwhile")})
    git(pushed_branch, "add", "-A")
    git(pushed_branch, "commit", "-q", "-m", "another update")
    git(pushed_branch, "checkout", "-q", "--detach", "main")
    git(pushed_branch, "merge", "-q", "--no-ff", "-m", "merge", "update/acme/busybox")
    env = {
        "REGISTRY_ROOT": "source",
        "HEAD_BRANCH": "update/acme/busybox",
        "EVENT": "pull_request",
        "DEFAULT_BRANCH": "main",
    }
    done = run_step(path, "Run orgreg check", pushed_branch, env)
    assert done.returncode == 1
    scoped = [ln for ln in done.stdout.splitlines() if "(scope-" in ln]
    assert len(scoped) == 1 and "file=source/acme/centos/README.md" in scoped[0]
    assert "scope: 2 changed files from update/acme/busybox" in done.stdout


def fake_gh(folder: Path, open_prs: str = "") -> Path:
    """A ``gh`` that logs its arguments, one per line, and lists *open_prs*."""
    log = folder / "gh.log"
    script = folder / "bin" / "gh"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        f'for a in "$@"; do printf \'%s\\n\' "$a"; done >> {log}\n'
        f"echo --- >> {log}\n"
        f"[ \"$1 $2\" = 'pr list' ] && printf '%s' '{open_prs}'\n"
        "exit 0\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return log


def open_pr(tmp_path: Path, branch: str) -> subprocess.CompletedProcess:
    path = REPO / ".github/workflows/open-pull-request.yml"
    script = step_named(path, "Open the pull request unless one is open")["run"]
    env = clean_env(
        PATH=f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        BRANCH=branch,
        BASE="main",
        GH_REPO="acme/registry",
        GH_TOKEN="x",
    )
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_open_pull_request_script(tmp_path: Path) -> None:
    log = fake_gh(tmp_path)
    done = open_pr(tmp_path, "update/acme/busybox")
    assert done.returncode == 0, done.stderr
    calls = log.read_text().split("---\n")
    assert calls[0].splitlines()[:4] == ["pr", "list", "--head", "update/acme/busybox"]
    created = calls[1].splitlines()
    assert created[:2] == ["pr", "create"]
    assert created[created.index("--title") + 1] == "Update acme/busybox"


def test_open_pull_request_refuses_crafted_branch_names(tmp_path: Path) -> None:
    log = fake_gh(tmp_path)
    for branch in ("update/acme/$(touch pwned)", "update/a/b\nc", "feature/x"):
        done = open_pr(tmp_path, branch)
        assert done.returncode == 1
        assert "branch is not named update/<org>/<repo>" in done.stdout
    assert not (tmp_path / "pwned").exists()
    assert not log.exists()


def test_open_pull_request_reuses_an_open_one(tmp_path: Path) -> None:
    log = fake_gh(tmp_path, open_prs="12")
    done = open_pr(tmp_path, "update/acme/busybox")
    assert done.returncode == 0
    assert "Pull request #12 is open" in done.stdout
    assert "create" not in log.read_text()


TEMPLATE = REPO / "orgreg_sphinx/cli/templates/container/.github/workflows/publish-to-registry.yml"
SHA = "0123456789abcdef0123456789abcdef01234567"


def test_container_template_writes_and_pushes_the_update_branch(tmp_path: Path) -> None:
    """The template's own scripts, with github.com mapped to a local bare repository."""
    remote = tmp_path / "remotes/acme/registry.git"
    seed = tmp_path / "seed"
    write_tree(seed, {f"source/{k}": v for k, v in good_tree().items()})
    git(seed, "init", "-q")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "registry")
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(remote))
    git(tmp_path, "clone", "-q", str(remote), "registry")
    image = b"SIF" * 200_000
    write_tree(
        tmp_path,
        {
            "container/Singularity": "Bootstrap: docker\nFrom: busybox\n",
            "container/Singularity.pancakes": "Bootstrap: docker\nFrom: alpine\n",
            "images/latest.sif": image,
            "images/pancakes.sif": image + b"!",
        },
    )
    env = {
        "GITHUB_REPOSITORY": "Acme/Thing",
        "GITHUB_SHA": SHA,
        "REGISTRY_ROOT": "source",
        "REGISTRY_TOKEN": "not-a-token",
        "REGISTRY_REPOSITORY": "acme/registry",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.file://{tmp_path}/remotes/.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://github.com/",
    }
    done = run_step(TEMPLATE, "Write the manifests", tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scope: 6 changed files from update/acme/thing, for acme/thing" in done.stdout
    done = run_step(
        TEMPLATE, "Push update/<org>/<repo> to the registry", tmp_path / "registry", env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not-a-token" not in done.stdout + done.stderr

    branch = "update/acme/thing"
    assert (
        git(remote, "log", "-1", "--format=%s", branch).strip()
        == "Update acme/thing from 0123456789ab"
    )
    changed = git(remote, "diff", "--name-only", "main", branch).split()
    assert changed == [
        "source/acme/thing/README.md",
        "source/acme/thing/manifests/latest/README.md",
        "source/acme/thing/manifests/latest/Singularity",
        "source/acme/thing/manifests/pancakes/README.md",
        "source/acme/thing/manifests/pancakes/Singularity",
        "source/acme/thing/tags/README.md",
    ]
    data = yaml.safe_load(
        git(remote, "show", f"{branch}:source/acme/thing/manifests/pancakes/README.md").split(
            "---\n"
        )[1]
    )
    assert data["layers"][0]["url"] == (
        "https://github.com/Acme/Thing/releases/download/images-0123456789ab/pancakes.sif"
    )
    assert (data["size"], data["commit"], data["recipe"]) == (600_001, SHA, "Singularity.pancakes")


@pytest.mark.parametrize(
    ("storage", "settings", "url"),
    [
        ("oras", {}, "oras://ghcr.io/acme/thing:pancakes-0123456789ab"),
        (
            "oras",
            {"ORAS_REGISTRY": "harbor.example.org", "ORAS_REPOSITORY": "hpc/thing"},
            "oras://harbor.example.org/hpc/thing:pancakes-0123456789ab",
        ),
        (
            "s3",
            {"S3_BUCKET": "acme-images"},
            "https://acme-images.s3.amazonaws.com/acme/thing/0123456789ab/pancakes.sif",
        ),
        (
            "s3",
            {"S3_BUCKET": "images", "S3_PUBLIC_URL": "https://minio.example.org/images/"},
            "https://minio.example.org/images/acme/thing/0123456789ab/pancakes.sif",
        ),
        (
            "gcs",
            {"GCS_BUCKET": "acme-images"},
            "https://storage.googleapis.com/acme-images/acme/thing/0123456789ab/pancakes.sif",
        ),
    ],
)
def test_container_template_storage_choices(
    tmp_path: Path, storage: str, settings: dict[str, str], url: str
) -> None:
    """One setting, REGISTRY_STORAGE, decides the URL every manifest names."""
    write_tree(
        tmp_path,
        {
            "registry/source/.keep": "",
            "container/Singularity.pancakes": "Bootstrap: docker\nFrom: alpine\n",
            "images/pancakes.sif": b"SIF" * 200_000,
        },
    )
    git(tmp_path / "registry", "init", "-q")
    git(tmp_path / "registry", "add", "-A")
    git(
        tmp_path / "registry",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "commit",
        "-q",
        "-m",
        "registry",
    )
    env = {
        "GITHUB_REPOSITORY": "Acme/Thing",
        "GITHUB_SHA": SHA,
        "REGISTRY_ROOT": "source",
        "STORAGE": storage,
        **settings,
    }
    done = run_step(TEMPLATE, "Write the manifests", tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "registry/source/acme/thing/manifests/pancakes/README.md").read_text()
    data = yaml.safe_load(text.split("---\n")[1])
    assert data["layers"][0]["url"] == url
    assert data["size"] == 600_000


def test_container_template_refuses_an_unknown_storage(tmp_path: Path) -> None:
    write_tree(tmp_path, {"container/Singularity": "Bootstrap: docker\nFrom: alpine\n"})
    done = run_step(
        TEMPLATE,
        "Write the manifests",
        tmp_path,
        {"GITHUB_REPOSITORY": "acme/thing", "GITHUB_SHA": SHA, "STORAGE": "ftp"},
    )
    assert done.returncode == 1
    assert "::error::REGISTRY_STORAGE must be github-release, oras, s3 or gcs" in done.stdout


def test_container_template_storage_steps_run_only_for_their_choice() -> None:
    workflow = load(TEMPLATE)
    conditions = {step["name"]: step.get("if") for step in steps(workflow)}
    assert conditions["Upload the images to a release"] == "env.STORAGE == 'github-release'"
    assert conditions["Push the images to an OCI registry"] == "env.STORAGE == 'oras'"
    assert conditions["Upload the images to S3"] == "env.STORAGE == 's3'"
    assert conditions["Upload the images to Google Cloud Storage"] == "env.STORAGE == 'gcs'"
    # credentials come from secrets or OIDC only
    assert workflow["jobs"]["publish"]["permissions"]["id-token"] == "write"
    secret_env = {
        key: value
        for step in steps(workflow)
        for key, value in (step.get("env") or {}).items()
        if any(word in key for word in ("PASSWORD", "KEY", "TOKEN"))
    }
    assert secret_env == {
        "GH_TOKEN": "${{ github.token }}",
        "ORAS_PASSWORD": "${{ secrets.ORAS_PASSWORD || github.token }}",
        "S3_ACCESS_KEY_ID": "${{ secrets.S3_ACCESS_KEY_ID }}",
        "S3_SECRET_ACCESS_KEY": "${{ secrets.S3_SECRET_ACCESS_KEY }}",
        "REGISTRY_TOKEN": "${{ secrets.REGISTRY_TOKEN }}",
        # issue 13: the optional signing key
        "SIGNING_KEY": "${{ secrets.SIGNING_KEY }}",
        "SIGNING_KEY_PASSPHRASE": "${{ secrets.SIGNING_KEY_PASSPHRASE }}",
    }
