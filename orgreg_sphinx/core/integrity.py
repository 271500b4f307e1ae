"""Verify the signatures of a SIF image against the organization's keys.

This mirrors ``pkg/integrity`` of the reference implementation (the Go module
``github.com/sylabs/sif/v2``, what ``apptainer verify`` runs). A signature object
holds an OpenPGP clear-signed message. GnuPG (through python-gnupg, in a
throw-away home holding the trusted keys only) checks the signature and gives
the signed plaintext back; nothing here parses OpenPGP. What the plaintext says
is then checked against the file:

- **current** signatures (Apptainer >= 3.6): JSON image metadata with the
  digest of the header's protected fields (launch script, magic, version, id)
  and, per signed object, the digest of its descriptor's protected fields (type,
  used flag, id relative to its group's smallest, link, size, creation time,
  uid, gid, name, extra) and of its data. A signature linked to an object group
  must list exactly that group's objects; one linked to an object covers it.
- **legacy** signatures (before 3.6): ``SIFHASH:`` and one digest (the
  descriptor's hash type, SHA-384 as written) of the data of the linked object,
  or of the linked group's objects one after the other. They protect neither
  header nor descriptors, which the result says.
- **DSSE** envelopes (sif >= 2.10, Apptainer >= 1.2's ``sign --key`` and
  ``--certificate``): the envelope's PAE signed by a trusted PEM key or signing
  certificate (:mod:`.x509keys`), and the same JSON metadata as a current signature.

Everything is bounded: the header and descriptors come from the bounds-checked
reader of :mod:`.sif`, a signature object is read only up to
:data:`MAX_SIGNATURE` bytes, at most :data:`MAX_SIGNATURES` are checked, and
object data is hashed streaming from the file (each stretch of bytes once per
algorithm, whatever descriptors point at it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
import threading
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal, Self

import gnupg

from .keys import gnupg_home
from .sif import (
    DSSE_PAYLOAD_TYPE,
    HASH_TYPES,
    SIGNATURE,
    Descriptor,
    Mode,
    SifError,
    SifImage,
    read_sif,
    signature_coverage,
)
from .trusted import TrustedKey
from .x509keys import CA, CERTIFICATE, PEM_KEY, certificate_problem, verify_signature

#: how an OpenPGP clear-signed message starts
PGP_SIGNED = b"-----BEGIN PGP SIGNED MESSAGE-----"
#: a signature object larger than this is not read (Apptainer's are about 1 KiB)
MAX_SIGNATURE = 64 * 1024
#: most signature objects of one image that are checked
MAX_SIGNATURES = 64
#: GnuPG options of every verification: never ask anyone for a passphrase (a
#: hostile signature block may hold an encrypted packet; GnuPG would otherwise
#: start a pinentry prompt on the user's terminal)
GPG_OPTIONS = ["--pinentry-mode", "error"]
#: GnuPG status words that say the signature block holds more than a signature
FOREIGN_PACKETS = (
    "[GNUPG:] BEGIN_DECRYPTION",
    "[GNUPG:] NEED_PASSPHRASE",
    "[GNUPG:] ENC_TO",
    "[GNUPG:] ERROR ",
)
#: bytes read at a time when object data is hashed
CHUNK = 1 << 20

#: the digest algorithms of the signed JSON metadata (Go's supportedDigestAlgorithms)
JSON_DIGESTS = ("sha224", "sha256", "sha384", "sha512", "sha512_224", "sha512_256")
#: the descriptor's hash type -> hashlib's name, for legacy signatures
LEGACY_HASHES = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}

Status = Literal["good", "bad", "unknown-signer", "changed", "not-verified"]
"""What one signature came to:

- ``good``: verifies with a trusted key and everything it lists matches;
- ``bad``: the signature does not verify, or the object is no signature at all;
- ``unknown-signer``: made by a key that is not among the trusted keys;
- ``changed``: a good signature, but the header, a descriptor or an object's data
  changed after signing (or the signed set of objects differs);
