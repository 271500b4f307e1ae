"""The naming rules of the registry, in one place.

What a valid organization, repository, namespace and tag name is; which names
collide with the site's own files (Sphinx's root files, the JSON endpoints,
``api/``, ``v2/``); which folders belong to the site rather than to a
namespace; and which names the container clients can spell. The model, the
``orgreg`` command, the pull-request scope and the remote reader all ask here,
so they cannot disagree. No Sphinx here, and no file system access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: an organization or repository name: GitHub's letters (at most 100)
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
#: a tag: the Singularity Hub rule for recipe suffixes (at most 128)
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
TAG_RULE = "letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-'"
#: namespaces whose site path would hide one of the published endpoints (lower case)
RESERVED_NAMESPACES = frozenset(
    {
        "api/container",
        "api/catalog.json",
        "api/schemas",
        "api/sha256sums",
        "api/urls.txt",
        "api/downloads.curl",
        "api/keys",
        "api/keys.json",
        # the shpc filesystem registry and its checksum line (issue 27)
        "api/shpc-registry.tar.gz",
        "api/shpc-registry.tar.gz.sha256",
    }
)
#: org (or repo) folder names that would collide with files Sphinx, GitHub Pages or
#: the endpoints write: ``search.html/x`` or ``v2/index.json`` would stop the build
SITE_FILE_RE = re.compile(
    r"(?i)^(cname|.*\.(html?|js|mjs|inv|txt|json|xml|css|ico|png|svg|map|gz|zip))$"
)
#: top-level folders of the site that other parts of the registry publish into
SITE_FOLDERS = {
    "api": "the JSON API (api/catalog.json, api/container/, api/schemas/, api/SHA256SUMS, "
    "api/keys/)",
    "v2": "the OCI-style layout (v2/<org>/<repo>/...)",
}
#: the characters Python reads a name's bytes that are not UTF-8 as (``surrogateescape``):
#: a name holding one is no text, so no page, URL or JSON string can spell it
UNDECODABLE_CHARS = "\udc80-\udcff"
UNDECODABLE_RE = re.compile(f"[{UNDECODABLE_CHARS}]")
UNDECODABLE_RULE = "its name is not valid UTF-8"
#: the branch a pull request for a namespace comes from
BRANCH_RE = re.compile(r"^update/([^/]+)/([^/]+)$")

#: what Singularity/Apptainer accept in ``shub://<registry>/<user>/<container>:<tag>``
SHUB_REGISTRY_RE = re.compile(r"^[-.a-zA-Z0-9/]{1,64}$")
SHUB_USER_RE = re.compile(r"^[-a-zA-Z0-9]{1,39}$")
SHUB_CONTAINER_RE = re.compile(r"^[-_.a-zA-Z0-9]{1,64}$")
SHUB_TAG_RE = re.compile(r"^[-_.a-zA-Z0-9]{1,64}$")
#: what sregistry deletes from a name before parsing it
SREGISTRY_EXTENSION_RE = re.compile(r"[.](img|simg|sif)")
#: a Docker/OCI repository path component (lower case)
OCI_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")

NameCode = Literal["name", "reserved", "site"]


@dataclass(frozen=True)
class NameProblem:
    """Why a name is refused. *code* is ``name`` (not a valid name), ``reserved``
    (it collides with the site's own files) or ``site`` (a folder of the site
    itself, never read as a namespace)."""

    message: str
    code: NameCode


# ---------------------------------------------------------------- folders


def is_hidden(name: str) -> bool:
    """Folders whose names start with '.' (``.git``, ``.github``) are never read."""
    return name.startswith(".")


def is_site_folder(org: str) -> bool:
    """Top-level folders starting with '_' or '.' (``_build``, ``_static``,
    ``.github``) belong to the site, not to a namespace."""
    return org.startswith(("_", "."))


def undecodable(name: str) -> bool:
    """True when the file or folder name (or path) *name* is not valid UTF-8 on disk."""
    return UNDECODABLE_RE.search(name) is not None


def site_folder_use(org: str) -> str | None:
    """What the site publishes in the top-level folder *org*, if anything."""
    return SITE_FOLDERS.get(org.lower())


def folded(name: str) -> str:
    """*name* as clients that lower-case names (sregistry, OCI) ask for it."""
    return name.lower()


# ---------------------------------------------------------------- namespaces and tags


def namespace_problem(org: str, repo: str) -> NameProblem | None:
    """Why ``<org>/<repo>`` cannot be a namespace; None when it can."""
    return _namespace_problem(org, repo, f"{org}/{repo}")


def namespace_name_problem(name: str) -> NameProblem | None:
    """Why the text *name* (``<org>/<repo>``) cannot be a namespace; None when it can."""
    org, _, repo = name.partition("/")
    return _namespace_problem(org, repo, name)


def _namespace_problem(org: str, repo: str, name: str) -> NameProblem | None:
    if is_site_folder(org):
        return NameProblem(
            f"namespace '{name}' is inside '{org}/', a folder of the site itself: folders "
            "whose names start with '_' or '.' are not read as namespaces",
            "site",
        )
    if is_hidden(repo):
        return NameProblem(
            f"namespace '{name}' is in a hidden folder '{repo}': folders whose names start "
            "with '.' are not read",
            "site",
        )
    if org and not repo and "/" not in name and NAME_RE.fullmatch(org):
        return NameProblem(
            f"has no organization (ORG/ is missing): a namespace is <org>/<repo>, "
            f"e.g. 'acme/{name}'",
            "name",
        )
    if not (NAME_RE.fullmatch(org) and NAME_RE.fullmatch(repo)):
        return NameProblem(
            f"is not a valid namespace name '{name}': use letters, digits, '-', '_' and '.'",
            "name",
        )
    clash = next((part for part in (org, repo) if SITE_FILE_RE.fullmatch(part)), None)
    if clash is not None:
        return NameProblem(
            f"namespace '{name}' would collide with the file '{clash}' of the built site",
            "reserved",
        )
    if folded(name) in RESERVED_NAMESPACES:
        return NameProblem(f"namespace '{name}' would hide a published endpoint", "reserved")
    return None


def tag_problem(tag: str) -> NameProblem | None:
    """Why *tag* cannot be a tag name; None when it can."""
    if TAG_RE.fullmatch(tag):
        return None
    return NameProblem(f"'{tag}' is not a valid tag ({TAG_RULE})", "name")


def branch_namespace(branch: str) -> tuple[str, str] | None:
    """``update/<org>/<repo>`` -> ``(org, repo)``, whatever the names; None for
    a branch of another form."""
    match = BRANCH_RE.fullmatch(branch)
    return (match.group(1), match.group(2)) if match else None


def namespace_of_branch(branch: str) -> str | None:
    """``update/<org>/<repo>`` -> ``<org>/<repo>``; None if the branch has another
    form or names a namespace the model never reads."""
    parts = branch_namespace(branch)
    if parts is None or namespace_problem(*parts) is not None:
        return None
    return f"{parts[0]}/{parts[1]}"


# ---------------------------------------------------------------- client names


def shub_host_problem(registry: str) -> str | None:
    """Why ``shub://`` cannot name the registry ``<host>[/<prefix>]``."""
    if SHUB_REGISTRY_RE.fullmatch(registry):
        return None
    return (
        f"shub:// cannot name the host {registry!r} "
        "(no port, letters, digits, '-', '.' and '/', at most 64)"
    )


