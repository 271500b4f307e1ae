"""A garbage-collector setting for the length of a build.

Every written page leaves its doctree behind as garbage held in cycles (each
node points to its parent), so only the cyclic collector frees it. With
Python's default thresholds (700, 10, 10) a page's nodes outlive the two young
generations and reach the oldest one, which is collected over and over while
pages are written: measured on a full build of 1,000 namespaces x 5 tags
(2026-11-29), 32 collections of the oldest generation took 6.9 s of 20.8 s of
CPU. With the youngest generation collected every 10,000 allocations instead of
700, a page's nodes die young: the same build spent 3.6 s in the collector
(2 collections of the oldest generation) and 16.6 s in all. Thresholds set
higher by the user are kept; the previous ones come back when the build ends.
"""

from __future__ import annotations

import gc

from sphinx.application import Sphinx

#: allocations between two collections of the youngest generation
YOUNGEST_THRESHOLD = 10_000

_saved: list[tuple[int, int, int]] = []


def raise_threshold(app: Sphinx) -> None:
    """``builder-inited``: collect the youngest generation less often."""
    current = gc.get_threshold()
    if current[0] and current[0] < YOUNGEST_THRESHOLD:  # 0: collection switched off
        _saved.append(current)
        gc.set_threshold(YOUNGEST_THRESHOLD, *current[1:])


def restore_threshold(app: Sphinx, exception: BaseException | None) -> None:
    """``build-finished``: the thresholds of before the build."""
    if _saved:
        gc.set_threshold(*_saved.pop())


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", raise_threshold)
    app.connect("build-finished", restore_threshold)
