"""A build whose previous site is kept as one tar (a cached CI deploy).

With ``ORGREG_SITE_ARCHIVE`` naming an archive folder (the Pages workflow's Build
step sets it; a local ``make html`` does not), the HTML output folder starts
(almost) empty and the previous site is the archive's tar
(:mod:`..core.sitearchive`): a page or endpoint file the tar holds counts as
present, with the size and time it had, so only what changed is written. Files
Sphinx reads back from its output (:data:`READ_BACK`) are extracted first; a
file a build removes is recorded as removed. ``orgreg site-archive`` then packs
the next artifact. Without the variable (or without an archive there yet), the
build is the usual one.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from ..core.sitearchive import Overlay, SiteArchive
from . import internals
from .warnings_ import Subtype, warn

logger = logging.getLogger(__name__)

#: the environment variable naming the archive folder (the mode is off without it)
ENV = "ORGREG_SITE_ARCHIVE"
#: output files the HTML builder reads back: its build information
#: (``get_outdated_docs``), the search index it adds to (``load_indexer``)
READ_BACK = (".buildinfo", "searchindex.js")

_archives: weakref.WeakKeyDictionary[Sphinx, SiteArchive] = weakref.WeakKeyDictionary()


def archive_folder(app: Sphinx) -> str:
    """The archive folder :data:`ENV` names for this build ('' when the mode is
    off: not set, or not an HTML builder)."""
    folder = os.environ.get(ENV, "").strip()
    return folder if folder and app.builder.format == "html" else ""


def open_archive(app: Sphinx) -> None:
    """``builder-inited``: with :data:`ENV` set and an HTML builder, take the
    previous site from the archive (none yet: the usual full build)."""
    folder = archive_folder(app)
    if not folder:
        return
    archive = SiteArchive.load(Path(folder))
    if not archive:
        if archive.problem:
            logger.info(
                "[orgreg] site archive in %s not used (%s): the whole site is written",
                folder,
                archive.problem,
            )
        else:
            logger.info("[orgreg] site archive: none in %s yet, the whole site is written", folder)
        return
    outdir = Path(app.outdir)
    names = [*READ_BACK, getattr(app.builder, "searchindex_filename", "searchindex.js")]
    for rel in dict.fromkeys(names):
        archive.extract(rel, outdir)
    _archives[app] = archive
    problem = internals.count_archived_outputs(outdir, lambda rel: _time(archive, rel))
    if problem:
        warn(
            "[orgreg] every page is written again: %s (this Sphinx version is not supported "
            "by orgreg-sphinx's site archive)",
            problem,
            subtype=Subtype.SPHINX,
        )
    held = archive.members.files()
    logger.info("[orgreg] site archive: %d files in %s", held, archive.tar)


def _time(archive: SiteArchive, rel: str) -> int | None:
    found = archive.status(rel)
    return None if found is None else found[1]


def archive_of(app: Sphinx) -> SiteArchive | None:
    """The archive holding this build's previous site (None: the usual build)."""
    return _archives.get(app)


def overlay(app: Sphinx) -> Overlay:
    """The site in the output folder as it is now (:class:`~..core.sitearchive.Overlay`:
    on disk, else in the archive). Made once for many questions: with an archive
    it lists the output folder's files."""
    return Overlay(app.outdir, _archives.get(app))


def remove_output(app: Sphinx, rel: str) -> bool:
    """Remove the output file *rel* from the site (on disk and in the archive);
    True if there was one."""
    try:
        os.remove(os.path.join(app.outdir, rel))
        found = True
    except OSError:
        found = False
    archive = _archives.get(app)
    return (archive is not None and archive.remove(rel)) or found


def close_archive(app: Sphinx, exception: BaseException | None) -> None:
    """``build-finished`` (last): the outdated-page check forgets the archive."""
    if _archives.pop(app, None) is not None:
        internals.forget_archived_outputs(app.outdir)
