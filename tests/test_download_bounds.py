"""Downloads never read more than the manifest says, within one deadline; a
registry cannot steer the check to the machine's own services (issue 23,
items 6 and 8).

A real HTTP server on 127.0.0.1 counts what it was asked and what it sent; the
check runs as the ``orgreg`` command, as in CI.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from clitools import orgreg
from conftest import manifest, write_tree

from orgreg_sphinx.cli import online, oras
from orgreg_sphinx.core import names

FAST = ("--timeout", "2", "--retries", "0", "--format", "json", "--no-progress")
SIF_LAYER = "application/vnd.sylabs.sif.layer.v1.sif"
OCI = "application/vnd.oci.image.manifest.v1+json"
TIB = 1 << 40


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: str = "127.0.0.1") -> None:
        super().__init__((address, 0), Handler)
        self.requests: list[tuple[str, str]] = []
        self.sent: dict[str, int] = {}
        self.stop = threading.Event()
        self.blob_digest = ""

    def base(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def do_GET(self) -> None:
        self.answer(head=False)

    def answer(self, head: bool) -> None:
        self.server.requests.append((self.command, self.path))
        name = self.path.rsplit("/", 1)[-1]
        if name == "endless.sif":  # no length, bytes until the client stops
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            if not head:
                self.stream(b"\0" * 65536, 0.0)
        elif name == "trickle.sif":  # a byte now and then: never a read timeout
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(900_000))
            self.end_headers()
            if not head:
                self.stream(b"\0", 0.2)
        elif name == "long.sif":  # says (and is) 300 MiB
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(300 << 20))
            self.send_header("Connection", "close")
            self.end_headers()
            if not head:
                self.stream(b"\0" * 65536, 0.0)
        elif name == "to-loopback.sif":
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/x")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif "/manifests/" in self.path:  # an oras:// image declaring a 1 TiB SIF blob
            body = json.dumps(
                {
                    "schemaVersion": 2,
                    "config": {"mediaType": "application/vnd.sylabs.sif.config.v1+json"},
                    "layers": [
                        {"mediaType": SIF_LAYER, "digest": self.server.blob_digest, "size": TIB}
                    ],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", OCI)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def stream(self, chunk: bytes, pause: float) -> None:
        sent = 0
        try:
            while not self.server.stop.is_set() and sent < (300 << 20):
                self.wfile.write(chunk)
                sent += len(chunk)
                self.server.sent[self.path] = sent
                if pause:
                    time.sleep(pause)
        except OSError:
            pass
        self.close_connection = True


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    thread = threading.Thread(target=found.serve_forever, daemon=True)
    thread.start()
    yield found
    found.stop.set()
    found.shutdown()
    found.server_close()


def tree(root: Path, tags: dict[str, tuple[str, int]]) -> Path:
    digest = "sha256:" + hashlib.sha256(b"x").hexdigest()
    write_tree(
        root,
        {
            f"acme/bounds/manifests/{tag}/README.md": manifest(digest, size, url=url)
            for tag, (url, size) in tags.items()
        },
    )
    return root


def problems(done) -> dict[str, tuple[str, str]]:
    return {
        p["file"].split("/")[-2]: (p["code"], p["message"].split(" that ", 1)[1])
        for p in done.json()["problems"]
        if p["code"].startswith("online")
    }


def test_a_download_reads_no_more_than_the_manifest_says(server: Server, tmp_path: Path) -> None:
    """``size: 1000`` is read as KiB: 1,024,000 bytes at most, plus the one byte
    that proves the object longer, whatever the server sends."""
    root = tree(tmp_path / "tree", {"kib": (f"{server.base()}/endless.sif", 1000)})
    started = time.monotonic()
    done = orgreg("check", root, "--verify-digest", *FAST)
    assert done.code == 1
    assert problems(done) == {
        "kib": ("online-size", "downloads more than the 1024000 bytes its manifest says")
    }
    assert time.monotonic() - started < 20
    # what the server managed to write: the bytes read plus what sockets buffer
    assert server.sent["/endless.sif"] < 1_024_000 + (16 << 20)


def test_a_length_over_the_manifest_is_not_downloaded(server: Server, tmp_path: Path) -> None:
    root = tree(tmp_path / "tree", {"long": (f"{server.base()}/long.sif", 900_000)})
    done = orgreg("check", root, "--verify-digest", *FAST)
    assert problems(done) == {
        "long": (
            "online-size",
            f"has Content-Length {300 << 20} bytes, but the manifest says 900000",
        )
    }
    assert ("GET", "/long.sif") not in server.requests


def test_one_deadline_per_download(server: Server, tmp_path: Path) -> None:
    """A byte every 0.2 s never trips the 2 s read timeout; the deadline ends it."""
    root = tree(tmp_path / "tree", {"slow": (f"{server.base()}/trickle.sif", 900_000)})
    started = time.monotonic()
    done = orgreg("check", root, "--verify-digest", "--deadline", "3", *FAST)
    elapsed = time.monotonic() - started
    code, message = problems(done)["slow"]
    assert code == "online-timeout" and message.startswith("was not downloaded within 3 s")
    assert elapsed < 15, elapsed


def test_an_oras_blob_larger_than_the_manifest_is_not_fetched(
    server: Server, tmp_path: Path
) -> None:
    digest = "sha256:" + hashlib.sha256(b"blob").hexdigest()
    server.blob_digest = digest
    host = f"127.0.0.1:{server.server_address[1]}"
    write_tree(
        tmp_path / "tree",
        {
            "acme/oras/manifests/v1/README.md": manifest(
                digest, 900_000, url=f"oras://{host}/acme/oras:v1"
            )
        },
    )
    done = orgreg("check", tmp_path / "tree", "--verify-digest", *FAST)
    assert done.code == 1
    assert problems(done) == {
        "v1": (
            "online-size",
            f"holds a SIF layer of {TIB} bytes, but the manifest says 900000",
        )
    }
    assert not any("/blobs/" in path for _, path in server.requests), server.requests


def outward_address() -> str | None:
    """This machine's address off loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_redirect_to_loopback_is_refused_off_loopback(tmp_path: Path) -> None:
    address = outward_address()
    if address is None:
        pytest.skip("this machine has no address off loopback")
    found = Server("0.0.0.0")
    thread = threading.Thread(target=found.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"{found.base(address)}/to-loopback.sif"
        root = tree(tmp_path / "tree", {"ssrf": (url, 900_000)})
        done = orgreg("check", root, "--online", *FAST)
        code, message = problems(done)["ssrf"]
        assert code == "online-redirect"
        assert "a loopback address: followed only from addresses on loopback" in message
        assert ("HEAD", "/x") not in found.requests and ("GET", "/x") not in found.requests
    finally:
        found.shutdown()
        found.server_close()


@pytest.mark.parametrize(
    ("registry", "target", "allowed"),
    [
        ("ghcr.io", "http://127.0.0.1:2375/", False),
        ("ghcr.io", "https://127.0.0.1/token", False),
        ("ghcr.io", "http://localhost/token", False),
        ("ghcr.io", "http://[::ffff:127.0.0.1]:2375/", False),
        ("ghcr.io", "http://0.0.0.0:2375/", False),
        ("ghcr.io", "http://auth.example.org/token", False),
        ("ghcr.io", "https://ghcr.io/token", True),
        ("127.0.0.1:5000", "http://127.0.0.1:5001/token", True),
        ("127.0.0.1:5000", "http://auth.example.org/token", False),
        ("127.0.0.1:5000", "https://auth.example.org/token", True),
    ],
)
def test_token_realms_and_redirects_reach_loopback_only_from_loopback(
    registry: str, target: str, allowed: bool
) -> None:
    ref = names.oras_reference(f"oras://{registry}/a/b:1")
    assert ref is not None
    client = oras.OciRegistry(online.Checker(online.Settings()), ref)
    if allowed:
        assert client._allowed(target)
        return
    with pytest.raises(online.Failure) as refused:
        client.fetch_token({"realm": target})
    assert "names the token service" in refused.value.message