- ``not-verified``: a signature this checker cannot verify (a legacy hash it does
  not know): a warning, never a pass.
"""


@dataclass(frozen=True)
class SignatureResult:
    """The verdict on one signature object."""

    object_id: int
    status: Status
    message: str
    """What happened, in a sentence that starts with the signature object."""
    format: str = "current"
    """``current``, ``legacy``, ``dsse`` or ``unknown``."""
    fingerprint: str | None = None
    """The signer's fingerprint the descriptor names (upper-case hex)."""
    key: TrustedKey | None = None
    """The trusted key that made a verifying signature."""
    covered: tuple[int, ...] = ()
    """The objects a ``good`` signature covers."""

    @property
    def good(self) -> bool:
        return self.status == "good"


@dataclass
class ImageVerification:
    """The verdict on one SIF image."""

    signatures: list[SignatureResult] = field(default_factory=list)
    mode: Mode | None = None
    """How every part of the image verifies (``None``: no way does)."""
    uncovered: list[str] = field(default_factory=list)
    """When no mode covers the image: what the closest one leaves unsigned, in
    words (``object group 2 has no good current signature linked to it``)."""
    ungrouped: list[int] = field(default_factory=list)
    """Objects (not signatures) outside any group: no signature covers them (the
    reference refuses such an image)."""
    error: str | None = None
    """Why the file could not be read as a SIF image."""
    not_sif: bool = False
    """True when the file is no SIF image at all."""
    shared_ids: list[int] = field(default_factory=list)
    """Object ids more than one descriptor names (the image is refused)."""

    @property
    def signed(self) -> bool:
        """True when the image holds signature objects."""
        return bool(self.signatures)

    @property
    def verified(self) -> bool:
        """True when every signature is good and they cover every part of the image
        the way one ``apptainer verify`` command checks (:attr:`mode`)."""
        return (
            self.error is None
            and self.mode is not None
            and all(s.good for s in self.signatures)
            and not self.ungrouped
        )


class _Changed(Exception):
    """The file no longer matches what a good signature lists."""


class _Bad(Exception):
    """The signature object cannot be a valid signature of this image."""


def _ids(ids: Iterable[int]) -> str:
    ordered = sorted(ids)
    return ", ".join(map(str, ordered)) if ordered else "none"


def objects_text(ids: Iterable[int]) -> str:
    """``object 1`` or ``objects 1, 2``."""
    ordered = sorted(ids)
    return f"object{'s' if len(ordered) != 1 else ''} {_ids(ordered)}"


class Verifier:
    """Verifies SIF images with one set of trusted keys (a context manager: the
    GnuPG home holding them exists while it is open). Thread-safe."""

    def __init__(self, keys: Sequence[TrustedKey]) -> None:
        self.keys = {key.fingerprint: key for key in keys}
        self._stack = ExitStack()
        self._gpg: gnupg.GPG | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        gpg = self._stack.enter_context(gnupg_home())
        for key in self.keys.values():
            if key.is_openpgp:
                gpg.import_keys(key.armored)
        self._gpg = gpg
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._gpg = None
        self._stack.close()

    # ------------------------------------------------------------ one image

    def verify_file(self, path: Path) -> ImageVerification:
        """Every signature of the SIF image at *path*, and what they leave unsigned."""
        try:
            with path.open("rb") as stream:
                try:
                    image = read_sif(stream, path.stat().st_size)
                except SifError as err:
                    return ImageVerification(
                        error=str(err), not_sif=str(err).startswith("not a SIF image")
                    )
                shared = _shared_ids(image)
                if shared:
                    return ImageVerification(
                        error=f"more than one descriptor names {objects_text(set(shared))}: "
                        "a SIF image gives each object its own id (a copied descriptor "
                        "can point at other bytes; Apptainer cannot verify it)",
                        shared_ids=sorted(set(shared)),
                    )
                return _ImageCheck(self, image, stream).run()
        except OSError as err:
            return ImageVerification(error=f"cannot be read: {err.strerror or err}")

    def clear_verify(self, message: bytes) -> gnupg.Crypt:
        """GnuPG's verdict on a clear-signed *message* and its signed plaintext."""
        if self._gpg is None:
            raise RuntimeError("Verifier used outside its 'with' block")
        with self._lock:
            return self._gpg.decrypt(message, extra_args=GPG_OPTIONS)


