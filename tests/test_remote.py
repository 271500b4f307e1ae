"""`.. registry:: <url>`: listings of a deployed registry, built in the test and
served by a real HTTP server on 127.0.0.1. Unreachable, slow and broken
registries give a warning (and the cached copy when there is one), never a crash."""

from __future__ import annotations

import functools
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import good_tree, manifest, no_proxy, sha256, soup, warnings_of

from orgreg_sphinx.core import remote

INDEX = "# Home\n\n```{toctree}\nembed\n```\n"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 must not go through a proxy of the machine."""
    no_proxy(monkeypatch)


class Handler(SimpleHTTPRequestHandler):
    """Serves the built registry under several prefixes, each behaving differently:

    ``/site/``   the registry as published;
    ``/old/``    the same without ``api/catalog.json`` (published before it existed);
    ``/slow/``   answers only after the test is over (or 30 s);
    ``/drip/``   sends its catalog a byte every 0.2 s (8 s in all);
    ``/broken/`` a catalog that is not JSON; ``/odd/`` JSON that is not a catalog.
    """

    release: threading.Event
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        prefix, _, rest = self.path.lstrip("/").partition("/")
        if prefix == "slow":
            self.release.wait(30)
        if prefix == "drip":
            return self.drip()
        if prefix == "broken" and rest == "api/catalog.json":
            return self.answer(b'{"catalogVersion": 1, "namespaces": [')
        if prefix == "odd" and rest == "api/catalog.json":
            return self.answer(b'{"catalogVersion": 1, "namespaces": {"acme/x": 1}}')
        if prefix == "old" and rest.startswith("api/catalog.json"):
            return self.send_error(404)
        if prefix not in ("site", "old", "slow"):
            return self.send_error(404)
        self.path = "/" + rest
        return super().do_GET()

    def drip(self) -> None:
        """A catalog sent one byte at a time, each well within the socket timeout."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        for byte in b'{"catalogVersion": 1, "namespaces": []}':
            if self.release.wait(0.2):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def published(registry_project: Callable[..., Path], build: Callable[..., object]):
    """Build a registry site from the test tree; returns a function that rebuilds
    it from changed files (the served folder stays the same)."""
    files = dict(good_tree())
    srcdir = registry_project(files, name="registry")
    served = srcdir.parent / "served"

    def publish(changes: dict[str, str] | None = None) -> Path:
        if changes:
            for rel, text in changes.items():
                path = srcdir / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        app = build(srcdir)
        shutil.rmtree(served, ignore_errors=True)
        shutil.copytree(Path(app.outdir), served)
        return served

    publish.folder = publish()  # type: ignore[attr-defined]
    return publish


@pytest.fixture
def server(published: Callable[..., Path]) -> Iterator[tuple[str, ThreadingHTTPServer, list]]:
    """A real HTTP server on 127.0.0.1 serving the published registry."""
    release = threading.Event()
    requests: list[str] = []
    root = str(published.folder)  # type: ignore[attr-defined]
    handler = type("H", (Handler,), {"release": release, "requests": requests})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=root))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd, requests
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embed(registry_project: Callable[..., Path], make_app: Callable[..., object]):
    """A project whose page ``embed.md`` shows a remote listing; returns a builder."""
    srcdir = registry_project({}, index=INDEX, conf="orgreg_remote_timeout = 1.5\n")

    def run(directive: str, **kwargs: object) -> tuple[object, Path, list[str]]:
        page = srcdir / "embed.md"
        text = f"# Embed\n\n{directive}\n"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)
        app = make_app("html", srcdir=srcdir, **kwargs)
        read: list[str] = []
        app.connect("env-before-read-docs", lambda app, env, docs: read.extend(sorted(docs)))
        app.build()
        return app, Path(app.outdir), read

    return run


def own_warnings(app: object) -> list[str]:
    return [line for line in warnings_of(app).splitlines() if "is already registered" not in line]


def tag_names(out: Path) -> list[list[str]]:
    return [
        [tr.select("td")[1].get_text(strip=True) for tr in table.select("tbody tr")]
        for table in soup(out / "embed.html").select("div.orgreg table.orgreg-tags")
    ]


def fence(url: str, options: str = "") -> str:
    return f"```{{registry}} {url}\n{options}\n```"


# ---------------------------------------------------------------- the catalog


def test_remote_namespace_list_from_the_catalog(server, embed) -> None:
    url, _, requests = server
    app, out, _ = embed(fence(f"{url}/site/"))
    assert own_warnings(app) == []
    rows = soup(out / "embed.html").select("table.orgreg-namespaces tbody tr")
    names = [row.select_one("a").get_text() for row in rows]
    assert names == ["acme/busybox", "acme/centos", "lab/pancakes"]
    assert rows[0].select_one("a")["href"] == f"{url}/site/acme/busybox/"
    assert [row.select("td")[2].get_text() for row in rows] == ["2", "1", "1"]
    assert requests == ["/site/api/catalog.json"]
    # the last good copy is kept in the doctree folder
    cached = list((Path(app.doctreedir) / remote.CACHE_FOLDER).glob("*.json"))
    assert len(cached) == 1 and "acme/busybox" in cached[0].read_text()


