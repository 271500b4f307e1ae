"""A trusted public key of the organization (an OpenPGP key, a PEM public key or an
X.509 certificate): what the site shows and publishes of it. Read by
:mod:`.keys` (OpenPGP, through GnuPG) and :mod:`.x509keys` (PEM and X.509)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrustedKey:
    """One trusted public key."""

    fingerprint: str
    """40 upper-case hex digits (v4) of the primary key."""
    name: str
    """The first user id (``Name <email>``), or ``""``."""
    armored: str
    """The public key, ASCII-armored (as exported by GnuPG)."""
    source: Path
    """The key file it was read from."""
    created: int = 0
    """Creation time (seconds since the epoch)."""
    kind: str = "openpgp"
    """``openpgp``; ``pem`` (a PEM public key), ``certificate`` (an X.509 signing
    certificate) or ``ca`` (a CA certificate): :mod:`.x509keys`."""
    subject: str = ""
    """A certificate's subject (RFC 4514)."""
    issuer: str = ""
    """A certificate's issuer (RFC 4514)."""
    not_before: int = 0
    not_after: int = 0
    certificate_fingerprint: str = ""
    """A certificate's SHA-256 fingerprint (colon-separated hex)."""
    chain: tuple[str, ...] = ()
    """A signing certificate's chain above it (fingerprints of the intermediates,
    then the root), as found when the keys were read."""

    @property
    def keyid(self) -> str:
        """The long key id: the last 16 hex digits of an OpenPGP fingerprint (the
        whole ``SHA256:`` fingerprint of another key)."""
        return self.fingerprint[-16:] if self.is_openpgp else self.fingerprint

    @property
    def is_openpgp(self) -> bool:
        return self.kind == "openpgp"

    @property
    def slug(self) -> str:
        """The key's name in file names and page anchors (:func:`slug`)."""
        return slug(self.fingerprint)

    @property
    def file_name(self) -> str:
        """Its published file: ``<FINGERPRINT>.asc`` or ``<slug>.pem``."""
        return f"{self.slug}.asc" if self.is_openpgp else f"{self.slug}.pem"

    @property
    def kind_text(self) -> str:
        return {
            "openpgp": "OpenPGP public key",
            "pem": "PEM public key",
            "certificate": "X.509 signing certificate",
            "ca": "X.509 CA certificate",
        }.get(self.kind, self.kind)


def slug(fingerprint: str) -> str:
    """A fingerprint as a file name and anchor: an OpenPGP one as it is, an
    OpenSSH ``SHA256:<base64>`` one as ``sha256-<hex>``."""
    if not fingerprint.startswith("SHA256:"):
        return fingerprint
    text = fingerprint.removeprefix("SHA256:")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return "sha256-" + hashlib.sha256(text.encode()).hexdigest()
    return "sha256-" + raw.hex()
