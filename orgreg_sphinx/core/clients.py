"""The commands real container clients use to pull from the static registry.

Pure functions (no Sphinx): from the site's URL and a tag, the exact command
line of each client, or why the client cannot name that image. The rules are
those the clients check before they make a request. :func:`usage_tabs` gives
the whole text of a namespace page's usage examples (the extension lays it out).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import names
from .keys import published_path
from .model import Namespace, Tag
from .selection import default_tag as default_tag  # the rule lives in selection
from .trusted import TrustedKey

PLACEHOLDER_HOST = "<your-registry-site>"


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
    problem = names.shub_host_problem(registry) if host != PLACEHOLDER_HOST else None
    problem = problem or names.shub_name_problem(ns.org, ns.repo, tag.name)
    if problem:
        return Reference(problem=problem)
    return Reference(f"shub://{registry}/{ns.org}/{ns.repo}:{tag.name}")


def sregistry_base(site: str) -> str:
    """``SREGISTRY_REGISTRY_BASE``: the site URL without its final slash."""
    scheme, host, prefix = site_parts(site)
    return f"{scheme}://{host}/{prefix}" if prefix else f"{scheme}://{host}"


def sregistry_reference(ns: Namespace, tag: Tag) -> Reference:
    """The name for ``sregistry pull`` (which lower-cases it before asking), or
    why sregistry 0.2 would ask for another image."""
    problem = names.sregistry_name_problem(ns.org, ns.repo, tag.name)
    if problem:
        return Reference(problem=problem)
    return Reference(names.folded(f"{ns.org}/{ns.repo}:{tag.name}"))


def oci_reference(site: str, ns: Namespace) -> Reference:
    """``<host>/<org>/<repo>`` for skopeo and crane; only for a site at a host root."""
    _, host, prefix = site_parts(site)
    if prefix:
        return Reference(
            problem="OCI clients look for /v2/ at the root of the host; "
            f"this site is below it (/{prefix}/)"
        )
    problem = names.oci_repository_problem(ns.org, ns.repo)
    if problem:
        return Reference(problem=problem)
    return Reference(f"{host}/{names.folded(ns.org)}/{names.folded(ns.repo)}")


#: why the static registry's own clients cannot fetch an image kept in an OCI registry
ORAS_NOT_SHUB = (
    "shub:// cannot serve it: its answer must name a plain download URL, "
    "and an OCI registry hands out the blob only after its token exchange"
)
ORAS_NOT_SREGISTRY = "sregistry reads the same answer as shub:// and needs a plain download URL"
ORAS_NOT_CURL = (
    "curl cannot fetch it: an OCI registry serves the image as a blob after "
    "a token exchange, not at a download URL"
)


def saved_name(ns: Namespace, tag: Tag) -> str:
    """The file name the page's download and pull commands save: ``<repo>_<tag>.sif``
    (what ``apptainer pull`` names a pulled image)."""
    return f"{ns.repo}_{tag.name}.sif"


def sregistry_pull(ns: Namespace, tag: Tag, name: str) -> str:
    """``sregistry pull`` of *name* saved as :func:`saved_name`: without ``--name``
    sregistry saves ``<org>-<repo>:<tag>.sif``, which the page's checksum line
    (``SHA256SUMS``) does not name."""
    return f"sregistry pull --name {saved_name(ns, tag)} {name}"


def oras_reference(tag: Tag) -> Reference:
    """The ``oras://`` reference Apptainer and Singularity pull *tag* from, as the
    manifest writes it (pinned when it names a digest), or why there is none."""
    if not tag.is_oras:
        return Reference(problem="the image has a plain download URL, not an oras:// one")
    url = tag.layers[0].url
    problem = names.oras_problem(url)
    return Reference(problem=problem) if problem else Reference(url)


def checksum_check(site: str, ns: Namespace) -> str:
    """The one line that checks downloaded images of *ns* against its ``SHA256SUMS``."""
    scheme, host, prefix = site_parts(site)
    base = f"{scheme}://{host}/{prefix}/" if prefix else f"{scheme}://{host}/"
    return f"curl -sSL {base}{ns.name}/SHA256SUMS | sha256sum -c --ignore-missing"


def key_url(site: str, fingerprint: str, kind: str = "openpgp") -> str:
    """The address of a trusted key the site publishes (``api/keys/<FPR>.asc``, or
    ``api/keys/<slug>.pem`` for a PEM key or certificate); with the placeholder host
    when the site's address is unknown."""
    return (site or f"https://{PLACEHOLDER_HOST}/") + published_path(fingerprint, kind)


