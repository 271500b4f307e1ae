"""What Singularity Registry HPC (shpc) reads: the registry as container modules.

shpc installs a container as an Lmod or Environment Modules module. It reads a
registry of ``container.yaml`` files: remotely, for ``https://github.com/ORG/REPO``,
from ``https://ORG.github.io/REPO/library.json`` (a JSON object keyed by module
name, each entry holding the module's whole config and its ``config_url``); or a
folder of ``<module>/container.yaml`` files (a filesystem registry).

Each namespace with images in an OCI registry becomes one module, named as shpc
names modules (the image's repository, ``ghcr.io/acme/busybox``), whose
``container.yaml`` holds the namespace's description, ``latest`` and ``tags``
(tag name -> the OCI manifest digest shpc pulls ``oras://<oras>@<digest>`` by),
the ``oras`` repository and the ``aliases`` (commands -> paths in the image). Tags
shpc cannot pull are left out, each with the reason (:attr:`Module.left_out`).

Pure functions of the model (no Sphinx): :func:`modules` decides, :func:`files`
gives the published files (``library.json``, ``<org>/<repo>/container.yaml`` and
the filesystem registry as ``api/shpc-registry.tar.gz`` with its checksum line).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import clients, contentsapi, names
from .model import Namespace, Registry, Tag
from .selection import default_tag

#: the published files, relative to the site root
LIBRARY_PATH = "library.json"
ARCHIVE_PATH = "api/shpc-registry.tar.gz"
ARCHIVE_SUMS_PATH = ARCHIVE_PATH + ".sha256"
#: the folder the archive unpacks into (the filesystem registry)
ARCHIVE_FOLDER = "shpc-registry"
CONFIG_FILE = "container.yaml"
#: collection front matter: ``shpc: {aliases: {command: /path/in/image}, maintainer: ...}``
FRONT_MATTER_KEY = "shpc"
#: an image label listing commands: ``name=/path`` or ``/path`` items, comma or space separated
ALIASES_LABEL = "org.orgreg.shpc.aliases"
#: what shpc's wrapper scripts may be named after and may run: an alias becomes a
#: file name and a shell line on the cluster, so nothing else is let through
ALIAS_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}$")
ALIAS_PATH_RE = re.compile(r"^/[A-Za-z0-9_.+@/-]{1,4095}$")
#: the folders (of those the contents record reads) where software added to an
#: image's OS lives: its executables become the module's aliases
ADDED_FOLDERS = frozenset({"/usr/local/bin", "/usr/local/sbin", "/opt/conda/bin"})
#: most aliases of one module (each is a script on the cluster)
MAX_ALIASES = 1000

NOT_ORAS = (
    "has a plain download URL: shpc pulls only from OCI registries "
    "(push the image with 'apptainer push image.sif oras://...')"
)
NO_OCI_DIGEST = (
    "has no OCI manifest digest, which shpc pulls by: write its manifest again with "
    "'orgreg manifest --url oras://...' (it records the digest), or pin the URL "
    "with '@sha256:<digest>'"
)


#: the modules of the registry last asked about (pages ask one namespace at a time)
_modules_cache: dict[str, Any] = {}


@dataclass(frozen=True)
class LeftOut:
    """A tag shpc cannot install, and why."""

    tag: str
    reason: str


@dataclass(frozen=True)
class Module:
    """The shpc module of one namespace: its name and ``container.yaml``, or (with
    an empty *name*) why there is none; the tags left out either way."""

    namespace: Namespace
    name: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    left_out: tuple[LeftOut, ...] = ()
    #: why the namespace has no module (when *name* is empty)
    problem: str = ""

    @property
    def repository(self) -> str:
        """The ``oras`` repository the module's images are pulled from."""
        value = self.config.get("oras", "")
        return value if isinstance(value, str) else ""


def _pullable(tag: Tag) -> tuple[names.OrasReference | None, str, str]:
    """(reference, OCI manifest digest, '') of a tag shpc can pull, else (None, '', why)."""
    if not tag.layers or not tag.is_oras:
        return None, "", NOT_ORAS
    layer = tag.layers[0]
    ref = names.oras_reference(layer.url)
    if ref is None:
        return None, "", names.oras_problem(layer.url) or "has an invalid oras:// URL"
    if ref.host.startswith("["):
        return None, "", "is kept at an IPv6 address, which shpc cannot name a module after"
    if not layer.oci_manifest_digest:
        return None, "", NO_OCI_DIGEST
    return ref, layer.oci_manifest_digest, ""


