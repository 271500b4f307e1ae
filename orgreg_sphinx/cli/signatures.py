"""``orgreg check --verify-signatures``: the signatures of each downloaded SIF image.

The organization's trusted keys are read from the keys folder (``--keys``,
``<root>/_keys`` by default) with :func:`orgreg_sphinx.core.keys.load_keys`; a key
file left out (a secret key, no key) is an error naming that file. Each image the
online check downloads (its size and digest right) is handed to
:class:`orgreg_sphinx.core.integrity.Verifier`; what it finds becomes findings of
the manifests that name the image: a bad signature, a signer not among the
trusted keys, an object changed after signing, descriptors sharing an id, an
unreadable SIF are errors (a ``sif:`` block saying what the image does not hold
is :mod:`.claims`'s error, and counts the image as failed here);
a signature that cannot be verified (a legacy hash it does not know), a legacy
signature, a part of the image no signature covers and an unsigned image are
warnings, errors with ``--require-signatures`` (except the legacy note).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import keys as keyring
from ..core.integrity import ImageVerification, Verifier, objects_text
from ..core.model import Problem, Severity
from .answers import UrlResult
from .claims import CLAIM_CODE

#: the finding code of each signature status
CODES = {
    "bad": "signature-bad",
    "unknown-signer": "signature-unknown-signer",
    "changed": "signature-changed",
    "not-verified": "signature-not-verified",
}


@dataclass
class Tally:
    """How many images came to what (for the summary)."""

    images: int = 0
    verified: int = 0
    unsigned: int = 0
    failed: int = 0
    good_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "verified": self.verified,
            "unsigned": self.unsigned,
            "failed": self.failed,
            "good_signatures": self.good_signatures,
        }


class SignatureCheck:
    """The signature check of one ``orgreg check`` run (a context manager)."""

    def __init__(self, folder: Path, require: bool) -> None:
        self.folder = folder
        self.require = require
        self.keys, key_problems = keyring.load_keys(folder)
        self.problems = [
            Problem(p.path, p.message, severity="error", code="key-file") for p in key_problems
        ]
        self.verifier = Verifier(self.keys)
        self.tally = Tally()

    def __enter__(self) -> SignatureCheck:
        self.verifier.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.verifier.__exit__(None, None, None)

    def inspect(self, result: UrlResult, path: Path) -> None:
        """Verify the downloaded image of *result*; findings go into *result*."""
        verdict = self.verifier.verify_file(path)
        failed = False
        for severity, code, message in self.findings(verdict):
            result.add(severity, code, message)
            failed = failed or severity == "error"
        # a sif: block the image does not back (the claims check, run before)
        failed = failed or any(
            f.code == CLAIM_CODE and f.severity == "error" for f in result.findings
        )
        with self.tally.lock:
            self.tally.images += 1
            self.tally.verified += verdict.verified and not failed
            self.tally.unsigned += verdict.error is None and not verdict.signed
            self.tally.failed += failed
            self.tally.good_signatures += sum(s.good for s in verdict.signatures)

    def findings(self, verdict: ImageVerification) -> list[tuple[Severity, str, str]]:
        """(severity, code, message) of each thing to say about one image; each
        message completes "has a layer at URL that ..."."""
        strict: Severity = "error" if self.require else "warning"
        if verdict.error is not None:
            if verdict.not_sif:
                return [
                    (
                        strict,
                        "signature-not-sif",
                        f"is not a SIF image ({verdict.error}): no signature to verify",
                    )
                ]
            if verdict.shared_ids:
                return [("error", "signature-duplicate-id", f"is refused: {verdict.error}")]
            return [("error", "signature-unreadable", f"cannot be verified: {verdict.error}")]
        if not verdict.signed:
            return [(strict, "signature-none", "is not signed (no signature object)")]
        found: list[tuple[Severity, str, str]] = []
        for sig in verdict.signatures:
            if sig.good:
                if sig.format == "legacy":
                    found.append(
                        (
                            "warning",
                            "signature-legacy",
                            f"has a legacy signature: {sig.message}; sign it again "
                            "with a current 'apptainer sign'",
                        )
                    )
                continue
            severity: Severity = strict if sig.status == "not-verified" else "error"
            message = f"fails verification: {sig.message}"
            if sig.status == "unknown-signer" and not self.keys:
                message += (
                    f" (the keys folder {self.folder} holds none: add the "
                    "organization's public keys there)"
                )
            found.append((severity, CODES[sig.status], message))
        if not any(s.good for s in verdict.signatures) and all(
            s.status == "not-verified" for s in verdict.signatures
        ):
            found.append((strict, "signature-none", "has no signature verified"))
        if any(severity == "error" for severity, _, _ in found):
            return found  # the image fails already: what is left unsigned is no news
        for gap in verdict.uncovered:
            found.append((strict, "signature-partial", f"is signed in part: {gap}"))
        if verdict.ungrouped:
            found.append(
                (
                    strict,
                    "signature-partial",
                    f"has {objects_text(verdict.ungrouped)} in no object group, "
                    "which no signature covers",
                )
            )
        return found

    def summary_text(self) -> str:
        t = self.tally
        return (
            f"signatures: {t.images} image{'s' if t.images != 1 else ''} checked with "
            f"{len(self.keys)} trusted key{'s' if len(self.keys) != 1 else ''}: "
            f"{t.verified} verified, {t.unsigned} unsigned, {t.failed} failed"
        )

    def summary_dict(self) -> dict[str, Any]:
        body = self.tally.as_dict()
        body["keys"] = [{"fingerprint": k.fingerprint, "name": k.name} for k in self.keys]
        return body
