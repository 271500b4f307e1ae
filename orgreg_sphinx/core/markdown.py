"""Render contributed Markdown (collection README bodies) to safe HTML.

markdown-it-py's CommonMark preset with raw HTML off: HTML in the source is shown
as text, links keep only http, https and mailto targets (and ``#anchors`` of the
page; any other link is shown as text), and images are never shown: an image
becomes a link to it named by its alt text (or its alt text alone). Nothing is
interpreted by Sphinx: no directive, role, include or substitution.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

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


class SafeRenderer(RendererHTML):
    """HTML renderer whose links and images follow the rules above."""

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        """Links to other sites get no handle on this page and no ranking from it."""
        token = tokens[idx]
        if str(token.attrGet("href") or "").lower().startswith(("http:", "https:")):
            token.attrSet("rel", "nofollow ugc noopener noreferrer")
        return self.renderToken(tokens, idx, options, env)

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """Never an image (a contributor's picture could be a tracking pixel or a
        fake badge): a link to it named by its alt text, or the alt text alone
        when its address is not a safe link."""
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        text = escapeHtml(self.renderInlineAsText(token.children or [], options, env))
        if not is_safe_link(src) or src.startswith("#"):
            return text
        rel = "nofollow ugc noopener noreferrer"
        return f'<a href="{escapeHtml(src)}" rel="{rel}">{text or escapeHtml(src)}</a>'


class SafeMarkdownIt(MarkdownIt):
    """CommonMark parser that keeps only the links :func:`is_safe_link` accepts."""

    def validateLink(self, url: str) -> bool:  # markdown-it-py's name
        """Whether *url* may become a link or an image."""
        return is_safe_link(url)


def _demote_headings(state: StateCore) -> None:
    """README headings sit below the page's own title and sections: h1 -> h3."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"


@cache
def _parser() -> MarkdownIt:
    """The one configured parser (building it costs more than a short render)."""
    md = SafeMarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False},
        renderer_cls=SafeRenderer,
    )
    md.core.ruler.push("orgreg_demote_headings", _demote_headings)
    return md


def render(text: str) -> str:
    """Markdown to safe HTML."""
    html: str = _parser().render(text)
    return html


def render_inline(text: str) -> str:
    """One line of Markdown (a deprecation reason) to safe inline HTML: the same
    rules as :func:`render`, without paragraphs."""
    html: str = _parser().renderInline(text)
    return html