def executables(ns: Namespace, tag: Tag) -> tuple[dict[str, str], list[str]]:
    """The commands *tag*'s image offers (name -> path in the image), for shpc's
    ``aliases``, and why any were refused. The first source that names any: the
    maintainers' list in the collection's front matter (``shpc: {aliases: ...}``),
    the image's ``org.orgreg.shpc.aliases`` label, the executables its contents
    record found in the folders of software added to the OS (:data:`ADDED_FOLDERS`:
    an alias of the OS's own ``ls`` or ``python3`` would hide the cluster's)."""
    refused: list[str] = []
    found: dict[str, str] = {}
    block = ns.extra.get(FRONT_MATTER_KEY)
    listed = block.get("aliases") if isinstance(block, dict) else None
    items: list[tuple[str, Any]]
    if isinstance(listed, dict) and listed:
        items = [(str(k), v) for k, v in listed.items()]
    else:
        items = _label_aliases(tag) or [
            (name, path)
            for name, path in contentsapi.tag_executables(tag).items()
            if path.rpartition("/")[0] in ADDED_FOLDERS
        ]
    if len(items) > MAX_ALIASES:
        refused.append(f"{len(items) - MAX_ALIASES} aliases beyond the first {MAX_ALIASES}")
        items = items[:MAX_ALIASES]
    for name, path in items:
        if not isinstance(path, str) or not ALIAS_PATH_RE.fullmatch(path):
            refused.append(f"alias {name!r}: {path!r} is not an absolute path of plain characters")
        elif not ALIAS_NAME_RE.fullmatch(name):
            refused.append(f"alias {name!r}: not a plain command name")
        else:
            found[name] = path
    return dict(sorted(found.items())), refused


def _label_aliases(tag: Tag) -> list[tuple[str, Any]]:
    """``name=/path`` (or ``/path``, named after its last part) items of the
    image's aliases label."""
    block = tag.sif
    labels = dict(block.labels) if block is not None else {}
    text = labels.get(ALIASES_LABEL, "")
    items: list[tuple[str, Any]] = []
    for item in re.split(r"[\s,]+", text.strip()):
        if not item:
            continue
        name, sep, path = item.partition("=")
        items.append((name, path) if sep else (item.rsplit("/", 1)[-1], item))
    return items


