"""``orgreg check --online`` against a real HTTP server on 127.0.0.1 (issue 4).

The server holds good, missing, redirecting, wrong-size, HTML, slow, flaky,
HEAD-refusing and corrupted objects; each manifest of the tree points at one.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from clitools import on_terminal, orgreg
from conftest import manifest, write_tree

SIZE = 600_000  # above the KiB threshold: the size is in bytes and is compared
GOOD = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)
CORRUPT = GOOD[:1000] + b"X" + GOOD[1001:]
DIGEST = "sha256:" + hashlib.sha256(GOOD).hexdigest()
MD5 = "md5:" + base64.b64encode(hashlib.md5(GOOD).digest()).decode()
SLOW_SECONDS = 30  # far beyond the --timeout the tests give; released at teardown
HOLD_SECONDS = 0.5  # time for requests beyond --jobs to show up, if a client sent them


class Objects(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.log: list[tuple[str, str, str | None]] = []
        self.release = threading.Event()
        self.flaky_left = 2
        self.lock = threading.Lock()
        # /held-*.sif: each request is held a moment (until a third is open at
        # once, or all have come) to see how many the client keeps open
        self.held = threading.Condition()
        self.held_total = 0
        self.held_arrived = 0
        self.inflight = 0
        self.most_inflight = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def requests_for(self, path: str) -> list[tuple[str, str | None]]:
        return [(method, rng) for method, p, rng in self.log if p == path]


class Handler(BaseHTTPRequestHandler):
    server: Objects

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_HEAD(self) -> None:
        self.answer(body=False)

    def do_GET(self) -> None:
        self.answer(body=True)

    def send(
        self,
        status: int,
        data: bytes,
        body: bool,
        ctype: str = "application/octet-stream",
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def answer(self, body: bool) -> None:
        path = self.path
        with self.server.lock:
            self.server.log.append((self.command, path, self.headers.get("Range")))
        if path in ("/good.sif", "/md5.sif"):
            self.send(200, GOOD, body)
        elif path == "/corrupt.sif":
            self.send(200, CORRUPT, body)
        elif path == "/wrong-size.sif":
            self.send(200, GOOD[:550_000], body)
        elif path == "/login.sif":
            self.send(200, b"<html><form>Sign in</form></html>", body, "text/html; charset=utf-8")
        elif path == "/redirect.sif":
            self.send(302, b"", body, extra={"Location": "/good.sif"})
        elif path == "/loop.sif":
            self.send(302, b"", body, extra={"Location": "/loop.sif"})
        elif path == "/to-file.sif":
            self.send(302, b"", body, extra={"Location": "file:///etc/passwd"})
        elif path.startswith("/held-"):
            with self.server.held:
                self.server.held_arrived += 1
                self.server.inflight += 1
                self.server.most_inflight = max(self.server.most_inflight, self.server.inflight)
                self.server.held.notify_all()
                self.server.held.wait_for(
                    lambda: (
                        self.server.inflight > 2
                        or self.server.held_arrived >= self.server.held_total
                    ),
                    timeout=HOLD_SECONDS,
                )
                # no longer held before the answer goes out: a client that has its
                # bytes may open its next request before this thread runs again
                self.server.inflight -= 1
            self.send(200, GOOD, body)
        elif path == "/slow.sif":
            self.server.release.wait(SLOW_SECONDS)
            self.send(200, GOOD, body)
        elif path == "/flaky.sif":
            with self.server.lock:
                fail = self.server.flaky_left > 0
                self.server.flaky_left -= fail
            if fail:
                self.send(503, b"busy", body, "text/plain", {"Retry-After": "0"})
            else:
                self.send(200, GOOD, body)
        elif path == "/nohead.sif":
            if self.command == "HEAD":
                self.send(405, b"", body, "text/plain")
            elif self.headers.get("Range") == "bytes=0-0":
                self.send(206, GOOD[:1], body, extra={"Content-Range": f"bytes 0-0/{len(GOOD)}"})
            else:
                self.send(200, GOOD, body)
        else:
            self.send(404, b"not found", body, "text/plain")


@pytest.fixture
def server() -> Iterator[Objects]:
    httpd = Objects()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join()


OBJECTS = [
    "good",
    "missing",
    "redirect",
    "loop",
    "to-file",
    "wrong-size",
    "login",
    "slow",
    "flaky",
    "nohead",
    "corrupt",
    "md5",
]


def registry(root: Path, base: str, names: list[str] = OBJECTS) -> Path:
    files = {}
    for name in names:
        digest = MD5 if name == "md5" else DIGEST
        files[f"acme/objects/manifests/{name}/README.md"] = manifest(
            digest, SIZE, url=f"{base}/{name}.sif"
        )
    write_tree(root, files)
    return root


FAST = ("--timeout", "2", "--retries", "2", "--retry-delay", "0.01")


def online_problems(body: dict) -> dict[str, list[tuple[str, str, str]]]:
    found: dict[str, list[tuple[str, str, str]]] = {}
    for p in body["problems"]:
        if p["code"].startswith("online"):
            tag = p["file"].split("/")[-2]
            found.setdefault(tag, []).append((p["severity"], p["code"], p["message"]))
    return found


def test_online_check_of_every_kind_of_object(tmp_path: Path, server: Objects) -> None:
    root = registry(tmp_path / "tree", server.base)
    result = orgreg("check", root, "--online", *FAST, "--format", "json", cwd=tmp_path)
    assert result.code == 1, result.out + result.err
    body = result.json()
    base = server.base
    url = "has a layer at {0}/{1}.sif that {2}"
    assert online_problems(body) == {
        "missing": [
            ("error", "online-missing", url.format(base, "missing", "answers 404 Not Found"))
        ],
        "redirect": [
            (
                "warning",
                "online-redirect",
                url.format(
                    base,
                    "redirect",
                    f"redirects to {base}/good.sif: clients that need an answer "
                    "without a redirect (sregistry) cannot pull it",
                ),
            )
        ],
        "loop": [
            ("error", "online-redirect", url.format(base, "loop", "redirects more than 5 times"))
        ],
        "to-file": [
            (
                "error",
                "online-redirect",
                url.format(
                    base,
                    "to-file",
                    "redirects to file:///etc/passwd, which is not an http(s) address",
                ),
            )
        ],
        "wrong-size": [
            (
                "error",
                "online-size",
                url.format(
                    base,
                    "wrong-size",
                    "has Content-Length 550000 bytes, but the manifest says 600000",
                ),
            )
        ],
        "login": [
            (
                "error",
                "online-html",
                url.format(base, "login", "serves text/html, not an image: a login or error page?"),
            )
        ],
        "slow": [
            ("error", "online-timeout", url.format(base, "slow", "did not answer within 2 s"))
        ],
    }
    # good, flaky (after retries), nohead (ranged GET), corrupt (same size) and md5 pass
    assert body["online"] | {"seconds": 0} == {
        "layers": 12,
        "urls": 12,
        "ok": 6,
        "failed": 6,
        "warned": 1,
        "downloaded_bytes": 0,
        "seconds": 0,
    }
    # the errors carry the line of the layer's url in the manifest
    lines = {p["line"] for p in body["problems"] if p["code"].startswith("online")}
    assert lines == {8}
    # flaky: 503 twice, then 200; nohead: HEAD refused, then a one-byte ranged GET
    assert server.requests_for("/flaky.sif") == [("HEAD", None)] * 3
    assert server.requests_for("/nohead.sif") == [("HEAD", None), ("GET", "bytes=0-0")]
    # the slow object was tried once and retried twice
    assert server.requests_for("/slow.sif") == [("HEAD", None)] * 3


def test_human_summary_and_no_progress_bar_off_a_terminal(tmp_path: Path, server: Objects) -> None:
    root = registry(tmp_path / "tree", server.base, ["good", "missing"])
    result = orgreg("check", "tree", "--online", *FAST, cwd=tmp_path)
    assert result.code == 1
    lines = result.out.splitlines()
    assert (
        f"tree/acme/objects/manifests/missing/README.md:8: error: has a layer at "
        f"{server.base}/missing.sif that answers 404 Not Found [online-missing]"
    ) in lines
    assert lines[-1].startswith("online: 2 layers at 2 URLs checked in ")
    assert lines[-1].endswith(" s: 1 ok, 1 failed")
    assert "checking layer URLs" not in result.err
    assert root.is_dir()


def test_verify_digest_catches_a_corrupted_object(tmp_path: Path, server: Objects) -> None:
    root = registry(tmp_path / "tree", server.base, ["good", "corrupt", "md5", "nohead"])
    plain = orgreg("check", root, "--online", *FAST, "--format", "json")
    assert plain.code == 0 and online_problems(plain.json()) == {}
    result = orgreg("check", root, "--verify-digest", *FAST, "--format", "json")
    assert result.code == 1
    body = result.json()
    bad = "sha256:" + hashlib.sha256(CORRUPT).hexdigest()
    assert online_problems(body) == {
        "corrupt": [
            (
                "error",
                "online-digest",
                f"has a layer at {server.base}/corrupt.sif that has digest {bad}, "
                f"but the manifest says {DIGEST}",
            )
        ],
    }
    assert body["online"]["downloaded_bytes"] == 4 * SIZE
    assert ("GET", None) in server.requests_for("/md5.sif")


def test_only_changed_manifests_are_checked_online(tmp_path: Path, server: Objects) -> None:
    registry(tmp_path, server.base, ["good", "missing", "login"])
    result = orgreg(
        "check",
        ".",
        "--online",
        *FAST,
        "--changed",
        "acme/objects/manifests/good/README.md",
        cwd=tmp_path,
    )
    assert result.code == 0, result.out
    assert [p for _, p, _ in server.log] == ["/good.sif"]
    assert "online: 1 layers at 1 URLs" in result.out


def test_progress_bar_on_a_terminal(tmp_path: Path, server: Objects) -> None:
    root = registry(tmp_path / "tree", server.base, ["good", "missing", "nohead"])
    proc = on_terminal("check", root, "--online", *FAST)
    out, text = proc.out, proc.err
    assert proc.code == 1
    assert "checking layer URLs [" in text
    assert "] 3/3, 1 failed" in text
    assert text.endswith("\r\x1b[K")  # the bar is cleared before the summary
    assert out.splitlines()[-1].endswith("2 ok, 1 failed")


def test_concurrency_is_bounded_by_jobs(tmp_path: Path, server: Objects) -> None:
    names = [f"held-{i}" for i in range(8)]
    server.held_total = len(names)
    root = registry(tmp_path / "tree", server.base, names)
    result = orgreg("check", root, "--online", "--jobs", "2", *FAST, "--format", "json")
    assert result.code == 0, result.out
    assert result.json()["online"]["ok"] == 8
    assert server.held_arrived == 8
    assert server.most_inflight == 2
