"""Render contributed Markdown (collection README bodies) to safe HTML.

markdown-it-py's CommonMark preset with raw HTML off: HTML in the source is shown
as text, links keep only http, https, mailto and relative targets, and images
load only from https (any other image becomes its alt text).
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
    """True for http(s) and mailto URLs and for scheme-less relative links."""
    url = url.strip()
    if any(ord(c) < 32 for c in url):
        return False
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return False
    return scheme in LINK_SCHEMES or (scheme == "" and not url.startswith("//"))


def _image(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if urlsplit(src).scheme.lower() != "https":
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
    md.core.ruler.push("orgreg_demote_headings", _demote_headings)
    return md


def render(text: str) -> str:
    """Markdown to safe HTML."""
    html = _parser().render(text)
    # links to other sites must not get a handle on this page
    return html.replace('<a href="http', '<a rel="nofollow noopener" href="http')
