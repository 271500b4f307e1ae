"""The organization's trusted signing keys on the site.

* ``orgreg_keys`` names the folder of ASCII-armored OpenPGP public keys (default:
  ``_keys/`` in the manifest tree). They are read once per build, at
  builder-inited, by :mod:`.loader`; each file left out is a warning naming it.
* Each key is published at ``api/keys/<FINGERPRINT>.asc`` with the list
  ``api/keys.json`` (:func:`orgreg_sphinx.core.keys.published_files`, written by
  :mod:`.publish`).
* A generated page, ``api/keys/`` (docname :data:`.stubs.KEYS_DOCNAME`), shows each
  key (name, fingerprint, key id, creation date, download link, import commands,
  the tags it signed); it exists when there are keys or signed tags.
* Pages showing a signature record the signer's fingerprint
  (:class:`.stamps.Kind` ``KEY``): adding or removing that key re-reads exactly
  those pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from ..core import clients
from ..core.keys import published_path
from ..core.model import Namespace, Registry, Tag
from ..core.sifblock import group_fingerprint, signature_state
from ..core.text import plural
from ..core.trusted import TrustedKey
from . import internals
from .config import settings_of
from .details import DetailsContext, field_list
from .domain import domain_of
from .highlight import command_lines
from .shared import doc_link, site_link
from .stamps import Kind, ShownData
from .stubs import KEYS_DOCNAME, namespace_docname

logger = logging.getLogger(__name__)


def signed_tags(found: Registry) -> list[tuple[Namespace, Tag]]:
    """The tags whose manifests record a signature with a valid fingerprint."""
    return [
        (ns, tag)
        for ns in found.namespaces
        for tag in ns.tags
        if tag.sif is not None and tag.sif.signers
    ]


def details_context(app_env: Any, refdoc: str) -> DetailsContext:
    """What the details column needs on page *refdoc*."""
    domain = domain_of(app_env)
    return DetailsContext(
        keys=domain.trusted_keys,
        site=settings_of(app_env.config).site_url,
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
    label = plural(count, "trusted signing key")
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
                namespace_docname(ns.name),
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
        section += command_lines(clients.import_commands(site, key.fingerprint))
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
            section += command_lines([*commands["apptainer"], *commands["singularity"]])
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
        site = settings_of(self.config).site_url
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
