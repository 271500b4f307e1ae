"""The ``orgreg`` HTML theme (usable alone, through the entry point)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

THEME_PATH = Path(__file__).parent / "theme" / "orgreg"


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_html_theme("orgreg", str(THEME_PATH))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
