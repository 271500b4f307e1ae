"""The usage examples' command blocks, highlighted with one Pygments formatter per build.

Sphinx's HTML writer makes a new Pygments ``HtmlFormatter`` for every code block
(``PygmentsBridge.get_formatter``), and building one costs far more than
highlighting a few command lines: on a 300-namespace build (five blocks a page,
2026-11-29) 0.69 s of the 0.89 s Pygments took. A :class:`command_block` is a
``literal_block`` whose HTML visitor reuses one formatter, made by that same
public method with the same arguments, so the HTML is byte for byte what Sphinx
writes; any other writer handles it as the ``literal_block`` it subclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from docutils import nodes
from pygments import highlight
from pygments.filters import ErrorToken

if TYPE_CHECKING:
    from pygments.formatter import Formatter
    from sphinx.highlighting import PygmentsBridge
    from sphinx.writers.html5 import HTML5Translator

#: the language of every command block (Sphinx's name for shell sessions)
LANGUAGE = "console"

#: one formatter per highlighter (per builder), as Sphinx would make it for a block
_FORMATTERS: WeakKeyDictionary[PygmentsBridge, Formatter[str]] = WeakKeyDictionary()


class command_block(nodes.literal_block):
    """Command lines of a usage example, highlighted as a console session."""


def formatter_for(highlighter: PygmentsBridge) -> Formatter[str]:
    """The formatter Sphinx would make for a block without line numbers, made once."""
    formatter = _FORMATTERS.get(highlighter)
    if formatter is None:
        formatter = _FORMATTERS[highlighter] = highlighter.get_formatter(linenos=False)
    return formatter


def visit_command_block(self: HTML5Translator, node: command_block) -> None:
    """What ``HTML5Translator.visit_literal_block`` writes, with a shared formatter;
    anything unusual (options, line numbers, a lexing error) takes Sphinx's way."""
    lang = node.get("language", LANGUAGE)
    highlighter = self.highlighter
    if (
        lang != LANGUAGE
        or node.get("linenos")
        or node.get("highlight_args")
        or node.get("force")
        or self.config.highlight_options.get(lang)
        or getattr(highlighter, "dest", "html") != "html"
        or node.rawsource != node.astext()
    ):
        self.visit_literal_block(node)
        return
    lexer = highlighter.get_lexer(node.rawsource, lang, {}, False, node)
    try:
        highlighted = highlight(node.rawsource, lexer, formatter_for(highlighter))
    except ErrorToken:  # Sphinx warns and retries in relaxed mode
        self.visit_literal_block(node)
        return
    starttag = self.starttag(node, "div", suffix="", CLASS=f"highlight-{lang} notranslate")
    self.body.append(starttag + highlighted + "</div>\n")
    raise nodes.SkipNode


def depart_command_block(self: HTML5Translator, node: command_block) -> None:
    """Reached only when Sphinx's visitor wrote a parsed-literal ``<pre>``."""
    self.depart_literal_block(node)


#: ``app.add_node(command_block, html=COMMAND_HTML_VISITORS)``
COMMAND_HTML_VISITORS: tuple[Any, Any] = (visit_command_block, depart_command_block)


def command_lines(lines: Sequence[str]) -> command_block:
    """Shell commands, one per line, in a console block (copy button, highlighting)."""
    text = "\n".join(lines)
    block = command_block(text, text, language=LANGUAGE)
    block["classes"].append("orgreg-command")
    return block
