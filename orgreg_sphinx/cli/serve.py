"""Serve a built registry site on this machine, as a static host would.

Answers like GitHub Pages: a folder URL gives its ``index.html`` (a folder
without the final ``/`` is redirected to it), content types follow the file
extension only, so ``.json`` is ``application/json`` and files without a known
extension (``api/container/<org>/<repo>:<tag>``, the ``v2/`` files) are
``application/octet-stream``; a missing file is a 404 (with the site's
``404.html`` if it has one), and folders are never listed. For trying
``singularity``/``sregistry``/``skopeo`` against a registry before publishing it.
"""

from __future__ import annotations

import argparse
import io
import mimetypes
import os
import posixpath
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

DEFAULT_FOLDER = "_build/html"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: extension -> type where GitHub Pages (which uses the mime-db list) differs from
#: Python's built-in table, or where that table has nothing
PAGES_TYPES = {
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".inv": "application/octet-stream",
    ".sif": "application/octet-stream",
}
#: types sent with ``; charset=utf-8``, as GitHub Pages does
CHARSET_TYPES = ("text/", "application/javascript", "application/json", "application/xml")
FALLBACK_TYPE = "application/octet-stream"
#: Python's built-in table only: the machine's /etc/mime.types must not matter
_BUILTIN_TYPES = mimetypes.MimeTypes(filenames=())


def content_type(path: str) -> str:
    """The Content-Type a static host sends for a file, from its name only."""
    name = posixpath.basename(path)
    _, ext = posixpath.splitext(name)
    ext = ext.lower()
    kind = PAGES_TYPES.get(ext) or (_BUILTIN_TYPES.guess_type(name)[0] if ext else None)
    kind = kind or FALLBACK_TYPE
    if kind.startswith(CHARSET_TYPES):
        kind += "; charset=utf-8"
    return kind


class StaticHostHandler(SimpleHTTPRequestHandler):
    """GET and HEAD of the files of one folder, the way a static host answers."""

    server_version = "orgreg-serve"
    sys_version = ""
    #: a site path prefix, e.g. "/registry" for a GitHub project site
    prefix = ""
    quiet = False

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        """The type a static host sends: from the file name only."""
        return content_type(os.fspath(path))

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        """Static hosts never list a folder: no index.html is a 404."""
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def site_path(self) -> str | None:
        """The request's path inside the site (still %-encoded), None if outside it."""
        path = urlsplit(self.path).path
        if not self.prefix:
            return path
        if path == self.prefix:
            return "/"
        if path.startswith(self.prefix + "/"):
            return path[len(self.prefix) :]
        return None

    def translate_path(self, path: str) -> str:
        inside = self.site_path()
        return super().translate_path(inside if inside is not None else "/")

    def send_head(self) -> io.BytesIO | BinaryIO | None:
        if self.site_path() is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code == HTTPStatus.NOT_FOUND:
            self.send_not_found()
        else:
            super().send_error(code, message, explain)

    def send_not_found(self) -> None:
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"404 Not Found\n"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Log the request unless the server is quiet."""
        if not self.quiet:
            super().log_message(format, *args)


def make_server(
    folder: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = 0,
    *,
    prefix: str = "",
    quiet: bool = True,
) -> ThreadingHTTPServer:
    """A server for *folder* (not started); ``server.server_address`` has the port."""
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    handler = type("Handler", (StaticHostHandler,), {"prefix": prefix, "quiet": quiet})
    server = ThreadingHTTPServer((host, port), partial(handler, directory=os.fspath(folder)))
    server.daemon_threads = True
    return server


def start_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve in a daemon thread (stop with ``server.shutdown()``)."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return thread


@contextmanager
def serving(folder: str | os.PathLike[str], **options: Any) -> Iterator[str]:
    """Serve *folder* on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = make_server(folder, **options)
    start_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder",
        nargs="?",
        default=DEFAULT_FOLDER,
        metavar="DIR",
        help=f"the built site (default: {DEFAULT_FOLDER})",
    )
    parser.add_argument(
        "-p",
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--bind",
        default=DEFAULT_HOST,
        metavar="ADDRESS",
        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only)",
    )
    parser.add_argument(
        "--prefix",
        default="",
        help="serve the site below this path, as a GitHub project site (e.g. /registry)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log requests")


def run(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    if not (folder / "index.html").is_file():
        print(
            f"orgreg serve: {folder} is not a built site (no index.html); "
            "build it first (make html)",
            file=sys.stderr,
        )
        return 2
    if not 0 <= args.port <= 65535:
        print(f"orgreg serve: port {args.port} is out of range", file=sys.stderr)
        return 2
    try:
        server = make_server(folder, args.bind, args.port, prefix=args.prefix, quiet=args.quiet)
    except OSError as err:
        print(
            f"orgreg serve: cannot listen on {args.bind}:{args.port}: {err.strerror or err}",
            file=sys.stderr,
        )
        return 2
    address = server.server_address
    host = address[0] if isinstance(address[0], str) else bytes(address[0]).decode()
    port = address[1]
    shown = f"[{host}]" if ":" in host else host
    prefix = "/" + args.prefix.strip("/") if args.prefix.strip("/") else ""
    print(f"Serving {folder} at http://{shown}:{port}{prefix}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