class _ImageCheck:
    """The checks of one image (its file open)."""

    def __init__(self, verifier: Verifier, image: SifImage, stream: BinaryIO) -> None:
        self.verifier = verifier
        self.image = image
        self.stream = stream
        self.digests: dict[tuple[int, int, str], bytes] = {}
        # Go's minIDs: the smallest id per raw group id (relative ids of descriptors)
        self.min_raw: dict[int, int] = {}
        for d in image.descriptors:
            self.min_raw[d.group_raw] = min(self.min_raw.get(d.group_raw, d.id), d.id)

    def group(self, group_id: int) -> list[Descriptor]:
        return [d for d in self.image.descriptors if group_id and d.group == group_id]

    def run(self) -> ImageVerification:
        result = ImageVerification()
        signatures = [d for d in self.image.descriptors if d.data_type == SIGNATURE]
        for descriptor in signatures[:MAX_SIGNATURES]:
            result.signatures.append(self.signature(descriptor))
        if len(signatures) > MAX_SIGNATURES:
            result.signatures.append(
                SignatureResult(
                    signatures[MAX_SIGNATURES].id,
                    "bad",
                    f"the image holds {len(signatures)} signature objects; only the first "
                    f"{MAX_SIGNATURES} are checked",
                    "unknown",
                )
            )
        if not signatures:
            return result
        result.ungrouped = [
            d.id for d in self.image.descriptors if not d.group and d.data_type != SIGNATURE
        ]
        result.mode, result.uncovered = self.coverage(result.signatures)
        return result

    def coverage(self, results: list[SignatureResult]) -> tuple[Mode | None, list[str]]:
        """How the good signatures cover the image (:func:`.sif.signature_coverage`)."""
        return signature_coverage(
            self.image.descriptors,
            [
                (r.object_id, "legacy" if r.format == "legacy" else r.format, r.good)
                for r in results
            ],
        )

    # ------------------------------------------------------------ one signature

    def signature(self, d: Descriptor) -> SignatureResult:
        what = f"signature object {d.id}"
        hash_name, fingerprint = d.signature or ("unknown", None)
        if d.size > MAX_SIGNATURE:
            return SignatureResult(
                d.id,
                "bad",
                f"{what} is {d.size} bytes, more than {MAX_SIGNATURE // 1024} KiB: not a signature",
                "unknown",
                fingerprint,
            )
        self.stream.seek(d.offset)
        data = self.stream.read(d.size)
        if data.lstrip().startswith(b"{"):
            return self.dsse(d, data, hash_name)
        if not data.startswith(PGP_SIGNED):
            return SignatureResult(
                d.id,
                "bad",
                f"{what} is not an OpenPGP clear-signed message",
                "unknown",
                fingerprint,
            )
        if not well_framed(data):
            return SignatureResult(
                d.id,
                "bad",
                f"{what} is not a well-formed clear-signed message (its armor lines or "
                "headers are damaged: Apptainer cannot read it)",
                "unknown",
                fingerprint,
            )
        if hash_name not in HASH_TYPES.values():
            return SignatureResult(
                d.id, "bad", f"{what} has an unknown hash type", "unknown", fingerprint
            )
        verdict = self.verifier.clear_verify(data)
        signer = (verdict.pubkey_fingerprint or "").upper() or None
        if verdict.stderr.count("[GNUPG:] NEWSIG") > 1:
            return SignatureResult(
                d.id, "bad", f"{what} holds more than one signature", "unknown", fingerprint
            )
        if any(word in verdict.stderr for word in FOREIGN_PACKETS):
            return SignatureResult(
                d.id,
                "bad",
                f"{what} holds OpenPGP data other than one signature "
                "(encrypted or malformed packets): not an Apptainer signature",
                "unknown",
                fingerprint,
            )
        if verdict.status == "no public key":
            maker = fingerprint or (verdict.fingerprint or verdict.key_id or "?").upper()
            return SignatureResult(
                d.id,
                "unknown-signer",
                f"{what} was made by key {maker}, which is not among the trusted keys",
                "unknown",
                fingerprint,
            )
        if not verdict.valid or signer is None:
            reason = _why_not_valid(verdict)
            return SignatureResult(
                d.id, "bad", f"{what} does not verify ({reason})", "unknown", fingerprint
            )
        key = self.verifier.keys.get(signer)
        if key is None:  # a key GnuPG holds is a trusted key; never trust another
            return SignatureResult(
                d.id,
                "unknown-signer",
                f"{what} was made by key {signer}, which is not among the trusted keys",
                "unknown",
                fingerprint,
            )
        if fingerprint != signer:  # Apptainer refuses a signature naming no signer too
            return SignatureResult(
                d.id,
                "bad",
                f"{what} was made by key {signer}, but its descriptor names "
                f"{fingerprint or 'no signer'}",
                "unknown",
                fingerprint,
                key,
            )
        plaintext = verdict.data
        legacy = plaintext.startswith(b"SIFHASH:\n")
        fmt = "legacy" if legacy else "current"
        signed_by = f"signed by {key.name or 'a trusted key'} ({signer})"
        try:
            if legacy:
                hashlib_name = LEGACY_HASHES.get(hash_name)
                if hashlib_name is None:
                    return SignatureResult(
                        d.id,
                        "not-verified",
                        f"{what} is a legacy signature with hash {hash_name}: legacy, not verified",
                        fmt,
                        fingerprint,
                        key,
                    )
                covered = self.legacy(d, plaintext, hashlib_name)
            else:
                covered = self.current(d, plaintext)
        except _Bad as err:
            return SignatureResult(
                d.id, "bad", f"{what} ({signed_by}) {err}", fmt, fingerprint, key
            )
        except _Changed as err:
            return SignatureResult(
                d.id, "changed", f"{what} is {signed_by}, but {err}", fmt, fingerprint, key
            )
        note = (
            " (a legacy signature: it protects the objects' data, not the header or descriptors)"
            if legacy
            else ""
        )
        return SignatureResult(
            d.id,
            "good",
            f"{what} is good: {signed_by}, {objects_text(covered)}{note}",
            fmt,
            fingerprint,
            key,
            tuple(sorted(covered)),
        )

    def dsse(self, d: Descriptor, data: bytes, hash_name: str) -> SignatureResult:
        """A DSSE envelope (sif >= 2.10, ``pkg/integrity/dsse.go``): its PAE signed
        by a trusted PEM key or signing certificate (one is enough, as the
        reference's threshold of 1; signatures by other keys are skipped), then the
        same image metadata as an OpenPGP signature's."""
        what = f"signature object {d.id}"
        if hash_name not in HASH_TYPES.values():
            return SignatureResult(d.id, "bad", f"{what} has an unknown hash type", "dsse")
        try:
            keyids, payload, pae, signatures = _envelope(data)
        except _Bad as err:
            return SignatureResult(d.id, "bad", f"{what} {err}", "dsse")
        candidates = [k for k in self.verifier.keys.values() if k.kind in (PEM_KEY, CERTIFICATE)]
        refused: list[str] = []
        accepted: TrustedKey | None = None
        when = _signing_time(d, self.image)
        for keyid, signature in zip(keyids, signatures, strict=True):
            for key in candidates:
                if keyid and keyid != key.fingerprint:
                    continue
                if not verify_signature(key, signature, pae, hash_name):
                    if keyid:
                        refused.append(f"the signature by {keyid} does not verify")
                    continue
                if key.kind == CERTIFICATE:
                    authorities = [k for k in self.verifier.keys.values() if k.kind == CA]
                    why, _ = certificate_problem(key, authorities, when)
                    if why is not None:
                        refused.append(f"certificate {key.subject!r} cannot sign: {why}")
                        continue
                accepted = key
                break
            if accepted is not None:
                break
        if accepted is None:
            if refused:
                return SignatureResult(
                    d.id, "bad", f"{what} (DSSE) does not verify: {'; '.join(refused)}", "dsse"
                )
            named = ", ".join(k or "an unnamed key" for k in keyids)
            return SignatureResult(
                d.id,
                "unknown-signer",
                f"{what} (DSSE) was made by {named}, which is not among the trusted keys",
                "dsse",
            )
        signed_by = f"signed by {accepted.name or 'a trusted key'} ({accepted.fingerprint})"
        try:
            covered = self.current(d, payload)
        except _Bad as err:
            return SignatureResult(
                d.id, "bad", f"{what} ({signed_by}) {err}", "dsse", accepted.fingerprint, accepted
            )
        except _Changed as err:
            return SignatureResult(
                d.id,
                "changed",
                f"{what} is {signed_by}, but {err}",
                "dsse",
                accepted.fingerprint,
                accepted,
            )
        return SignatureResult(
            d.id,
            "good",
            f"{what} is good: {signed_by} (DSSE), {objects_text(covered)}",
            "dsse",
            accepted.fingerprint,
            accepted,
            tuple(sorted(covered)),
        )

    def targets(self, d: Descriptor) -> tuple[int, list[Descriptor], bool]:
        """(group id, the objects *d* signs, True when linked to a group)."""
        link, is_group = d.link
        if not link:
            raise _Bad("is linked to no object or group")
        if is_group:
            objects = self.group(link)
            if not objects:
                raise _Bad(f"is linked to object group {link}, which is not in the image")
            return link, objects, True
        for od in self.image.descriptors:
            if od.id == link:
                return od.group, [od], False
        raise _Bad(f"is linked to object {link}, which is not in the image")

    def legacy(self, d: Descriptor, plaintext: bytes, name: str) -> set[int]:
        """A legacy signature: one digest of the linked objects' data."""
        _, objects, _ = self.targets(d)
        text = plaintext.removeprefix(b"SIFHASH:\n").removesuffix(b"\n")
        try:
            expected = bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise _Bad("signs a legacy digest that is not hexadecimal") from None
        if len(expected) != hashlib.new(name).digest_size:
            raise _Bad(f"signs a legacy digest of the wrong length for {name}")
        hasher = hashlib.new(name)
        for od in objects:
            self.feed(hasher, od)
        if hasher.digest() != expected:
            raise _Changed(f"{objects_text(od.id for od in objects)} changed after signing")
        return {od.id for od in objects}

    def current(self, d: Descriptor, plaintext: bytes) -> set[int]:
        """A current signature: JSON metadata of the header and each object."""
        group_id, objects, exact = self.targets(d)
        try:
            metadata = json.loads(plaintext)
        except ValueError:
            raise _Bad("signs something that is not the JSON image metadata") from None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("objects"), list)
            or not isinstance(metadata.get("header"), dict)
        ):
            raise _Bad("signs JSON that is not SIF image metadata")
        members = self.group(group_id)
        if not members:
            raise _Bad(f"covers object group {group_id}, which is not in the image")
        min_id = min(od.id for od in members)
        listed: dict[int, dict[str, Any]] = {}
        for entry in metadata["objects"]:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("relativeId"), int)
                or entry["relativeId"] < 0
            ):
                raise _Bad("signs image metadata with a malformed object entry")
            listed[min_id + entry["relativeId"]] = entry
        if exact and set(listed) != {od.id for od in objects}:
            raise _Changed(
                f"it signed {objects_text(listed)} and object group {group_id} "
                f"now holds {objects_text(od.id for od in objects)}"
            )
        name, value = _digest(metadata["header"].get("digest"))
        if (
            hashlib.new(name, self.image.header_raw[:45] + self.image.header_raw[48:64]).digest()
            != value
        ):
            raise _Changed("the image header (launch script, version or id) changed after signing")
        for od in objects:
            entry = listed.get(od.id)
            if entry is None:
                raise _Changed(f"object {od.id} is not among the objects it signed")
            name, value = _digest(entry.get("descriptorDigest"))
            if hashlib.new(name, self.protected(od)).digest() != value:
                raise _Changed(
                    f"the descriptor of object {od.id} ({od.type_name}) changed after signing"
                )
            name, value = _digest(entry.get("objectDigest"))
            if self.data_digest(od, name) != value:
                raise _Changed(
                    f"object {od.id} ({od.type_name}, {od.size} bytes) changed after signing"
                )
        return {od.id for od in objects}

    # ------------------------------------------------------------ bytes

    def protected(self, od: Descriptor) -> bytes:
        """The descriptor fields a signature protects (Go's ``GetIntegrityReader``):
        the id relative to its group's smallest, never offsets or modification time."""
        raw = od.raw
        relative = od.id - self.min_raw.get(od.group_raw, od.id)
        return (
            struct.pack("<i?I", od.data_type, True, relative)
            + raw[13:17]
            + raw[25:33]
            + raw[41:49]
            + raw[57:73]
            + raw[73:585]
        )

    def feed(self, hasher: Any, od: Descriptor) -> None:
        """Hash the data of *od*, streaming from the file."""
        self.stream.seek(od.offset)
        left = od.size
        while left > 0:
            chunk = self.stream.read(min(CHUNK, left))
            if not chunk:
                raise _Changed(f"object {od.id} ends past the end of the file")
            hasher.update(chunk)
            left -= len(chunk)

    def data_digest(self, od: Descriptor, name: str) -> bytes:
        """The digest of *od*'s data, hashed once per place in the file: keyed by
        offset and size, never by object id (two descriptors may share an id and
        point at different bytes; each is checked, as the reference does)."""
        key = (od.offset, od.size, name)
        if key not in self.digests:
            hasher = hashlib.new(name)
            self.feed(hasher, od)
            self.digests[key] = hasher.digest()
        return self.digests[key]