def x509_verify_commands(
    site: str, key: TrustedKey, image: str, authorities: Mapping[str, TrustedKey]
) -> dict[str, tuple[str, ...]]:
    """The commands that fetch a PEM key (or a signing certificate and its chain's
    CA certificates) from the site and verify the downloaded *image* with it, per
    client: ``verify --key KEY.pem``, or ``verify --certificate LEAF.pem
    --certificate-roots ROOT.pem [--certificate-intermediates CA.pem]``."""
    files = [key_url(site, key.fingerprint, key.kind)]
    if key.kind == "pem":
        options = f"--key {key.file_name}"
    else:
        chain = [authorities[f] for f in key.chain if f in authorities]
        roots = [c for c in chain if c.subject == c.issuer]
        middle = [c for c in chain if c.subject != c.issuer]
        files += [key_url(site, c.fingerprint, c.kind) for c in (*middle, *roots)]
        options = f"--certificate {key.file_name}"
        if middle:
            options += " --certificate-intermediates " + middle[0].file_name
        if roots:
            options += " --certificate-roots " + roots[0].file_name
    fetch = "curl -fsSL " + " ".join(f"-O {url}" for url in files)
    return {
        client: (f"{fetch} && {client} verify {options} {image}",)
        for client in ("apptainer", "singularity")
    }


def verify_commands(
    site: str, fingerprint: str, image: str, options: tuple[str, ...] = ()
) -> dict[str, tuple[str, ...]]:
    """The commands that fetch the key *fingerprint* from the site, import it and
    verify the downloaded *image* file (with the verify *options*, such as
    ``--legacy-insecure``), per client (``apptainer``, ``singularity``)."""
    fetch = f"curl -fsSLO {key_url(site, fingerprint)}"
    verify = " ".join(("verify", *options, image))
    return {
        client: (f"{fetch} && {client} key import {fingerprint}.asc && {client} {verify}",)
        for client in ("apptainer", "singularity")
    }


def import_commands(site: str, fingerprint: str) -> tuple[str, ...]:
    """The commands that fetch the key *fingerprint* from the site and import it
    into Apptainer's, Singularity's and GnuPG's keyrings."""
    return (
        f"curl -fsSLO {key_url(site, fingerprint)}",
        f"apptainer key import {fingerprint}.asc",
        f"singularity key import {fingerprint}.asc",
        f"gpg --import {fingerprint}.asc",
    )


PLACEHOLDER_SITE = "https://<your-registry-site>/"


@dataclass(frozen=True)
class UsageTab:
    """One client's way to use a namespace: a label, a sentence, command lines."""

    key: str
    label: str
    intro: str
    lines: tuple[str, ...]
    #: shown under the commands (what they leave out)
    note: str = ""
    #: the intro says why the commands are as they are (a limit, a way round it),
    #: so a tag's view shows it too; other intros only say what the commands do
    explains: bool = False


def usage_tabs(
    ns: Namespace,
    site: str,
    *,
    shub: bool = True,
    oci: bool = False,
    checksums: bool = True,
    cluster: tuple[str, tuple[str, ...], str] | None = None,
) -> list[UsageTab]:
    """The usage examples of a namespace page, one per client. *shub*: the
    ``api/container`` endpoints are published (Singularity, Apptainer,
    sregistry); *oci*: the ``v2/`` layout is (skopeo); *checksums*: the
    ``SHA256SUMS`` files are (the check beside the download command); *cluster*:
    the shpc module's intro, commands and note (:func:`.shpc.usage`)."""
    base = site or PLACEHOLDER_SITE
    tag = default_tag(ns)
    tabs = [] if tag is None else tag_tabs(ns, tag, site, shub=shub, checksums=checksums)
    if oci and tag is not None:
        ref = oci_reference(site, ns)
        if ref.value:
            tabs.append(
                UsageTab(
                    "skopeo",
                    "skopeo",
                    "List the tags and read a manifest with an OCI client (skopeo, or crane):",
                    (
                        f"skopeo list-tags docker://{ref.value}",
                        f"skopeo inspect --raw docker://{ref.value}:{tag.name}",
                    ),
                )
            )
    if cluster is not None and cluster[1]:  # else no module: a note under the tabs
        tabs.append(UsageTab("cluster", "Cluster module", *cluster))
    api_lines = [f"curl -s {base}{ns.name}/tags/"]
    if tag is not None:
        api_lines.append(f"curl -s {base}{ns.name}/manifests/{tag.name}/")
    tabs.append(
        UsageTab(
            "curl", "curl", "List the tags and read a manifest with the JSON API:", tuple(api_lines)
        )
    )
    return tabs


