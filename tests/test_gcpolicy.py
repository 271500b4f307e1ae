"""The garbage collector's pace during a build (issue 17): pinned, not timed."""

from __future__ import annotations

import gc
import subprocess
import sys
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


#: a conf.py hook recording the collector's state while the build's start loads
#: (at builder-inited, before the extension's last handler) and while pages are
#: written
RECORD_COLLECTOR = """
import gc

def setup(app):
    app.orgreg_test_collector = {"loading": [], "writing": []}
    seen = app.orgreg_test_collector
    app.connect("builder-inited",
                lambda app: seen["loading"].append((gc.isenabled(), gc.get_freeze_count())))
    app.connect("doctree-resolved",
                lambda app, doctree, docname: seen["writing"].append(
                    (gc.isenabled(), gc.get_freeze_count())))
"""


def test_the_collector_waits_until_the_builds_start_is_loaded(registry_project, build) -> None:
    """Off from the configuration until the registry is loaded (the environment
    and the caches unpickle without collections), then what is loaded is frozen
    and the collector runs while pages are written; all is as before at the end.
    The second build loads a pickled environment and memo."""
    src = registry_project(conf=RECORD_COLLECTOR)
    app = build(src)
    seen = app.orgreg_test_collector
    assert seen["loading"] == [(False, 0)]
    assert seen["writing"] and all(on and frozen > 1000 for on, frozen in seen["writing"])
    assert gc.isenabled() and gc.get_freeze_count() == 0
    (src / "index.md").write_text("# Registry\n\nEdited.\n", encoding="utf-8")
    again = build(src, freshenv=False)  # the pickled environment and memo loaded
    assert again.orgreg_test_collector["loading"] == [(False, 0)]
    assert again.orgreg_test_collector["writing"]  # the edited page
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_build_whose_registry_fails_to_load_leaves_the_collector_on(
    registry_project, build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error goes on (no build-finished follows), the collector runs again."""
    from orgreg_sphinx.sphinxext import loader

    def fail(*args: object) -> None:
        raise RuntimeError("unreadable")

    monkeypatch.setattr(loader, "read_registry", fail)
    with pytest.raises(Exception, match="unreadable"):
        build(registry_project())
    assert gc.isenabled()


def test_a_collector_the_user_switched_off_stays_off(registry_project, build) -> None:
    src = registry_project(conf=RECORD_COLLECTOR)
    gc.disable()
    try:
        app = build(src)
        assert {on for on, _ in app.orgreg_test_collector["writing"]} == {False}
        assert not gc.isenabled()
    finally:
        gc.enable()


#: a sphinx-build run whose own exit handler, registered before the build (so run
#: after the extension's: atexit runs handlers last in, first out), prints how
#: many objects the collector's final passes will not walk
BUILD_THEN_COUNT_FROZEN = """
import atexit, gc, sys
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count(), flush=True))
from sphinx.cmd.build import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_heap_is_frozen_when_the_build_process_exits(registry_project, tmp_path) -> None:
    """The interpreter's last collections do not walk what the build left."""
    src = registry_project()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            BUILD_THEN_COUNT_FROZEN,
            "-b",
            "html",
            "-q",
            "-d",
            str(tmp_path / "doctrees"),
            str(src),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    [line] = [x for x in done.stdout.splitlines() if x.startswith("frozen at exit:")]
    assert int(line.split(":")[1]) > 10_000  # the whole heap, not nothing
    assert gc.get_freeze_count() == 0  # this process: a build in it froze nothing


def test_a_build_in_a_running_process_leaves_the_collector_at_work(registry_project, build) -> None:
    """Only the exit freezes: in-process builds (tests, servers) are collected as usual."""
    build(registry_project())
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()


def test_the_collector_is_paused_while_the_site_files_are_written(
    registry_project, build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The published files (lists and dicts without cycles) are made and written
    with the collector off; it is on again afterwards, as it was before."""
    from orgreg_sphinx.core import files as files_module
    from orgreg_sphinx.sphinxext import publish

    seen: list[bool] = []
    real_sync = files_module.sync_batches

    def sync_batches(*args: object, **kwargs: object) -> tuple[int, int]:
        seen.append(gc.isenabled())
        return real_sync(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "sync_batches", sync_batches)
    build(registry_project())
    assert seen == [False]
    assert gc.isenabled()


#: a conf.py hook keeping weak references to the nodes of each written
#: namespace page, and to the home listing's table
WATCH_PAGES = """
import weakref
from docutils import nodes

def setup(app):
    app.orgreg_test_pages = []

    def watch(app, pagename, templatename, context, doctree):
        if doctree is not None and pagename.count("/") == 2:
            rows = list(doctree.findall(nodes.row))
            app.orgreg_test_pages.append((weakref.ref(doctree), [weakref.ref(r) for r in rows]))

    app.connect("html-page-context", watch)
"""


def test_written_pages_are_freed_without_the_collector(registry_project, build) -> None:
    """Each page's doctree is released once written: with the collector off
    for the whole build, no node of a written namespace page is left, and the
    page's document holds no node any more."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        app = build(registry_project(conf=WATCH_PAGES))
        watched = app.orgreg_test_pages
        assert len(watched) >= 2
        assert all(rows for _, rows in watched)  # namespace pages have tag rows
        assert [r for _, rows in watched for r in rows if r() is not None] == []
        for page, _ in watched:
            document = page()
            assert document is None or len(document.children) == 0
    finally:
        if was_enabled:
            gc.enable()


def test_release_keeps_what_a_node_holds() -> None:
    """A released tree's nodes keep their children (a node something else
    holds stays whole); only the links up are cut, and the tree leaves its parent."""
    from docutils import nodes

    outer = nodes.section()
    tree = nodes.container()
    shared = nodes.paragraph("", "", nodes.Text("kept"))
    tree += shared
    outer += tree
    outer += nodes.paragraph("", "after")
    gcpolicy.release(tree)
    assert shared.astext() == "kept" and shared[0].parent is None
    assert shared.parent is None and tree.parent is None
    assert [type(c).__name__ for c in outer.children] == ["paragraph"]
