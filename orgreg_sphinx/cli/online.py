"""Online checks of layer URLs: the objects exist, have the right size and type.

For each URL: a HEAD request (falling back to a ranged GET when HEAD is not
answered with 200) must end in 200 or 206; the Content-Length must equal the
layer size when that size is in bytes; ``text/html`` is an error (a login or
error page served in place of the image). With ``verify_digest`` the object is
downloaded and its sha256/sha512/md5 compared with the manifest. Requests run in
a bounded thread pool, with a timeout, through the session of
:mod:`orgreg_sphinx.core.http`, whose urllib3 ``Retry`` retries them with
exponential backoff on timeouts, connection errors, 429 and 5xx answers.
Redirects are followed by hand (http and https only) and reported, since some
clients refuse them. The progress bar on a terminal is tqdm's. ``oras://``
references are checked through the OCI distribution API (:mod:`.oras`).
A checker given an *inspect* function also keeps each download in a temporary
file (never more bytes than the manifests' size) and hands it over once the
size and digest are right (``--verify-signatures``), then deletes it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, Never
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from tqdm import tqdm

from ..core import http, names
from ..core.model import Namespace, Problem
from . import oras
from .answers import (
    BODY_ERRORS,
    CHUNK,
    DOWNLOAD_SLACK,
    HTML_TYPES,
    REDIRECT_STATUSES,
    Answer,
    Expectation,
    Failure,
    Settings,
    Summary,
    UrlResult,
    digest_matches,
    media_type,
)

# ---------------------------------------------------------------- targets


def expectations(
    namespaces: Iterable[Namespace], only: set[Path] | None = None
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
                        size=None if tag.layer_size_is_kib(layer) else layer.size,
                        digest=layer.digest,
                        oci_manifest_digest=layer.oci_manifest_digest,
                        most=layer.size * 1024 if tag.layer_size_is_kib(layer) else layer.size,
                    )
                )
    return targets


# ---------------------------------------------------------------- requests


#: what looks into a downloaded object (its size and digest right); adds findings
Inspect = Callable[["UrlResult", Path], None]


class Checker:
    """Checks URLs with one set of :class:`Settings`; with *inspect*, downloads
    are kept and handed to it (``verify_digest`` must be set)."""

    def __init__(self, settings: Settings, inspect: Inspect | None = None) -> None:
        self.settings = settings
        self.inspect = inspect
        self.retry = http.retry_policy(settings.retries, settings.retry_delay)
        self.session = http.session("layer check", self.retry, pool_size=settings.jobs)
        # sizes and digests are those of the stored bytes, never of a recoding
        self.session.headers["Accept-Encoding"] = "identity"

    def open(self, url: str, method: str, headers: dict[str, str] | None = None) -> Answer:
        """One request (retried by the session), its body unread, following
        redirects by hand so that they are seen; raises :class:`Failure`."""
        redirects: list[str] = []
        current = url
        for _ in range(self.settings.max_redirects + 1):
            try:
                response = self.session.request(
                    method,
                    current,
                    headers=headers,
                    timeout=self.settings.timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.RequestException as err:
                raise self.failure(err) from None
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                return Answer(response, redirects)
            response.close()
            target = urljoin(current, location)
            if urlsplit(target).scheme not in ("http", "https"):
                raise Failure(
                    "online-redirect", f"redirects to {target}, which is not an http(s) address"
                )
            if http.is_loopback_url(target) and not http.is_loopback_url(url):
                raise Failure(
                    "online-redirect",
                    f"redirects to {target}, a loopback address: followed only from "
                    "addresses on loopback",
                )
            redirects.append(target)
            current = target
        raise Failure("online-redirect", f"redirects more than {self.settings.max_redirects} times")

    def failure(self, err: BaseException) -> Failure:
        """The :class:`Failure` a requests or urllib3 error *err* means."""
        if http.is_timeout(err):
            return Failure("online-timeout", f"did not answer within {self.settings.timeout:g} s")
        if http.is_connect_error(err):
            return Failure("online-error", f"cannot be reached: {http.reason(err)}")
        return Failure("online-error", f"cannot be read: {http.reason(err)}")

    # ------------------------------------------------------------ one URL

    def check(self, url: str, expected: list[Expectation]) -> UrlResult:
        """What is wrong with *url* (an http(s) URL or an ``oras://`` reference)."""
        result = UrlResult(url, expected)
        try:
            if names.is_oras(url):
                try:
                    oras.check(self, result)
                except Failure as failure:
                    result.add("error", failure.code, failure.message)
            else:
                try:
                    self._probe(result)
                    if self.settings.verify_digest and not result.failed and self._fits(result):
                        self._download(result)
                except Failure as failure:
                    result.add("error", failure.code, failure.message)
                if not result.failed:
                    self._compare(result)
            if self.inspect is not None and result.saved is not None and not result.failed:
                self.inspect(result, result.saved)
        finally:
            if result.saved is not None:
                result.saved.unlink(missing_ok=True)
                result.saved = None
        return result

    def sink(self, stack: ExitStack, result: UrlResult) -> IO[bytes] | None:
        """A temporary file (closed with *stack*, deleted after the check) for the
        download of *result* when downloads are kept, else None."""
        if self.inspect is None:
            return None
        handle, name = tempfile.mkstemp(prefix="orgreg-image-")
        result.saved = Path(name)
        return stack.enter_context(os.fdopen(handle, "w+b"))

    def receive(
        self,
        result: UrlResult,
        answer: Answer,
        limit: int | None,
        deadline: float,
        sink: IO[bytes] | None,
        hashes: Mapping[str, Any],
        what: str = "more than the {limit} bytes its manifest says",
    ) -> int:
        """Read the body of *answer* into *hashes* (and *sink*), counting in
        ``result.downloaded``: its length.

        Never more than *limit* + :data:`DOWNLOAD_SLACK` bytes are read (a
        :class:`Failure` then), and the read stops with a :class:`Failure` at
        *deadline* (``time.monotonic()``): each read returns what has come
        (``read1``), so a trickle cannot hold a read past the deadline by
        more than one *timeout*."""
        raw = answer.response.raw
        count = result.downloaded = 0
        while True:
            if time.monotonic() > deadline:
                raise Failure(
                    "online-timeout",
                    f"was not downloaded within {self.settings.deadline:g} s ({count} bytes came)",
                )
            amount = CHUNK if limit is None else min(CHUNK, limit + DOWNLOAD_SLACK - count)
            chunk = raw.read1(amount, decode_content=False)
            if not chunk:
                return count
            count += len(chunk)
            result.downloaded = count
            if limit is not None and count > limit:
                raise Failure("online-size", "downloads " + what.format(limit=limit))
            for hasher in hashes.values():
                hasher.update(chunk)
            if sink is not None:
                sink.write(chunk)

    def _fits(self, result: UrlResult) -> bool:
        """False when the object is known to be longer than every manifest allows
        (its Content-Length): it is not downloaded, the size check says why."""
        limits = [e.limit for e in result.expectations]
        if result.length is None or None in limits:
            return True
        return result.length <= max(limit for limit in limits if limit is not None)

    def _probe(self, result: UrlResult) -> None:
        answer = self.open(result.url, "HEAD")
        answer.close()
        if answer.status != 200:
            # some storage refuses HEAD (405, or 403 for URLs signed for GET)
            answer = self.open(result.url, "GET", {"Range": "bytes=0-0"})
            answer.close()
        result.status = answer.status
        result.redirects = answer.redirects
        result.content_type = media_type(answer.headers)
        result.length = _length(answer)
        if answer.status not in (200, 206):
            code = "online-missing" if answer.status in (404, 410) else "online-status"
            result.add("error", code, f"answers {answer.status} {answer.reason}".rstrip())
            return
        if answer.redirects:
            result.add(
                "warning",
                "online-redirect",
                f"redirects to {answer.redirects[-1]}: clients that need an answer "
                "without a redirect (sregistry) cannot pull it",
            )
        if result.content_type in HTML_TYPES:
            result.add(
                "error",
                "online-html",
                f"serves {result.content_type}, not an image: a login or error page?",
            )

    def _download(self, result: UrlResult) -> None:
        """Download the object and hash it, never more than the manifests allow
        and within one deadline; a download broken off is started again as the
        session's Retry says (its counts and backoff)."""
        algorithms = {e.digest.split(":", 1)[0] for e in result.expectations}
        limits = [e.limit for e in result.expectations]
        limit = None if None in limits else max(x for x in limits if x is not None)
        deadline = time.monotonic() + self.settings.deadline
        with ExitStack() as stack:
            sink = self.sink(stack, result)
            self._download_into(result, algorithms, self.retry, sink, limit, deadline)

    def _download_into(
        self,
        result: UrlResult,
        algorithms: set[str],
        retry: Any,
        sink: IO[bytes] | None,
        limit: int | None,
        deadline: float,
    ) -> None:
        while True:
            hashes = {name: hashlib.new(name) for name in algorithms}
            if sink is not None:
                sink.seek(0)
                sink.truncate()
            answer = self.open(result.url, "GET")
            try:
                if answer.status != 200:
                    raise Failure(
                        "online-status", f"answers {answer.status} {answer.reason} to a download"
                    )
                count = self.receive(result, answer, limit, deadline, sink, hashes)
            except BODY_ERRORS as err:
                try:
                    retry = retry.increment("GET", result.url, error=_as_urllib3(err))
                except urllib3.exceptions.MaxRetryError:
                    message = "timed out" if http.is_timeout(err) else http.reason(err)
                    raise Failure(
                        "online-download",
                        f"download failed after {result.downloaded} bytes: {message}",
                    ) from None
                retry.sleep()
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
                result.add(
                    "error",
                    "online-size",
                    f"{what} {measured} bytes, but the manifest says {exp.size}",
                    exp,
                )
            if result.hashes and not digest_matches(exp.digest, result.hashes):
                name = exp.digest.split(":", 1)[0]
                got = f"{name}:{result.hashes[name].hexdigest()}"
                result.add(
                    "error",
                    "online-digest",
                    f"has digest {got}, but the manifest says {exp.digest}",
                    exp,
                )

    # ------------------------------------------------------------ all URLs

    def check_all(
        self,
        targets: dict[str, list[Expectation]],
        progress_to: IO[str] | None = None,
    ) -> tuple[list[UrlResult], Summary]:
        """Check every URL; a progress bar on *progress_to* when it is a terminal."""
        started = time.monotonic()
        results: list[UrlResult] = []
        failed = 0
        bar = progress_bar(len(targets), progress_to) if progress_to is not None else None
        with ThreadPoolExecutor(max_workers=max(1, self.settings.jobs)) as pool:
            futures = [pool.submit(self.check, url, exp) for url, exp in targets.items()]
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                failed += result.failed
                if bar is not None:
                    bar.set_postfix_str(f"{failed} failed" if failed else "", refresh=False)
                    bar.update()
        self.session.close()
        if bar is not None and progress_to is not None:
            finish(bar, progress_to)
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
                    Problem(
                        exp.path,
                        f"has a layer at {result.url} that {finding.message}",
                        exp.line,
                        severity=finding.severity,
                        code=finding.code,
                    )
                )
    return problems


