"""Online checks of images kept in OCI registries (``oras://`` layer URLs).

The OCI distribution API over the shared requests session of
:mod:`orgreg_sphinx.core.http`: the tag's manifest is read (anonymously, after
the token exchange a ``401`` with ``WWW-Authenticate: Bearer`` asks for), its SIF
layer must have Apptainer's media type and the digest and size the registry
manifest names, and the blob must exist (``--verify-digest``: it is downloaded
and hashed). Every answer is read within a size limit and a deadline, redirects
are counted, the bearer token goes only to the registry's own host, and plain
HTTP is used only for registries on loopback addresses.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from contextlib import ExitStack
from typing import IO, Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit
from urllib.request import parse_http_list, parse_keqv_list

import requests

from ..core import http, names
from . import answers

#: what Apptainer pushes: the SIF as one layer, and its config
SIF_LAYER_TYPE = "application/vnd.sylabs.sif.layer.v1.sif"
SIF_CONFIG_TYPE = "application/vnd.sylabs.sif.config.v1+json"
#: registry manifests an ORAS push makes (OCI, or Docker's schema 2)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
#: the OCI distribution spec's limit for a manifest registries must accept
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: a token answer larger than this is not a token
MAX_TOKEN_BYTES = 256 * 1024
#: most layers read from a registry manifest (Apptainer pushes one)
MAX_LAYERS = 64
CHUNK = 1 << 16


class Client(Protocol):
    """What the checks of ``oras://`` references use of :class:`.online.Checker`."""

    session: requests.Session
    settings: answers.Settings

    def failure(self, err: BaseException) -> answers.Failure: ...

    def sink(self, stack: ExitStack, result: answers.UrlResult) -> IO[bytes] | None: ...

    def receive(
        self,
        result: answers.UrlResult,
        answer: answers.Answer,
        limit: int | None,
        deadline: float,
        sink: IO[bytes] | None,
        hashes: Mapping[str, Any],
        what: str = ...,
    ) -> int: ...


