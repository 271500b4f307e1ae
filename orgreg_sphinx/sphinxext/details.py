"""What is inside an image, per tag: a part of the tag's view (:mod:`.tag_view`),
summed up in the ``details`` cell of tag tables.

Built from the manifest's ``sif:`` block (:mod:`orgreg_sphinx.core.sifblock`) as
docutils nodes (every value a text node, escaped by the writer): signatures
with the signer's fingerprint, key ids and whether the registry trusts the key
(with the commands that verify the image), partitions, SBOMs, labels and the
definition file (highlighted by Sphinx with Pygments' Singularity lexer).

A tag table's cell is one line, the signature state's badge, where the tag
has a view to link to; elsewhere (an embedded listing without namespace
pages) it is all of it in a ``<details>`` element, closed: no request and no
script needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from docutils import nodes

from ..core import clients, contents
from ..core.model import Namespace, Tag
from ..core.sifblock import (
    SifBlock,
    Signature,
    SignatureState,
    group_fingerprint,
    signature_state,
)
from ..core.text import plural
from ..core.trusted import TrustedKey, slug
from .highlight import command_lines
from .shared import collapsed, doc_link, fact_list, human_size, para, plain_code, shown_time

#: the Pygments lexer of definition files
DEFINITION_LANGUAGE = "singularity"


@dataclass(frozen=True)
class DetailsContext:
    """What the details of a tag need besides the tag: the registry's trusted
    keys, the site's address (for commands), the page they are shown on and the
    docname of the keys page ('' when there is none)."""

    keys: Mapping[str, TrustedKey] = field(default_factory=dict)
    site: str = ""
    refdoc: str = ""
    keys_page: str = ""


def has_details(tag: Tag) -> bool:
    """True when the tag's manifest records anything of what is inside the image."""
    block = tag.sif
    if tag.contents_file is not None:
        return True
    return block is not None and bool(
        block.partitions
        or block.signatures
        or block.sbom
        or block.definition
        or block.labels
        or block.arch
        or block.id
    )


def _text(text: str) -> nodes.Text:
    return nodes.Text(text)


def _badge(text: str, kind: str) -> nodes.inline:
    return nodes.inline(text, text, classes=["orgreg-badge", f"orgreg-badge-{kind}"])


def summary_text(block: SifBlock, keys: Mapping[str, TrustedKey]) -> str:
    """The one line shown while the details are closed."""
    parts = [signature_state(block, keys).summary]
    if block.sbom:
        parts.append("SBOM")
    if block.definition:
        parts.append("definition")
    if block.labels:
        parts.append(plural(len(block.labels), "label"))
    return "Inside: " + " · ".join(parts)


def field_list(
    fields: Sequence[tuple[str, nodes.Node | list[nodes.Node]]],
    classes: Sequence[str] = (),
    *,
    lean: bool = False,
) -> nodes.field_list:
    """A field list of (name, value) facts: a value is a node (wrapped in a
    paragraph unless it is one) or a list of body elements. *lean*: a
    :class:`.shared.fact_list` (bare ``<dl>`` in HTML: a tag's view's)."""
    out = (fact_list if lean else nodes.field_list)(classes=["orgreg-facts", *classes])
    for name, body in fields:
        item = nodes.field()
        item += nodes.field_name(name, name)
        value = nodes.field_body()
        if isinstance(body, list):
            value.extend(body)
        else:
            value += body if isinstance(body, nodes.paragraph) else para(body)
        item += value
        out += item
    return out


def _key_link(ctx: DetailsContext, fingerprint: str, text: str) -> nodes.Node:
    if not ctx.keys_page:
        return _text(text)
    return doc_link(ctx.keys_page, text, ctx.refdoc, anchor=f"key-{slug(fingerprint)}")