def shub_name_problem(org: str, repo: str, tag: str) -> str | None:
    """Why Singularity/Apptainer cannot name ``shub://.../<org>/<repo>:<tag>``."""
    if not SHUB_USER_RE.fullmatch(org):
        return (
            f"shub:// cannot name the organization {org!r} "
            "(letters, digits and '-' only, at most 39)"
        )
    if not SHUB_CONTAINER_RE.fullmatch(repo):
        return f"shub:// cannot name the repository {repo!r}"
    if not SHUB_TAG_RE.fullmatch(tag):
        return f"shub:// cannot name the tag {tag!r} (at most 64)"
    return None


def sregistry_name_problem(org: str, repo: str, tag: str) -> str | None:
    """Why ``sregistry pull <org>/<repo>:<tag>`` (0.2) would ask for another image."""
    name = f"{org}/{repo}:{tag}"
    if "." in org:
        return f"sregistry reads {org!r} as a registry host (it has a '.')"
    if SREGISTRY_EXTENSION_RE.search(name):
        return f"sregistry removes '.img', '.simg' and '.sif' from {name!r}"
    return None


def oci_repository_problem(org: str, repo: str) -> str | None:
    """Why ``<org>/<repo>``, lower-cased, is not a Docker/OCI repository path."""
    if OCI_COMPONENT_RE.fullmatch(folded(org)) and OCI_COMPONENT_RE.fullmatch(folded(repo)):
        return None
    return f"{f'{org}/{repo}'!r} is not a valid OCI repository name"


