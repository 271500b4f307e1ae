"""The generated pages' sources: one-line stubs kept under the doctree folder.

Sphinx reads a document from a file. Each generated page (a namespace's, and the
trusted keys' page) is a small stub written under ``<doctreedir>/orgreg-stubs/``
(only when its bytes change): a namespace page's stub is one ``registry``
directive, read by :class:`.pages.NamespacePageParser`; the keys page's is one
``orgreg-keys`` directive. Nothing is written into the source folder.

A namespace's stub is ``<org>/<repo>.orgreg`` (one folder per organization, not
one per namespace: at 10,000 namespaces, 10,000 folders fewer for a CI cache to
pack and unpack). The former layout (``orgreg-pages/<org>/<repo>/index.orgreg``)
is removed when found.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from ..core.files import write_if_changed

STUB_FOLDER = "orgreg-stubs"
#: the stubs' former folder (a folder per namespace), removed when found
FORMER_STUB_FOLDER = "orgreg-pages"
#: suffix and file type of the stubs, read by :class:`.pages.NamespacePageParser`
STUB_SUFFIX = ".orgreg"
STUB_FILETYPE = "orgreg-namespace-page"
STUB_RE = re.compile(r"^   :namespace: (.+)$", re.MULTILINE)

#: the generated page of the trusted keys, beside the published key files
KEYS_DOCNAME = "api/keys/index"
KEYS_TITLE = "Signing keys"
#: the keys page's directive (:class:`.signing.KeysDirective`)
KEYS_DIRECTIVE = "orgreg-keys"
KEYS_STUB = f"{KEYS_TITLE}\n{'=' * len(KEYS_TITLE)}\n\n.. {KEYS_DIRECTIVE}::\n"


def stub_text(name: str) -> str:
    """The source of a namespace page: one directive that renders it all."""
    return f".. registry::\n   :namespace: {name}\n   :page:\n"


def namespace_docname(name: str) -> str:
    """The docname of the generated page of the namespace *name* (``org/repo``)."""
    return f"{name}/index"


def write_stubs(
    doctreedir: str | Path, namespaces: Iterable[str], keys_page: bool
) -> dict[str, Path]:
    """Write the stubs of the namespaces *namespaces* (names) and, with
    *keys_page*, of the keys page; their docnames with their stub files."""
    shutil.rmtree(Path(doctreedir) / FORMER_STUB_FOLDER, ignore_errors=True)
    folder = Path(doctreedir) / STUB_FOLDER
    generated: dict[str, Path] = {}
    for name in namespaces:
        stub = folder / f"{name}{STUB_SUFFIX}"
        write_if_changed(stub, stub_text(name).encode())
        generated[namespace_docname(name)] = stub
    # a namespace api/keys is refused by the model: the keys page never replaces one
    if keys_page and KEYS_DOCNAME not in generated:
        stub = folder / "api" / f"keys{STUB_SUFFIX}"
        write_if_changed(stub, KEYS_STUB.encode())
        generated[KEYS_DOCNAME] = stub
    return generated
