"""HTTP through requests and urllib3's Retry (``orgreg_sphinx.core.http``), seen
from outside: ``orgreg check --online`` and the ``registry`` directive against a
real HTTP server on 127.0.0.1 that records when each request came and what it
carried; the tqdm progress bar under a pseudo-terminal."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from clitools import on_terminal, orgreg
from conftest import REPO, manifest, no_proxy, soup, warnings_of, write_tree

from orgreg_sphinx import __version__
from orgreg_sphinx.core import remote

SIZE = 600_000
BODY = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()
CATALOG = json.dumps(
    {
        "catalogVersion": 1,
        "namespaces": [
            {
                "name": "acme/x",
                "tags": [{"name": "1.0", "size": 10, "digest": "sha256:" + "0" * 64}],
            }
        ],
    }
).encode()


class Recorder(ThreadingHTTPServer):
    """Answers by path; keeps (method, path, time, User-Agent) of every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.log: list[tuple[str, str, float, str]] = []
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def seen(self, path: str) -> list[tuple[str, float]]:
        """(method, time) of the requests for *path*."""
        with self.lock:
            return [(method, at) for method, p, at, _ in self.log if p == path]

    def count(self, path: str) -> int:
        return len(self.seen(path))


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, *args: object) -> None:
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
        headers: dict[str, str] | None = None,
        ctype: str = "application/octet-stream",
        cut: int | None = None,
    ) -> None:
        """An answer; *cut*: close the connection after that many bytes of the body."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data if cut is None else data[:cut])
        if cut is not None:
            self.close_connection = True

    def answer(self, body: bool) -> None:
        with self.server.lock:
            self.server.log.append(
                (self.command, self.path, time.monotonic(), self.headers.get("User-Agent", ""))
            )
        before = self.server.count(self.path) - 1  # earlier requests for this path
        path = self.path
        if path == "/busy.sif":  # 503 twice (no Retry-After), then the object
            self.send(*((503, b"busy") if before < 2 else (200, BODY)), body)
        elif path == "/later.sif":  # 429 asking for a second's wait, then the object
            if before < 1:
                self.send(429, b"slow down", body, {"Retry-After": "1"})
            else:
                self.send(200, BODY, body)
        elif path == "/vague.sif":  # 429 with a Retry-After that is no time, then the object
            if before < 1:
                self.send(429, b"slow down", body, {"Retry-After": "soon"})
            else:
                self.send(200, BODY, body)
        elif path == "/down.sif":
            self.send(503, b"down", body)
        elif path == "/cut.sif":  # the first download breaks off halfway
            cut = SIZE // 2 if self.command == "GET" and before < 2 else None
            self.send(200, BODY, body, cut=cut)
        elif path == "/always-cut.sif":
            self.send(200, BODY, body, cut=SIZE // 2 if self.command == "GET" else None)
        elif path.endswith(".sif"):
            self.send(200, BODY, body)
        elif path == "/busy/api/catalog.json":
            self.send(
                *((503, b"busy") if before < 1 else (200, CATALOG)), body, ctype="application/json"
            )
        elif path == "/down/api/catalog.json":
            self.send(503, b"down", body)
        elif path == "/moved/api/catalog.json":
            self.send(301, b"", body, {"Location": "/ok/api/catalog.json"})
        elif path == "/ok/api/catalog.json":
            self.send(200, CATALOG, body, ctype="application/json")
        elif path == "/big/api/catalog.json":
            self.send(200, CATALOG + b" " * 5000, body, ctype="application/json")
        elif path == "/gzip/api/catalog.json":
            self.send(
                200,
                gzip.compress(CATALOG),
                body,
                {"Content-Encoding": "gzip"},
                ctype="application/json",
            )
        elif path == "/bomb/api/catalog.json":  # 87 kB on the wire, 10 MB unpacked
            self.send(
                200,
                gzip.compress(CATALOG + b" " * 10_000_000),
                body,
                {"Content-Encoding": "gzip"},
                ctype="application/json",
            )
        else:
            self.send(404, b"not found", body, ctype="text/plain")


@pytest.fixture
def server() -> Iterator[Recorder]:
    httpd = Recorder()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy for 127.0.0.1; every remote registry read afresh."""
    no_proxy(monkeypatch)
    remote.forget()


