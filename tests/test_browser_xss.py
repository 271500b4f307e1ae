"""XSS payloads from the tree never run in a reader's browser (issue 8).

A site is built from namespaces whose descriptions, README bodies, extra keys,
tag-like values and URLs carry script; it is served on 127.0.0.1 and every page
(the home page, the namespace pages, the search page searching for the payloads
and the JSON endpoints served as index.html) is loaded in headless Chromium,
hovering and focusing every link and image. No dialog may open, no payload may
set ``window.__pwned``, and no request may leave 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from conftest import good_tree, require_system_tool, sha256, soup

from orgreg_sphinx.cli.serve import serving
from orgreg_sphinx.core.endpoints import dumps

if TYPE_CHECKING:
    from playwright.sync_api import Route

CHROMIUM = "/usr/bin/chromium"
ALERT = "alert(document.domain)"
PWN = "window.__pwned=1"
PAYLOADS = [
    f"<script>{PWN};{ALERT}</script>",
    f'"><img src=x onerror="{PWN};{ALERT}">',
    f"'><svg onload='{PWN};{ALERT}'>",
    f"javascript:{PWN};{ALERT}",
    f"</script><script>{PWN}</script>",
    f"{{{{ {PWN} }}}}",  # template syntax
    f"${{{PWN}}}",  # JS template literal
]
ONE_LINE = " ".join(PAYLOADS)

README = "\n\n".join(
    [
        "# Welcome <script>window.__pwned=1;alert(1)</script>",
        *PAYLOADS,
        f"[click](javascript:{PWN};{ALERT})",
        f"[click2](JaVaScRiPt:{PWN})",
        f"[click3](data:text/html,<script>{PWN}</script>)",
        f"[click4](vbscript:{PWN})",
        f"<javascript:{PWN}>",
        f"![img](javascript:{PWN})",
        "![img](http://127.0.0.1:1/insecure.png)",
        f'![x" onerror="{PWN}](https://images.invalid/a.png)',
        f"[ref][evil]\n\n[evil]: javascript:{PWN}",
        f'<a href="javascript:{PWN}">raw link</a>',
        f'<iframe src="javascript:{PWN}"></iframe>',
        f"<style>body{{background:url(javascript:{PWN})}}</style>",
        "```{eval-rst}\n.. raw:: html\n\n   <script>window.__pwned=1</script>\n```",
        f"```{{raw}} html\n<script>{PWN}</script>\n```",
        "{include}`/etc/passwd`",
        f'<details open ontoggle="{PWN}">',
    ]
)


def _manifest(digest: str, url: str, extra: dict[str, object]) -> str:
    import yaml

    data = {
        "layout": "manifests/singularity",
        "size": 900000,
        "digest": digest,
        "layers": [{"size": 900000, "digest": digest, "url": url}],
        **extra,
    }
    return "---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n"


def _collection(description: str, body: str = "") -> str:
    import yaml

    return (
        "---\n"
        + yaml.safe_dump({"layout": "collection", "description": description})
        + "---\n"
        + body
    )


def xss_tree() -> dict[str, str]:
    files: dict[str, str] = dict(good_tree())
    files["xss/description/README.md"] = _collection(ONE_LINE, "Plain body.\n")
    files["xss/description/manifests/latest/README.md"] = _manifest(
        sha256("d"), "https://storage.invalid/d.sif", {}
    )
    files["xss/readme/README.md"] = _collection("README payloads", README)
    files["xss/readme/manifests/latest/README.md"] = _manifest(
        sha256("r"), "https://storage.invalid/r.sif", {}
    )
    files["xss/values/README.md"] = _collection("Values payloads")
    files["xss/values/manifests/latest/README.md"] = _manifest(
        sha256("v"),
        "https://storage.invalid/v.sif",
        {
            "created": PAYLOADS[1],
            "recipe": f"javascript:{PWN}",
            PAYLOADS[2]: PAYLOADS[0],
            "tags": PAYLOADS,
            "labels": {PAYLOADS[0]: PAYLOADS[1]},
        },
    )
    files["xss/values/manifests/1.0/README.md"] = _manifest(
        sha256("v1"),
        "https://storage.invalid/v1.sif",
        {"created": "2024-01-01", "recipe": f'https://x.invalid/"><script>{PWN}</script>'},
    )
    files["xss/urls/README.md"] = _collection("URL payloads")
    files["xss/urls/manifests/latest/README.md"] = _manifest(
        sha256("u"), f'https://x.invalid/"><script>{PWN};{ALERT}</script>', {}
    )
    files["xss/urls/manifests/2.0/README.md"] = _manifest(
        sha256("u2"), f"https://x.invalid/'onmouseover='{PWN}'/$(touch /tmp/pwned)", {}
    )
    files["xss/urls/manifests/3.0/README.md"] = _manifest(
        sha256("u3"), f"https://x.invalid/a?b=1&c=<svg/onload={PWN}>", {}
    )
    return files


@pytest.fixture
def xss_site(registry_project, build) -> Path:
    srcdir = registry_project(xss_tree())
    app = build(srcdir)
    return Path(app.outdir)


@pytest.fixture
def served(xss_site: Path) -> Iterator[str]:
    with serving(xss_site) as base:
        yield base


PAGES = [
    "index.html",
    "xss/description/index.html",
    "xss/readme/index.html",
    "xss/values/index.html",
    "xss/urls/index.html",
    "acme/busybox/index.html",
    "search.html?q=pwned",
    "search.html?q=script",
    "search.html?q=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "xss/readme/index.html?highlight=script%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "xss/urls/manifests/latest/",  # the JSON body served as index.html
    "xss/values/tags/",
    "api/catalog.json",
]


def test_no_script_from_the_tree_runs_in_chromium(served: str, xss_site: Path) -> None:
    from playwright.sync_api import sync_playwright

    dialogs: list[str] = []
    outside: list[str] = []
    visited: list[str] = []
    with sync_playwright() as playwright:
        chromium = require_system_tool(CHROMIUM, "apt-get install chromium")
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            context = browser.new_context()

            def route(request_route: Route) -> None:
                url = request_route.request.url
                if urlsplit(url).hostname == "127.0.0.1":
                    request_route.continue_()
                else:  # images from https are allowed in READMEs: never fetched here
                    outside.append(url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            for rel in PAGES:
                response = page.goto(served + rel, wait_until="load")
                assert response is not None and response.ok, rel
                if rel.startswith("search.html"):
                    # the search has run when its summary paragraph is written
                    page.wait_for_selector("#search-results p.search-summary", state="attached")
                    if rel == "search.html?q=script":  # the payload pages are found and shown
                        # (the namespaces by the names index, in the Containers section)
                        page.wait_for_selector("#orgreg-ns-found li a")
                        found = page.eval_on_selector_all(
                            "#search-results li a, #orgreg-ns-found li a",
                            "links => links.map(a => a.href)",
                        )
                        assert any("/xss/" in href for href in found), found
                for element in page.query_selector_all("a, img, abbr, td, code, p, h1, h3"):
                    if element.is_visible():
                        element.hover()
                        element.focus()
                visited.append(rel)
                assert page.evaluate("typeof window.__pwned") == "undefined", rel
                # no handler attribute and no javascript: URL anywhere in the DOM
                handlers = page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(
                    e => [...e.attributes].filter(a => a.name.startsWith('on')
                        || /^\\s*(javascript|data|vbscript):/i.test(a.value)
                           && ['href', 'src', 'action', 'formaction'].includes(a.name))
                      .map(a => e.tagName + ' ' + a.name + '=' + a.value))""")
                assert handlers == [], (rel, handlers)
                scripts = page.evaluate(
                    "() => [...document.scripts].map(s => s.src || s.textContent)"
                )
                for script in scripts:
                    assert "__pwned" not in script and "alert(" not in script, (rel, script)
                    if script.startswith("http"):
                        assert urlsplit(script).hostname == "127.0.0.1", script
        finally:
            browser.close()
    assert visited == PAGES
    assert dialogs == []
    assert outside == [] or all(urlsplit(u).scheme == "https" for u in outside), outside


