"""The organization's trusted signing keys on the site.

* ``orgreg_keys`` names the folder of ASCII-armored OpenPGP public keys (default:
  ``_keys/`` in the manifest tree). They are read once per build, at
  builder-inited, through :func:`orgreg_sphinx.core.keys.load_keys`; each file
  left out is a warning naming it.
* Each key is published at ``api/keys/<FINGERPRINT>.asc`` with the list
  ``api/keys.json`` (:func:`orgreg_sphinx.core.keys.published_files`, written by
  :mod:`.publish`).
* A generated page, ``api/keys/`` (docname :data:`KEYS_DOCNAME`), shows each
  key (name, fingerprint, key id, creation date, download link, import commands,
  the tags it signed); it exists when there are keys or signed tags.
* Pages showing a signature record the signer's fingerprint
  (:class:`.shown.Kind` ``KEY``): adding or removing that key re-reads exactly
  those pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..core import clients
from ..core.files import write_if_changed
from ..core.keys import TrustedKey, load_keys, published_path
from ..core.model import Namespace, Registry, Tag, printable
from ..core.sifblock import group_fingerprint, signature_state
from . import config as cfg
from . import internals
from .details import DetailsContext, command_block, field_list
from .domain import domain_of, registry
from .listing import doc_link, site_link
from .pages import STUB_FOLDER, STUB_SUFFIX, display_path
from .shown import Kind, ShownData

logger = logging.getLogger(__name__)

#: the generated page of the trusted keys, beside the published key files
KEYS_DOCNAME = "api/keys/index"
#: the trusted keys as last read (a file in the doctree folder): GnuPG runs only
#: when a key file was added, removed or changed
KEYS_CACHE = "orgreg-keys.pickle"
KEYS_TITLE = "Signing keys"
DIRECTIVE = "orgreg-keys"
STUB = f"{KEYS_TITLE}\n{'=' * len(KEYS_TITLE)}\n\n.. {DIRECTIVE}::\n"


def signed_tags(found: Registry) -> list[tuple[Namespace, Tag]]:
    """The tags whose manifests record a signature with a valid fingerprint."""
    return [
        (ns, tag)
        for ns in found.namespaces
        for tag in ns.tags
        if tag.sif is not None and tag.sif.signers
    ]


def load(app: Sphinx) -> None:
    """builder-inited (after the namespace pages): read the trusted keys, warn
    about each file left out, and add the keys page when there is something to show."""
    domain = domain_of(app.env)
    folder = cfg.keys_folder(app.srcdir, app.config)
    keys, problems = load_keys(folder, cache=Path(app.doctreedir) / KEYS_CACHE)
    for problem in problems:
        where = printable(display_path(problem.path))
        logger.warning(
            "%s %s [keys]", where, problem.message, type="orgreg", subtype="keys", location=where
        )
    domain.trusted_keys = {key.fingerprint: key for key in keys}
    domain.keys_page = ""
    if not app.config.orgreg_namespace_pages:
        return
    if not keys and not signed_tags(registry(app.env)):
        return
    stub = Path(app.doctreedir) / STUB_FOLDER / "api" / "keys" / f"index{STUB_SUFFIX}"
    write_if_changed(stub, STUB.encode())
    generated = dict(internals.generated_pages(app))
    if KEYS_DOCNAME in generated:  # a namespace api/keys is refused by the model
        return
    generated[KEYS_DOCNAME] = stub
    if internals.install_project(app, generated):
        domain.keys_page = KEYS_DOCNAME


def details_context(app_env: Any, refdoc: str) -> DetailsContext:
    """What the details column needs on page *refdoc*."""
    domain = domain_of(app_env)
    return DetailsContext(
        keys=domain.trusted_keys,
        site=cfg.site_url(app_env.config),
        refdoc=refdoc,
        keys_page=domain.keys_page,
    )


def note_signers(app_env: Any, docname: str, tags: list[Tag]) -> None:
    """Record that *docname* shows the signatures of *tags* (their signers' trust)."""
    domain = domain_of(app_env)
    for fingerprint in sorted({f for t in tags if t.sif for f in t.sif.signers}):
        domain.note_shown(docname, ShownData(Kind.KEY, fingerprint))


def home_link(app_env: Any, refdoc: str) -> list[nodes.Node]:
    """The line under the home listing that links to the keys page (none without
    trusted keys). Records what it shows."""
    domain = domain_of(app_env)
    domain.note_shown(refdoc, ShownData(Kind.KEYS, ""))
    count = len(domain.trusted_keys)
    if not count or not domain.keys_page:
        return []
    para = nodes.paragraph(classes=["orgreg-keys-link"])
    para += nodes.Text("Images are signed with ")
    label = f"{count} trusted signing key" + ("" if count == 1 else "s")
    para += doc_link(domain.keys_page, label, refdoc)
    para += nodes.Text(" of this organization.")
    return [para]


def _date(seconds: int) -> str:
    if seconds <= 0:
        return "unknown"
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d")


def _tag_links(
    signed: list[tuple[Namespace, Tag]], docname: str, trusted: Mapping[str, TrustedKey]
) -> nodes.bullet_list:
    items = nodes.bullet_list(classes=["orgreg-signed-tags"])
    for ns, tag in signed:
        item = nodes.list_item()
        name = f"{ns.name}:{tag.name}"
        state = signature_state(tag.sif, trusted)
        item += nodes.paragraph(
            "",
            "",
            doc_link(
                ns.docname,
                name,
                docname,
                anchor=f"tag-{tag.name}",
                content=nodes.literal(name, name),
            ),
            nodes.Text(f" ({state.summary})"),
        )
        items += item
    return items


def key_section(
    key: TrustedKey,
    signed: list[tuple[Namespace, Tag]],
    site: str,
    docname: str,
    trusted: Mapping[str, TrustedKey],
) -> nodes.section:
    """One trusted key: who, fingerprint, key id, created, file, commands, tags."""
    title = key.name or key.fingerprint
    section = nodes.section(
        ids=[f"key-{key.slug}"],
        names=[nodes.fully_normalize_name(f"key {key.fingerprint}")],
        classes=["orgreg-key"],
    )
    section += nodes.title(title, title)
    link = site_link(key.file_name, key.file_name, target=published_path(key.fingerprint, key.kind))
    if key.is_openpgp:
        section += field_list(
            [
                ("Kind", nodes.Text(key.kind_text)),
                (
                    "Fingerprint",
                    nodes.literal(
                        text=group_fingerprint(key.fingerprint), classes=["orgreg-fingerprint"]
                    ),
                ),
                (
                    "Key id",
                    nodes.paragraph(
                        "",
                        "",
                        nodes.literal(text=key.keyid),
                        nodes.Text(" (short "),
                        nodes.literal(text=key.keyid[-8:]),
                        nodes.Text(")"),
                    ),
                ),
                ("Created", nodes.Text(_date(key.created))),
                ("Public key", link),
            ]
        )
        section += nodes.paragraph(
            text="Import it into Apptainer's, Singularity's or GnuPG's keyring:"
        )
        section += command_block(clients.import_commands(site, key.fingerprint))
    else:
        facts: list[tuple[str, nodes.Node]] = [
            ("Kind", nodes.Text(key.kind_text)),
            (
                "Fingerprint",
                nodes.literal(text=key.fingerprint, classes=["orgreg-fingerprint"]),
            ),
        ]
        if key.subject:
            facts += [
                ("Subject", nodes.Text(key.subject)),
                ("Issuer", nodes.Text(key.issuer)),
                ("Valid", nodes.Text(f"{_date(key.not_before)} to {_date(key.not_after)}")),
                (
                    "Certificate SHA-256",
                    nodes.literal(text=key.certificate_fingerprint, classes=["orgreg-fingerprint"]),
                ),
            ]
        facts.append(("Certificate" if key.subject else "Public key", link))
        section += field_list(facts)
        if key.kind in ("pem", "certificate"):
            section += nodes.paragraph(text="Verify a downloaded image with it:")
            commands = clients.x509_verify_commands(site, key, "IMAGE.sif", trusted)
            section += command_block([*commands["apptainer"], *commands["singularity"]])
        else:
            section += nodes.paragraph(
                text="A certificate authority: signing certificates whose chain reaches it "
                "sign this registry's images."
            )
    mine = [
        (ns, tag) for ns, tag in signed if key.fingerprint in (tag.sif.signers if tag.sif else [])
    ]
    if mine:
        section += nodes.paragraph(text=f"Signed tags ({len(mine)}):")
        section += _tag_links(mine, docname, trusted)
    else:
        section += nodes.paragraph(text="No tag of this registry records a signature by this key.")
    return section


class KeysDirective(SphinxDirective):
    """The keys page's content (the generated page's only directive)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        docname = self.env.docname
        domain = domain_of(self.env)
        domain.note_shown(docname, ShownData(Kind.KEYS, "signed"))
        domain.note_shown(docname, ShownData(Kind.SITE))
        site = cfg.site_url(self.config)
        signed = signed_tags(domain.registry)
        keys = list(domain.trusted_keys.values())
        out: list[nodes.Node] = [
            nodes.paragraph(
                text=(
                    "The public keys this organization signs its images with: OpenPGP keys, "
                    "PEM public keys and X.509 certificates (with the certificate "
                    "authorities their chains reach). The registry repository keeps them "
                    "(one file per key) "
                    "and this site publishes each one beside this page, so nobody needs a "
                    "keyserver. A tag's details show who signed its image as the manifest "
                    "records it: that is a claim, not a proof. Pull requests are checked "
                    "with 'orgreg check --verify-signatures'; check an image you downloaded "
                    "yourself with 'apptainer verify' (or 'singularity verify') after "
                    "importing the key."
                )
            )
        ]
        if not keys:
            out.append(nodes.paragraph(text="This registry has no trusted keys yet."))
        for key in keys:
            out.append(key_section(key, signed, site, docname, domain.trusted_keys))
        unknown: dict[str, list[tuple[Namespace, Tag]]] = {}
        for ns, tag in signed:
            for fingerprint in tag.sif.signers if tag.sif else []:
                if fingerprint not in domain.trusted_keys:
                    unknown.setdefault(fingerprint, []).append((ns, tag))
        if unknown:
            section = nodes.section(ids=["other-signers"], names=["other signers"])
            section += nodes.title("Signers not in this registry", "Signers not in this registry")
            section += nodes.paragraph(
                text=(
                    "Tags signed by keys this registry does not publish. If a key is the "
                    "organization's, add its public half to the keys folder."
                )
            )
            for fingerprint, tags in sorted(unknown.items()):
                section += nodes.paragraph(
                    "",
                    "",
                    nodes.literal(
                        text=fingerprint
                        if fingerprint.startswith("SHA256:")
                        else group_fingerprint(fingerprint),
                        classes=["orgreg-fingerprint"],
                    ),
                )
                section += _tag_links(tags, docname, domain.trusted_keys)
            out.append(section)
        box = nodes.container(classes=["orgreg", "orgreg-keys-page"], support_smartquotes=False)
        box.extend(out)
        return [box]


def keys_page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """The keys page is generated but belongs to no namespace: no manifests link."""
    if pagename == KEYS_DOCNAME and pagename in internals.generated_pages(app):
        context.pop("orgreg_namespace", None)
        context.pop("orgreg_manifests_url", None)


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", load, priority=600)
    app.add_directive(DIRECTIVE, KeysDirective)
    app.connect("html-page-context", keys_page_context, priority=600)