def download_tab(ns: Namespace, tag: Tag, check: tuple[str, ...]) -> UsageTab:
    """``curl`` of *tag*'s image file, saved as :func:`saved_name`, then the
    checksum line *check*."""
    return UsageTab(
        "download",
        "Download",
        "Download the image file"
        + (" and check it against the namespace's SHA256SUMS:" if check else ":"),
        # the URL comes from the tree: quoted, so pasting the line runs only curl
        (f"curl -L -o {saved_name(ns, tag)} {shlex.quote(tag.layers[0].url)}", *check),
    )


def tag_tabs(
    ns: Namespace,
    tag: Tag,
    site: str,
    *,
    shub: bool = True,
    checksums: bool = True,
    environment: bool = True,
) -> list[UsageTab]:
    """Every client's way to get *tag*, each followed by the checksum line that
    fits the file it saves (*checksums*: the ``SHA256SUMS`` files are published):
    an ``oras://`` image's pulls (:func:`oras_tabs`), else the download and
    (*shub*: the ``api/container`` endpoints are published) the pulls of
    :func:`pull_tabs` (*environment*: sregistry's with its
    :func:`sregistry_environment`); nothing for a tag without layers."""
    check = (checksum_check(site, ns),) if checksums else ()
    if tag.is_oras:
        return oras_tabs(ns, tag, check)
    if not tag.layers:
        return []
    pulls = pull_tabs(ns, tag, site, check, environment=environment) if shub else []
    return [download_tab(ns, tag, check), *pulls]


def oras_tabs(ns: Namespace, tag: Tag, check: tuple[str, ...]) -> list[UsageTab]:
    """Apptainer and Singularity pull commands for a *tag* kept in an OCI
    registry (``oras://``), and why the static registry's clients do not apply."""
    ref = oras_reference(tag)
    if not ref.value:
        return [UsageTab("oras", "ORAS", f"No pull command: {ref.problem}.", (), explains=True)]
    tabs = [
        UsageTab(
            key,
            label,
            f"Pull the image from its OCI registry with {label}"
            + (" and check it against the namespace's SHA256SUMS:" if check else ":"),
            (f"{key} pull {saved_name(ns, tag)} {shlex.quote(ref.value)}", *check),
        )
        for key, label in (("apptainer", "Apptainer"), ("singularity", "Singularity"))
    ]
    tabs.append(
        UsageTab(
            "oras-other",
            "Other clients",
            "This image is kept in an OCI registry (oras://): "
            f"{ORAS_NOT_SHUB}; {ORAS_NOT_SREGISTRY}; {ORAS_NOT_CURL}. "
            "An ORAS client (oras pull) fetches the same blob:",
            (f"oras pull {shlex.quote(ref.value.removeprefix('oras://'))}",),
            explains=True,
        )
    )
    return tabs


def sregistry_pulls(ns: Namespace, tag: Tag) -> bool:
    """Whether :func:`pull_tabs` gives an sregistry pull of *tag* (a plain
    download URL and a name sregistry asks for as it is)."""
    return bool(tag.layers) and not tag.is_oras and bool(sregistry_reference(ns, tag).value)


def sregistry_environment(site: str) -> tuple[str, str]:
    """The two lines that point sregistry at this site (its ``registry`` client)."""
    return (
        "export SREGISTRY_CLIENT=registry",
        f"export SREGISTRY_REGISTRY_BASE={sregistry_base(site)}",
    )