def test_payloads_are_shown_as_text(xss_site: Path) -> None:
    """What the browser test loads shows every payload as text, escaped once."""
    page = soup(xss_site / "xss/description/index.html")
    assert page.select_one(".orgreg-description").get_text() == ONE_LINE
    home = soup(xss_site / "index.html")
    assert ONE_LINE in home.get_text()
    readme = soup(xss_site / "xss/readme/index.html").select_one(".orgreg-readme")
    text = readme.get_text()
    assert "<script>window.__pwned=1;alert(1)</script>" in text  # raw HTML shown as text
    assert "{include}/etc/passwd" in text  # no role interpreted: Markdown code only
    assert ".. raw:: html" in text  # no directive interpreted
    assert readme.find("script") is None and readme.find("iframe") is None
    for link in readme.find_all("a"):
        assert link["href"].startswith(("https:", "http:", "mailto:", "#")), link
    for image in readme.find_all("img"):
        assert image["src"].startswith("https://"), image
    urls = soup(xss_site / "xss/urls/index.html")
    # the download links of the page's one-line rows (bare links: not to a view)
    downloads = [a["href"] for a in urls.select("table.orgreg-tags td a") if a["href"][:1] != "#"]
    assert f'https://x.invalid/"><script>{PWN};{ALERT}</script>' in downloads
    # the command line to copy quotes the URL: pasting it runs curl and nothing else
    commands = urls.select_one(".orgreg-usage-download pre").get_text()
    assert "'https://x.invalid/" in commands
    manifest_json = (xss_site / "xss/urls/manifests/latest/index.html").read_bytes()
    assert b"<" not in manifest_json and b">" not in manifest_json
    assert dumps({"x": "</script>"}) == b'{"x":"\\u003c/script\\u003e"}\n'
