"""The ``orgreg`` HTML theme (usable alone, through the entry point).

Sphinx loads this module for ``html_theme = "orgreg"`` even when ``orgreg_sphinx``
is not in ``extensions``; so everything the theme's templates need is computed
here, at ``html-page-context``, from the theme options:

``logo``
    a file under ``html_static_path`` or an ``https://`` URL (else ``html_logo``,
    else the shipped mark)
``accent_color`` / ``accent_color_dark``
    CSS colours of links and buttons in light and dark mode
``github_url``
    the organization's GitHub page, linked in the header
``footer_links``
    ``{"Label": "url"}``, a list of ``("Label", "url")`` pairs or
    ``{"label": ..., "url": ...}`` dicts, or a string ``"Label=url, Label=url"``;
    relative URLs are relative to the site's root
``docs``
    the document that opens the site's documentation (default ``guide/index``):
    linked in the header as ``docs_label`` (default ``Guide``); the pages of its
    toctrees get a sidebar of them and a list of their own sections

The theme also writes ``404.html`` (a "page not found" page in the site's look,
its links made absolute with ``<base>`` when the site's address is known) unless
the project has a ``404`` document of its own.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

THEME_NAME = "orgreg"
THEME_PATH = Path(__file__).parent / THEME_NAME
DEFAULT_ACCENT = "#2563eb"
DEFAULT_ACCENT_DARK = "#6ea8fe"
DEFAULT_LOGO = "orgreg-logo.svg"
#: what a colour option may hold: a hex colour, a colour name or an rgb()/hsl() value
COLOR_RE = re.compile(
    r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|rgba|hsl|hsla|oklch)\([0-9.,%/ a-z+-]{1,60}\))$"
)
URL_RE = re.compile(r"^(https?://|/|\.{0,2}/|#|mailto:)|^[^:]*$")


def color_option(value: Any, option: str, default: str) -> str:
    """*value* if it is a plain CSS colour, else *default* (with a warning)."""
    text = str(value or "").strip()
    if not text:
        return default
    if COLOR_RE.match(text):
        return text
    logger.warning(
        "html_theme_options[%r] = %r is not a CSS colour (#rrggbb, a name, rgb(...)); using %s",
        option,
        value,
        default,
        type="orgreg",
        subtype="theme",
    )
    return default


def is_safe_url(url: str) -> bool:
    """http(s), mailto, fragment or relative URLs (no ``javascript:`` and the like)."""
    return bool(URL_RE.match(url.strip()))


def footer_links(value: Any) -> list[tuple[str, str]]:
    """The ``footer_links`` option as ``(label, url)`` pairs, in the given order."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, str):
        for item in value.split(","):
            label, sep, url = item.partition("=")
            if sep:
                pairs.append((label.strip(), url.strip()))
            elif item.strip():
                pairs.append(("", item.strip()))
    elif isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, Mapping):
                label = item.get("label", item.get("text", item.get("name", "")))
                url = item.get("url", item.get("href", ""))
                pairs.append((str(label), str(url)))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((str(item[0]), str(item[1])))
            else:
                pairs.append(("", str(item)))
    good = []
    for label, url in pairs:
        if not label or not url or not is_safe_url(url):
            logger.warning(
                "html_theme_options['footer_links']: ignoring %r -> %r (need a label and "
                "an http(s), mailto or relative URL)",
                label,
                url,
                type="orgreg",
                subtype="theme",
            )
            continue
        good.append((label, url))
    return good


def site_relative(url: str, pathto: Any) -> str:
    """A relative footer link is relative to the site's root, on every page."""
    if url.startswith(("/", "#")) or ":" in url.split("/", 1)[0]:
        return url
    return str(pathto(url, 1))


def logo_url(context: dict[str, Any]) -> str:
    """The header logo: the ``logo`` option, else ``html_logo``, else the shipped mark."""
    pathto = context["pathto"]
    logo = str(context.get("theme_logo") or "").strip()
    if logo.startswith(("https://", "http://", "data:image/")):
        return logo
    if logo:
        return str(pathto("_static/" + logo.lstrip("/"), 1))
    if context.get("logo_url"):
        return str(context["logo_url"])
    return str(pathto("_static/" + DEFAULT_LOGO, 1))