def signer(
    ns: Namespace,
    tag: Tag,
    fingerprint: str,
    found: list[Signature],
    ctx: DetailsContext,
    state: SignatureState,
) -> list[nodes.Node]:
    """One signer of the image: fingerprint, key ids, trust, and how to verify."""
    out: list[nodes.Node] = []
    key = ctx.keys.get(fingerprint)
    head = para(classes=("orgreg-signer",))
    if key is not None:
        head += _text("Signed by ")
        head += nodes.strong(key.name or fingerprint, key.name or fingerprint)
        head += _text(" ")
        # "trusted" only where the signatures prove all of the image (state.trusted)
        head += _badge(
            *(("trusted key", "trusted") if state.trusted else ("key in this registry", "known"))
        )
    else:
        head += _text("Signed by a key ")
        head += _badge("key not in this registry", "untrusted")
    out.append(head)
    hashes = ", ".join(sorted({f"{s.hash or '?'} ({s.format or '?'})" for s in found}))
    openpgp = not fingerprint.startswith("SHA256:")
    fields: list[tuple[str, nodes.Node]] = [
        ("Fingerprint", plain_code(fingerprint, fingerprint, classes=["orgreg-fingerprint"])),
    ]
    if openpgp:
        fields.append(
            (
                "Key id",
                para(
                    nodes.literal(text=found[0].keyid),
                    _text(" (short "),
                    nodes.literal(text=found[0].short_keyid),
                    _text(")"),
                ),
            )
        )
    if key is not None and not key.is_openpgp:
        fields.append(("Kind", _text(key.kind_text)))
        if key.subject:
            fields.append(("Subject", _text(key.subject)))
            fields.append(("Issuer", _text(key.issuer)))
    fields.append(("Signatures", _text(f"{plural(len(found), 'signature object')}: {hashes}")))
    if key is not None and not openpgp:
        fields.append(("Key", _key_link(ctx, fingerprint, "this registry's copy")))
    elif key is not None:
        fields.append(
            (
                "Key",
                para(
                    _key_link(ctx, fingerprint, "this registry's copy"),
                    _text(f" ({group_fingerprint(fingerprint)})"),
                ),
            )
        )
    out.append(field_list(fields, lean=True))
    image = clients.saved_name(ns, tag)
    if key is not None:
        if openpgp:
            commands = clients.verify_commands(ctx.site, fingerprint, image, state.verify_options)
        else:
            commands = clients.x509_verify_commands(ctx.site, key, image, ctx.keys)
        intro = "Check the signature of the downloaded image with the registry's key:"
        lines = [*commands["apptainer"], *commands["singularity"]]
    elif not openpgp:
        intro = (
            "This registry does not publish this key: get its public key (PEM) from its "
            "owner, then check the signature:"
        )
        lines = [f"{c} verify --key KEY.pem {image}" for c in ("apptainer", "singularity")]
    else:
        intro = (
            "This registry does not publish this key: get it from its owner, or from "
            "a keyserver, then check the signature:"
        )
        verify = " ".join(("verify", *state.verify_options, image))
        lines = [
            f"{c} key pull {fingerprint} && {c} {verify}" for c in ("apptainer", "singularity")
        ]
    out.append(para(_text(intro)))
    out.append(command_lines(lines))
    return out


#: items shown open; a longer list of packages or commands is collapsed
SHOWN_ITEMS = 12


def software_summary(record: dict[str, Any]) -> str:
    """``12 packages, 40 commands`` (what the summary line adds)."""
    found = len(contents.unique_packages(record)), len(contents.executables(record))
    return f"{plural(found[0], 'package')}, {plural(found[1], 'command')}"


def _listed(intro: str, body: nodes.Node, count: int) -> list[nodes.Node]:
    """*body* under the line *intro*; collapsed under it when long."""
    if count <= SHOWN_ITEMS:
        return [para(_text(f"{intro}:")), body]
    box = collapsed(summary=intro, classes=["orgreg-software-list"])
    box += body
    return [box]


def software(record: dict[str, Any]) -> list[nodes.Node]:
    """What the image holds (its contents record): packages and commands."""
    out: list[nodes.Node] = [nodes.rubric("Software", "Software")]
    found = contents.unique_packages(record)
    if found:
        table = nodes.bullet_list(classes=["orgreg-packages"])
        for package in found:
            item = nodes.list_item()
            words = [nodes.literal(text=package["name"])]
            line = para(*words)
            if package.get("version"):
                line += _text(f" {package['version']}")
            if package.get("type"):
                line += _text(" ")
                line += _badge(package["type"], "package")
            item += line
            table += item
        out.extend(_listed(plural(len(found), "package"), table, len(found)))
    commands = contents.executables(record)
    if commands:
        line = para(classes=("orgreg-commands",))
        for index, name in enumerate(commands):
            if index:
                line += _text(" ")
            line += nodes.literal(name, name, classes=["orgreg-command-name"])
        intro = f"{plural(len(commands), 'command')} on the PATH"
        out.extend(_listed(intro, line, len(commands)))
    if not found and not commands:
        out.append(para(_text("No packages or commands found in the image.")))
    if record.get("truncated"):
        out.append(
            para(
                _text("The image holds more than was recorded (reading stopped at its limits)."),
                classes=("orgreg-hint",),
            )
        )
    return out


def _size(size: int | None) -> str:
    return human_size(size) if size is not None else "size unknown"


def inside_summary(tag: Tag, keys: Mapping[str, TrustedKey]) -> str:
    """``Inside: signed (trusted key) · SBOM · 12 packages, 40 commands`` ('' when
    the manifest records nothing of what is inside the image)."""
    block = tag.sif
    record = tag.contents()
    if not has_details(tag) or (block is None and record is None):
        return ""
    summary = summary_text(block, keys) if block is not None else "Inside:"
    if record is not None:
        summary += f" · {software_summary(record)}"
    return summary


#: the signature state's badge in a tag row (the tag's view says all of it)
SHORT_STATES = {
    "trusted": "trusted",
    "legacy": "legacy",
    "partial": "partly signed",
    "unknown-signer": "unknown signer",
    "unsigned": "unsigned",
    "unrecorded": "signed",
}