def test_remote_tag_tables_with_options(server, embed) -> None:
    url, _, _ = server
    options = ":namespace: acme/*\n:columns: image, tag, download\n:sort: -name\n:limit: 1"
    app, out, _ = embed(fence(f"{url}/site/api/catalog.json", options))
    assert own_warnings(app) == []
    assert tag_names(out) == [["latest"], ["7"]]
    page = soup(out / "embed.html")
    more = page.select_one("p.orgreg-more a")
    assert more.get_text() == "1 more tag"
    assert more["href"] == f"{url}/site/acme/busybox/#tags"
    download = page.select_one("a.orgreg-download")
    assert download["href"].startswith("https://storage.example.org/")


def test_remote_namespace_list_options(server, embed) -> None:
    url, _, _ = server
    options = ":columns: namespace, tags\n:sort: -tags\n:limit: 1\n:caption: Theirs\n:toctree:"
    app, out, _ = embed(fence(f"{url}/site/", options))
    warnings = own_warnings(app)
    assert len(warnings) == 1 and ":toctree: is for the local registry" in warnings[0]
    page = soup(out / "embed.html")
    table = page.select_one("table.orgreg-namespaces")
    assert [th.get_text(strip=True) for th in table.select("thead th")] == ["Namespace", "Tags"]
    assert [a.get_text() for a in table.select("tbody a")] == ["acme/busybox"]
    more = page.select_one("p.orgreg-more a")
    assert more.get_text() == "2 more namespaces" and more["href"] == f"{url}/site/"


def test_remote_bad_sort_warns_once(server, embed) -> None:
    url, _, _ = server
    app, _, _ = embed(fence(f"{url}/site/", ":sort: size"))
    assert warnings_of(app).count("unknown sort order 'size'") == 1


def test_remote_unknown_namespace_warns(server, embed) -> None:
    url, _, _ = server
    app, _, _ = embed(fence(f"{url}/site/", ":namespace: nobody/x"))
    assert f"no namespace of {url}/site/ matches 'nobody/x'" in warnings_of(app)


def test_not_a_url_warns(embed) -> None:
    app, _, _ = embed(fence("ftp://example.org/"))
    assert "is not an http:// or https:// URL of a registry" in warnings_of(app)


# ---------------------------------------------------------------- before the catalog


def test_registry_without_catalog_reads_the_tag_endpoints(server, embed) -> None:
    url, _, requests = server
    app, out, _ = embed(fence(f"{url}/old/", ":namespace: acme/busybox, acme/centos"))
    assert own_warnings(app) == []
    assert tag_names(out) == [["1.36", "latest"], ["7"]]
    assert "/old/acme/busybox/tags/" in requests
    assert "/old/acme/busybox/manifests/latest/" in requests
    digest = soup(out / "embed.html").select_one("abbr.orgreg-digest")["title"]
    assert digest == sha256("busybox-1.36")


def test_registry_without_catalog_cannot_list_globs(server, embed) -> None:
    url, _, _ = server
    app, out, _ = embed(fence(f"{url}/old/", ":namespace: acme/*"))
    assert "api/catalog.json HTTP 404" in warnings_of(app)
    assert "without wildcards" in warnings_of(app)
    assert "could not be read" in soup(out / "embed.html").select_one("div.orgreg").get_text()


# ---------------------------------------------------------------- failures


def test_unreachable_registry_warns(embed) -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    app, out, _ = embed(fence(url))
    warnings = warnings_of(app)
    assert f"cannot read the registry at {url}" in warnings
    assert "cannot connect" in warnings and "no cached copy" in warnings
    assert "embed.md" in warnings
    text = soup(out / "embed.html").select_one("p.orgreg-unavailable").get_text()
    assert text == f"The container registry at {url} could not be read."


def test_slow_registry_warns_once(server, embed) -> None:
    url, _, requests = server
    two = fence(f"{url}/slow/") + "\n\n" + fence(f"{url}/slow/", ":namespace: acme/busybox")
    app, out, _ = embed(two)
    assert warnings_of(app).count("no answer within 1.5 s") == 1
    assert requests == ["/slow/api/catalog.json"]  # one timeout, not one per listing
    assert len(soup(out / "embed.html").select("p.orgreg-unavailable")) == 2


def test_dripping_registry_warns(server, embed) -> None:
    url, _, _ = server
    app, out, _ = embed(fence(f"{url}/drip/"))
    assert "no complete answer within 1.5 s" in warnings_of(app)
    assert soup(out / "embed.html").select_one("p.orgreg-unavailable") is not None


