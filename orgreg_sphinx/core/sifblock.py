"""What a manifest's ``sif:`` block claims about its image, read defensively.

``orgreg manifest`` writes the block from the image (:func:`.sif.summary`), but
manifests come from other people's CI: every value may be missing, of the wrong
type or hostile. :func:`parse` keeps what has the expected shape and drops the
rest, so pages show only well-formed facts (and escape them anyway). No Sphinx here.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any, Literal

#: an OpenPGP v4 (40 hex digits) or v5/v6 (64) fingerprint
FINGERPRINT_RE = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")
#: the key id of a DSSE signature: the signing key's OpenSSH SHA-256 fingerprint
KEYID_RE = re.compile(r"SHA256:[A-Za-z0-9+/]{43}")
#: short words the block uses (fs types, roles, architectures, hash names, formats)
WORD_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}")
#: most partitions, signatures, SBOMs and labels shown of one image
MAX_ITEMS = 64
#: longest label key or value shown
MAX_LABEL = 1024
#: longest definition file shown (the reader keeps at most 256 KiB)
MAX_DEFINITION = 256 * 1024
#: how the signatures cover the image (``orgreg manifest`` writes it from the
#: image's signature links: :func:`.sif.signature_coverage`)
COVERAGES = ("current", "legacy", "legacy-all", "partial")


@dataclass(frozen=True)
class Partition:
    fstype: str
    role: str
    arch: str
    size: int | None
    primary: bool


@dataclass(frozen=True)
class Signature:
    #: upper-case hex; "" when the manifest's value is not a fingerprint
    fingerprint: str
    hash: str
    #: current, legacy (pre-3.6, SHA-384) or dsse
    format: str
    #: a DSSE signature's key ids (OpenSSH ``SHA256:`` fingerprints of its keys)
    keyids: tuple[str, ...] = ()

    @property
    def signer_ids(self) -> tuple[str, ...]:
        """Who may have made it: the OpenPGP fingerprint, else the DSSE key ids."""
        return (self.fingerprint,) if self.fingerprint else self.keyids

    @property
    def keyid(self) -> str:
        """The long key id: the last 16 hex digits of a v4 fingerprint (the first
        16 of a v5/v6 one)."""
        if len(self.fingerprint) == 64:
            return self.fingerprint[:16]
        return self.fingerprint[-16:]

    @property
    def short_keyid(self) -> str:
        """The short key id (8 hex digits, as older tools print)."""
        return self.keyid[-8:]


@dataclass(frozen=True)
class Sbom:
    format: str
    size: int | None


@dataclass(frozen=True)
class SifBlock:
    """The well-formed part of a ``sif:`` block."""

    arch: str = ""
    id: str = ""
    created: str = ""
    partitions: tuple[Partition, ...] = ()
    signatures: tuple[Signature, ...] = ()
    sbom: tuple[Sbom, ...] = ()
    definition: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    coverage: str = ""
    """One of :data:`COVERAGES`, ``""`` when the manifest does not record it."""

    @property
    def signers(self) -> list[str]:
        """The distinct fingerprints (and DSSE key ids) of its signatures, sorted."""
        return sorted({i for s in self.signatures for i in s.signer_ids})


def group_fingerprint(fingerprint: str) -> str:
    """A fingerprint in groups of four (a double space in the middle), as GnuPG prints it."""
    groups = [fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4)]
    half = len(groups) // 2
    return " ".join(groups[:half]) + "  " + " ".join(groups[half:])


def _word(value: Any) -> str:
    return value if isinstance(value, str) and WORD_RE.fullmatch(value) else ""


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _mappings(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [item for item in value[:MAX_ITEMS] if isinstance(item, dict)]


def _text(value: Any, limit: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return str(value)[:limit]


def parse(value: Any) -> SifBlock | None:
    """The well-formed facts of a manifest's ``sif:`` value; None when it is not
    a mapping (no block, or nothing usable)."""
    if not isinstance(value, dict):
        return None
    partitions = tuple(
        Partition(
            _word(p.get("fstype")),
            _word(p.get("role")),
            _word(p.get("arch")),
            _size(p.get("size")),
            p.get("primary") is True,
        )
        for p in _mappings(value.get("partitions"))
    )
    signatures = []
    for item in _mappings(value.get("signatures")):
        fingerprint = item.get("fingerprint")
        fingerprint = fingerprint.upper() if isinstance(fingerprint, str) else ""
        keyids = item.get("keyids")
        signatures.append(
            Signature(
                fingerprint if FINGERPRINT_RE.fullmatch(fingerprint) else "",
                _word(item.get("hash")),
                _word(item.get("format")),
                tuple(
                    k
                    for k in (keyids if isinstance(keyids, list) else [])[:MAX_ITEMS]
                    if isinstance(k, str) and KEYID_RE.fullmatch(k)
                ),
            )
        )
    sboms = tuple(
        Sbom(_word(s.get("format")), _size(s.get("size"))) for s in _mappings(value.get("sbom"))
    )
    labels: list[tuple[str, str]] = []
    raw_labels = value.get("labels")
    if isinstance(raw_labels, dict):
        for key, text in list(raw_labels.items())[:MAX_ITEMS]:
            labels.append((_text(key, MAX_LABEL), _text(text, MAX_LABEL)))
    definition = value.get("definition")
    coverage = value.get("coverage")
    return SifBlock(
        arch=_word(value.get("arch")),
        id=_word(value.get("id")),
        created=_text(value.get("created"), 40),
        partitions=partitions,
        signatures=tuple(signatures),
        sbom=sboms,
        definition=definition[:MAX_DEFINITION] if isinstance(definition, str) else "",
        labels=tuple(sorted(labels)),
        coverage=coverage if coverage in COVERAGES else "",
    )


#: the fields of a ``sif:`` block compared with the image (``orgreg check
#: --verify-digest``, which ``--verify-signatures`` implies)
CLAIMED_FIELDS = (
    "arch",
    "id",
    "created",
    "partitions",
    "signatures",
    "coverage",
    "sbom",
    "oci",
    "labels",
    "definition",
)
#: the longest value quoted in a difference
SHOWN = 60


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _labels_match(claimed: Any, found: Any) -> bool:
    """True when *claimed* labels are the image's, or the image's as ``orgreg
    manifest`` cuts them (some left out, keys and values cut)."""
    if not isinstance(claimed, dict) or not isinstance(found, dict):
        return False
    if claimed == found:
        return True
    cut = {str(k)[:MAX_LABEL]: str(v)[:MAX_LABEL] for k, v in list(found.items())[:MAX_ITEMS]}
    return len(claimed) <= len(cut) and all(cut.get(str(k)) == v for k, v in claimed.items())


def _definition_matches(claimed: Any, found: Any) -> bool:
    """True when *claimed* is the image's definition file, or its start cut at
    the end of a line (as ``orgreg manifest`` cuts a large one)."""
    if not isinstance(claimed, str) or not isinstance(found, str):
        return False
    if claimed == found:
        return True
    return found.startswith(claimed) and (claimed == "" or claimed.endswith("\n"))


def _signatures_of(value: Any) -> tuple[Signature, ...]:
    block = parse({"signatures": value})
    return block.signatures if block is not None else ()


def differences(claimed: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """Each field of a manifest's ``sif:`` block *claimed* that the image's own
    block *found* (:func:`.sif.summary`, what ``orgreg manifest`` writes) does
    not back, as a sentence "sif.<field> = <claim>, but the image holds ...";
    empty when every claim holds. Only the fields the block holds are claims.
    Two cuts ``orgreg manifest`` makes are no difference: labels kept as a page
    shows them and a definition file cut at a line's end. Signatures are
    compared as a page reads them (:func:`parse`). The one comparison of claims
    with an image (``--verify-digest`` and ``--verify-signatures``)."""
    wrong = []
    for name in CLAIMED_FIELDS:
        if name not in claimed:
            continue
        value, actual = claimed[name], found.get(name)
        if name == "signatures":
            mine, theirs = _signatures_of(value), _signatures_of(actual)
            if mine != theirs:
                wrong.append(
                    f"sif.signatures = {_signatures_text(mine)}, but the image holds "
                    f"{_signatures_text(theirs)}"
                )
            continue
        if name == "labels":
            same = _labels_match(value, actual)
        elif name == "definition":
            same = _definition_matches(value, actual)
        else:
            same = value == actual
        if not same:
            holds = "nothing there" if actual is None else _shown(actual)
            wrong.append(f"sif.{name} = {_shown(value)}, but the image holds {holds}")
    return wrong


def _signatures_text(signatures: tuple[Signature, ...]) -> str:
    if not signatures:
        return "no signature"
    return ", ".join(
        f"{s.format or '?'} by {' and '.join(s.signer_ids) or 'an unnamed signer'}"
        for s in signatures
    )


StateKind = Literal["trusted", "legacy", "partial", "unknown-signer", "unsigned", "unrecorded"]


@dataclass(frozen=True)
class SignatureState:
    """What a tag's page says about its image's signatures, from its checked
    ``sif:`` block and the registry's trusted keys (one rule for every page)."""

    kind: StateKind
    """``trusted``: current signatures by trusted keys cover the whole image;
    ``legacy``: legacy signatures by trusted keys cover it (verified with
    ``--legacy-insecure``); ``partial``: a part of the image no signature covers;
    ``unknown-signer``: a signer is not among the trusted keys; ``unsigned``;
    ``unrecorded``: signed, but the manifest does not say what the signatures
    cover (written by an older ``orgreg manifest``)."""
    summary: str
    """The few words of the closed details line (``signed (trusted key)``)."""
    explanation: str = ""
    """One sentence on what the signatures prove, for the details."""
    verify_options: tuple[str, ...] = ()
    """What ``apptainer verify`` needs besides the image (``--legacy-insecure``,
    ``--all``)."""

    @property
    def trusted(self) -> bool:
        return self.kind == "trusted"