def tree(root: Path, urls: dict[str, str]) -> Path:
    """A manifest tree with one tag per name, its layer at the URL given."""
    write_tree(
        root,
        {
            f"acme/objects/manifests/{name}/README.md": manifest(DIGEST, SIZE, url=url)
            for name, url in urls.items()
        },
    )
    return root


def check(root: Path, *args: str) -> dict:
    result = orgreg("check", root, "--online", "--timeout", "5", "--format", "json", *args)
    return result.json()


def online(body: dict) -> list[tuple[str, str, str]]:
    return [
        (p["severity"], p["code"], p["message"])
        for p in body["problems"]
        if p["code"].startswith("online")
    ]


def gaps(times: list[tuple[str, float]]) -> list[float]:
    return [b - a for (_, a), (_, b) in zip(times, times[1:], strict=False)]


# ---------------------------------------------------------------- orgreg check --online


def test_retry_delay_is_the_first_backoff_then_doubled(tmp_path: Path, server: Recorder) -> None:
    root = tree(tmp_path, {"busy": f"{server.base}/busy.sif"})
    body = check(root, "--retries", "2", "--retry-delay", "0.4")
    assert online(body) == [] and body["online"]["ok"] == 1
    seen = server.seen("/busy.sif")
    assert [method for method, _ in seen] == ["HEAD"] * 3
    first, second = gaps(seen)
    assert 0.4 <= first < 0.8  # urllib3's own Retry would not wait before the first retry
    assert 0.8 <= second < 1.6


def test_retry_after_is_honoured(tmp_path: Path, server: Recorder) -> None:
    root = tree(tmp_path, {"later": f"{server.base}/later.sif"})
    body = check(root, "--retries", "2", "--retry-delay", "0.01")
    assert online(body) == []
    seen = server.seen("/later.sif")
    assert len(seen) == 2 and gaps(seen)[0] >= 1.0


def test_a_retry_after_that_is_no_time_is_ignored(tmp_path: Path, server: Recorder) -> None:
    root = tree(tmp_path, {"vague": f"{server.base}/vague.sif"})
    body = check(root, "--retries", "2", "--retry-delay", "0.01")
    assert online(body) == []
    assert len(server.seen("/vague.sif")) == 2


def test_retries_run_out_on_the_last_answer(tmp_path: Path, server: Recorder) -> None:
    root = tree(tmp_path, {"down": f"{server.base}/down.sif"})
    body = check(root, "--retries", "1", "--retry-delay", "0.01")
    assert online(body) == [
        (
            "error",
            "online-status",
            f"has a layer at {server.base}/down.sif that answers 503 Service Unavailable",
        )
    ]
    # HEAD and its retry, then the ranged GET and its retry
    assert [m for m, _ in server.seen("/down.sif")] == ["HEAD", "HEAD", "GET", "GET"]


