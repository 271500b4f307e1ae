"""Write a new registry repository into DIR, ready to build and publish.

It holds conf.py (the orgreg_sphinx extension and theme, the title and site
address given), source/index.md (the home page; namespaces go under source/),
requirements.txt (orgreg-sphinx at this version), a Makefile (html, serve,
check), a README for the admin, .gitignore, .readthedocs.yaml, Dependabot
settings and the GitHub workflows: the pull-request check, the Pages deploy
and the pull-request opener.

DIR must be missing or empty; --force writes into a folder that holds files,
and a file that exists is never replaced: it is kept and named.

Exit status: 0 written, 2 usage error (bad title, organization or URL; DIR not
empty; a path that is not a folder).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import urlsplit

from .._version import __version__
from ..core import names
from ..core.files import write_if_changed

#: file written into DIR -> its template in orgreg_sphinx/cli/templates/
#: (``*.tmpl`` templates get the values of :func:`values` substituted)
FILES: dict[str, str] = {
    "conf.py": "conf.py.tmpl",
    "source/index.md": "index.md.tmpl",
    "requirements.txt": "requirements.txt.tmpl",
    "Makefile": "Makefile",
    "README.md": "README.md.tmpl",
    ".gitignore": "gitignore",
    ".readthedocs.yaml": "readthedocs.yaml",
    ".github/dependabot.yml": "dependabot.yml",
    ".github/workflows/check.yml": "check.yml",
    ".github/workflows/pages.yml": "pages.yml",
    ".github/workflows/open-pull-request.yml": "open-pull-request.yml",
}


class InitError(Exception):
    """Input that cannot make a registry."""


@dataclass(frozen=True)
class Settings:
    """What the admin chose: all optional."""

    title: str = ""
    org: str = ""
    url: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("dir", metavar="DIR", help="the folder of the new registry repository")
    parser.add_argument(
        "--title",
        default="",
        help="the site's title (default: '<ORG> containers', else 'Container registry')",
    )
    parser.add_argument(
        "--org",
        default="",
        help="the GitHub organization the registry belongs to (for links and the README)",
    )
    parser.add_argument(
        "--url",
        default="",
        metavar="SITE_URL",
        help="the address the site is published at, e.g. "
        "https://acme.github.io/registry/ (default: from the "
        "GitHub Pages workflow or Read the Docs)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that is not empty (files that exist are kept, never replaced)",
    )


def checked(settings: Settings) -> Settings:
    """*settings* with the site address normalized; InitError for invalid values."""
    if any(ch in settings.title for ch in "\r\n") or not settings.title.isprintable():
        raise InitError("--title must be one line of printable text")
    if settings.org and not (
        names.NAME_RE.fullmatch(settings.org) and not names.is_hidden(settings.org)
    ):
        raise InitError(
            f"--org {settings.org!r} is not a GitHub organization name: use letters, digits and '-'"
        )
    url = settings.url
    if url:
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or any(ch.isspace() for ch in url)
        ):
            raise InitError(
                f"--url {url!r} is not the http(s) address of a site, e.g. "
                "https://acme.github.io/registry/"
            )
        if not url.endswith("/"):
            url += "/"
    return Settings(settings.title, settings.org, url)


def literal(text: str) -> str:
    """*text* as a Python string literal (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def markdown_text(text: str) -> str:
    """*text* shown as it is in Markdown: every ASCII punctuation mark escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def values(settings: Settings, repository: str) -> dict[str, str]:
    """The values substituted in the ``*.tmpl`` templates."""
    org = settings.org
    title = settings.title or (f"{org} containers" if org else "Container registry")
    full_name = f"{org}/{repository}" if org else f"<org>/{repository}"
    return {
        "title": literal(title),
        "title_text": markdown_text(title),
        "site_url": literal(settings.url),
        "repository_url": literal(f"https://github.com/{full_name}" if org else ""),
        "repository": full_name,
        "org_text": org or "this organization",
        "example_namespace": f"{org or 'acme'}/busybox",
        "version": __version__,
    }


def render(settings: Settings, repository: str) -> dict[str, str]:
    """{path in DIR: text} of every file of a new registry."""
    folder = resources.files(__package__) / "templates"
    substitutions = values(settings, repository)
    files: dict[str, str] = {}
    for target, name in FILES.items():
        text = (folder / name).read_text(encoding="utf-8")
        if name.endswith(".tmpl"):
            if target.endswith((".md", ".txt")):  # text, not a Python literal
                text = text.replace("${title}", "${title_text}")
            text = Template(text).substitute(substitutions)
        files[target] = text
    return files


def write(root: Path, files: dict[str, str], force: bool) -> tuple[list[str], list[str]]:
    """Write *files* under *root*: (written, kept because they exist and differ)."""
    if root.exists() and not root.is_dir():
        raise InitError(f"{root}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise InitError(
            f"{root}: the folder is not empty; give --force to add the registry's "
            "files to it (files that exist are kept)"
        )
    written: list[str] = []
    kept: list[str] = []
    for rel, text in files.items():
        path = root / rel
        data = text.encode("utf-8")
        if path.exists() or path.is_symlink():
            if not (path.is_file() and path.read_bytes() == data):
                kept.append(rel)
            continue
        write_if_changed(path, data)
        written.append(rel)
    return written, kept


def run(args: argparse.Namespace) -> int:
    root = Path(args.dir)
    try:
        settings = checked(Settings(args.title, args.org, args.url))
        files = render(settings, root.resolve().name or "registry")
        written, kept = write(root, files, args.force)
    except InitError as error:
        print(f"orgreg init: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"orgreg init: {root}: {error.strerror or error}", file=sys.stderr)
        return 2
    for rel in written:
        print(f"wrote {root / rel}")
    for rel in kept:
        print(
            f"kept {root / rel}: it exists and differs from the template; remove it and "
            "run again to get the template's",
            file=sys.stderr,
        )
    print(
        f"\nA registry is in {root}. Next:\n"
        f"  cd {root}\n"
        "  make html        # build the site into _build/html\n"
        "  orgreg manifest IMAGE.sif --namespace ORG/REPO --url URL --tag TAG --root source\n"
        "  git init && git add -A && git commit -m 'A new registry'\n"
        "README.md says how to publish it and how container repositories submit."
    )
    return 0