def test_one_catalog_request_per_build(server, embed) -> None:
    url, _, requests = server
    two = fence(f"{url}/site/", ":namespace: acme/centos") + "\n\n" + fence(f"{url}/site/")
    app, out, _ = embed(two)
    assert own_warnings(app) == []
    assert requests == ["/site/api/catalog.json"]
    assert tag_names(out) == [["7"]]


@pytest.mark.parametrize(
    ("prefix", "message"),
    [("broken", "is not valid JSON"), ("odd", "is not a registry catalog")],
)
def test_malformed_catalog_warns(server, embed, prefix: str, message: str) -> None:
    url, _, _ = server
    app, out, _ = embed(fence(f"{url}/{prefix}/"))
    assert f"{url}/{prefix}/api/catalog.json {message}" in warnings_of(app)
    assert soup(out / "embed.html").select_one("p.orgreg-unavailable") is not None


def test_offline_build_shows_the_cached_copy(server, embed) -> None:
    url, httpd, _ = server
    app, out, _ = embed(fence(f"{url}/site/", ":namespace: acme/busybox"))
    assert own_warnings(app) == []
    httpd.shutdown()
    httpd.server_close()
    app, out, read = embed(fence(f"{url}/site/", ":namespace: acme/busybox"), freshenv=True)
    assert "embed" in read
    warnings = warnings_of(app)
    assert "cannot connect" in warnings and "showing the copy cached on" in warnings
    assert tag_names(out) == [["1.36", "latest"]]
    # an incremental build offline: the cached data did not change, so the page
    # is not read again, and the warning still names it
    app, out, read = embed(fence(f"{url}/site/", ":namespace: acme/busybox"))
    assert read == []
    assert "embed.md: WARNING: cannot read the registry" in warnings_of(app)
    assert tag_names(out) == [["1.36", "latest"]]


def test_fetch_switched_off_uses_the_cache(server, embed) -> None:
    url, _, requests = server
    embed(fence(f"{url}/site/"))
    del requests[:]
    app, out, _ = embed(
        fence(f"{url}/site/"), freshenv=True, confoverrides={"orgreg_remote_fetch": False}
    )
    assert requests == []
    assert "fetching is switched off" in warnings_of(app)
    assert len(soup(out / "embed.html").select("table.orgreg-namespaces tbody tr")) == 3


# ---------------------------------------------------------------- incremental builds


def test_remote_change_rebuilds_the_embedding_page(server, embed, published) -> None:
    url, _, _ = server
    directive = fence(f"{url}/site/", ":namespace: acme/busybox")
    embed(directive)
    _, _, read = embed(directive)
    assert read == []  # same catalog: nothing read again
    published({"acme/busybox/manifests/2.0/README.md": manifest(sha256("busybox-2.0"))})
    app, out, read = embed(directive)
    assert read == ["embed"]
    assert own_warnings(app) == []
    assert tag_names(out) == [["1.36", "2.0", "latest"]]
    # a change elsewhere in the catalog does not touch this page
    published({"lab/pancakes/manifests/more/README.md": manifest(sha256("more"))})
    _, _, read = embed(directive)
    assert read == []


# ---------------------------------------------------------------- parsing


def test_parse_catalog_leaves_bad_entries_out() -> None:
    data = {
        "catalogVersion": 1,
        "namespaces": [
            {"name": "../x"},
            {
                "name": "acme/a",
                "description": "A",
                "tags": [
                    {"name": "ok", "size": 10, "digest": "sha256:1", "urls": ["https://x/a"]},
                    {"name": "-bad", "size": 10, "digest": "sha256:1"},
                    {"name": "nosize", "digest": "sha256:1"},
                ],
            },
        ],
    }
    namespaces, problems = remote.parse_catalog(data, "u")
    assert [ns.name for ns in namespaces] == ["acme/a"]
    assert [t.name for t in namespaces[0].tags] == ["ok"]
    assert namespaces[0].tags[0].urls == ["https://x/a"]
    assert len(problems) == 3
    with pytest.raises(remote.RemoteError):
        remote.parse_catalog({"catalogVersion": 2, "namespaces": []}, "u")


@pytest.mark.parametrize(
    ("value", "message"),
    [(0, "must be a positive number"), ("10", "must be int or float"), (True, "must be int")],
)
def test_remote_timeout_is_validated(
    registry_project: Callable[..., Path], make_app: Callable[..., object], value, message
) -> None:
    from sphinx.errors import ConfigError

    srcdir = registry_project({}, index=INDEX, conf=f"orgreg_remote_timeout = {value!r}\n")
    (srcdir / "embed.md").write_text("# Embed\n")
    with pytest.raises(ConfigError, match=message):
        make_app("html", srcdir=srcdir)
