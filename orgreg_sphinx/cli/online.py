"""Online checks of layer URLs: the objects exist, have the right size and type.

For each URL: a HEAD request (falling back to a ranged GET when HEAD is not
answered with 200) must end in 200 or 206; the Content-Length must equal the
layer size when that size is in bytes; ``text/html`` is an error (a login or
error page served in place of the image). With ``verify_digest`` the object is
downloaded and its sha256/sha512/md5 compared with the manifest. Requests run in
a bounded thread pool, with a timeout, and are retried with exponential backoff
on timeouts, connection errors, 429 and 5xx answers. Redirects are followed by
hand (http and https only) and reported, since some clients refuse them.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import random
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

from .._version import __version__
from ..core.model import KIB_THRESHOLD, Namespace, Problem

USER_AGENT = f"orgreg/{__version__} (layer check)"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
CHUNK = 1 << 20
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Settings:
    """How to check: concurrency, timeouts, retries and whether to download."""

    jobs: int = 8
    timeout: float = 30.0
    retries: int = 3
    retry_delay: float = 1.0
    verify_digest: bool = False
    max_redirects: int = 5


@dataclass(frozen=True)
class Expectation:
    """What one manifest says about a layer URL."""

    path: Path
    line: int | None
    size: int | None  # in bytes; None when the manifest holds KiB
    digest: str


@dataclass
class Finding:
    """One thing wrong with a URL; about one manifest only when *expectation* is set."""

    severity: str
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

    @property
    def failed(self) -> bool:
        return any(f.severity == "error" for f in self.findings)

    def add(self, severity: str, code: str, message: str,
            expectation: Expectation | None = None) -> None:
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
    """A request that gave no usable answer."""

    def __init__(self, code: str, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry = retry


@dataclass
class Answer:
    status: int
    reason: str
    headers: Message
    url: str
    redirects: list[str]
    body: IO[bytes] | None = None

    def close(self) -> None:
        if self.body is not None:
            self.body.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Let 3xx answers through as errors; redirects are followed by hand."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# ---------------------------------------------------------------- targets


def expectations(namespaces: Iterable[Namespace], only: set[Path] | None = None
                 ) -> dict[str, list[Expectation]]:
    """Layer URL -> what the manifests say about it (only manifests in *only*)."""
    targets: dict[str, list[Expectation]] = {}
    for ns in namespaces:
        for tag in ns.tags:
            if tag.path is None:
                continue
            if only is not None and tag.path.resolve() not in only:
                continue
            for index, layer in enumerate(tag.layers):
                targets.setdefault(layer.url, []).append(
                    Expectation(
                        path=tag.path,
                        line=tag.line("layers", index, "url"),
                        size=layer.size if layer.size >= KIB_THRESHOLD else None,
                        digest=layer.digest,
                    )
                )
    return targets


# ---------------------------------------------------------------- requests


class Checker:
    """Checks URLs with one set of :class:`Settings`."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.sleep = sleep
        self.opener = urllib.request.build_opener(_NoRedirect())

    def open(self, url: str, method: str, headers: dict[str, str]) -> Answer:
        """One request, following redirects by hand; raises :class:`Failure`."""
        redirects: list[str] = []
        current = url
        for _ in range(self.settings.max_redirects + 1):
            request = urllib.request.Request(
                current, method=method, headers={"User-Agent": USER_AGENT, **headers}
            )
            try:
                response = self.opener.open(request, timeout=self.settings.timeout)
                answer = Answer(response.status, response.reason, response.headers,
                                current, redirects, response)
            except urllib.error.HTTPError as err:
                answer = Answer(err.code, str(err.reason), err.headers, current, redirects, err)
            except TimeoutError:
                raise Failure("online-timeout",
                              f"did not answer within {self.settings.timeout:g} s",
                              retry=True) from None
            except urllib.error.URLError as err:
                reason = err.reason
                if isinstance(reason, TimeoutError):
                    raise Failure("online-timeout",
                                  f"did not answer within {self.settings.timeout:g} s",
                                  retry=True) from None
                raise Failure("online-error", f"cannot be reached: {reason}", retry=True) from None
            except (http.client.HTTPException, OSError) as err:
                raise Failure("online-error", f"cannot be read: {err or type(err).__name__}",
                              retry=True) from None
            if answer.status not in REDIRECT_STATUSES:
                return answer
            location = answer.headers.get("Location")
            answer.close()
            if not location:
                return answer
            target = urljoin(current, location)
            if urlsplit(target).scheme not in ("http", "https"):
                raise Failure("online-redirect",
                              f"redirects to {target}, which is not an http(s) address",
                              retry=False)
            redirects.append(target)
            current = target
        raise Failure("online-redirect",
                      f"redirects more than {self.settings.max_redirects} times", retry=False)

    def request(self, url: str, method: str, headers: dict[str, str] | None = None) -> Answer:
        """:meth:`open` with retries and backoff on transient failures."""
        retries = self.settings.retries
        for attempt in range(retries + 1):
            try:
                answer = self.open(url, method, headers or {})
            except Failure as failure:
                if not failure.retry or attempt == retries:
                    raise
                self.sleep(self.backoff(attempt))
                continue
            if answer.status in RETRY_STATUSES and attempt < retries:
                answer.close()
                self.sleep(self.backoff(attempt, answer.headers.get("Retry-After")))
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def backoff(self, attempt: int, retry_after: str | None = None) -> float:
        delay = self.settings.retry_delay * (2**attempt)
        delay += random.uniform(0, delay / 4)
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), MAX_RETRY_AFTER))
        return delay

    # ------------------------------------------------------------ one URL

    def check(self, url: str, expected: list[Expectation]) -> UrlResult:
        result = UrlResult(url, expected)
        try:
            self._probe(result)
            if self.settings.verify_digest and not result.failed:
                self._download(result)
        except Failure as failure:
            result.add("error", failure.code, failure.message)
        if not result.failed:
            self._compare(result)
        return result

    def _probe(self, result: UrlResult) -> None:
        answer = self.request(result.url, "HEAD")
        answer.close()
        if answer.status != 200:
            # some storage refuses HEAD (405, or 403 for URLs signed for GET)
            answer = self.request(result.url, "GET", {"Range": "bytes=0-0"})
            answer.close()
        result.status = answer.status
        result.redirects = answer.redirects
        result.content_type = _media_type(answer.headers)
        result.length = _length(answer)
        if answer.status not in (200, 206):
            code = "online-missing" if answer.status in (404, 410) else "online-status"
            result.add("error", code, f"answers {answer.status} {answer.reason}".rstrip())
            return
        if answer.redirects:
            result.add(
                "warning", "online-redirect",
                f"redirects to {answer.redirects[-1]}: clients that need an answer "
                "without a redirect (sregistry) cannot pull it",
            )
        if result.content_type in HTML_TYPES:
            result.add(
                "error", "online-html",
                f"serves {result.content_type}, not an image: a login or error page?",
            )

    def _download(self, result: UrlResult) -> None:
        algorithms = {e.digest.split(":", 1)[0] for e in result.expectations}
        retries = self.settings.retries
        for attempt in range(retries + 1):
            hashes = {name: hashlib.new(name) for name in algorithms}
            count = 0
            answer = self.request(result.url, "GET")
            try:
                if answer.status != 200 or answer.body is None:
                    raise Failure("online-status",
                                  f"answers {answer.status} {answer.reason} to a download",
                                  retry=False)
                while chunk := answer.body.read(CHUNK):
                    count += len(chunk)
                    for hasher in hashes.values():
                        hasher.update(chunk)
            except (OSError, http.client.HTTPException) as err:
                if attempt == retries:
                    raise Failure("online-download",
                                  f"download failed after {count} bytes: {err or 'timed out'}",
                                  retry=False) from None
                self.sleep(self.backoff(attempt))
                continue
            finally:
                answer.close()
            result.downloaded = count
            result.hashes = hashes
            return

    def _compare(self, result: UrlResult) -> None:
        """Size and digest against each manifest (findings tied to that manifest)."""
        for exp in result.expectations:
            measured = result.downloaded if result.hashes else result.length
            if exp.size is not None and measured is not None and measured != exp.size:
                what = "downloads as" if result.hashes else "has Content-Length"
                result.add("error", "online-size",
                           f"{what} {measured} bytes, but the manifest says {exp.size}", exp)
            if result.hashes and not digest_matches(exp.digest, result.hashes):
                name = exp.digest.split(":", 1)[0]
                got = f"{name}:{result.hashes[name].hexdigest()}"
                result.add("error", "online-digest",
                           f"has digest {got}, but the manifest says {exp.digest}", exp)

    # ------------------------------------------------------------ all URLs

    def check_all(
        self,
        targets: dict[str, list[Expectation]],
        progress: Progress | None = None,
    ) -> tuple[list[UrlResult], Summary]:
        started = time.monotonic()
        results: list[UrlResult] = []
        with ThreadPoolExecutor(max_workers=max(1, self.settings.jobs)) as pool:
            futures = [pool.submit(self.check, url, exp) for url, exp in targets.items()]
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                if progress is not None:
                    progress.update(len(results), sum(r.failed for r in results))
        if progress is not None:
            progress.finish()
        results.sort(key=lambda r: r.url)
        summary = Summary(
            layers=sum(len(r.expectations) for r in results),
            urls=len(results),
            ok=sum(not r.failed for r in results),
            failed=sum(r.failed for r in results),
            warned=sum(not r.failed and bool(r.findings) for r in results),
            downloaded=sum(r.downloaded for r in results),
            seconds=time.monotonic() - started,
        )
        return results, summary


