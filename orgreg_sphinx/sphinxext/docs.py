"""The documentation's own directive: the reference of the configuration values,
made from the options table (:data:`.config.OPTIONS`), never kept by hand (as
MyST's ``_docs.py``).

Not part of the extension's setup: the documentation's ``conf.py`` adds it
(``app.add_directive(docs.CONFIG_DIRECTIVE, docs.ConfigValuesDirective)``).
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from .config import OPTIONS, Option

#: the directive's name
CONFIG_DIRECTIVE = "orgreg-config-values"
#: `code` spans of the options' documentation
_CODE = re.compile(r"`([^`]+)`")


def inline(text: str) -> list[nodes.Node]:
    """*text* as text nodes, its `code` spans as literals."""
    out: list[nodes.Node] = []
    for index, part in enumerate(_CODE.split(text)):
        if index % 2:
            out.append(nodes.literal(part, part))
        elif part:
            out.append(nodes.Text(part))
    return out


def default_cell(option: Option) -> list[nodes.Node]:
    if option.shown:
        return [nodes.Text(option.shown)]
    value = repr(option.default).replace("'", '"')
    return [nodes.literal(value, value)]


class ConfigValuesDirective(SphinxDirective):
    """A table of every configuration value: name, default, meaning."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        table = nodes.table(classes=["orgreg-config-values", "colwidths-given"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (30, 15, 55):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += _row([nodes.Text("Name")], [nodes.Text("Default")], [nodes.Text("Meaning")])
        body = nodes.tbody()
        group += body
        for option in OPTIONS:
            body += _row(
                [nodes.literal(option.name, option.name)], default_cell(option), inline(option.doc)
            )
        self.set_source_info(table)
        return [table]


def _row(*cells: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", *cell)
        row += entry
    return row
