"""Trusted keys beyond OpenPGP: PEM public keys and X.509 certificates.

Apptainer >= 1.2 signs with ``apptainer sign --key key.pem`` (a DSSE envelope,
sylabs/sif ``pkg/integrity/dsse.go``) or ``--certificate`` and verifies with
``apptainer verify --key``, ``--certificate``, ``--certificate-roots`` and
``--certificate-intermediates``. A registry keeps the public halves in its keys
folder as ``*.pem`` (or ``*.crt``) files, read here with the ``cryptography``
library:

- a PEM public key (Ed25519, RSA, ECDSA) signs as it is;
- a certificate that is no certificate authority signs when its chain reaches a
  CA certificate of the folder (a root, through the folder's intermediates),
  it carries the codeSigning extended key usage (as Apptainer requires) and every
  certificate of the chain is valid at signing time (:func:`certificate_problem`);
- CA certificates are the roots and intermediates those chains end in.

Each key is known by its OpenSSH ``SHA256:`` fingerprint (what Apptainer prints,
and the ``keyid`` a DSSE envelope names).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from .trusted import TrustedKey

#: the key kinds of this module (OpenPGP keys are ``openpgp``)
PEM_KEY, CERTIFICATE, CA = "pem", "certificate", "ca"
#: hash names of the SIF descriptor -> cryptography's, for RSA and ECDSA signatures
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA-256": hashes.SHA256,
    "SHA-384": hashes.SHA384,
    "SHA-512": hashes.SHA512,
}


def ssh_fingerprint(public_key: Any) -> str:
    """The OpenSSH ``SHA256:`` fingerprint of a public key (``ssh-keygen -l``,
    Go's ``ssh.FingerprintSHA256``: the unpadded base64 SHA-256 of the key's
    OpenSSH wire form)."""
    line = public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    wire = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(wire).digest()).decode().rstrip("=")


def _seconds(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def read_x509_file(path: Path, data: bytes) -> tuple[list[TrustedKey], str | None]:
    """The keys of a PEM file (public keys, certificates), or a problem."""
    if b"PRIVATE KEY-----" in data:
        return [], (
            "holds a PRIVATE key: only public keys and certificates belong in the "
            "registry (export the public half with 'openssl pkey -pubout'), and the "
            "private key should be replaced"
        )
    found: list[TrustedKey] = []
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            for cert in x509.load_pem_x509_certificates(data):
                found.append(_certificate_key(path, cert))
        elif b"-----BEGIN PUBLIC KEY-----" in data:
            public = serialization.load_pem_public_key(data)
            if not isinstance(
                public, (ed25519.Ed25519PublicKey, rsa.RSAPublicKey, ec.EllipticCurvePublicKey)
            ):
                return (
                    [],
                    "holds a public key Apptainer cannot verify with (not Ed25519, RSA or ECDSA)",
                )
            pem = public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode("ascii")
            found.append(TrustedKey(ssh_fingerprint(public), path.stem, pem, path, kind=PEM_KEY))
        else:
            return [], "holds no PEM public key or certificate"
    except (ValueError, UnsupportedAlgorithm) as err:
        return [], f"is not a readable PEM public key or certificate ({err})"
    return found, None


def _certificate_key(path: Path, cert: x509.Certificate) -> TrustedKey:
    public = cert.public_key()
    try:
        fingerprint = ssh_fingerprint(public)
    except (ValueError, UnsupportedAlgorithm):
        fingerprint = "SHA256:" + base64.b64encode(cert.fingerprint(hashes.SHA256())).decode()
    subject = cert.subject.rfc4514_string()
    return TrustedKey(
        fingerprint,
        subject,
        cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        path,
        _seconds(cert.not_valid_before_utc),
        kind=CA if _is_ca(cert) else CERTIFICATE,
        subject=subject,
        issuer=cert.issuer.rfc4514_string(),
        not_before=_seconds(cert.not_valid_before_utc),
        not_after=_seconds(cert.not_valid_after_utc),
        certificate_fingerprint=cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    )


def certificate(key: TrustedKey) -> x509.Certificate:
    return x509.load_pem_x509_certificate(key.armored.encode("ascii"))


def public_key(key: TrustedKey) -> Any:
    if key.kind == PEM_KEY:
        return serialization.load_pem_public_key(key.armored.encode("ascii"))
    return certificate(key).public_key()


def _code_signing(policy: Any, cert: x509.Certificate, ext: Any) -> None:
    if ext is None or ExtendedKeyUsageOID.CODE_SIGNING not in ext:
        raise ValueError("the certificate does not allow code signing (no codeSigning usage)")


def certificate_problem(
    key: TrustedKey, authorities: Sequence[TrustedKey], when: dt.datetime
) -> tuple[str | None, tuple[str, ...]]:
    """Why certificate *key* cannot sign at *when* (``None`` when it can), and the
    fingerprints of its chain above it (intermediates, then the root): the chain
    must reach a CA certificate of *authorities* whose certificates are all valid
    at *when*, and the certificate must carry the codeSigning extended key usage."""
    roots = [certificate(a) for a in authorities if a.subject == a.issuer]
    if not roots:
        return "the keys folder holds no root CA certificate to check it against", ()
    intermediates = [certificate(a) for a in authorities if a.subject != a.issuer]
    verifier = (
        PolicyBuilder()
        .store(Store(roots))
        .time(when)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=ExtensionPolicy.permit_all().require_present(
                x509.ExtendedKeyUsage, Criticality.AGNOSTIC, _code_signing
            ),
        )
        .build_client_verifier()
    )
    try:
        verified = verifier.verify(certificate(key), intermediates)
    except VerificationError as err:
        return f"its certificate chain does not verify at {when:%Y-%m-%d %H:%M} UTC ({err})", ()
    above = tuple(
        ssh_fingerprint(c.public_key()) for c in verified.chain[1:] if c.public_key() is not None
    )
    return None, above


def verify_signature(key: TrustedKey, signature: bytes, message: bytes, hash_name: str) -> bool:
    """True when *signature* over *message* verifies with *key*'s public key as
    sigstore's verifiers do: Ed25519 over the message; RSA PKCS#1 v1.5 and ECDSA
    (ASN.1) over its digest by the descriptor's hash."""
    public = public_key(key)
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, message)
            return True
        algorithm = HASHES.get(hash_name)
        if algorithm is None:
            return False
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, message, padding.PKCS1v15(), algorithm())
            return True
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(algorithm()))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False
