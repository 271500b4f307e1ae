"""zstd for the core: the standard library's (Python 3.14), else its backport
(``backports.zstd``, a dependency below 3.14). Used for SquashFS blocks
(:mod:`.contents`), the site archive's compressed copy (:mod:`.sitearchive`) and
the build's caches (:func:`.files.save_stamped`)."""

from __future__ import annotations

import functools
from typing import Any

#: the first bytes of a zstd frame
MAGIC = b"\x28\xb5\x2f\xfd"


@functools.cache  # (a missing module is looked for again at each import)
def zstd() -> Any:
    """The ``compression.zstd`` module, or ``backports.zstd`` before Python 3.14."""
    try:
        import compression.zstd as module  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        import backports.zstd as module
    return module