def pull_tabs(
    ns: Namespace,
    tag: Tag,
    site: str,
    check: tuple[str, ...] = (),
    *,
    environment: bool = True,
) -> list[UsageTab]:
    """Singularity, Apptainer and sregistry pull commands for *tag* (sregistry's
    after its :func:`sregistry_environment` unless not *environment*, where a
    page shows it once, and followed by the checksum line *check*, which names
    the file it saves)."""
    tabs = []
    ref = shub_reference(site, ns, tag)
    for key, label in (("singularity", "Singularity"), ("apptainer", "Apptainer")):
        if ref.value:
            intro = f"Pull the image with {label}:"
            lines = (f"{key} pull {ref.value}",)
        else:
            intro = f"Not with shub:// here ({ref.problem}); pull the file by its URL:"
            lines = (f"{key} pull {ns.repo}_{tag.name}.sif {shlex.quote(tag.layers[0].url)}",)
        tabs.append(UsageTab(key, label, intro, lines, explains=not ref.value))
    name = sregistry_reference(ns, tag)
    if name.value:
        tabs.append(
            UsageTab(
                "sregistry",
                "sregistry",
                'Pull with sregistry (pip install "sregistry[registry-basic]")'
                + (" and check it against the namespace's SHA256SUMS:" if check else ":"),
                (
                    *(sregistry_environment(site) if environment else ()),
                    sregistry_pull(ns, tag, name.value),
                    *check,
                ),
            )
        )
    return tabs


# ---------------------------------------------------------------- shpc and Lmod

#: the hosts of GitHub and GitLab Pages, from whose project sites shpc reads
#: ``library.json``, and the forge shpc is then given
PAGES_FORGES = {"github.io": "github.com", "gitlab.io": "gitlab.com"}


def shpc_registry_source(site: str) -> Reference:
    """What ``shpc config add registry`` takes to read this site as a remote
    registry: shpc reads ``https://ORG.github.io/REPO/library.json`` for
    ``https://github.com/ORG/REPO`` (``gitlab.io`` for GitLab), and nothing else."""
    scheme, host, prefix = site_parts(site)
    owner, _, pages = host.partition(".")
    forge = PAGES_FORGES.get(pages.lower())
    if scheme != "https" or forge is None or not prefix or "/" in prefix or not owner:
        return Reference(
            problem="shpc reads a remote registry only from a GitHub or GitLab Pages project "
            "site (https://ORG.github.io/REPO/); use the filesystem registry archive"
        )
    return Reference(f"https://{forge}/{owner}/{prefix}")


def shpc_module(module: str, tag: str) -> str:
    """The name ``module load`` takes for *tag* of the shpc *module* (shpc installs
    it in the folder ``<module>/<tag>``)."""
    return f"{module}/{tag}"


def shpc_archive_commands(site: str, archive: str, folder: str) -> tuple[str, ...]:
    """Fetch the filesystem registry *archive* (a path of the site), check it
    against its ``.sha256`` line, unpack it into *folder* and add it to shpc."""
    scheme, host, prefix = site_parts(site)
    base = f"{scheme}://{host}/{prefix}/" if prefix else f"{scheme}://{host}/"
    name = archive.rsplit("/", 1)[-1]
    return (
        f"curl -fsSLO {base}{archive} -O {base}{archive}.sha256",
        f"sha256sum -c {name}.sha256",
        f"tar -xzf {name}",
        f'shpc config add registry "$PWD/{folder}"',
    )


def shpc_commands(
    site: str, module: str, tag: str, archive: str, folder: str
) -> tuple[tuple[str, ...], str]:
    """The lines that install *tag* of *module* with shpc and load it with Lmod,
    after adding the registry (remote when shpc can read this site, else the
    archive), and what they do first."""
    source = shpc_registry_source(site)
    if source.value:
        first: tuple[str, ...] = (f"shpc config add registry {source.value}",)
        how = "Add this registry to shpc once"
    else:
        first = shpc_archive_commands(site, archive, folder)
        how = "Add this registry to shpc as a folder (shpc reads remote ones only from Pages sites)"
    return (
        *first,
        f"shpc install {module}:{tag}",
        "module use $(shpc config get module_base)",
        f"module load {shpc_module(module, tag)}",
    ), how