def page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Theme values for the templates (only on pages rendered with this theme)."""
    theme = getattr(app.builder, "theme", None)
    if theme is None or THEME_NAME not in theme_names(theme):
        return
    context["orgreg_accent"] = color_option(
        context.get("theme_accent_color"), "accent_color", DEFAULT_ACCENT
    )
    context["orgreg_accent_dark"] = color_option(
        context.get("theme_accent_color_dark"), "accent_color_dark", DEFAULT_ACCENT_DARK
    )
    context["orgreg_default_accent"] = DEFAULT_ACCENT  # orgreg.css's own
    context["orgreg_default_accent_dark"] = DEFAULT_ACCENT_DARK
    context["orgreg_logo_url"] = logo_url(context)
    github = str(context.get("theme_github_url") or "").strip()
    context["orgreg_github_url"] = github if github.startswith(("https://", "http://")) else ""
    context["orgreg_footer_links"] = [
        (label, site_relative(url, context["pathto"]))
        for label, url in _footer_links_once(app, context.get("theme_footer_links"))
    ]
    # a registry's home lists containers; the theme alone may serve any Sphinx site
    context["orgreg_home_label"] = "Containers" if "orgreg_sphinx" in app.extensions else "Home"
    # the search page reads the registry's contents index (api/contents/) when the
    # extension publishes it: the theme alone leaves the page to Sphinx's search
    context["orgreg_contents_search"] = "orgreg_sphinx" in app.extensions and bool(
        getattr(app.config, "orgreg_json_api", False)
    )
    # the namespaces are found from the names index (api/namespaces/) the extension
    # writes; their pages are left out of Sphinx's search index (its size grows with them)
    context["orgreg_names_search"] = "orgreg_sphinx" in app.extensions
    context.setdefault("orgreg_namespace", "")
    context.setdefault("orgreg_manifests_url", "")
    context.setdefault("orgreg_feed_url", "")
    docs = str(context.get("theme_docs") or "").strip()
    sections = _docs_sections_once(app, docs)
    context["orgreg_docs_url"] = context["pathto"](docs) if sections else ""
    context["orgreg_docs_label"] = str(context.get("theme_docs_label") or "Guide")
    pages = {doc for _, entries in sections for doc, _ in entries}
    in_docs = pagename == docs or pagename in pages
    context["orgreg_docs_nav"] = (
        [
            (caption, [(title, context["pathto"](doc), doc == pagename) for doc, title in entries])
            for caption, entries in sections
        ]
        if in_docs
        else []
    )
    # the page's own sections: only in the docs, only when there are several
    context["orgreg_page_toc"] = bool(in_docs and context.get("display_toc"))
    context["css_files"] = highlighting_css(context)
    # docutils' own viewport line, after the one the basic layout writes
    context["metatags"] = DOCUTILS_VIEWPORT.sub("", str(context.get("metatags") or ""))


#: the viewport line docutils' HTML writer adds to a page's meta tags
DOCUTILS_VIEWPORT = re.compile(r'\s*<meta name="viewport"[^>]*>')

#: the stylesheets of highlighted code blocks (Pygments' styles, light and dark)
PYGMENTS_CSS = frozenset({"pygments.css", "pygments_dark.css"})


def highlighting_css(context: dict[str, Any]) -> list[Any]:
    """The page's stylesheets, without Pygments' when its body has no highlighted
    block (a registry's namespace pages show commands as plain text): two links
    less in every such page; pages without a body (search) keep them."""
    files = list(context.get("css_files", ()))
    body = context.get("body")
    if not isinstance(body, str) or 'class="highlight' in body:
        return files
    return [
        css for css in files if Path(str(getattr(css, "filename", css))).name not in PYGMENTS_CSS
    ]


#: per app, the docs' sidebar: [(caption, [(docname, title)])], read once per build
_docs_sections: weakref.WeakKeyDictionary[Sphinx, dict[str, list[DocsSection]]] = (
    weakref.WeakKeyDictionary()
)
DocsSection = tuple[str, list[tuple[str, str]]]


def docs_sections(app: Sphinx, docs: str) -> list[DocsSection]:
    """The toctrees of the document *docs*: (caption, [(docname, title)]) each."""
    env = app.env
    if not docs or docs not in env.all_docs:
        return []
    from sphinx import addnodes

    sections: list[DocsSection] = []
    for toctree in env.get_doctree(docs).findall(addnodes.toctree):
        entries = [
            (doc, title or (env.titles[doc].astext() if doc in env.titles else doc))
            for title, doc in toctree["entries"]
            if doc in env.all_docs
        ]
        if entries:
            sections.append((str(toctree.get("caption") or ""), entries))
    return sections


def _docs_sections_once(app: Sphinx, docs: str) -> list[DocsSection]:
    found = _docs_sections.setdefault(app, {})
    if docs not in found:
        found[docs] = docs_sections(app, docs)
    return found[docs]


def not_found_page(app: Sphinx) -> Any:
    """At html-collect-pages: ``404.html`` in the site's look (GitHub Pages, Read
    the Docs and most static hosts serve it for a missing page), unless the
    project has a ``404`` document. Its links resolve from the site's root
    through ``<base>`` when the site's address is known (``html_baseurl``, or
    the registry's address)."""
    theme = getattr(app.builder, "theme", None)
    if theme is None or THEME_NAME not in theme_names(theme) or "404" in app.env.all_docs:
        return
    site = str(getattr(app.config, "orgreg_site_url", "") or app.config.html_baseurl or "")
    if site and not site.endswith("/"):
        site += "/"
    yield (
        "404",
        {"title": "Page not found", "orgreg_not_found": True, "orgreg_base_url": site},
        "orgreg-404.html",
    )


#: per app, the footer links parsed during the current build (keyed by the option's repr)
_parsed_footer_links: weakref.WeakKeyDictionary[Sphinx, dict[str, list[tuple[str, str]]]] = (
    weakref.WeakKeyDictionary()
)


def _footer_links_once(app: Sphinx, value: Any) -> list[tuple[str, str]]:
    """Parse (and warn about) the footer links once per build, not once per page."""
    parsed = _parsed_footer_links.setdefault(app, {})
    key = repr(value)
    if key not in parsed:
        parsed[key] = footer_links(value)
    return parsed[key]


def _forget_footer_links(app: Sphinx, exception: BaseException | None) -> None:
    """At the end of a build: the next build of *app* parses (and warns) again,
    and reads the docs' toctrees again."""
    _parsed_footer_links.pop(app, None)
    _docs_sections.pop(app, None)


def theme_names(theme: Any) -> list[str]:
    """The theme's name and the names of the themes it inherits from."""
    return [theme.name, *(Path(path).name for path in theme.get_theme_dirs())]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_html_theme(THEME_NAME, str(THEME_PATH))
    app.connect("html-page-context", page_context)
    app.connect("html-collect-pages", not_found_page)
    app.connect("build-finished", _forget_footer_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
