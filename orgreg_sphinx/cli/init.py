"""Write a new registry repository into DIR, ready to build and publish; with
--container, a container repository that publishes to a registry.

A registry holds conf.py (the orgreg_sphinx extension and theme, the title,
site address and repository given), source/index.md (the home page; namespaces
go under source/), requirements.txt (this very orgreg-sphinx: the release from
the package index, or the folder, wheel or git commit it was installed from),
a Makefile (html, serve, check), a README for the admin, .gitignore,
.readthedocs.yaml, Dependabot settings and the GitHub workflows: the
pull-request check, the Pages deploy and the pull-request opener.

A container repository (--container) holds the recipe Singularity, the
workflow .github/workflows/publish-to-registry.yml (build with Apptainer, sign,
store, `orgreg manifest`, push update/<org>/<repo> to the registry) and a
README naming the settings it needs.

DIR must be missing or empty; --force writes into a folder that holds files,
and a file that exists is never replaced: it is kept and named.

Exit status: 0 written, 2 usage error (bad title, organization, URL or
repository; DIR not empty; a path that is not a folder).

examples:
  orgreg init registry --org acme --url https://acme.github.io/registry/
  orgreg init --container busybox --registry acme/registry
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

from ..core import names
from ..core.files import write_if_changed
from . import origin

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

#: the files of a container repository (``orgreg init --container``)
#: (in templates/container/, laid out as the repository: Dependabot keeps the
#: workflow's pinned actions current there)
CONTAINER_FILES: dict[str, str] = {
    "Singularity": "container/Singularity",
    "README.md": "container/README.md.tmpl",
    ".github/workflows/publish-to-registry.yml": (
        "container/.github/workflows/publish-to-registry.yml"
    ),
}

#: a GitHub Pages address: https://ORG.github.io/ or https://ORG.github.io/REPO/...
PAGES_URL_RE = re.compile(r"^(?P<org>[A-Za-z0-9-]+)\.github\.io$", re.I)
#: what --repository takes: ORG/REPO or https://github.com/ORG/REPO
REPOSITORY_RE = re.compile(
    r"^(?:https://github\.com/)?(?P<org>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9_.-]+?)(?:\.git)?/?$"
)


class InitError(Exception):
    """Input that cannot make a registry."""


@dataclass(frozen=True)
class Settings:
    """What the admin chose: all optional."""

    title: str = ""
    org: str = ""
    url: str = ""
    #: the registry repository, ORG/REPO ("" when not known)
    repository: str = ""


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
        "--repository",
        "--registry",
        default="",
        metavar="ORG/REPO",
        help="the registry's GitHub repository, ORG/REPO or its https://github.com/ URL "
        "(default: from a GitHub Pages --url, https://ORG.github.io/REPO/ -> ORG/REPO); "
        "with --container, the registry the images are submitted to",
    )
    parser.add_argument(
        "--container",
        action="store_true",
        help="write a container repository instead: its recipe, the workflow that "
        "publishes its images to the registry (publish-to-registry.yml) and a README",
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
    repository = settings.repository
    if repository:
        match = REPOSITORY_RE.fullmatch(repository)
        if not match or match["repo"] in (".", ".."):
            raise InitError(
                f"--repository {repository!r} is not a GitHub repository: give ORG/REPO "
                "(e.g. acme/registry) or https://github.com/ORG/REPO"
            )
        repository = f"{match['org']}/{match['repo']}"
    return Settings(settings.title, settings.org, url, repository)


def guessed_repository(settings: Settings) -> tuple[str, str]:
    """(ORG/REPO of the registry repository or "", a sentence saying how it was
    found or why it could not be)."""
    if settings.repository:
        return settings.repository, ""
    if settings.url:
        parts = urlsplit(settings.url)
        pages = PAGES_URL_RE.fullmatch(parts.hostname or "")
        if pages:
            first = parts.path.strip("/").split("/", 1)[0]
            repo = first or f"{pages['org']}.github.io"  # the organization's root site
            return (
                f"{pages['org']}/{repo}",
                f"the registry repository is {pages['org']}/{repo} (from --url); "
                "give --repository if it is another",
            )
        return "", (
            f"cannot tell the registry's GitHub repository from --url {settings.url} "
            "(not a https://ORG.github.io/ address): give --repository ORG/REPO, or set "
            "orgreg_repository_url in conf.py; until then pages link to no repository"
        )
    return "", (
        "the registry's GitHub repository is not known: give --repository ORG/REPO or a "
        "GitHub Pages --url, or set orgreg_repository_url in conf.py; until then pages "
        "link to no repository"
    )


def literal(text: str) -> str:
    """*text* as a Python string literal (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def markdown_text(text: str) -> str:
    """*text* shown as it is in Markdown: every ASCII punctuation mark escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def values(settings: Settings, requirement: str, name: str = "busybox") -> dict[str, str]:
    """The values substituted in the ``*.tmpl`` templates."""
    repository = settings.repository
    org = settings.org or repository.partition("/")[0]
    title = settings.title or (f"{org} containers" if org else "Container registry")
    full_name = repository or f"{org or '<org>'}/<registry repository>"
    namespace = f"{org or 'acme'}/{name}"
    return {
        "title": literal(title),
        "title_text": markdown_text(title),
        "site_url": literal(settings.url),
        "repository_url": literal(f"https://github.com/{repository}" if repository else ""),
        "repository": full_name,
        "org_text": org or "this organization",
        "example_namespace": namespace,
        "requirement": requirement,
        # a container repository's README
        "namespace": namespace,
        "namespace_text": markdown_text(namespace),
        "registry_text": (
            f"the registry [{repository}](https://github.com/{repository})"
            if repository
            else "the organization's registry"
        ),
        "registry_repository": f"`{repository}`" if repository else "`<org>/<registry repository>`",
    }


def render(
    settings: Settings, requirement: str, files: dict[str, str] = FILES, name: str = "busybox"
) -> dict[str, str]:
    """{path in DIR: text} of every file of a new registry (or of *files*, the
    repository *name*'s)."""
    folder = resources.files(__package__) / "templates"
    substitutions = values(settings, requirement, name)
    rendered: dict[str, str] = {}
    for target, name in files.items():
        text = (folder / name).read_text(encoding="utf-8")
        if name.endswith(".tmpl"):
            if target.endswith((".md", ".txt")):  # text, not a Python literal
                text = text.replace("${title}", "${title_text}")
            text = Template(text).substitute(substitutions)
        rendered[target] = text
    return rendered


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
    notes: list[str] = []
    try:
        settings = checked(Settings(args.title, args.org, args.url, args.repository))
        if args.container:
            name = root.resolve().name.lower() or "busybox"
            files = render(settings, "", CONTAINER_FILES, name)
        else:
            repository, said = guessed_repository(settings)
            settings = Settings(settings.title, settings.org, settings.url, repository)
            installed = origin.installed()
            files = render(settings, installed.requirement)
            notes = [n for n in (said, installed.note) if n]
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
    for note in notes:
        print(f"orgreg init: note: {note}", file=sys.stderr)
    if args.container:
        print(
            f"\nA container repository is in {root}. Next: edit the recipe Singularity, "
            "push it to GitHub and set what README.md lists (REGISTRY_REPOSITORY, "
            "REGISTRY_TOKEN); every push to main then submits its images."
        )
        return 0
    print(
        f"\nA registry is in {root}. Next:\n"
        f"  cd {root}\n"
        "  make html        # build the site into _build/html\n"
        "  orgreg manifest IMAGE.sif --namespace ORG/REPO --url URL --tag TAG --root source\n"
        "  git init && git add -A && git commit -m 'A new registry'\n"
        "README.md says how to publish it and how container repositories submit;\n"
        "orgreg init --container DIR writes a container repository that submits to it."
    )
    return 0
