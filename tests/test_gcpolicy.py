"""The garbage collector's pace during a build (issue 17): pinned, not timed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from orgreg_sphinx.sphinxext import gcpolicy

#: a conf.py hook recording the thresholds while pages are written
RECORD_THRESHOLD = """
import gc

def setup(app):
    app.orgreg_test_thresholds = []
    app.connect("doctree-resolved",
                lambda app, doctree, docname: app.orgreg_test_thresholds.append(gc.get_threshold()))
"""


@pytest.fixture
def thresholds() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_the_youngest_generation_is_collected_less_often_while_building(
    registry_project, build
) -> None:
    gc.set_threshold(700, 10, 10)  # Python's default
    app = build(registry_project(conf=RECORD_THRESHOLD))
    seen = set(app.orgreg_test_thresholds)
    assert seen == {(gcpolicy.YOUNGEST_THRESHOLD, 10, 10)}
    assert gc.get_threshold() == (700, 10, 10)  # given back when the build ends


@pytest.mark.usefixtures("thresholds")
@pytest.mark.parametrize("user", [(50_000, 5, 5), (0, 10, 10)])
def test_a_users_own_threshold_is_kept(registry_project, build, user) -> None:
    """Higher thresholds, or a collector switched off (0), are the user's choice."""
    gc.set_threshold(*user)
    app = build(registry_project(conf=RECORD_THRESHOLD))
    assert set(app.orgreg_test_thresholds) == {user}
    assert gc.get_threshold() == user