class OciRegistry:
    """One OCI registry reference, read through *checker*'s session and settings."""

    def __init__(self, checker: Client, ref: names.OrasReference) -> None:
        self.checker = checker
        self.settings = checker.settings
        self.ref = ref
        self.loopback = http.is_loopback(ref.hostname)
        self.base = f"{'http' if self.loopback else 'https'}://{ref.host}"
        self.token: str | None = None
        #: ``sha256:`` of the registry manifest read by :meth:`manifest` (what
        #: ``oras://<name>@<digest>`` pulls, as shpc does)
        self.manifest_digest: str | None = None

    # ------------------------------------------------------------ requests

    def _allowed(self, url: str) -> bool:
        """An address a redirect or a token realm may lead to: https, or plain
        http when the registry itself is on loopback; a loopback address only
        from a registry on loopback (a registry must not steer the check to
        services of the machine running it)."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            return False
        if http.is_loopback(host) and not self.loopback:
            return False
        if parts.scheme == "https":
            return bool(host)
        return parts.scheme == "http" and self.loopback and http.is_loopback(host)

    def open(
        self,
        url: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        *,
        auth: bool = True,
    ) -> answers.Answer:
        """One request, its body unread, redirects followed by hand (counted, https
        only off loopback); the bearer token is sent to the registry's host only."""
        redirects: list[str] = []
        current = url
        for _ in range(self.settings.max_redirects + 1):
            sent = dict(headers or {})
            if auth and self.token and urlsplit(current).netloc == self.ref.host:
                sent["Authorization"] = f"Bearer {self.token}"
            try:
                response = self.checker.session.request(
                    method,
                    current,
                    headers=sent,
                    timeout=self.settings.timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.RequestException as err:
                raise self.checker.failure(err) from None
            location = response.headers.get("Location")
            if response.status_code not in answers.REDIRECT_STATUSES or not location:
                return answers.Answer(response, redirects)
            response.close()
            target = urljoin(current, location)
            if not self._allowed(target):
                raise answers.Failure(
                    "online-redirect",
                    f"redirects to {target}: only https (or http from a registry on "
                    "loopback to loopback) is followed",
                )
            redirects.append(target)
            current = target
        raise answers.Failure(
            "online-redirect", f"redirects more than {self.settings.max_redirects} times"
        )

    def read(self, answer: answers.Answer, limit: int, what: str) -> bytes:
        """The body of *answer*, at most *limit* bytes, within the deadline."""
        length = (answer.headers.get("Content-Length") or "").strip()
        if length.isdigit() and int(length) > limit:
            answer.close()
            raise answers.Failure(
                "online-oras",
                f"answers with {what} of {int(length)} bytes, over the limit of {limit}",
            )
        deadline = time.monotonic() + 2 * self.settings.timeout
        data = bytearray()
        try:
            for chunk in answer.response.raw.stream(CHUNK, decode_content=True):
                data += chunk
                if len(data) > limit:
                    raise answers.Failure(
                        "online-oras", f"answers with {what} over the limit of {limit} bytes"
                    )
                if time.monotonic() > deadline:
                    raise answers.Failure(
                        "online-timeout",
                        f"did not send {what} within {2 * self.settings.timeout:g} s",
                    )
        except answers.BODY_ERRORS as err:
            raise self.checker.failure(err) from None
        finally:
            answer.close()
        return bytes(data)

    def authorized(self, url: str, method: str, headers: dict[str, str]) -> answers.Answer:
        """A request to the registry, after the token exchange when it asks for one."""
        answer = self.open(url, method, headers)
        if answer.status != 401 or self.token is not None:
            return answer
        challenge = answer.headers.get("WWW-Authenticate") or ""
        answer.close()
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() != "bearer":
            raise answers.Failure(
                "online-private",
                "asks for credentials (401 without a Bearer challenge): the package must "
                "be public so that anyone can pull it",
            )
        try:
            fields = parse_keqv_list(parse_http_list(params))
        except ValueError:
            raise answers.Failure(
                "online-oras", f"sends a malformed challenge {challenge!r}"
            ) from None
        self.token = self.fetch_token(fields)
        return self.open(url, method, headers)

    def fetch_token(self, challenge: dict[str, str]) -> str:
        """An anonymous pull token from the challenge's realm."""
        realm = challenge.get("realm") or ""
        if not self._allowed(realm):
            raise answers.Failure(
                "online-oras",
                f"names the token service {realm!r}: expected an https address off "
                "loopback (or http, from a registry on loopback)",
            )
        query = {key: value for key in ("service", "scope") if (value := challenge.get(key))}
        query.setdefault("scope", f"repository:{self.ref.name}:pull")
        url = f"{realm}{'&' if '?' in realm else '?'}{urlencode(query)}"
        answer = self.open(url, "GET", {"Accept": "application/json"}, auth=False)
        if answer.status in (401, 403):
            answer.close()
            raise answers.Failure(
                "online-private",
                f"gives no anonymous pull token ({answer.status}): the package must be "
                "public so that anyone can pull it",
            )
        if answer.status != 200:
            answer.close()
            raise answers.Failure(
                "online-oras", f"token service answers {answer.status} {answer.reason}"
            )
        body = self.read(answer, MAX_TOKEN_BYTES, "a token")
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token or not token.isprintable():
            raise answers.Failure("online-oras", "token service answers without a token")
        return token

    # ------------------------------------------------------------ the image

    def manifest(self) -> dict[str, Any]:
        """The registry manifest of the reference (tag or digest)."""
        url = f"{self.base}/v2/{self.ref.name}/manifests/{self.ref.reference}"
        answer = self.authorized(url, "GET", {"Accept": ", ".join(MANIFEST_TYPES)})
        where = f"{self.ref.name}:{self.ref.tag}" if self.ref.tag else self.ref.name
        if answer.status in (401, 403):
            answer.close()
            raise answers.Failure(
                "online-private",
                f"is not readable without credentials ({answer.status}): the package "
                "must be public so that anyone can pull it",
            )
        if answer.status == 404:
            answer.close()
            raise answers.Failure(
                "online-missing",
                f"is not in the registry: {self.ref.host} has no {self.ref.reference!r} "
                f"in {where.partition(':')[0]}",
            )
        if answer.status != 200:
            answer.close()
            raise answers.Failure(
                "online-status", f"answers {answer.status} {answer.reason}".rstrip()
            )
        kind = answers.media_type(answer.headers)
        if kind not in MANIFEST_TYPES:
            answer.close()
            raise answers.Failure(
                "online-oras",
                f"answers with a {kind or 'untyped'} document, not an image manifest "
                f"({MANIFEST_TYPES[0]})",
            )
        body = self.read(answer, MAX_MANIFEST_BYTES, "a manifest")
        self.manifest_digest = "sha256:" + hashlib.sha256(body).hexdigest()
        try:
            data = json.loads(body)
        except ValueError:
            raise answers.Failure(
                "online-oras", "answers with a manifest that is not JSON"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
            raise answers.Failure("online-oras", "answers with a manifest without a layer list")
        return data

    def sif_layer(self, manifest: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The SIF layer of *manifest*, and warnings about the rest of it."""
        layers = manifest["layers"]
        if len(layers) > MAX_LAYERS:
            raise answers.Failure(
                "online-oras",
                f"has a manifest of {len(layers)} layers (at most "
                f"{MAX_LAYERS} are read; Apptainer pushes one)",
            )
        sif = [
            la for la in layers if isinstance(la, dict) and la.get("mediaType") == SIF_LAYER_TYPE
        ]
        if not sif:
            kinds = sorted({str(la.get("mediaType")) for la in layers if isinstance(la, dict)})
            raise answers.Failure(
                "online-media-type",
                f"has no SIF layer: its layers are of type {', '.join(kinds) or 'none'}, "
                f"expected {SIF_LAYER_TYPE} (as 'apptainer push' writes)",
            )
        layer = sif[0]
        if not isinstance(layer.get("digest"), str) or not isinstance(layer.get("size"), int):
            raise answers.Failure("online-oras", "has a SIF layer without digest or size")
        warnings = []
        config = manifest.get("config")
        config_type = config.get("mediaType") if isinstance(config, dict) else None
        if config_type != SIF_CONFIG_TYPE:
            warnings.append(
                f"has a config of type {config_type!r}, not {SIF_CONFIG_TYPE}: "
                "Apptainer may refuse to pull it"
            )
        return layer, warnings

    def blob(self, digest: str, expected_size: int, result: answers.UrlResult) -> None:
        """The blob exists (HEAD); with ``verify_digest`` it is downloaded and hashed
        (no more than *expected_size* bytes are read)."""
        url = f"{self.base}/v2/{self.ref.name}/blobs/{digest}"
        if not self.settings.verify_digest:
            answer = self.authorized(url, "HEAD", {})
            answer.close()
            if answer.status != 200:
                raise answers.Failure(
                    "online-missing",
                    f"lists the SIF blob {digest}, which the registry "
                    f"answers with {answer.status} {answer.reason}".rstrip(),
                )
            return
        answer = self.authorized(url, "GET", {})
        if answer.status != 200:
            answer.close()
            raise answers.Failure(
                "online-missing",
                f"lists the SIF blob {digest}, which the registry answers "
                f"with {answer.status} {answer.reason}".rstrip(),
            )
        hasher = hashlib.sha256()
        deadline = time.monotonic() + self.settings.deadline
        try:
            with ExitStack() as stack:
                # --verify-signatures keeps the blob (never more than expected_size)
                sink = self.checker.sink(stack, result)
                count = self.checker.receive(
                    result,
                    answer,
                    expected_size,
                    deadline,
                    sink,
                    {"sha256": hasher},
                    "a SIF blob longer than its {limit} bytes",
                )
        except answers.BODY_ERRORS as err:
            raise answers.Failure(
                "online-download",
                f"download failed after {result.downloaded} bytes: "
                f"{self.checker.failure(err).message}",
            ) from None
        finally:
            answer.close()
        result.downloaded = count
        result.hashes = {"sha256": hasher}


def check(checker: Client, result: answers.UrlResult) -> None:
    """Check the ``oras://`` reference of *result* against its manifests; the
    findings go into *result* (raises :class:`answers.Failure` for the URL)."""
    ref = names.oras_reference(result.url)
    if ref is None:
        raise answers.Failure("online-oras", names.oras_problem(result.url) or "is not valid")
    registry = OciRegistry(checker, ref)
    manifest = registry.manifest()
    layer, warnings = registry.sif_layer(manifest)
    result.status = 200
    result.content_type = SIF_LAYER_TYPE
    result.length = layer["size"]
    for warning in warnings:
        result.add("warning", "online-media-type", warning)
    differs = False
    for exp in result.expectations:
        if exp.digest != layer["digest"]:
            differs = True
            result.add(
                "error",
                "online-digest",
                f"holds a SIF layer of digest {layer['digest']}, but the manifest "
                f"says {exp.digest}",
                exp,
            )
        if exp.size is not None and exp.size != layer["size"]:
            result.add(
                "error",
                "online-size",
                f"holds a SIF layer of {layer['size']} bytes, but the manifest says {exp.size}",
                exp,
            )
    for exp in result.expectations:
        if exp.oci_manifest_digest and exp.oci_manifest_digest != registry.manifest_digest:
            result.add(
                "error",
                "online-digest",
                f"resolves to the OCI manifest {registry.manifest_digest}, but the "
                f"manifest records oci_manifest_digest {exp.oci_manifest_digest} "
                "(what shpc pulls by)",
                exp,
            )
    if differs and not checker.settings.verify_digest:
        return
    allowed = [exp.limit for exp in result.expectations]
    if None not in allowed and layer["size"] > max(x for x in allowed if x is not None):
        return  # longer than any manifest allows: said above, never fetched
    registry.blob(layer["digest"], layer["size"], result)
    if result.hashes and not answers.digest_matches(layer["digest"], result.hashes):
        result.add(
            "error",
            "online-digest",
            f"serves a blob whose sha256 is {result.hashes['sha256'].hexdigest()}, "
            f"not the {layer['digest']} its registry manifest names",
        )


def resolve(url: str, checker: Client) -> tuple[str, str, int]:
    """``(OCI manifest digest, SIF layer digest, SIF size)`` of the image an
    ``oras://`` *url* names, read from its registry (raises :class:`answers.Failure`)."""
    ref = names.oras_reference(url)
    if ref is None:
        raise answers.Failure("online-oras", names.oras_problem(url) or "is not valid")
    registry = OciRegistry(checker, ref)
    layer, _ = registry.sif_layer(registry.manifest())
    assert registry.manifest_digest is not None  # set by manifest()
    return registry.manifest_digest, layer["digest"], layer["size"]
