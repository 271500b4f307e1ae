"""``orgreg serve``: a built site answered on 127.0.0.1 as GitHub Pages would."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_tree

from orgreg_sphinx import cli
from orgreg_sphinx.cli import serve


def site_tree(root: Path) -> None:
    write_tree(
        root,
        {
            "index.html": "<!doctype html><title>home</title>",
            "404.html": "<!doctype html><title>custom not found</title>",
            "acme/busybox/index.html": "<p>page</p>",
            "acme/busybox/tags/index.html": '{"name": "acme/busybox", "tags": []}',
            "acme/busybox/tags/index.json": '{"name": "acme/busybox", "tags": []}',
            "api/container/acme/busybox:latest": '{"image": "x"}',
            "v2/index.html": "{}",
            "v2/acme/busybox/tags/list": '{"tags": []}',
            "v2/acme/busybox/manifests/1.36": "{}",
            "_static/orgreg.css": "body {}",
            "_static/search.js": "1",
            "empty/.keep": "",
        },
    )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A served site; yields ``127.0.0.1:<port>``."""
    root = tmp_path / "html"
    site_tree(root)
    server = serve.make_server(root, "127.0.0.1", 0)
    serve.start_in_thread(server)
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(address: str, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(address, timeout=30)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/acme/busybox/", "text/html; charset=utf-8"),
        ("/acme/busybox/tags/", "text/html; charset=utf-8"),
        ("/acme/busybox/tags/index.json", "application/json; charset=utf-8"),
        ("/api/container/acme/busybox:latest", "application/octet-stream"),
        ("/v2/", "text/html; charset=utf-8"),
        ("/v2/acme/busybox/tags/list", "application/octet-stream"),
        ("/v2/acme/busybox/manifests/1.36", "application/octet-stream"),
        ("/_static/orgreg.css", "text/css; charset=utf-8"),
        ("/_static/search.js", "application/javascript; charset=utf-8"),
    ],
)
def test_content_types_of_a_static_host(site: str, path: str, content_type: str) -> None:
    status, headers, body = fetch(site, path)
    assert status == 200
    assert headers["content-type"] == content_type
    assert int(headers["content-length"]) == len(body) > 0


def test_folders_missing_files_and_head(site: str) -> None:
    status, headers, _ = fetch(site, "/acme/busybox")
    assert status == 301
    assert headers["location"] == "/acme/busybox/"
    for missing in ("/nothing", "/empty/", "/api/container/acme/busybox:nope", "/../etc/passwd"):
        status, headers, body = fetch(site, missing)
        assert status == 404, missing
        assert b"custom not found" in body
    status, headers, body = fetch(site, "/api/container/acme/busybox:latest", "HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len('{"image": "x"}'))


def test_prefix_serves_a_project_site(tmp_path: Path) -> None:
    root = tmp_path / "html"
    site_tree(root)
    server = serve.make_server(root, "127.0.0.1", 0, prefix="/registry/")
    serve.start_in_thread(server)
    address = f"127.0.0.1:{server.server_address[1]}"
    try:
        assert fetch(address, "/registry/api/container/acme/busybox:latest")[0] == 200
        assert fetch(address, "/registry/")[0] == 200
        status, headers, _ = fetch(address, "/registry")
        assert (status, headers["location"]) == (301, "/registry/")
        assert fetch(address, "/api/container/acme/busybox:latest")[0] == 404
        assert fetch(address, "/registryx/")[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_content_type_of_names() -> None:
    assert serve.content_type("a/b/index.json") == "application/json; charset=utf-8"
    assert serve.content_type("api/container/acme/busybox:latest") == "application/octet-stream"
    assert serve.content_type("image.sif") == "application/octet-stream"
    assert serve.content_type("x.svg") == "image/svg+xml"
    assert serve.content_type("x.PNG") == "image/png"


def start_cli(folder: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """``orgreg serve FOLDER --port 0``; returns the process and the URL it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "orgreg_sphinx", "serve", str(folder), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    found = re.search(r"http://127\.0\.0\.1:\d+/\S*", line)
    if not found:
        process.kill()
        _, err = process.communicate()
        raise AssertionError(f"orgreg serve printed {line!r}, stderr {err!r}")
    return process, found.group(0)


def test_cli_serves_a_built_site(tmp_path: Path) -> None:
    root = tmp_path / "html"
    site_tree(root)
    process, url = start_cli(root, "--quiet")
    try:
        address = url.removeprefix("http://").rstrip("/")
        status, headers, body = fetch(address, "/api/container/acme/busybox:latest")
        assert (status, body) == (200, b'{"image": "x"}')
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_cli_refuses_a_folder_that_is_not_a_site(tmp_path: Path, capsys) -> None:
    assert cli.main(["serve", str(tmp_path / "missing")]) == 2
    assert "not a built site" in capsys.readouterr().err