# ---------------------------------------------------------------- ORAS references

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
#: ``oras://<host>[:<port>]/<name>(:<tag>[@<digest>] | @<digest>)``: the OCI
#: distribution reference grammar (host names or a bracketed IPv6 address, lower
#: case path components, Docker tags, sha256 digests). The manifest schema's
#: ``url`` holds the same expression (a test keeps them equal).
ORAS_PATTERN = (
    r"^oras://((?:" + _LABEL + r"(?:\." + _LABEL + r")*|\[[0-9A-Fa-f:.]{2,45}\])"
    r"(?::[0-9]{1,5})?)/(" + _COMPONENT + r"(?:/" + _COMPONENT + r")*)"
    r"(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127})(?:@(sha256:[0-9a-f]{64}))?"
    r"|@(sha256:[0-9a-f]{64}))$"
)
ORAS_RE = re.compile(ORAS_PATTERN)
#: longest repository name OCI registries accept
ORAS_NAME_MAX = 255


@dataclass(frozen=True)
class OrasReference:
    """An ``oras://`` layer URL taken apart."""

    host: str  # host[:port], as written
    name: str  # the repository path
    tag: str | None
    digest: str | None

    @property
    def hostname(self) -> str:
        """The host without port (and without the brackets of an IPv6 address)."""
        host = self.host
        if host.startswith("["):
            return host[1 : host.index("]")]
        return host.rsplit(":", 1)[0] if ":" in host else host

    @property
    def reference(self) -> str:
        """What the registry's ``/manifests/<reference>`` is asked for: the
        digest when pinned, else the tag."""
        return self.digest or self.tag or ""

    def url(self, *, pinned: bool = False, digest: str | None = None) -> str:
        """The ``oras://`` URL; *pinned*: by *digest* (of the OCI manifest) alone."""
        if pinned and digest:
            return f"oras://{self.host}/{self.name}@{digest}"
        tag = f":{self.tag}" if self.tag else ""
        at = f"@{self.digest}" if self.digest else ""
        return f"oras://{self.host}/{self.name}{tag}{at}"


def is_oras(url: str) -> bool:
    """True when *url* names an image in an OCI registry (``oras://``)."""
    return url.startswith("oras://")


def oras_reference(url: str) -> OrasReference | None:
    """*url* taken apart, or None when it is not a valid ``oras://`` reference."""
    match = ORAS_RE.fullmatch(url)
    if match is None or len(match.group(2)) > ORAS_NAME_MAX:
        return None
    host, name, tag, pinned, digest_only = match.groups()
    return OrasReference(host, name, tag, pinned or digest_only)


#: the schemes a layer URL may have
LAYER_URL_SCHEMES = ("http://", "https://", "oras://")


def layer_url_problem(url: str) -> str | None:
    """Why *url* cannot be a layer's URL, in the words of its fix; None when it can
    (or when only the manifest schema can tell)."""
    if not url.lower().startswith(LAYER_URL_SCHEMES):
        example = url.split("://", 1)[-1].lstrip("/") or "storage.example.org/image.sif"
        return (
            f"{url!r} needs http://, https:// or oras:// in front: the address users "
            f"download the image from, e.g. https://{example}"
        )
    if is_oras(url):
        return oras_problem(url)
    if any(ch.isspace() for ch in url):
        return f"{url!r} holds spaces: write them as %20"
    return None


def oras_problem(url: str) -> str | None:
    """Why *url* is not a usable ``oras://`` reference; None when it is."""
    if oras_reference(url) is not None:
        return None
    return (
        f"{url!r} is not an ORAS reference: expected oras://<host>[:<port>]/<name>:<tag> "
        "or oras://<host>/<name>@sha256:<64 hex>, the name in lower case"
    )