def _line(data: bytes) -> tuple[bytes, bytes]:
    """Go's ``clearsign.getLine``: one line (no CR LF, trailing blanks cut), the rest."""
    end = data.find(b"\n")
    if end < 0:
        return data.rstrip(b" \t"), b""
    line = data[:end]
    return line.removesuffix(b"\r").rstrip(b" \t"), data[end + 1 :]


def well_framed(data: bytes) -> bool:
    """True when *data* is framed as the reference's clear-sign decoder requires
    (``clearsign.Decode``): the armor line alone on its line, ``Hash:`` headers of
    printable ASCII only, then the text up to a line that is exactly
    ``-----BEGIN PGP SIGNATURE-----`` and the armor's end. GnuPG is more lenient; a
    message only GnuPG reads is not one Apptainer verifies."""
    if not data.startswith(PGP_SIGNED):
        return False
    rest = data[len(PGP_SIGNED) :]
    suffix, rest = _line(rest)
    if suffix:
        return False
    while True:
        if not rest:
            return False
        line, rest = _line(rest)
        if not line:
            break
        if any(byte < 0x20 or byte > 0x7E for byte in line) or b":" not in line:
            return False
        if line.split(b":", 1)[0].strip() != b"Hash":
            return False
    while True:
        line, rest = _line(rest)
        if not line and not rest:
            return False
        if line == b"-----BEGIN PGP SIGNATURE-----":
            return _armor_body_well_formed(rest)
    return False


