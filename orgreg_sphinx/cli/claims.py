"""What a manifest's ``sif:`` block claims, compared with the image itself.

With ``--verify-digest`` each downloaded image whose manifests carry a ``sif:``
block is read with :func:`orgreg_sphinx.core.sif.summary` (what ``orgreg
manifest`` writes the block from) and every field the block holds is compared:
``arch``, ``id``, ``created``, ``partitions``, ``sbom``, ``oci``, ``labels`` and
``definition``. A difference is an error naming the manifest, the field, the
claim and what the image holds. Two cuts ``orgreg manifest`` makes are not
differences: labels kept as a page shows them (fewer, each key and value cut to
:data:`~orgreg_sphinx.core.sifblock.MAX_LABEL` characters) and a definition file
cut at a line's end. Signature claims are the signature check's business
(``--verify-signatures``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core import sif, sifblock
from ..core.model import Registry
from .online import Expectation, UrlResult

#: the fields compared (signatures: the signature check's)
FIELDS = ("arch", "id", "created", "partitions", "sbom", "oci", "labels", "definition")
#: the longest value quoted in a message
SHOWN = 60


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def _labels_match(claimed: Any, found: Any) -> bool:
    """True when *claimed* labels are the image's, or the image's as ``orgreg
    manifest`` cuts them (some left out, keys and values cut)."""
    if not isinstance(claimed, dict) or not isinstance(found, dict):
        return False
    if claimed == found:
        return True
    cut = {
        str(k)[: sifblock.MAX_LABEL]: str(v)[: sifblock.MAX_LABEL]
        for k, v in list(found.items())[: sifblock.MAX_ITEMS]
    }
    return len(claimed) <= len(cut) and all(cut.get(str(k)) == v for k, v in claimed.items())


def _definition_matches(claimed: Any, found: Any) -> bool:
    """True when *claimed* is the image's definition file, or its start cut at
    the end of a line (as ``orgreg manifest`` cuts a large one)."""
    if not isinstance(claimed, str) or not isinstance(found, str):
        return False
    if claimed == found:
        return True
    return found.startswith(claimed) and (claimed == "" or claimed.endswith("\n"))


def differences(claimed: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Each field of *claimed* (a ``sif:`` block) that the image's own block
    *found* does not back, as a sentence ending "...the image holds ..."."""
    wrong = []
    for name in FIELDS:
        if name not in claimed:
            continue
        value, actual = claimed[name], found.get(name)
        if name == "labels":
            same = _labels_match(value, actual)
        elif name == "definition":
            same = _definition_matches(value, actual)
        else:
            same = value == actual
        if not same:
            holds = "nothing there" if actual is None else _shown(actual)
            wrong.append(f"sif.{name} = {_shown(value)}, but the image holds {holds}")
    return wrong


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

    def inspect(self, result: UrlResult, path: Path) -> None:
        """Compare the claims about the image downloaded to *path*."""
        concerned = [e for e in result.expectations if e.path in self.blocks]
        if not concerned:
            return
        self.images += 1
        try:
            found, _ = sif.summary(path)
        except (sif.SifError, OSError) as err:
            for exp in concerned:
                self._add(result, exp, f"claims a SIF image (sif:), but it is none: {err}")
            return
        for exp in concerned:
            for wrong in differences(self.blocks[exp.path], found):
                self._add(result, exp, f"does not back the manifest's {wrong}")

    def _add(self, result: UrlResult, exp: Expectation, message: str) -> None:
        self.failed += 1
        result.add("error", "sif-claim", message, exp)
