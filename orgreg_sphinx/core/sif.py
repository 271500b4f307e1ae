"""Read what is inside a SIF image: the global header and the descriptor table.

The Singularity Image Format (reference implementation: the Go module
``github.com/sylabs/sif/v2``, ``pkg/sif``) starts with a 128-byte global header
and a table of fixed-size (585-byte) object descriptors. Both are read here from
the first bytes of the file, never the partitions, and everything is checked
against the file's size: a truncated or lying header raises :class:`SifError`
with a clear message, never another exception or a large read.

:func:`read_sif` reads the header and the table; :func:`summary` adds the small
objects a registry shows (definition file, labels, each signature's format:
OpenPGP clear-signed, current or legacy, or a DSSE envelope as sif >= 2.10
writes; the digests of OCI root index and blob objects, sif >= 2.15) with
bounded reads and returns the manifest's ``sif:`` block.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

MAGIC = b"SIF_MAGIC\x00"
#: the one SIF specification version there is ("01")
VERSION = b"01\x00"

_HEADER = struct.Struct("<32s10s3s3s16s8q")
HEADER_SIZE = _HEADER.size  # 128
_DESCRIPTOR = struct.Struct("<i?IIIqqqqqqq128s384s")
DESCRIPTOR_SIZE = _DESCRIPTOR.size  # 585

#: most descriptors a table may hold (the Go default is 48); more is a lying header
MAX_DESCRIPTORS = 4096
#: largest small object (definition file, labels, generic JSON) read for a summary
MAX_SMALL_OBJECT = 256 * 1024
#: bytes of a signature object read to tell its format
SIGNATURE_PEEK = 64

#: Go's zero time (0001-01-01T00:00:00Z) in Unix seconds: "no time"
_GO_ZERO_TIME = -62135596800
_GROUP_MASK = 0xF0000000

ARCHES = {
    b"01": "386",
    b"02": "amd64",
    b"03": "arm",
    b"04": "arm64",
    b"05": "ppc64",
    b"06": "ppc64le",
    b"07": "mips",
    b"08": "mipsle",
    b"09": "mips64",
    b"10": "mips64le",
    b"11": "s390x",
    b"12": "riscv64",
}
DATA_TYPES = {
    0x4001: "Def.FILE",
    0x4002: "Env.Vars",
    0x4003: "JSON.Labels",
    0x4004: "FS",
    0x4005: "Signature",
    0x4006: "JSON.Generic",
    0x4007: "Generic/Raw",
    0x4008: "Cryptographic Message",
    0x4009: "SBOM",
    # sif >= 2.15 (the OCI objects of an OCI-SIF image)
    0x400A: "OCI.RootIndex",
    0x400B: "OCI.Blob",
}
(
    DEFFILE,
    ENVVARS,
    LABELS,
    PARTITION,
    SIGNATURE,
    GENERIC_JSON,
    GENERIC,
    CRYPTO_MESSAGE,
    SBOM,
    OCI_ROOT_INDEX,
    OCI_BLOB,
) = range(0x4001, 0x400C)
FS_TYPES = {1: "Squashfs", 2: "Ext3", 3: "Archive", 4: "Raw", 5: "Encrypted squashfs"}
PART_TYPES = {1: "System", 2: "*System", 3: "Data", 4: "Overlay"}
HASH_TYPES = {1: "SHA-256", 2: "SHA-384", 3: "SHA-512", 4: "BLAKE2s-256", 5: "BLAKE2b-256"}
MESSAGE_FORMATS = {1: "OpenPGP", 2: "PEM"}
MESSAGE_TYPES = {0x100: "Clear Signature", 0x200: "RSA-OAEP"}
SBOM_FORMATS = {
    1: "cyclonedx-json",
    2: "cyclonedx-xml",
    3: "github-json",
    4: "spdx-json",
    5: "spdx-rdf",
    6: "spdx-tag-value",
    7: "spdx-yaml",
    8: "syft-json",
}

_PGP_SIGNED = b"-----BEGIN PGP SIGNED MESSAGE-----"
#: the payload type of a DSSE envelope signature (sif >= 2.10, ``pkg/integrity/dsse.go``)
DSSE_PAYLOAD_TYPE = "application/vnd.sylabs.sif-metadata+json"
#: an OCI object's digest (go-containerregistry's ``v1.Hash`` text form)
_DIGEST = re.compile(r"(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})")


Mode = Literal["current", "legacy", "legacy-all"]
"""How ``apptainer verify`` verifies an image (the reference's verification tasks):

- ``current``: every object group has a current signature linked to it
  (``apptainer verify``; a DSSE signature is a current one);
- ``legacy``: every object group has a legacy signature linked to it
  (``apptainer verify --legacy-insecure``);
- ``legacy-all``: every object in a group has a legacy signature linked to it
  (``apptainer verify --legacy-insecure --all``).
"""
MODES: tuple[Mode, ...] = ("current", "legacy", "legacy-all")
#: the words of each mode's tasks, for messages
MODE_TASK = {
    "current": "object group {} has no good current signature linked to it",
    "legacy": "object group {} has no good legacy signature linked to it",
    "legacy-all": "object {} has no good legacy signature linked to it",
}


class SifError(ValueError):
    """A file that is not a SIF image, or whose header or descriptors lie."""


def _time(seconds: int) -> dt.datetime | None:
    """A header time as an aware UTC datetime; ``None`` for "no time"."""
    if seconds == _GO_ZERO_TIME:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(raw: bytes) -> str:
    """A NUL-padded fixed-size text field."""
    return raw.rstrip(b"\x00").decode("utf-8", "replace")


class _Stamped:
    """Creation and modification times of a header or an object (Unix seconds)."""

    created_raw: int
    modified_raw: int

    @property
    def created(self) -> dt.datetime | None:
        return _time(self.created_raw)

    @property
    def modified(self) -> dt.datetime | None:
        return _time(self.modified_raw)


@dataclass(frozen=True)
class Descriptor(_Stamped):
    """One in-use object of a SIF image."""

    data_type: int
    id: int
    group_raw: int
    link_raw: int
    offset: int
    size: int
    created_raw: int
    modified_raw: int
    name: str
    extra: bytes = field(repr=False)
    raw: bytes = field(default=b"", repr=False, compare=False)
    """The descriptor's 585 bytes as stored (what signatures protect is cut from them)."""

    @property
    def type_name(self) -> str:
        """siftool's name of the data type (``FS``, ``Signature``, ...)."""
        return DATA_TYPES.get(self.data_type, "Unknown")

    @property
    def group(self) -> int:
        """The object group, 0 for none."""
        return self.group_raw & ~_GROUP_MASK

    @property
    def link(self) -> tuple[int, bool]:
        """The linked object (or group, when the flag is true); 0 for none."""
        return self.link_raw & ~_GROUP_MASK, self.link_raw & _GROUP_MASK == _GROUP_MASK

    def _ints(self, count: int) -> tuple[int, ...]:
        return struct.unpack_from(f"<{count}i", self.extra)

    @property
    def partition(self) -> tuple[str, str, str] | None:
        """(fs type, partition role, architecture) of an FS object."""
        if self.data_type != PARTITION:
            return None
        fstype, parttype = self._ints(2)
        arch = ARCHES.get(self.extra[8:11].rstrip(b"\x00"), "unknown")
        return FS_TYPES.get(fstype, "Unknown"), PART_TYPES.get(parttype, "Unknown"), arch

    @property
    def signature(self) -> tuple[str, str | None] | None:
        """(hash type, signer fingerprint in upper-case hex or None) of a signature."""
        if self.data_type != SIGNATURE:
            return None
        (hashtype,) = self._ints(1)
        entity = self.extra[4:24]
        fingerprint = None if entity == bytes(20) else entity.hex().upper()
        return HASH_TYPES.get(hashtype, "unknown"), fingerprint

    @property
    def sbom_format(self) -> str | None:
        """The SBOM format of an SBOM object."""
        if self.data_type != SBOM:
            return None
        return SBOM_FORMATS.get(self._ints(1)[0], "unknown")

    @property
    def message(self) -> tuple[str, str] | None:
        """(format, message type) of a cryptographic message object."""
        if self.data_type != CRYPTO_MESSAGE:
            return None
        fmt, kind = self._ints(2)
        return MESSAGE_FORMATS.get(fmt, "Unknown"), MESSAGE_TYPES.get(kind, "Unknown")

    @property
    def oci_digest(self) -> str | None:
        """``sha256:<hex>`` of an OCI root index or blob object (NUL-terminated text
        in the extra field); ``None`` for other objects or a digest that is not one."""
        if self.data_type not in (OCI_ROOT_INDEX, OCI_BLOB):
            return None
        text = self.extra.split(b"\x00", 1)[0].decode("ascii", "replace")
        return text if _DIGEST.fullmatch(text) else None


@dataclass(frozen=True)
class SifImage(_Stamped):
    """The global header and in-use descriptors of a SIF image."""

    launch_script: str
    version: str
    arch: str
    id: uuid.UUID
    created_raw: int
    modified_raw: int
    descriptors_free: int
    descriptors_total: int
    descriptors_offset: int
    descriptors_size: int
    data_offset: int
    data_size: int
    file_size: int
    descriptors: tuple[Descriptor, ...]
    header_raw: bytes = field(default=b"", repr=False, compare=False)
    """The global header's 128 bytes as stored."""


def _read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    stream.seek(offset)
    return stream.read(size)


def read_sif(stream: BinaryIO, file_size: int) -> SifImage:
    """Read the header and descriptor table of the SIF image in ``stream``.

    Reads at most ``HEADER_SIZE + MAX_DESCRIPTORS * DESCRIPTOR_SIZE`` bytes (about
    2.3 MiB, 28 KiB for a usual image). Raises :class:`SifError` when the file is
    not a SIF or any offset or size in it lies outside the file.
    """
    head = _read_at(stream, 0, HEADER_SIZE)
    if len(head) < len(MAGIC) + 32 or head[32:42] != MAGIC:
        raise SifError("not a SIF image (no SIF_MAGIC at byte 32)")
    if len(head) < HEADER_SIZE:
        raise SifError(f"truncated SIF header: {file_size} bytes, the header needs {HEADER_SIZE}")
    (
        launch,
        _magic,
        version,
        arch,
        ident,
        created,
        modified,
        free,
        total,
        descr_offset,
        descr_size,
        data_offset,
        data_size,
    ) = _HEADER.unpack(head)
    if version != VERSION:
        raise SifError(f"unsupported SIF version {_text(version)!r} (only 01 exists)")
    if not 0 <= total <= MAX_DESCRIPTORS:
        raise SifError(
            f"the header claims {total} descriptors; at most {MAX_DESCRIPTORS} are accepted"
        )
    if not 0 <= free <= total:
        raise SifError(f"the header claims {free} free descriptors of {total}")
    table = total * DESCRIPTOR_SIZE
    if descr_size < table:
        raise SifError(
            f"the descriptor table is {descr_size} bytes, {total} descriptors need {table}"
        )
    if not HEADER_SIZE <= descr_offset <= file_size - table:
        raise SifError(
            f"the descriptor table ({table} bytes at offset {descr_offset}) "
            f"lies outside the file ({file_size} bytes)"
        )
    if not 0 <= data_offset <= file_size or not 0 <= data_size <= file_size - data_offset:
        raise SifError(
            f"the data section ({data_size} bytes at offset {data_offset}) "
            f"lies outside the file ({file_size} bytes)"
        )
    raw = _read_at(stream, descr_offset, table)
    if len(raw) < table:
        raise SifError(
            f"truncated SIF: the descriptor table ends past the end of the file ({file_size} bytes)"
        )
    descriptors = []
    for index in range(total):
        (
            data_type,
            used,
            ident_,
            group,
            link,
            offset,
            size,
            _padded,
            d_created,
            d_modified,
            _uid,
            _gid,
            name,
            extra,
        ) = _DESCRIPTOR.unpack_from(raw, index * DESCRIPTOR_SIZE)
        if not used:
            continue
        if not 0 <= offset <= file_size or not 0 <= size <= file_size - offset:
            raise SifError(
                f"object {ident_} ({size} bytes at offset {offset}) lies outside "
                f"the file ({file_size} bytes)"
            )
        descriptors.append(
            Descriptor(
                data_type=data_type,
                id=ident_,
                group_raw=group,
                link_raw=link,
                offset=offset,
                size=size,
                created_raw=d_created,
                modified_raw=d_modified,
                name=_text(name),
                extra=extra,
                raw=raw[index * DESCRIPTOR_SIZE : (index + 1) * DESCRIPTOR_SIZE],
            )
        )
    return SifImage(
        launch_script=_text(launch),
        version=_text(version),
        arch=ARCHES.get(arch.rstrip(b"\x00"), "unknown"),
        id=uuid.UUID(bytes=ident),
        created_raw=created,
        modified_raw=modified,
        descriptors_free=free,
        descriptors_total=total,
        descriptors_offset=descr_offset,
        descriptors_size=descr_size,
        data_offset=data_offset,
        data_size=data_size,
        file_size=file_size,
        descriptors=tuple(descriptors),
        header_raw=head,
    )


def signature_coverage(
    descriptors: Sequence[Descriptor], signatures: Sequence[tuple[int, str, bool]]
) -> tuple[Mode | None, list[str]]:
    """The mode in which *signatures* cover every part of the image, as the
    reference verifier sets its tasks (one per object group, or per grouped
    object), or ``None`` and, in words, what the closest mode leaves uncovered.

    *signatures* are ``(object id, format, good)``: format ``legacy`` or another
    (current, DSSE, unreadable); each task needs a signature of its mode's format
    linked to it, and every signature the reference takes into account for it good
    (a group's signatures of the mode's format; every signature linked to an object)."""
    by_id = {d.id: d for d in descriptors}
    groups = sorted({d.group for d in descriptors if d.group})
    grouped = sorted({d.id for d in descriptors if d.group and d.data_type != SIGNATURE})

    def missing(mode: Mode) -> list[str]:
        legacy = mode != "current"
        left = []
        for target in grouped if mode == "legacy-all" else groups:
            found = [
                (fmt == "legacy", good)
                for ident, fmt, good in signatures
                if ident in by_id and by_id[ident].link == (target, mode != "legacy-all")
            ]
            if mode != "legacy-all":
                found = [(is_legacy, good) for is_legacy, good in found if is_legacy == legacy]
            if not found or not all(good and is_legacy == legacy for is_legacy, good in found):
                left.append(MODE_TASK[mode].format(target))
        return left

    gaps = {mode: missing(mode) for mode in MODES}
    for mode in MODES:
        if groups and not gaps[mode]:
            return mode, []
    good = [(ident, fmt) for ident, fmt, ok in signatures if ok]
    if not good or any(fmt != "legacy" for _, fmt in good):
        return None, gaps["current"]
    if any(by_id[ident].link[1] for ident, _ in good if ident in by_id):
        return None, gaps["legacy"]
    return None, gaps["legacy-all"]


def read_sif_file(path: Path) -> SifImage:
    """:func:`read_sif` on a file; ``OSError`` when it cannot be opened."""
    with path.open("rb") as stream:
        return read_sif(stream, path.stat().st_size)


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def summary(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The manifest's ``sif:`` block of the image at ``path``, and warnings.

    Raises :class:`SifError` when the file is not a readable SIF image; objects
    that are bad on their own (an oversized definition file, labels that are not
    a JSON object, a signature that is not OpenPGP) are left out with a warning.
    """
    warnings: list[str] = []
    with path.open("rb") as stream:
        image = read_sif(stream, path.stat().st_size)
        block: dict[str, Any] = {}
        if image.arch != "unknown":
            block["arch"] = image.arch
        if image.id != uuid.UUID(int=0):
            block["id"] = str(image.id)
        if (created := _iso(image.created)) is not None:
            block["created"] = created
        partitions, signatures, sboms, oci = [], [], [], []
        signed: list[tuple[int, dict[str, Any]]] = []
        for descriptor in image.descriptors:
            if (part := descriptor.partition) is not None:
                partitions.append(
                    {
                        "fstype": part[0].lower().replace(" ", "-"),
                        "role": part[1].lstrip("*").lower(),
                        "primary": part[1].startswith("*"),
                        "arch": part[2],
                        "size": descriptor.size,
                    }
                )
            elif (sig := descriptor.signature) is not None:
                peek = _read_at(stream, descriptor.offset, min(descriptor.size, SIGNATURE_PEEK))
                if peek.lstrip().startswith(b"{"):
                    dsse, problem = _dsse(stream, descriptor)
                    if dsse is None:
                        warnings.append(f"signature object {descriptor.id} {problem}; left out")
                        continue
                    signatures.append(
                        {
                            "fingerprint": sig[1],
                            "hash": sig[0].lower().replace("-", ""),
                            "format": "dsse",
                            "keyids": dsse,
                        }
                    )
                    signed.append((descriptor.id, signatures[-1]))
                    continue
                if not peek.startswith(_PGP_SIGNED):
                    warnings.append(
                        f"signature object {descriptor.id} is not an OpenPGP "
                        "clear-signed message nor a DSSE envelope; left out"
                    )
                    continue
                signatures.append(
                    {
                        "fingerprint": sig[1],
                        "hash": sig[0].lower().replace("-", ""),
                        "format": "legacy" if _is_legacy(stream, descriptor) else "current",
                    }
                )
                signed.append((descriptor.id, signatures[-1]))
            elif (fmt := descriptor.sbom_format) is not None:
                sboms.append({"format": fmt, "size": descriptor.size})
            elif descriptor.data_type in (OCI_ROOT_INDEX, OCI_BLOB):
                digest = descriptor.oci_digest
                if digest is None:
                    warnings.append(f"OCI object {descriptor.id} has no valid digest; left out")
                    continue
                oci.append(
                    {
                        "type": "root-index" if descriptor.data_type == OCI_ROOT_INDEX else "blob",
                        "digest": digest,
                        "size": descriptor.size,
                    }
                )
            elif descriptor.data_type in (DEFFILE, LABELS):
                what = "definition file" if descriptor.data_type == DEFFILE else "labels"
                if descriptor.size > MAX_SMALL_OBJECT:
                    warnings.append(
                        f"the {what} object is {descriptor.size} bytes, more than "
                        f"{MAX_SMALL_OBJECT}; left out"
                    )
                    continue
                data = _read_at(stream, descriptor.offset, descriptor.size)
                if descriptor.data_type == DEFFILE:
                    block["definition"] = data.decode("utf-8", "replace")
                    continue
                try:
                    labels = json.loads(data)
                except ValueError as err:
                    warnings.append(f"the labels object is not JSON ({err}); left out")
                    continue
                except RecursionError:
                    warnings.append("the labels object is nested too deeply; left out")
                    continue
                if not isinstance(labels, dict):
                    warnings.append("the labels object is not a JSON object; left out")
                    continue
                try:
                    block["labels"] = {
                        str(k): v if isinstance(v, str) else json.dumps(v)
                        for k, v in labels.items()
                    }
                except RecursionError:
                    warnings.append("the labels object is nested too deeply; left out")
    if partitions:
        block["partitions"] = partitions
    if signatures:
        block["signatures"] = signatures
        # how the signatures cover the image if each verifies (--verify-signatures
        # checks that they do, and that this says what the image holds)
        mode, _ = signature_coverage(
            image.descriptors, [(ident, sig["format"], True) for ident, sig in signed]
        )
        block["coverage"] = mode or "partial"
    if sboms:
        block["sbom"] = sboms
    if oci:
        block["oci"] = oci
    return block, warnings


def _is_legacy(stream: BinaryIO, descriptor: Descriptor) -> bool:
    """Legacy (pre-3.6) signatures sign a plaintext that starts with ``SIFHASH``."""
    peek = _read_at(stream, descriptor.offset, min(descriptor.size, 256))
    # the clear-signed text follows the armor headers and the first empty line
    _, _, body = peek.partition(b"\n\n")
    return body.startswith(b"SIFHASH")


def _dsse(stream: BinaryIO, descriptor: Descriptor) -> tuple[list[str] | None, str]:
    """The key ids of a DSSE envelope signature, or ``None`` and what is wrong."""
    if descriptor.size > MAX_SMALL_OBJECT:
        return None, f"is {descriptor.size} bytes, more than {MAX_SMALL_OBJECT}"
    try:
        envelope = json.loads(_read_at(stream, descriptor.offset, descriptor.size))
    except ValueError:
        return None, "is neither an OpenPGP clear-signed message nor a JSON DSSE envelope"
    if not isinstance(envelope, dict) or envelope.get("payloadType") != DSSE_PAYLOAD_TYPE:
        return None, f"is not a DSSE envelope of {DSSE_PAYLOAD_TYPE}"
    entries = envelope.get("signatures")
    if not isinstance(entries, list) or not entries:
        return None, "is a DSSE envelope without signatures"
    return [str(e.get("keyid", "")) if isinstance(e, dict) else "" for e in entries], ""