def test_unreachable_host(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.sif"
    body = check(tree(tmp_path, {"gone": url}), "--retries", "1", "--retry-delay", "0.01")
    assert online(body) == [
        (
            "error",
            "online-error",
            f"has a layer at {url} that cannot be reached: Connection refused",
        )
    ]


def test_user_agent_names_the_version(tmp_path: Path, server: Recorder) -> None:
    check(tree(tmp_path, {"good": f"{server.base}/good.sif"}))
    assert {agent for *_, agent in server.log} == {f"orgreg-sphinx/{__version__} (layer check)"}


def test_a_broken_download_is_started_again(tmp_path: Path, server: Recorder) -> None:
    root = tree(tmp_path, {"cut": f"{server.base}/cut.sif"})
    body = check(root, "--verify-digest", "--retries", "2", "--retry-delay", "0.01")
    assert online(body) == []
    assert body["online"]["downloaded_bytes"] == SIZE
    assert [m for m, _ in server.seen("/cut.sif")] == ["HEAD", "GET", "GET"]


def test_a_download_that_always_breaks_fails(tmp_path: Path, server: Recorder) -> None:
    root = tree(tmp_path, {"cut": f"{server.base}/always-cut.sif"})
    body = check(root, "--verify-digest", "--retries", "1", "--retry-delay", "0.01")
    [(severity, code, message)] = online(body)
    assert (severity, code) == ("error", "online-download")
    assert message.startswith(
        f"has a layer at {server.base}/always-cut.sif that download "
        f"failed after {SIZE // 2} bytes: "
    )
    assert [m for m, _ in server.seen("/always-cut.sif")] == ["HEAD", "GET", "GET"]


# ---------------------------------------------------------------- the progress bar


@pytest.mark.parametrize("switch", ["--no-progress", "--format=json"])
def test_no_progress_bar_when_switched_off(tmp_path: Path, server: Recorder, switch: str) -> None:
    root = tree(tmp_path, {"good": f"{server.base}/good.sif"})
    assert on_terminal("check", root, "--online", switch).err == ""


def test_progress_bar_fits_the_terminal(tmp_path: Path, server: Recorder) -> None:
    names = {f"n{i}": f"{server.base}/n{i}.sif" for i in range(12)}
    screen = on_terminal("check", tree(tmp_path, names), "--online", columns=50).err
    lines = [line for line in re.split(r"\r|\x1b\[K", screen) if line.strip()]
    assert lines and all(len(line) <= 50 for line in lines)
    assert any(line.startswith("checking layer URLs [") for line in lines)


# ---------------------------------------------------------------- the registry directive


def read(url: str, tmp_path: Path, max_bytes: int = 1_000_000) -> remote.RemoteRegistry:
    settings = remote.FetchSettings(timeout=5, max_bytes=max_bytes)
    return remote.load(url, (), tmp_path / "cache", settings)


def test_remote_busy_registry_is_asked_again(
    server: Recorder,
    tmp_path: Path,
    registry_project: Callable[..., Path],
    build: Callable[..., object],
) -> None:
    index = f"# Home\n\n```{{registry}} {server.base}/busy/\n```\n"
    app = build(registry_project({}, index=index))
    assert "cannot read the registry" not in warnings_of(app)
    rows = soup(Path(app.outdir) / "index.html").select("table.orgreg-namespaces tbody tr")
    assert [row.select_one("a").get_text() for row in rows] == ["acme/x"]
    assert server.count("/busy/api/catalog.json") == 2


def test_remote_registry_down_is_asked_once_more(server: Recorder, tmp_path: Path) -> None:
    found = read(f"{server.base}/down/", tmp_path)
    assert found.namespaces == ()
    assert "api/catalog.json HTTP 503 Service Unavailable" in found.warnings[0]
    assert server.count("/down/api/catalog.json") == 2


def test_remote_redirect_is_followed(server: Recorder, tmp_path: Path) -> None:
    found = read(f"{server.base}/moved/", tmp_path)
    assert (found.source, found.warnings) == ("catalog", [])
    assert [ns.name for ns in found.namespaces] == ["acme/x"]


def test_remote_compressed_catalog(server: Recorder, tmp_path: Path) -> None:
    found = read(f"{server.base}/gzip/", tmp_path)
    assert (found.source, [ns.name for ns in found.namespaces]) == ("catalog", ["acme/x"])


@pytest.mark.parametrize(("prefix", "limit"), [("big", 1000), ("bomb", 1_000_000)])
def test_remote_size_cap(server: Recorder, tmp_path: Path, prefix: str, limit: int) -> None:
    found = read(f"{server.base}/{prefix}/", tmp_path, max_bytes=limit)
    assert found.namespaces == ()
    assert f"answer larger than {limit} bytes" in found.warnings[0]


def test_remote_user_agent(server: Recorder, tmp_path: Path) -> None:
    read(f"{server.base}/ok/", tmp_path)
    assert [agent for *_, agent in server.log] == [
        f"orgreg-sphinx/{__version__} (registry directive)"
    ]


# ---------------------------------------------------------------- dependencies


def test_requirements_repeat_the_declared_lower_bounds() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    listed = {
        line.strip()
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert set(declared) <= listed
    imported = " ".join(p.read_text() for p in (REPO / "orgreg_sphinx").rglob("*.py"))
    for requirement in declared:
        module = re.split(r"[<>=!]", requirement)[0].removesuffix("-py").replace("-", "_")
        module = {
            "pyyaml": "yaml",
            "python_gnupg": "gnupg",
            "cyclonedx_python_lib": "cyclonedx",
        }.get(module, module)
        assert re.search(rf"^\s*(import|from) {module}\b", imported, re.M), requirement
