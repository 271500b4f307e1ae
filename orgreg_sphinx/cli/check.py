"""Validate a manifest tree with the rules the site build uses.

Errors come from the registry model (the same code and JSON Schema as the site
build); warnings add advice for entries some clients get wrong. With --base or
--changed, the change must stay inside the namespace of --branch
update/<org>/<repo>. With --online, layer URLs are checked over HTTP; with
--verify-signatures, each downloaded SIF image's signatures are verified against
the organization's trusted keys (--keys, default ROOT/_keys).

Exit status: 0 no errors, 1 errors found (or warnings, with --strict), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ..core import keys as keyring
from ..core.model import Problem, Registry, load_registry
from ..core.project import find_project, project_limits
from ..core.text import plural
from . import answers, contentscheck, online, report, signatures
from .advice import advise
from .claims import ClaimsCheck
from .scope import Scope, ScopeUsageError, changes_from_git, changes_from_list, check_scope


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("root", nargs="?", default=".", help="the manifest tree (default: .)")
    parser.add_argument(
        "--format",
        choices=report.FORMATS,
        default="human",
        help="human (default), json, or github (workflow annotations)",
    )
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    scope = parser.add_argument_group("pull-request scope")
    changed = scope.add_mutually_exclusive_group()
    changed.add_argument(
        "--base",
        metavar="REV",
        help="the change is everything that differs from the merge base of REV and HEAD (git)",
    )
    changed.add_argument(
        "--changed",
        nargs="+",
        metavar="FILE",
        help="the changed files (a file that does not exist was deleted); "
        "give ROOT before this option",
    )
    scope.add_argument(
        "--branch",
        metavar="NAME",
        help="the pull request's branch, update/<org>/<repo>: the change "
        "may only touch <org>/<repo>/",
    )
    net = parser.add_argument_group("online checks")
    net.add_argument(
        "--online",
        action="store_true",
        help="check every layer URL (only those of changed manifests with --base/--changed)",
    )
    net.add_argument(
        "--verify-digest",
        action="store_true",
        help="download each layer and compare its digest, and what it holds with its "
        "contents.json (implies --online)",
    )
    net.add_argument(
        "--verify-signatures",
        action="store_true",
        help="verify the signatures (OpenPGP, DSSE) of each downloaded SIF image "
        "against the trusted keys, and its sif: block against the image "
        "(implies --verify-digest)",
    )
    net.add_argument(
        "--keys",
        metavar="DIR",
        help="the folder of trusted public keys (*.asc, *.pem) for "
        f"--verify-signatures (default: ROOT/{keyring.DEFAULT_FOLDER})",
    )
    net.add_argument(
        "--require-signatures",
        action="store_true",
        help="with --verify-signatures: an image without a verified signature is an error",
    )
    net.add_argument(
        "--jobs", type=int, default=8, metavar="N", help="requests at a time (default: 8)"
    )
    net.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="timeout of each connection and read (default: 30)",
    )
    net.add_argument(
        "--deadline",
        type=float,
        default=answers.DOWNLOAD_DEADLINE,
        metavar="SECONDS",
        help="longest time one download may take, its retries included "
        f"(default: {answers.DOWNLOAD_DEADLINE:g})",
    )
    net.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="retries of a failed request, with exponential backoff (default: 3)",
    )
    net.add_argument(
        "--retry-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="first backoff delay, doubled at each retry (default: 1)",
    )
    net.add_argument(
        "--no-progress", action="store_true", help="no progress bar, even on a terminal"
    )


def usage_error(message: str) -> int:
    print(f"orgreg check: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not root.is_dir():
        return usage_error(f"{args.root!r} is not a folder: give the manifest tree to check")
    project = find_project(root)
    if project is not None:  # the top of a registry project: its manifest tree
        root = project.tree
        if not root.is_dir():
            return usage_error(
                f"{report.shown_path(root)!r}, the manifest tree named by "
                f"{report.shown_path(project.conf)} (orgreg_root), is not a folder"
            )
    if (
        args.jobs < 1
        or args.timeout <= 0
        or args.deadline <= 0
        or args.retries < 0
        or args.retry_delay < 0
    ):
        return usage_error(
            "--jobs must be 1 or more, --timeout and --deadline above 0, "
            "--retries and --retry-delay 0 or more"
        )
    if args.require_signatures and not args.verify_signatures:
        return usage_error("--require-signatures needs --verify-signatures")
    if args.keys is not None and not args.verify_signatures:
        return usage_error("--keys needs --verify-signatures")
    if args.verify_signatures:
        if not keyring.gpg_available():
            return usage_error(
                "--verify-signatures needs the 'gpg' program (GnuPG): "
                "install it (Debian: apt-get install gnupg)"
            )
        keys_folder = Path(args.keys) if args.keys is not None else root / keyring.DEFAULT_FOLDER
        if keys_folder.exists() and not keys_folder.is_dir():
            return usage_error(f"--keys {args.keys!r} is not a folder")
        args.verify_digest = True
    if args.verify_digest:
        args.online = True

    problems: list[Problem] = []
    scope: Scope | None = None
    if args.base is not None or args.changed is not None or args.branch is not None:
        try:
            if args.base is not None:
                changes = changes_from_git(root, args.base)
            else:
                changes = changes_from_list(args.changed or [])
        except ScopeUsageError as err:
            return usage_error(str(err))
        scope, found = check_scope(root, changes, args.branch)
        problems.extend(found)

    # the limits of the site's build when the tree is a registry project's (its conf.py)
    limits, _ = project_limits(root)
    registry = load_registry(root, limits=limits)
    problems.extend(registry.problems)
    if not registry.namespaces:
        problems.append(
            Problem(
                root,
                "holds no namespace (no <org>/<repo>/manifests/<tag>/README.md): "
                "is it the manifest tree?",
                severity="warning",
                code="empty",
            )
        )
    secrets_folder = Path(args.keys) if args.keys is not None else root / keyring.DEFAULT_FOLDER
    problems.extend(
        Problem(p.path, p.message, code="key-file")
        for p in keyring.secret_key_problems(secrets_folder)
    )
    problems.extend(advise(registry))
    problems.extend(deprecations(registry))

    summary_lines: list[str] = []
    online_summary: dict[str, Any] | None = None
    if args.online:
        only = None
        if scope is not None and (args.base is not None or args.changed is not None):
            only = scope.changed_manifests(root)
        targets = online.expectations(registry.namespaces, only)
        settings = answers.Settings(
            jobs=args.jobs,
            timeout=args.timeout,
            retries=args.retries,
            retry_delay=args.retry_delay,
            verify_digest=args.verify_digest,
            deadline=args.deadline,
        )
        progress_to = None if args.no_progress or args.format == "json" else sys.stderr
        with ExitStack() as stack:
            verify = None
            if args.verify_signatures:
                verify = stack.enter_context(
                    signatures.SignatureCheck(keys_folder, args.require_signatures)
                )
                problems.extend(verify.problems)
            inspectors: list[online.Inspect] = []
            if args.verify_digest:
                # with the image in hand, every sif: claim and the contents record
                # are compared (before the signature check, which counts an image
                # whose claims fail as failed)
                inspectors.append(ClaimsCheck.of(registry).inspect)
                inspectors.append(contentscheck.inspect)
            if verify is not None:
                inspectors.append(verify.inspect)
            checker = online.Checker(settings, _each(inspectors) if inspectors else None)
            results, summary = checker.check_all(targets, progress_to)
        problems.extend(online.problems_of(results))
        online_summary = summary.as_dict()
        summary_lines.append(summary.text())
        if verify is not None:
            online_summary["signatures"] = verify.summary_dict()
            summary_lines.append(verify.summary_text())

    problems = list(dict.fromkeys(problems))  # a secret key file is named once
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    notes = sum(p.severity == "info" for p in problems)
    tags = sum(len(ns.tags) for ns in registry.namespaces)
    failed = errors > 0 or (args.strict and warnings > 0)
    summary_lines.insert(
        0,
        (
            f"{plural(len(registry.namespaces), 'namespace')}, {plural(tags, 'tag')}: "
            f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"
            + (f" ({plural(notes, 'deprecated tag')})" if notes else "")
        ),
    )
    if scope is not None:
        summary_lines.append(_scope_text(scope))
    body: dict[str, Any] = {
        "root": report.shown_path(root),
        "ok": not failed,
        "namespaces": len(registry.namespaces),
        "tags": tags,
        "errors": errors,
        "warnings": warnings,
        "info": notes,
        "scope": _scope_dict(scope, root),
        "online": online_summary,
    }
    report.write(sys.stdout, args.format, problems, body, summary_lines)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if args.format == "github" and summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(report.step_summary(problems, summary_lines))
        except OSError as err:
            print(f"orgreg check: cannot write the step summary: {err}", file=sys.stderr)
    return 1 if failed else 0


def _each(inspectors: list[online.Inspect]) -> online.Inspect:
    """One inspect function that runs each of *inspectors* on a downloaded image."""

    def inspect(result: answers.UrlResult, path: Path) -> None:
        for one in inspectors:
            one(result, path)

    return inspect


def deprecations(registry: Registry) -> list[Problem]:
    """Each deprecated tag, as information (never a failure, even with --strict)."""
    return [
        Problem(
            tag.path,
            f"is deprecated: {tag.deprecated}",
            tag.line("deprecated"),
            severity="info",
            code="deprecated",
        )
        for ns in registry.namespaces
        for tag in ns.tags
        if tag.deprecated and tag.path is not None
    ]


def _scope_text(scope: Scope) -> str:
    if scope.branch is None:
        return f"scope: {plural(len(scope.changes), 'changed file')} (not checked: no --branch)"
    target = scope.namespace or "no namespace"
    branch = f" from {scope.branch}" if scope.branch else ""
    return f"scope: {plural(len(scope.changes), 'changed file')}{branch}, for {target}"


def _scope_dict(scope: Scope | None, root: Path) -> dict[str, Any] | None:
    if scope is None:
        return None
    return {
        "branch": scope.branch,
        "namespace": scope.namespace,
        "changes": [
            {"file": report.shown_path(c.path), "status": c.status}
            for c in sorted(scope.changes, key=lambda c: str(c.path))
        ],
    }
