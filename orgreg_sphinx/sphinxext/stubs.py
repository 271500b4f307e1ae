"""The generated pages' sources: one-line stubs kept under the doctree folder.

Sphinx reads a document from a file. Each generated page (a namespace's, and the
trusted keys' page) has a small stub under ``<doctreedir>/orgreg-stubs/``: the
keys page's is one ``orgreg-keys`` directive; a namespace page's is one
``registry`` directive without the namespace (:data:`NAMESPACE_STUB`), which
:class:`.pages.NamespacePageParser` takes from the page's docname. Nothing is
written into the source folder.

The namespace pages' stubs are one file: ``<org>/<repo>.orgreg`` is a hard link
to :data:`SHARED_STUB` (a copy where the file system has none), one folder per
organization. At 10,000 namespaces a CI cache packs and unpacks 10,000 links to
one file instead of 10,000 files in 10,000 folders, and a build checks each
stub's file number instead of reading it. Their time is the shared file's, written
only when its bytes change (every namespace page is then read again). The former
layout (``orgreg-pages/<org>/<repo>/index.orgreg``) is removed when found.
"""

from __future__ import annotations

import os
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


#: the stub of every namespace page (the page's namespace is its docname's)
NAMESPACE_STUB = ".. registry::\n   :page:\n"
#: the file the namespace pages' stubs are hard links to, in :data:`STUB_FOLDER`
SHARED_STUB = f"namespace-page{STUB_SUFFIX}"


def stub_text(name: str) -> str:
    """The source of a namespace page: one directive that renders it all."""
    return f".. registry::\n   :namespace: {name}\n   :page:\n"


def namespace_docname(name: str) -> str:
    """The docname of the generated page of the namespace *name* (``org/repo``)."""
    return f"{name}/index"


def namespace_of_page(docname: str) -> str:
    """The namespace whose generated page *docname* is ('' for another page)."""
    name = docname.removesuffix("/index")
    return name if name != docname and name.count("/") == 1 else ""


def write_stubs(
    doctreedir: str | Path, namespaces: Iterable[str], keys_page: bool
) -> dict[str, Path]:
    """Write the stubs of the namespaces *namespaces* (names) and, with
    *keys_page*, of the keys page; their docnames with their stub files."""
    shutil.rmtree(Path(doctreedir) / FORMER_STUB_FOLDER, ignore_errors=True)
    folder = Path(doctreedir) / STUB_FOLDER
    shared = folder / SHARED_STUB
    write_if_changed(shared, NAMESPACE_STUB.encode())
    target = os.stat(shared)
    generated: dict[str, Path] = {}
    for name in namespaces:
        stub = folder / f"{name}{STUB_SUFFIX}"
        link_stub(stub, shared, target)
        generated[namespace_docname(name)] = stub
    # a namespace api/keys is refused by the model: the keys page never replaces one
    if keys_page and KEYS_DOCNAME not in generated:
        stub = folder / "api" / f"keys{STUB_SUFFIX}"
        write_if_changed(stub, KEYS_STUB.encode())
        generated[KEYS_DOCNAME] = stub
    return generated


def link_stub(stub: Path, shared: Path, target: os.stat_result) -> None:
    """Make *stub* a hard link to *shared* (whose status is *target*), or a copy
    of it where the file system has no hard links."""
    try:
        found = os.stat(stub)
    except OSError:
        found = None
    if found is not None and (found.st_ino, found.st_dev) == (target.st_ino, target.st_dev):
        return
    stub.parent.mkdir(parents=True, exist_ok=True)
    tmp = stub.with_name(f".orgreg-{stub.name}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        os.link(shared, tmp)
        os.replace(tmp, stub)
    except OSError:
        tmp.unlink(missing_ok=True)
        write_if_changed(stub, NAMESPACE_STUB.encode())