def state_badge(tag: Tag, keys: Mapping[str, TrustedKey]) -> nodes.Node:
    """The signature state of *tag*'s image in a word or two, as a badge (empty
    text when the manifest records nothing of what is inside the image)."""
    block = tag.sif
    if block is None or not has_details(tag):
        return nodes.Text("")
    if not block.signatures:
        return _badge("unsigned", "state-unsigned")
    state = signature_state(block, keys)
    return _badge(SHORT_STATES.get(state.kind, state.kind), f"state-{state.kind}")


def details_parts(
    ns: Namespace, tag: Tag, ctx: DetailsContext, *, tag_facts: bool = True
) -> list[nodes.Node]:
    """Everything the manifest records of what is inside *tag*'s image: facts,
    software, signatures, SIF objects (nothing when none). *tag_facts*: say the
    image's architecture and when it was made (a tag's view says them with the
    tag's own facts: the tag's are the image's when it records them)."""
    block = tag.sif
    record = tag.contents()
    if not has_details(tag) or (block is None and record is None):
        return []
    out: list[nodes.Node] = []
    if block is not None:
        out.extend(image_facts(block, tag_facts=tag_facts))
    if record is not None:
        out.extend(software(record))
    if block is not None:
        out.extend(signatures_part(ns, tag, block, ctx))
        out.extend(objects_part(block))
    return out


def details_cell(ns: Namespace, tag: Tag, ctx: DetailsContext) -> nodes.Node:
    """The collapsed details of *tag* (empty text when the manifest records none)."""
    summary = inside_summary(tag, ctx.keys)
    if not summary:
        return nodes.Text("")
    box = collapsed(summary=summary, classes=["orgreg-details"])
    box.extend(details_parts(ns, tag, ctx))
    return box


def image_facts(block: SifBlock, *, tag_facts: bool = True) -> list[nodes.Node]:
    """The image's id, and (*tag_facts*) architecture and creation time (none
    recorded: nothing)."""
    facts: list[tuple[str, nodes.Node]] = []
    if block.arch and tag_facts:
        facts.append(("Architecture", plain_code(block.arch, block.arch)))
    if block.id:
        facts.append(("Image id", plain_code(block.id, block.id)))
    if block.created and tag_facts:
        facts.append(("Image created", shown_time(block.created, full=True)))
    return [field_list(facts, lean=True)] if facts else []


def signatures_part(
    ns: Namespace, tag: Tag, block: SifBlock, ctx: DetailsContext
) -> list[nodes.Node]:
    """The image's signature state and each signer with how to verify it, or that
    it is not signed."""
    if not block.signatures:
        return [para(_text("The image is not signed."), classes=("orgreg-unsigned",))]
    state = signature_state(block, ctx.keys)
    out: list[nodes.Node] = [
        nodes.rubric("Signatures", "Signatures"),
        para(
            _badge(state.summary, f"state-{state.kind}"),
            _text(" " + state.explanation),
            classes=("orgreg-signature-state",),
        ),
    ]
    by_signer: dict[str, list[Signature]] = {}
    for sig in block.signatures:
        for signer_id in sig.signer_ids or ("",):
            by_signer.setdefault(signer_id, []).append(sig)
    for fingerprint, found in by_signer.items():
        if not fingerprint:
            out.append(
                para(
                    _text(
                        f"{plural(len(found), 'signature')} whose signer's "
                        "fingerprint the manifest does not give correctly."
                    )
                )
            )
            continue
        out.extend(signer(ns, tag, fingerprint, found, ctx, state))
    out.append(
        para(
            _text(
                "This page shows what the manifest records; only a verification "
                "of the image file proves who signed it."
            ),
            classes=("orgreg-hint",),
        )
    )
    return out


def objects_part(block: SifBlock) -> list[nodes.Node]:
    """The image's SIF objects: partitions, SBOMs, labels, definition file."""
    out: list[nodes.Node] = []
    if block.partitions:
        out.append(nodes.rubric("Partitions", "Partitions"))
        items = nodes.bullet_list(classes=["orgreg-partitions"])
        for part in block.partitions:
            words = [part.fstype or "?", part.role or "?"]
            if part.primary:
                words.append("primary")
            words.extend([part.arch or "?", _size(part.size)])
            item = nodes.list_item()
            item += para(_text(" · ".join(words)))
            items += item
        out.append(items)
    if block.sbom:
        out.append(nodes.rubric("SBOM", "SBOM"))
        items = nodes.bullet_list(classes=["orgreg-sbom"])
        for sbom in block.sbom:
            item = nodes.list_item()
            item += para(_text(f"{sbom.format or 'unknown format'} · {_size(sbom.size)}"))
            items += item
        out.append(items)
    if block.labels:
        out.append(nodes.rubric("Labels", "Labels"))
        out.append(field_list([(key, _text(value)) for key, value in block.labels], lean=True))
    if block.definition:
        out.append(nodes.rubric("Definition file", "Definition file"))
        source = block.definition
        code = nodes.literal_block(source, source, language=DEFINITION_LANGUAGE)
        # highlighted without Sphinx's strict mode: a definition file the lexer
        # does not expect is shown as it is, never a build warning
        code["force"] = True
        code["classes"].append("orgreg-definition")
        out.append(code)
    return out
