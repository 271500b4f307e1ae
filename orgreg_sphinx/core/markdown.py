"""Render contributed Markdown (collection README bodies) to safe HTML.

markdown-it-py's CommonMark preset with raw HTML off: HTML in the source is shown
as text, links keep only http, https and mailto targets (and ``#anchors`` of the
page; any other link is shown as text), and images load only from https (any
other image becomes its alt text). Nothing is interpreted by Sphinx: no
directive, role, include or substitution.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def is_safe_link(url: str) -> bool:
    """True for http(s) and mailto URLs and for ``#anchor`` links.

    Relative links are refused: they pointed into the container's own
    repository, and on the registry site they would lead somewhere else.
    """
    url = url.strip()
    if any(ord(c) < 32 or c == "\\" for c in url):
        return False
    if url.startswith("#"):
        return True
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme.lower() == "mailto":
        return bool(parts.path)
    return parts.scheme.lower() in LINK_SCHEMES and bool(parts.netloc)


def _link_open(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Links to other sites get no handle on this page and no ranking from it."""
    token = tokens[idx]
    if str(token.attrGet("href") or "").lower().startswith(("http:", "https:")):
        token.attrSet("rel", "nofollow ugc noopener noreferrer")
    return self.renderToken(tokens, idx, options, env)


def _image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if not (is_safe_link(src) and urlsplit(src).scheme.lower() == "https"):
        alt = self.renderInlineAsText(token.children or [], options, env)
        return escapeHtml(alt)
    token.attrSet("loading", "lazy")
    token.attrSet("referrerpolicy", "no-referrer")
    return self.image(tokens, idx, options, env)


def _demote_headings(state: Any) -> None:
    """README headings sit below the page's own title and sections: h1 -> h3."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = is_safe_link
    md.add_render_rule("image", _image)
    md.add_render_rule("link_open", _link_open)
    md.core.ruler.push("orgreg_demote_headings", _demote_headings)
    return md


def render(text: str) -> str:
    """Markdown to safe HTML."""
    return _parser().render(text)
