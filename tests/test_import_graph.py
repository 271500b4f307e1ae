"""The package's import graph (grimp, which import-linter is built on) has no
cycle, and the extension imports nothing inside its functions."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[1] / "orgreg_sphinx"


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """One chain per import that closes a cycle: ``a`` imports ``b`` and ``b``
    (through any chain) imports ``a``."""
    cycles = []
    for importer in sorted(graph.modules):
        if not importer.startswith("orgreg_sphinx"):
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if not imported.startswith("orgreg_sphinx") or imported == importer:
                continue
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.append([importer, *back])
    return cycles


def test_no_import_cycle() -> None:
    graph = grimp.build_graph("orgreg_sphinx")
    assert import_cycles(graph) == []


def test_a_cycle_is_found() -> None:
    """The check sees a cycle when there is one (an import added back)."""
    graph = grimp.build_graph("orgreg_sphinx")
    graph.add_import(
        importer="orgreg_sphinx.sphinxext.shared",
        imported="orgreg_sphinx.sphinxext.directive",
    )
    assert [
        "orgreg_sphinx.sphinxext.directive",
        "orgreg_sphinx.sphinxext.shared",
        "orgreg_sphinx.sphinxext.directive",
    ] in import_cycles(graph)


def test_extension_imports_at_module_level() -> None:
    """No import inside a function of the extension, where it would hide a cycle
    (``if TYPE_CHECKING:`` blocks are at module level)."""
    found = []
    for path in sorted((PACKAGE / "sphinxext").glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        found.append(f"{path.name}:{inner.lineno}")
    assert found == []
