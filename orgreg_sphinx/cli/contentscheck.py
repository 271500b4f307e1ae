"""``orgreg check --verify-digest``: what each downloaded image holds, against its record.

A manifest's ``contents.json`` (written by ``orgreg manifest``) says what the image
holds. The online check downloads the image (its size and digest right); the
contents are read again from those bytes (:func:`orgreg_sphinx.core.contents.read_contents`)
and a record that says otherwise is an error of the manifest naming the image. A
record that is not valid is the model's error (``orgreg check`` reports it anyway).
"""

from __future__ import annotations

from pathlib import Path

from ..core import contents, sif
from .answers import UrlResult


def inspect(result: UrlResult, path: Path) -> None:
    """Compare the contents of the downloaded image *path* with each record."""
    recorded = []
    for exp in result.expectations:
        file = exp.path.parent / contents.RECORD_FILE
        if not file.is_file():
            continue
        try:
            recorded.append((exp, file, contents.load_record(file, contents.MAX_RECORD_BYTES)))
        except contents.ContentsError:
            continue  # the model's problem, reported with the file's name
    if not recorded:
        return
    try:
        actual = contents.read_contents(path)
    except (sif.SifError, contents.ContentsError, OSError) as err:
        for exp, file, _ in recorded:
            result.add(
                "error",
                "contents-unreadable",
                f"cannot be read to check {file.name}: {err}",
                exp,
            )
        return
    for exp, file, record in recorded:
        found = contents.differences(record, actual)
        if found:
            result.add(
                "error",
                "contents-differ",
                f"does not hold what {file.name} records: "
                + "; ".join(found)
                + " (write it again with 'orgreg manifest')",
                exp,
            )
