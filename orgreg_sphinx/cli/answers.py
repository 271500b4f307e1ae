"""What the online checks share (:mod:`.online` for http(s) layers, :mod:`.oras`
for ``oras://`` ones): the settings, what is expected of a URL, the findings
about it, and the answers and failures of requests."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import urllib3.exceptions

from ..core.model import Severity

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: bytes read past what the manifests allow: one, which proves the object longer
DOWNLOAD_SLACK = 1
#: the deadline of one download (its retries included), when not told otherwise
DOWNLOAD_DEADLINE = 1800.0


HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


CHUNK = 1 << 20


#: errors while a body is read (urllib3's, below requests)
BODY_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True)
class Settings:
    """How to check: concurrency, timeouts, retries and whether to download."""

    jobs: int = 8
    timeout: float = 30.0
    retries: int = 3
    retry_delay: float = 1.0
    verify_digest: bool = False
    max_redirects: int = 5
    #: seconds one download may take in all, retries included (a server that
    #: sends a byte now and then never trips *timeout*)
    deadline: float = DOWNLOAD_DEADLINE


@dataclass(frozen=True)
class Expectation:
    """What one manifest says about a layer URL."""

    path: Path
    line: int | None
    size: int | None  # in bytes; None when the manifest holds KiB
    digest: str
    #: the OCI manifest digest recorded for an ``oras://`` layer (what shpc pulls by)
    oci_manifest_digest: str | None = None
    #: the most bytes the manifest allows: its size, or its KiB times 1024
    most: int | None = None

    @property
    def limit(self) -> int | None:
        """The most bytes the manifest allows (None: no bound known)."""
        return self.size if self.size is not None else self.most


@dataclass
class Finding:
    """One thing wrong with a URL; about one manifest only when *expectation* is set."""

    severity: Severity
    code: str
    message: str
    expectation: Expectation | None = None


@dataclass
class UrlResult:
    """What was learnt about one URL."""

    url: str
    expectations: list[Expectation]
    findings: list[Finding] = field(default_factory=list)
    status: int | None = None
    length: int | None = None
    content_type: str = ""
    redirects: list[str] = field(default_factory=list)
    downloaded: int = 0
    hashes: dict[str, Any] = field(default_factory=dict)
    saved: Path | None = None
    """The downloaded object, kept for the checker's *inspect* function."""

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def add(
        self, severity: Severity, code: str, message: str, expectation: Expectation | None = None
    ) -> None:
        self.findings.append(Finding(severity, code, message, expectation))


@dataclass
class Summary:
    layers: int = 0
    urls: int = 0
    ok: int = 0
    failed: int = 0
    warned: int = 0
    downloaded: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "layers": self.layers,
            "urls": self.urls,
            "ok": self.ok,
            "failed": self.failed,
            "warned": self.warned,
            "downloaded_bytes": self.downloaded,
            "seconds": round(self.seconds, 2),
        }

    def text(self) -> str:
        parts = [f"{self.ok} ok", f"{self.failed} failed"]
        if self.warned:
            parts.append(f"{self.warned} with warnings")
        if self.downloaded:
            parts.append(f"{self.downloaded / 1048576:.1f} MiB downloaded")
        return (
            f"online: {self.layers} layers at {self.urls} URLs checked in "
            f"{self.seconds:.1f} s: " + ", ".join(parts)
        )


class Failure(Exception):
    """A request that gave no usable answer (after the retries)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Answer:
    """The last answer to a request (its body unread) and the redirects before it."""

    response: requests.Response
    redirects: list[str]

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def reason(self) -> str:
        return self.response.reason or ""

    @property
    def headers(self) -> Mapping[str, str]:
        return self.response.headers

    def close(self) -> None:
        self.response.close()


def digest_matches(expected: str, hashes: dict[str, Any]) -> bool:
    """True when *expected* (``sha256:<hex>``, ``md5:<base64 or hex>``) is the hash."""
    name, _, value = expected.partition(":")
    hasher = hashes.get(name)
    if hasher is None:
        return False
    raw = hasher.digest()
    return value in (raw.hex(), base64.b64encode(raw).decode("ascii"))


def media_type(headers: Mapping[str, str]) -> str:
    """The media type of a ``Content-Type`` header, lower case, without parameters."""
    return (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
