"""Words of the messages and pages both the command line and the site write."""

from __future__ import annotations


def plural(count: int, word: str) -> str:
    """``1 tag``, ``2 tags``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
