"""Pull-request scope: a change from ``update/<org>/<repo>`` touches only ``<org>/<repo>/``.

The changed files come from git (``--base REV``: everything that differs from
the merge base of REV and HEAD, committed or not, plus untracked files in the
tree) or from a list (``--changed FILE...``: a listed file that no longer
exists counts as deleted).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from ..core import contents, names
from ..core.model import RECIPE_FILE, Problem, printable
from ..core.names import namespace_of_branch

Status = Literal["added", "modified", "deleted"]


class ScopeUsageError(Exception):
    """The scope cannot be computed (not a git repository, unknown revision)."""


@dataclass(frozen=True)
class Change:
    """One changed file: its path on disk and what happened to it."""

    path: Path
    status: Status


@dataclass(frozen=True)
class Scope:
    """What a pull request changed, and which namespace it may change."""

    changes: tuple[Change, ...]
    namespace: str | None
    branch: str | None = None

    def changed_manifests(self, root: Path) -> set[Path]:
        """Manifest README files added or modified (resolved paths)."""
        found = set()
        for change in self.changes:
            parts = _parts_in(root, change.path)
            if (
                change.status != "deleted"
                and parts is not None
                and len(parts) == 5
                and parts[2] == "manifests"
                and parts[4] == "README.md"
            ):
                found.add(change.path.resolve())
        return found


def changes_from_list(files: list[str]) -> list[Change]:
    """Changes named on the command line (relative to the current folder)."""
    changes = []
    for name in files:
        path = Path(name)
        exists = path.exists() or path.is_symlink()
        changes.append(Change(path, "modified" if exists else "deleted"))
    return changes


def changes_from_git(root: Path, base: str) -> list[Change]:
    """Everything that differs between the merge base of *base* and HEAD and the
    working tree, plus untracked files under *root*."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    if not _git_ok(top, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"):
        raise ScopeUsageError(f"--base {base!r} is not a commit of the repository at {top}")
    merge_base = _git(top, "merge-base", base, "HEAD").strip()
    if not merge_base:
        raise ScopeUsageError(f"--base {base!r} has no common history with HEAD")
    out = _git(top, "diff", "--name-status", "--no-renames", "-z", merge_base, "--")
    fields = [f for f in out.split("\0") if f]
    changes: list[Change] = []
    letters: dict[str, Status] = {"A": "added", "D": "deleted"}
    for letter, name in zip(fields[0::2], fields[1::2], strict=False):
        changes.append(Change(top / name, letters.get(letter[0], "modified")))
    untracked = _git(
        top, "ls-files", "--others", "--exclude-standard", "-z", "--", os.path.abspath(root)
    )
    changes.extend(Change(top / n, "added") for n in untracked.split("\0") if n)
    return changes


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ScopeUsageError("--base needs git, which is not installed") from None
    except NotADirectoryError:
        raise ScopeUsageError(f"{cwd} is not a folder") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        reason = detail[-1] if detail else f"git {args[0]} failed"
        raise ScopeUsageError(f"git {args[0]} in {cwd}: {reason}")
    return done.stdout


def _git_ok(cwd: Path, *args: str) -> bool:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    return done.returncode == 0


def _parts_in(root: Path, path: Path) -> tuple[str, ...] | None:
    """Parts of *path* relative to the tree *root*, or None when outside it.

    The file itself is not resolved: a symbolic link is judged by where it is.
    """
    pairs = (
        (Path(os.path.abspath(path)), Path(os.path.abspath(root))),
        (Path(os.path.abspath(path)).parent.resolve() / path.name, root.resolve()),
    )
    for absolute, base in pairs:
        try:
            return absolute.relative_to(base).parts
        except ValueError:
            continue
    return None


def is_namespace_file(parts: tuple[str, ...]) -> bool:
    """Files a namespace folder may hold, relative to it."""
    rel = PurePosixPath(*parts)
    if rel.as_posix() in ("README.md", "tags/README.md", "manifests/README.md"):
        return True
    return (
        len(parts) == 3
        and parts[0] == "manifests"
        and names.tag_problem(parts[1]) is None
        and parts[2] in ("README.md", RECIPE_FILE, contents.RECORD_FILE)
    )


def check_scope(
    root: Path, changes: list[Change], branch: str | None
) -> tuple[Scope, list[Problem]]:
    """Decide whether *changes* stay inside the namespace the *branch* names.

    Without a branch nothing is enforced: the changes only tell which
    manifests are new (for the online check).
    """
    if branch is None:
        return Scope(tuple(changes), None, None), []
    namespace = namespace_of_branch(branch)
    if namespace is None:
        parts = names.branch_namespace(branch)
        refused = names.namespace_problem(*parts) if parts is not None else None
        if refused is not None:
            message = (
                f"branch {branch!r} is for a namespace the registry never "
                f"publishes: {printable(refused.message)}"
            )
        else:
            message = (
                f"branch {branch!r} is not named update/<org>/<repo>: a pull request "
                "to the registry comes from the branch of the namespace it changes"
            )
        problem = Problem(root, message, severity="error", code="scope-branch")
        return Scope(tuple(changes), None, branch), [problem]
    problems: list[Problem] = []
    for change in sorted(changes, key=lambda c: str(c.path)):
        found = _check_change(root, change, namespace, branch)
        if found is not None:
            problems.append(found)
    return Scope(tuple(changes), namespace, branch), problems


def _check_change(root: Path, change: Change, namespace: str, branch: str) -> Problem | None:
    """The problem with one changed file, if any."""
    allowed = f"a pull request from {branch} may only change {namespace}/"

    def error(message: str, code: str) -> Problem:
        return Problem(change.path, message, severity="error", code=code)

    parts = _parts_in(root, change.path)
    if parts is None:
        return error(
            f"{_verb(change)} a file outside the manifest tree; {allowed}", "scope-outside"
        )
    owner = f"{parts[0]}/{parts[1]}" if len(parts) >= 3 else None
    if owner != namespace:
        if owner is None:
            return error(
                f"{_verb(change)} a file outside any namespace; {allowed}", "scope-outside"
            )
        if change.status == "deleted":
            return error(
                f"deletes a file of another namespace, {owner}; {allowed}", "scope-deletion"
            )
        return error(
            f"{_verb(change)} a file of another namespace, {owner}; {allowed}", "scope-outside"
        )
    if change.status == "deleted":
        return None
    if change.path.is_symlink():
        return error("is a symbolic link: a pull request may only add regular files", "scope-link")
    if not is_namespace_file(parts[2:]):
        return error(
            "is not a file a namespace holds (README.md, tags/README.md, "
            f"manifests/<tag>/README.md, manifests/<tag>/{RECIPE_FILE}, "
            f"manifests/<tag>/{contents.RECORD_FILE})",
            "scope-file",
        )
    return None


def _verb(change: Change) -> str:
    return {"added": "adds", "deleted": "deletes"}.get(change.status, "changes")
