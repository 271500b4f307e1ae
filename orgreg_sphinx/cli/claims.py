"""What a manifest's ``sif:`` block claims, compared with the image itself.

With ``--verify-digest`` (which ``--verify-signatures`` implies) each downloaded
image whose manifests carry a ``sif:`` block is read with
:func:`orgreg_sphinx.core.sif.summary` (what ``orgreg manifest`` writes the block
from) and every field the block holds is compared by
:func:`orgreg_sphinx.core.sifblock.differences`: ``arch``, ``id``, ``created``,
``partitions``, ``signatures``, ``coverage``, ``sbom``, ``oci``, ``labels`` and
``definition``. The differences are one error per manifest, naming the
manifest, each field, the claim and what the image holds.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..core import sif, sifblock
from ..core.model import Registry
from .answers import Expectation, UrlResult

#: the code of a claim the image does not back
CLAIM_CODE = "sif-claim"


class ClaimsCheck:
    """Compares the ``sif:`` blocks of the manifests of each downloaded image."""

    @classmethod
    def of(cls, registry: Registry) -> ClaimsCheck:
        """The check of every manifest of *registry* with a ``sif:`` block."""
        return cls(
            {
                tag.path: tag.extra["sif"]
                for ns in registry.namespaces
                for tag in ns.tags
                if tag.path is not None and isinstance(tag.extra.get("sif"), dict)
            }
        )

    def __init__(self, blocks: dict[Path, dict[str, Any]]) -> None:
        #: manifest path -> its sif: block
        self.blocks = blocks
        self.images = 0
        self.failed = 0
        self.lock = threading.Lock()

    def inspect(self, result: UrlResult, path: Path) -> None:
        """Compare the claims about the image downloaded to *path*."""
        concerned = [e for e in result.expectations if e.path in self.blocks]
        if not concerned:
            return
        with self.lock:
            self.images += 1
        try:
            found, _ = sif.summary(path)
        except (sif.SifError, OSError) as err:
            for exp in concerned:
                self._add(result, exp, f"claims a SIF image (sif:), but it is none: {err}")
            return
        for exp in concerned:
            wrong = sifblock.differences(self.blocks[exp.path], found)
            if wrong:
                self._add(
                    result,
                    exp,
                    f"does not back the manifest's {'; '.join(wrong)} "
                    "(write the block again with 'orgreg manifest')",
                )

    def _add(self, result: UrlResult, exp: Expectation, message: str) -> None:
        with self.lock:
            self.failed += 1
        result.add("error", CLAIM_CODE, message, exp)
