"""Write generated files into the output folder: only changed bytes, atomically,
and remove what an earlier build wrote that is no longer generated."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write *data* to *path* atomically unless it already holds it; True if written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".orgreg-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def sync(
    outdir: Path,
    files: Mapping[str, bytes],
    state_file: Path,
    *,
    owned: Iterable[str] = (),
) -> tuple[int, int]:
    """Make *outdir* hold *files*; delete files listed in *state_file* by the
    previous build that are neither in *files* nor in *owned* (pages kept by
    Sphinx). Returns (written, removed)."""
    outdir = Path(outdir)
    written = sum(write_if_changed(outdir / rel, data) for rel, data in files.items())
    keep = set(files) | set(owned)
    try:
        previous = set(json.loads(state_file.read_text()))
    except (OSError, ValueError):
        previous = set()
    removed = 0
    for rel in sorted(previous - keep):
        path = outdir / rel
        if ".." in Path(rel).parts:
            continue
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        _prune_empty(path.parent, outdir)
    state = json.dumps(sorted(keep), indent=0).encode()
    state_file.parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(state_file, state)
    return written, removed


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
