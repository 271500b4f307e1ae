"""The commands real container clients use to pull from the static registry.

Pure functions (no Sphinx): from the site's URL and a tag, the exact command
line of each client, or why the client cannot name that image. The rules are
those the clients check before they make a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .model import Namespace, Tag

PLACEHOLDER_HOST = "<your-registry-site>"
#: what Singularity/Apptainer accept in ``shub://<registry>/<user>/<container>:<tag>``
SHUB_REGISTRY_RE = re.compile(r"^[-.a-zA-Z0-9/]{1,64}$")
SHUB_USER_RE = re.compile(r"^[-a-zA-Z0-9]{1,39}$")
SHUB_CONTAINER_RE = re.compile(r"^[-_.a-zA-Z0-9]{1,64}$")
SHUB_TAG_RE = re.compile(r"^[-_.a-zA-Z0-9]{1,64}$")
#: what sregistry deletes from a name before parsing it
SREGISTRY_EXTENSION_RE = re.compile(r"[.](img|simg|sif)")
#: a Docker/OCI repository path component (lower case)
OCI_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


@dataclass(frozen=True)
class Reference:
    """A client's name for an image, or the reason it has none."""

    value: str = ""
    problem: str = ""


def site_parts(site: str) -> tuple[str, str, str]:
    """``(scheme, host[:port], path without slashes)`` of the site URL; the
    placeholder host when the site is unknown."""
    if not site:
        return "https", PLACEHOLDER_HOST, ""
    parts = urlsplit(site)
    return parts.scheme, parts.netloc, parts.path.strip("/")


def shub_reference(site: str, ns: Namespace, tag: Tag) -> Reference:
    """``shub://<host>[/<prefix>]/<org>/<repo>:<tag>`` as Singularity/Apptainer
    accept it: they always ask ``https://<host>[/<prefix>]/api/container/...``."""
    scheme, host, prefix = site_parts(site)
    registry = f"{host}/{prefix}" if prefix else host
    if scheme != "https":
        return Reference(problem="shub:// pulls use https only; this site is not served over https")
    if host != PLACEHOLDER_HOST and not SHUB_REGISTRY_RE.match(registry):
        return Reference(
            problem=f"shub:// cannot name the host {registry!r} "
            "(no port, letters, digits, '-', '.' and '/', at most 64)"
        )
    if not SHUB_USER_RE.match(ns.org):
        return Reference(
            problem=f"shub:// cannot name the organization {ns.org!r} "
            "(letters, digits and '-' only, at most 39)"
        )
    if not SHUB_CONTAINER_RE.match(ns.repo):
        return Reference(problem=f"shub:// cannot name the repository {ns.repo!r}")
    if not SHUB_TAG_RE.match(tag.name):
        return Reference(problem=f"shub:// cannot name the tag {tag.name!r} (at most 64)")
    return Reference(f"shub://{registry}/{ns.org}/{ns.repo}:{tag.name}")


def sregistry_base(site: str) -> str:
    """``SREGISTRY_REGISTRY_BASE``: the site URL without its final slash."""
    scheme, host, prefix = site_parts(site)
    return f"{scheme}://{host}/{prefix}" if prefix else f"{scheme}://{host}"


def sregistry_reference(ns: Namespace, tag: Tag) -> Reference:
    """The name for ``sregistry pull`` (which lower-cases it before asking), or
    why sregistry 0.2 would ask for another image."""
    name = f"{ns.org}/{ns.repo}:{tag.name}"
    if "." in ns.org:
        return Reference(problem=f"sregistry reads {ns.org!r} as a registry host (it has a '.')")
    if SREGISTRY_EXTENSION_RE.search(name):
        return Reference(problem=f"sregistry removes '.img', '.simg' and '.sif' from {name!r}")
    return Reference(name.lower())


def oci_reference(site: str, ns: Namespace) -> Reference:
    """``<host>/<org>/<repo>`` for skopeo and crane; only for a site at a host root."""
    _, host, prefix = site_parts(site)
    if prefix:
        return Reference(
            problem="OCI clients look for /v2/ at the root of the host; "
            f"this site is below it (/{prefix}/)"
        )
    org, repo = ns.org.lower(), ns.repo.lower()
    if not (OCI_COMPONENT_RE.match(org) and OCI_COMPONENT_RE.match(repo)):
        return Reference(problem=f"{ns.name!r} is not a valid OCI repository name")
    return Reference(f"{host}/{org}/{repo}")