def _length(answer: Answer) -> int | None:
    """The object's full size: Content-Range total of a 206, else Content-Length."""
    if answer.status == 206:
        total = (answer.headers.get("Content-Range") or "").rpartition("/")[2].strip()
        return int(total) if total.isdigit() else None
    value = (answer.headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


def _as_urllib3(err: BaseException) -> Exception:
    """The urllib3 error *err* is or wraps, which urllib3's ``Retry`` can classify
    (a read error, a timeout); *err* itself otherwise (an "other" error)."""
    for cause in (err, *err.args):
        if isinstance(cause, urllib3.exceptions.HTTPError):
            return cause
    return err if isinstance(err, Exception) else RuntimeError(str(err))


def progress_bar(total: int, stream: IO[str]) -> tqdm[Never] | None:
    """tqdm's bar for *total* URLs on *stream*, when that is a terminal (else None)."""
    try:
        columns, lines = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        columns, lines = 0, 0
    bar = tqdm(
        total=total,
        file=stream,
        desc="checking layer URLs",
        bar_format="{desc} [{bar:30}] {n_fmt}/{total_fmt}{postfix}",
        ascii="-#",
        # a terminal that was given no size reports 0 x 0: tqdm would then
        # take it for one -1 line high and print nothing
        ncols=columns or 80,
        nrows=lines or 24,
        leave=False,
        disable=None if total else True,  # None: on a terminal only
    )
    return None if bar.disable else bar


def finish(bar: tqdm[Never], stream: IO[str]) -> None:
    """Show the final count, then clear the bar's line (the summary follows)."""
    bar.refresh()  # the last update may have come within tqdm's mininterval
    bar.close()  # leave=False: blanks the line and returns the cursor to its start
    stream.write("\x1b[K")  # erase to the end of the line, should the width have changed
    stream.flush()