def problems_of(results: Iterable[UrlResult]) -> list[Problem]:
    """One problem per finding per manifest that names the URL."""
    problems = []
    for result in results:
        for finding in result.findings:
            concerned = [finding.expectation] if finding.expectation else result.expectations
            for exp in concerned:
                problems.append(
                    Problem(exp.path, f"has a layer at {result.url} that {finding.message}",
                            exp.line, severity=finding.severity,  # type: ignore[arg-type]
                            code=finding.code)
                )
    return problems


def digest_matches(expected: str, hashes: dict[str, Any]) -> bool:
    """True when *expected* (``sha256:<hex>``, ``md5:<base64 or hex>``) is the hash."""
    name, _, value = expected.partition(":")
    hasher = hashes.get(name)
    if hasher is None:
        return False
    raw = hasher.digest()
    return value in (raw.hex(), base64.b64encode(raw).decode("ascii"))


def _media_type(headers: Message) -> str:
    return (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


def _length(answer: Answer) -> int | None:
    """The object's full size: Content-Range total of a 206, else Content-Length."""
    if answer.status == 206:
        total = (answer.headers.get("Content-Range") or "").rpartition("/")[2].strip()
        return int(total) if total.isdigit() else None
    value = (answer.headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


class Progress:
    """A one-line progress bar on a terminal (nothing elsewhere)."""

    def __init__(self, total: int, stream: IO[str] | None = None, width: int = 30) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.width = width

    @classmethod
    def for_terminal(cls, total: int, stream: IO[str] | None = None) -> Progress | None:
        stream = stream or sys.stderr
        try:
            interactive = stream.isatty()
        except (AttributeError, ValueError):
            interactive = False
        return cls(total, stream) if interactive and total else None

    def update(self, done: int, failed: int) -> None:
        filled = self.width * done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        tail = f", {failed} failed" if failed else ""
        self.stream.write(f"\rchecking layer URLs [{bar}] {done}/{self.total}{tail}")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()