def signature_state(block: SifBlock | None, trusted: Container[str]) -> SignatureState:
    """What the page says about the signatures *block* records; "trusted" only
    for current signatures by trusted keys that cover every part of the image."""
    if block is None or not block.signatures:
        return SignatureState("unsigned", "not signed", "The image is not signed.")
    options: tuple[str, ...] = ()
    if block.coverage == "legacy":
        options = ("--legacy-insecure",)
    elif block.coverage == "legacy-all":
        options = ("--legacy-insecure", "--all")
    signers = block.signers
    if not all(any(i in trusted for i in s.signer_ids) for s in block.signatures):
        some = any(f in trusted for f in signers)
        return SignatureState(
            "unknown-signer",
            "signed (some keys not in this registry)"
            if some
            else "signed (key not in this registry)",
            "A key that signed the image is not among this registry's trusted keys.",
            options,
        )
    if block.coverage == "partial":
        return SignatureState(
            "partial",
            "signed in part",
            "Part of the image is covered by no signature: 'apptainer verify' refuses it.",
        )
    if block.coverage == "current":
        return SignatureState(
            "trusted",
            "signed (trusted key)",
            "Current signatures by this registry's trusted keys cover every part of the image.",
        )
    if block.coverage in ("legacy", "legacy-all"):
        return SignatureState(
            "legacy",
            "signed (legacy signature)",
            "Legacy signatures (made before SingularityCE 3.6) by trusted keys cover the "
            "image: they protect its data, not its header or descriptors; verify with "
            + " ".join(options)
            + ".",
            options,
        )
    return SignatureState(
        "unrecorded",
        "signed (coverage not recorded)",
        "The manifest does not record what the signatures cover (an older 'orgreg "
        "manifest' wrote it): write it again to show whether they cover the whole image.",
    )
