"""Shared fixtures: a registry project made in a temporary folder, built with
Sphinx's own test application, and helpers to read what it wrote."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

pytest_plugins = "sphinx.testing.fixtures"

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SOURCE = REPO / "source"

CONF = """\
extensions = ["myst_parser", "sphinx_design", "orgreg_sphinx"]
myst_enable_extensions = ["colon_fence"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "orgreg"
project = "Test registry"
"""

INDEX = """\
# Test registry

Landing text of the test registry.

```{registry}
:toctree:
```
"""


PROXY_VARIABLES = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to 127.0.0.1 must not go through a proxy of the machine."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def git(folder: Path, *args: str, date: str = "2024-01-01T00:00:00Z") -> str:
    """Run git in *folder* with a fixed identity and date, no user or system
    settings; its output."""
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
        env={
            **os.environ,
            "GIT_COMMITTER_DATE": date,
            "GIT_AUTHOR_DATE": date,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        },
        capture_output=True,
        check=True,
    )
    return done.stdout.decode().strip()


def manifest(
    digest: str | None = None, size: int = 788480, url: str | None = None, extra: str = ""
) -> str:
    """The README.md of a manifest in the original format."""
    digest = digest or sha256(str(size))
    url = url or f"https://storage.example.org/{digest[-12:]}.sif"
    return (
        "---\nlayout: manifests/singularity\n"
        f"size: {size}\ndigest: {digest}\nlayers:\n"
        f'- size: {size}\n  digest: "{digest}"\n  url: "{url}"\n'
        f"{textwrap.dedent(extra)}---\n"
    )


def collection(description: str = "", body: str = "") -> str:
    return f"---\nlayout: collection\ndescription: {json.dumps(description)}\n---\n{body}"


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def good_tree() -> dict[str, str]:
    """Three namespaces with several tags, in the original format."""
    return {
        "acme/busybox/README.md": collection(
            "Busybox example", "# About\n\nA *tiny* image for **tests**.\n"
        ),
        "acme/busybox/tags/README.md": "---\nlayout: tags\n---\n",
        "acme/busybox/manifests/latest/README.md": manifest(
            sha256("busybox-latest"), extra='created: "2024-05-02T10:31:00Z"\n'
        ),
        "acme/busybox/manifests/latest/Singularity": "Bootstrap: docker\nFrom: busybox\n",
        "acme/busybox/manifests/1.36/README.md": manifest(sha256("busybox-1.36"), 786432),
        "acme/centos/README.md": collection("CentOS legacy"),
        "acme/centos/manifests/7/README.md": manifest("md5:WGQgL3Ok6o6uD2ZRdClzDQ==", 75412),
        "lab/pancakes/manifests/pancakes/README.md": manifest(sha256("pancakes"), 5000000),
    }


@pytest.fixture(autouse=True, scope="session")
def _no_gpg_agent_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests that import a secret key start gpg-agents; stop them at the end."""
    yield
    from orgreg_sphinx.core.keys import stop_agent

    for socket in tmp_path_factory.getbasetemp().rglob("S.gpg-agent"):
        stop_agent(socket.parent)


@pytest.fixture(autouse=True)
def _no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds must not pick up the site URL (or the site archive) of the CI they run in."""
    for name in (
        "GITHUB_REPOSITORY",
        "READTHEDOCS_CANONICAL_URL",
        "ORGREG_SITE_URL",
        "ORGREG_SITE_ARCHIVE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def registry_project(tmp_path: Path) -> Callable[..., Path]:
    """Make a Sphinx project holding a manifest tree; returns its source folder."""

    def make(
        files: dict[str, str | bytes] | None = None,
        *,
        conf: str = "",
        index: str = INDEX,
        name: str = "src",
    ) -> Path:
        srcdir = tmp_path / name
        srcdir.mkdir(parents=True, exist_ok=True)
        (srcdir / "conf.py").write_text(CONF + textwrap.dedent(conf))
        (srcdir / "index.md").write_text(index)
        write_tree(srcdir, good_tree() if files is None else files)
        return srcdir

    return make


@pytest.fixture
def build(make_app: Callable[..., object]) -> Callable[..., object]:
    """Build a project; returns the Sphinx app (``app.outdir``, ``app.warning``)."""

    def run(srcdir: Path, buildername: str = "html", **kwargs: object) -> object:
        app = make_app(buildername, srcdir=srcdir, **kwargs)
        try:
            app.build()
        finally:
            # restore docutils' registries, so a second build in one test starts clean
            app.cleanup()
        return app

    return run


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(Path(path).read_text(encoding="utf-8"), "html.parser")


def read_json(path: Path) -> object:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def warnings_of(app: object) -> str:
    return app.warning.getvalue()  # type: ignore[attr-defined]


def require_system_tool(name: str, install: str) -> str:
    """The path of a Debian tool a test drives (chromium, skopeo).

    In CI (``CI`` set; `.ci/run` installs them) a missing tool fails the test;
    on a developer's machine the test is skipped with the command to install it.
    """
    import os
    import shutil

    found = name if Path(name).is_absolute() and Path(name).exists() else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed: {install} (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _FileServer(ThreadingHTTPServer):
    daemon_threads = True


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on 127.0.0.1: (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    server = _FileServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _reference_or_fail(built: tuple[Path | None, str], what: str) -> Path:
    """A built oracle; in CI (CI=true) a test fails when it cannot be built, else skips."""
    import os

    binary, why = built
    if binary is None:
        message = f"the reference verifier ({what}) cannot be built: {why}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def reference_verifier() -> Path:
    """sylabs/sif's own verifier (tests/oracle/sifverify), built once per session
    into a cache folder from Debian's packaged Go sources."""
    from siforacle import build

    return _reference_or_fail(build(), "tests/oracle/sifverify")


@pytest.fixture(scope="session")
def dsse_reference_verifier() -> Path:
    """sif >= 2.10's verifier (tests/oracle/sifverify-dsse: DSSE with PEM keys),
    built once per session; skipped where the installed sif predates DSSE (Debian
    bookworm: the trixie root of .ci/range builds it), a failure in CI otherwise."""
    from siforacle import DSSE_ORACLE_SOURCE, GOCODE, build, has_dsse

    if not has_dsse():
        pytest.skip(f"sif in {GOCODE} predates DSSE signatures (sif >= 2.10 builds the oracle)")
    return _reference_or_fail(
        build(DSSE_ORACLE_SOURCE, name="sifverify-dsse"), "tests/oracle/sifverify-dsse"
    )


def tag_row(page: BeautifulSoup, tag: str) -> Any:
    """The row of *tag* in a namespace page's own table: found by its name's
    link to the tag's view (the rows carry no id: the view has ``tag-<name>``)."""
    link = page.select_one(f'table.orgreg-tags a[href="#tag-{tag}"]')
    return link.find_parent("tr") if link is not None else None


def size_cell(page: BeautifulSoup, tag: str) -> str:
    """The size a namespace page's one-line row shows for *tag* (found by the
    column's header)."""
    heads = [th.get_text(strip=True) for th in page.select("table.orgreg-tags thead th")]
    return str(tag_row(page, tag).find_all("td")[heads.index("Size")].get_text(strip=True))


def row_tag(row: Any) -> str:
    """The tag a namespace page's row shows (from its link to the tag's view)."""
    return str(row.select_one('a[href^="#tag-"]')["href"]).removeprefix("#tag-")


#: in a tag's view (:func:`tag_view`): its facts, the view's first list (a bare
#: ``<dl>`` on a namespace page), and its pull commands (bare ``<pre>`` after
#: its "Pull" heading)
VIEW_FACTS = ":scope > dl:first-of-type"
VIEW_PULLS = ":scope > h3 ~ pre"


def tag_view(page: BeautifulSoup, tag: str) -> Any:
    """The view of *tag* on its namespace page: ``<section id="tag-<name>">`` in
    the box of the page's views."""
    return page.select_one(f'div.orgreg-tag-views > section[id="tag-{tag}"]')