def maintainer(ns: Namespace) -> str:
    """The module's maintainer: ``shpc: {maintainer: ...}`` in the collection's
    front matter, else the namespace's GitHub organization (``@acme``)."""
    block = ns.extra.get(FRONT_MATTER_KEY)
    value = block.get("maintainer") if isinstance(block, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else f"@{ns.org}"


def namespace_module(ns: Namespace, site: str) -> Module:
    """The module of *ns* (before names are compared across namespaces)."""
    left: list[LeftOut] = []
    pullable: list[tuple[Tag, names.OrasReference, str]] = []
    for tag in ns.tags:
        ref, digest, why = _pullable(tag)
        if ref is None:
            left.append(LeftOut(tag.name, why))
        else:
            pullable.append((tag, ref, digest))
    if not pullable:
        return Module(ns, left_out=tuple(left), problem="no tag shpc can pull")
    # latest: the page's example tag when shpc can pull it, else by the same rule
    # among those it can (never a deprecated tag while another exists)
    first = default_tag(ns)
    if not any(p[0] is first for p in pullable):
        first = default_tag(dataclasses.replace(ns, tags=tuple(p[0] for p in pullable)))
    chosen = next(p for p in pullable if p[0] is first)
    repository = f"{chosen[1].host}/{chosen[1].name}"
    tags: dict[str, str] = {}
    for tag, ref, digest in pullable:
        if f"{ref.host}/{ref.name}" != repository:
            left.append(
                LeftOut(
                    tag.name,
                    f"is kept in {ref.host}/{ref.name}, not in {repository}: shpc pulls "
                    "every tag of a module from one repository",
                )
            )
        else:
            tags[tag.name] = digest
    aliases, refused = executables(ns, chosen[0])
    config: dict[str, Any] = {
        "description": ns.description or f"The {ns.name} container",
        "maintainer": maintainer(ns),
    }
    if site:
        config["url"] = f"{site}{ns.name}/"
    config["latest"] = {chosen[0].name: tags[chosen[0].name]}
    config["tags"] = tags
    config["oras"] = repository
    if aliases:
        config["aliases"] = aliases
    left.extend(LeftOut("", why) for why in refused)
    order = {t.name: i for i, t in enumerate(ns.tags)}
    left.sort(key=lambda item: (order.get(item.tag, -1), item.reason))
    return Module(ns, module_name(repository), config, tuple(left))


def module_name(repository: str) -> str:
    """The module name of images in *repository* (``host[:port]/name``): the
    repository, a port's colon made a ``/`` (shpc takes what follows a colon for a
    tag, and makes a folder of each part of ``<oras>:<tag>`` when it installs), so
    ``shpc install <name>:<tag>`` and ``module load <name>/<tag>`` agree."""
    return repository.replace(":", "/")


def modules(registry: Registry, site: str) -> list[Module]:
    """The module of every namespace, in name order; a namespace whose images
    are in a repository another namespace's module already has gets none. (Made
    once for a registry and site: the build's files, messages and pages ask.)"""
    if _modules_cache.get("registry") is not registry or _modules_cache.get("site") != site:
        found = _modules(registry, site)
        _modules_cache.clear()
        _modules_cache.update(
            registry=registry,
            site=site,
            found=found,
            by_name={m.namespace.name: m for m in found},
        )
    found_before: list[Module] = _modules_cache["found"]
    return list(found_before)


def _modules(registry: Registry, site: str) -> list[Module]:
    found: list[Module] = []
    owners: dict[str, str] = {}
    for ns in sorted(registry.namespaces, key=lambda n: n.name):
        module = namespace_module(ns, site)
        if module.name and module.name in owners:
            module = Module(
                ns,
                left_out=module.left_out,
                problem=f"its images are in {module.repository}, the module of "
                f"{owners[module.name]}",
            )
        elif module.name:
            owners[module.name] = ns.name
        found.append(module)
    return found


def config_path(ns: Namespace) -> str:
    """Where a namespace's ``container.yaml`` is published."""
    return f"{ns.name}/{CONFIG_FILE}"


def config_yaml(config: dict[str, Any]) -> bytes:
    """A ``container.yaml``: keys in shpc's usual order, every string in double
    quotes (JSON's escapes, ASCII only), as shpc reads it as YAML 1.2 (ruamel),
    where ``1e3`` or ``0o17`` unquoted would be numbers, not tag names. (Its shape
    is fixed: strings, and mappings of strings.)"""
    lines = []
    for key, value in config.items():
        if isinstance(value, dict):
            lines.append(f"{key}:" if value else f"{key}: {{}}")
            lines.extend(f"  {_quoted(k)}: {_quoted(v)}" for k, v in value.items())
        else:
            lines.append(f"{key}: {_quoted(value)}")
    return ("\n".join(lines) + "\n").encode("ascii")


def _quoted(value: object) -> str:
    return json.dumps(str(value))


def library_body(found: list[Module], site: str) -> dict[str, Any]:
    """``library.json``: module name -> entry, as shpc's own registry publishes it
    (the fields it shows, and ``config`` and ``config_url``, which it reads)."""
    body: dict[str, Any] = {}
    for module in found:
        if not module.name:
            continue
        config = module.config
        entry: dict[str, Any] = {
            "name": module.name,
            "url": config.get("url", ""),
            "latest": config["latest"],
            "maintainer": config["maintainer"],
            "description": config["description"],
            "config_url": f"{site}{config_path(module.namespace)}",
        }
        if "aliases" in config:
            entry["aliases"] = config["aliases"]
        entry["tags"] = config["tags"]
        entry["config"] = config
        body[module.name] = entry
    return dict(sorted(body.items()))


def archive(configs: dict[str, bytes]) -> bytes:
    """The filesystem registry, ``shpc-registry/<module>/container.yaml``, from
    each module's ``container.yaml`` (by module name), as a tar.gz whose bytes
    depend on those only (no times, owners or order)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(_member(ARCHIVE_FOLDER, tarfile.DIRTYPE, 0o755))
        for name, data in sorted(configs.items()):  # tar makes the folders between
            tar.addfile(
                _member(
                    f"{ARCHIVE_FOLDER}/{name}/{CONFIG_FILE}", tarfile.REGTYPE, 0o644, len(data)
                ),
                io.BytesIO(data),
            )
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def _member(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = 0
    info.uname = info.gname = "root"
    return info


def files(registry: Registry, site: str) -> Iterator[tuple[str, bytes]]:
    """Every file published for shpc: ``library.json``, each module's
    ``<org>/<repo>/container.yaml``, the archive and its ``sha256sum -c`` line."""
    found = modules(registry, site)
    body = json.dumps(library_body(found, site), indent=2, ensure_ascii=False) + "\n"
    yield LIBRARY_PATH, body.encode("utf-8")
    configs: dict[str, bytes] = {}
    for module in found:
        if module.name:
            configs[module.name] = config_yaml(module.config)
            yield config_path(module.namespace), configs[module.name]
    packed = archive(configs)
    yield ARCHIVE_PATH, packed
    line = f"{hashlib.sha256(packed).hexdigest()}  {ARCHIVE_PATH.rsplit('/', 1)[-1]}\n"
    yield ARCHIVE_SUMS_PATH, line.encode()


def left_out_text(left: tuple[LeftOut, ...]) -> str:
    """The tags left out, those left out for one reason together:
    ``1.0, 1.1 have a plain download URL: ...; 2.0 is kept in ...``."""
    by_reason: dict[str, list[str]] = {}
    for item in left:
        by_reason.setdefault(item.reason, []).append(item.tag)
    parts = []
    for reason, tags in by_reason.items():
        named = ", ".join(t for t in tags if t)
        if not named:
            parts.append(reason)
        elif len(tags) > 1:  # "has ..." / "is ..." of one tag, said of several
            verb, _, rest = reason.partition(" ")
            plural = {"has": "have", "is": "are"}.get(verb, verb)
            parts.append(f"{named} {plural} {rest}")
        else:
            parts.append(f"{named} {reason}")
    return "; ".join(parts)


def build_messages(found: list[Module]) -> list[str]:
    """What the admin is told at build time: each namespace with images in an
    OCI registry whose tags (or whole module) are left out, with the reasons;
    namespaces of plain download URLs only are counted in one line."""
    messages: list[str] = []
    plain: list[str] = []
    for module in found:
        if not module.left_out and not module.problem:
            continue
        if not module.name and all(item.reason == NOT_ORAS for item in module.left_out):
            plain.append(module.namespace.name)
            continue
        reasons = left_out_text(module.left_out)
        if module.name:
            messages.append(f"{module.namespace.name}: left out of module {module.name}: {reasons}")
        else:
            messages.append(
                f"{module.namespace.name}: no shpc module ({module.problem})"
                + (f": {reasons}" if reasons else "")
            )
    if plain:
        shown = ", ".join(plain[:5]) + (f" and {len(plain) - 5} more" if len(plain) > 5 else "")
        messages.append(
            f"{len(plain)} namespace(s) have only plain download URLs, which shpc cannot "
            f"pull, and no shpc module: {shown}"
        )
    return messages


def module_of(registry: Registry, ns: Namespace, site: str) -> Module:
    """The module of *ns* as :func:`modules` decides it (the registry's modules
    are made once, then kept for the other namespaces' pages)."""
    modules(registry, site)
    found: Module | None = _modules_cache["by_name"].get(ns.name)
    return found if found is not None else namespace_module(ns, site)


def usage(module: Module, site: str) -> tuple[str, tuple[str, ...], str]:
    """The "Cluster module" usage of a namespace: (what to do, command lines,
    a note on the tags left out), or why there is no module (when every tag
    is left out for one reason, that reason, said once rather than of each tag)."""
    left = left_out_text(module.left_out)
    reasons = {item.reason for item in module.left_out}
    every = len(module.left_out) == len(module.namespace.tags) > 1 and len(reasons) == 1
    if not module.name and every:
        return f"No cluster module (shpc): every tag {reasons.pop()}.", (), ""
    if not module.name:
        return f"No cluster module (shpc): {module.problem}.", (), left
    shown = default_tag(module.namespace)
    tag = shown.name if shown is not None and shown.name in module.config["tags"] else ""
    tag = tag or next(iter(module.config["latest"]))
    lines, how = clients.shpc_commands(site, module.name, tag, ARCHIVE_PATH, ARCHIVE_FOLDER)
    intro = (
        f"Install {tag} as an Lmod module with shpc (Singularity Registry HPC) and load it. {how}:"
    )
    return intro, lines, ("Not in the module: " + left) if left else ""