_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _armor_body_well_formed(rest: bytes) -> bool:
    """The armor after its first line as the reference's armor decoder reads it:
    headers up to a blank line, then lines of base64 only (at most 96 long), the
    checksum line, and the end line; a control character or an over-long line is
    corrupt armor there, though GnuPG skips it."""
    while True:  # armor headers
        if not rest:
            return False
        line, rest = _line(rest)
        if not line:
            break
        if b":" not in line:
            return False
    while rest:
        line, rest = _line(rest)
        if line.startswith(b"-----END PGP SIGNATURE-----"):
            return True
        if len(line) > 96 or not _BASE64.issuperset(line):
            return False
    return False


def _b64(text: Any) -> bytes:
    """Base64, standard or URL-safe alphabet (securesystemslib's ``b64Decode``)."""
    if not isinstance(text, str):
        raise _Bad("is a DSSE envelope with a value that is not base64 text")
    for decode in (base64.standard_b64decode, base64.urlsafe_b64decode):
        try:
            return decode(text.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            continue
    raise _Bad("is a DSSE envelope with a value that is not base64")


def _envelope(data: bytes) -> tuple[list[str], bytes, bytes, list[bytes]]:
    """(key ids, payload, PAE, signatures) of a DSSE envelope of SIF metadata."""
    try:
        envelope = json.loads(data)
    except ValueError:
        raise _Bad("is neither an OpenPGP clear-signed message nor a JSON DSSE envelope") from None
    if not isinstance(envelope, dict) or envelope.get("payloadType") != DSSE_PAYLOAD_TYPE:
        raise _Bad(f"is not a DSSE envelope of {DSSE_PAYLOAD_TYPE}")
    entries = envelope.get("signatures")
    if not isinstance(entries, list) or not entries:
        raise _Bad("is a DSSE envelope without signatures")
    payload = _b64(envelope.get("payload"))
    keyids, signatures = [], []
    for entry in entries:
        if not isinstance(entry, dict):
            raise _Bad("is a DSSE envelope with a malformed signature entry")
        keyid = entry.get("keyid", "")
        keyids.append(keyid if isinstance(keyid, str) else "")
        signatures.append(_b64(entry.get("sig")))
    kind = DSSE_PAYLOAD_TYPE.encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
    return keyids, payload, pae, signatures


def _signing_time(d: Descriptor, image: SifImage) -> dt.datetime:
    """When the signature was made, as the image records it: the signature
    object's creation time (else the image's modification time, else now)."""
    for moment in (d.created, image.modified):
        if moment is not None:
            return moment
    return dt.datetime.now(dt.UTC)


def _shared_ids(image: SifImage) -> list[int]:
    """The ids that more than one descriptor of *image* names (each time it repeats)."""
    seen: set[int] = set()
    shared = []
    for d in image.descriptors:
        if d.id in seen:
            shared.append(d.id)
        seen.add(d.id)
    return shared


def _why_not_valid(verdict: gnupg.Crypt) -> str:
    """Why GnuPG did not call a signature valid, in words (python-gnupg's status
    says "signature valid" for a revoked key's signature)."""
    status = verdict.stderr
    if "[GNUPG:] REVKEYSIG" in status:
        return (
            "the key that made it has been revoked: remove it from the trusted keys "
            "and sign the image again with a current key"
        )
    if "[GNUPG:] EXPKEYSIG" in status:
        return (
            "the key that made it has expired: extend its expiry and export it "
            "into the keys folder again, or sign the image with a current key"
        )
    if "[GNUPG:] EXPSIG" in status:
        return "the signature has expired"
    if "[GNUPG:] BADSIG" in status:
        return "BAD signature: the signed text or the signature was altered"
    return str(verdict.status or "GnuPG found no valid signature")


def _digest(text: Any) -> tuple[str, bytes]:
    """``(algorithm, value)`` of a signed ``"alg:hex"`` digest; :class:`_Bad` else."""
    if not isinstance(text, str) or text.count(":") != 1:
        raise _Bad("signs image metadata with a malformed digest")
    name, hexed = text.split(":")
    if name not in JSON_DIGESTS:
        raise _Bad(f"signs image metadata with an unsupported digest {name!r}")
    try:
        value = bytes.fromhex(hexed)
    except ValueError:
        raise _Bad("signs image metadata with a malformed digest") from None
    if len(value) != hashlib.new(name).digest_size:
        raise _Bad("signs image metadata with a digest of the wrong length")
    return name, value
