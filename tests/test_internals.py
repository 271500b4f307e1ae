"""The Sphinx internals orgreg_sphinx.sphinxext.internals relies on, checked against
the installed Sphinx: a failure here names what Sphinx changed. At build time a
broken assumption turns its feature off, never the build."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import soup, tag_row, tag_view, warnings_of
from sphinx.project import Project

from orgreg_sphinx.sphinxext import internals

WHERE = "(relied on by orgreg_sphinx/sphinxext/internals.py: adapt it to this Sphinx)"


def test_sphinx_project_has_the_maps_of_documents(tmp_path: Path) -> None:
    problem = internals.project_problem(Project(tmp_path, [".rst"]))
    assert problem == "", f"{problem} {WHERE}"


def test_sphinx_project_walks_with_get_matching_files(tmp_path: Path, monkeypatch) -> None:
    """``Project.discover`` finds its files through ``sphinx.project.get_matching_files``
    (swapped by ``RegistryProject`` while it runs, to skip the namespace folders)."""
    import sphinx.project

    (tmp_path / "index.rst").write_text("x")
    calls: list[object] = []
    real = sphinx.project.get_matching_files

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(sphinx.project, "get_matching_files", recording)
    assert Project(tmp_path, [".rst"]).discover() == {"index"}
    assert calls, f"Project.discover no longer calls sphinx.project.get_matching_files {WHERE}"


def test_a_registry_project_walks_no_skipped_folder(tmp_path: Path, monkeypatch) -> None:
    """The same documents as Sphinx's own walk, without listing the folders skipped."""
    import os

    for rel in ("index.rst", "acme/page.rst", "acme/tool/README.rst", "acme/tool/m/1/a.rst"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    exclude = ["acme/*/**"]
    plain = Project(tmp_path, [".rst"]).discover(exclude)
    project = Project(tmp_path, [".rst"])
    project.__class__ = internals.RegistryProject
    project.generated, project.skip = {}, frozenset({"acme/tool"})
    walked: list[str] = []
    real_walk = os.walk

    def walk(top: Any, *args: Any, **kwargs: Any) -> Any:
        for found in real_walk(top, *args, **kwargs):
            walked.append(os.path.relpath(found[0], tmp_path))
            yield found

    monkeypatch.setattr(os, "walk", walk)
    assert project.discover(exclude) == plain == {"index", "acme/page"}
    assert walked == [".", "acme"]
    assert project.doc2path("acme/page", absolute=False) == Path("acme/page.rst")


def test_a_project_without_the_maps_is_named(tmp_path: Path) -> None:
    project = Project(tmp_path, [".rst"])
    del project._docname_to_path
    assert internals.project_problem(project) == (
        "sphinx.project.Project has no dict _docname_to_path any more"
    )
    assert "not a sphinx.project.Project" in internals.project_problem(object())


def test_generated_pages_are_documents_of_the_project(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    app = build(registry_project())
    project = app.project
    assert isinstance(project, internals.RegistryProject), f"project not installed {WHERE}"
    stub = internals.generated_pages(app)["acme/busybox/index"]
    assert project._docname_to_path["acme/busybox/index"] == stub, WHERE
    assert project._path_to_docname[stub] == "acme/busybox/index", WHERE
    # the environment works on the very same object (Sphinx's env.project)
    assert app.env.project is project, f"env.project is another object {WHERE}"


def test_environment_has_the_caches_and_toctree_parents(
    registry_project: Callable[..., Path], make_app: Callable[..., Any]
) -> None:
    app = make_app("html", srcdir=registry_project())
    held: list[int] = []
    app.connect(
        "source-read",
        lambda app, docname, source: held.append(len(app.env._write_doc_doctree_cache)),
    )
    app.build()
    problems = internals.environment_problems(app.env)
    assert problems == [], f"{'; '.join(problems)} {WHERE}"
    assert max(held) > 0, f"env._write_doc_doctree_cache no longer holds read doctrees {WHERE}"
    parents = app.env.files_to_rebuild
    assert parents.get("acme/busybox/index") == {"index"}, (
        f"env.files_to_rebuild no longer maps a page to its toctree parents {WHERE}"
    )


def test_doctree_files_are_where_sphinx_keeps_each_read_document(
    registry_project: Callable[..., Path], make_app: Callable[..., Any]
) -> None:
    app = make_app("html", srcdir=registry_project())
    app.build()
    for docname in ("index", "acme/busybox/index"):
        path = internals.doctree_file(app, docname)
        assert path.is_file(), f"no doctree file {path} {WHERE}"
        assert app.env.get_doctree(docname).astext() == pickle.loads(path.read_bytes()).astext(), (
            f"{path} is not the doctree Sphinx reads {WHERE}"
        )


def test_an_unsupported_project_leaves_out_the_pages_not_the_build(
    registry_project: Callable[..., Path],
    build: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(internals, "project_problem", lambda project: "Project changed")
    app = build(registry_project())
    out = Path(app.outdir)
    assert "[orgreg] namespace pages are not generated: Project changed" in warnings_of(app)
    assert (out / "index.html").is_file()
    assert not (out / "acme/busybox/index.html").exists()
    assert (out / "acme/busybox/tags/index.json").is_file()  # the JSON API stays


def test_optimisations_skip_an_environment_without_the_internals() -> None:
    """Caches or parents Sphinx no longer has: nothing done, nothing raised."""
    env = SimpleNamespace(titles={}, tocs={})
    app = SimpleNamespace(env=env, project=SimpleNamespace(generated={"a/b/index": Path("x")}))
    internals.bound_doctree_cache(app, "a/b/index", [""])  # type: ignore[arg-type]
    internals.forget_written_doctree(app, None, "a/b/index")  # type: ignore[arg-type]
    parents = internals.TocParents()
    parents.remember(app, env, ["a/b/index"])  # type: ignore[arg-type]
    parents.before = {"a/b/index": "\n"}
    parents.set_aside(app, SimpleNamespace(env=env))  # type: ignore[arg-type]
    parents.restore(app, None)  # type: ignore[arg-type]
    assert parents.aside == {}


def test_stubs_are_read_in_myst_only_projects(
    registry_project: Callable[..., Path], build: Callable[..., Any]
) -> None:
    """The stubs' suffix is registered with app.add_source_suffix: a project whose
    source_suffix names only Markdown still reads them."""
    srcdir = registry_project()
    conf = srcdir / "conf.py"
    conf.write_text(
        conf.read_text().replace(
            'source_suffix = {".rst": "restructuredtext", ".md": "markdown"}',
            'source_suffix = {".md": "markdown"}',
        )
    )
    app = build(srcdir)
    assert warnings_of(app) == ""
    page = soup(Path(app.outdir) / "acme/busybox/index.html")
    assert tag_row(page, "latest") is not None and tag_view(page, "latest") is not None


def test_html_builders_feed_the_search_index_page_by_page() -> None:
    """skip_search_indexing wraps ``index_page(pagename, doctree, title)``, which
    Sphinx's HTML builder calls for every page it writes."""
    import inspect

    from sphinx.builders.html import StandaloneHTMLBuilder

    parameters = list(inspect.signature(StandaloneHTMLBuilder.index_page).parameters)
    assert parameters == ["self", "pagename", "doctree", "title"]
    source = inspect.getsource(StandaloneHTMLBuilder.write_doc_serialized)
    assert "self.index_page(" in source


def test_a_builder_without_write_doc_is_left_alone() -> None:
    """No ``write_doc`` to wrap: nothing is called after pages, the build goes on."""
    app = SimpleNamespace(builder=SimpleNamespace())
    assert internals.after_each_written_page(app, lambda doctree: None) is False  # type: ignore[arg-type]


def test_doctrees_dropped_from_memory_are_released(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read doctree the bound drops (already written to the doctree folder) is
    released (its document holds no node), the ones kept are whole."""
    from docutils import nodes
    from docutils.utils import new_document

    monkeypatch.setattr(internals, "DOCTREES_IN_MEMORY", 4)
    cache: dict[str, nodes.document] = {}
    for n in range(6):
        doc = new_document(f"page{n}")
        doc += nodes.paragraph("", f"page {n}")
        cache[f"o/r{n}/index"] = doc
    app = SimpleNamespace(
        env=SimpleNamespace(_write_doc_doctree_cache=cache),
        project=SimpleNamespace(generated={name: Path(name) for name in cache}),
    )
    dropped = dict(cache)
    internals.bound_doctree_cache(app, "o/r6/index", [""])  # type: ignore[arg-type]
    assert 0 < len(cache) < 6
    for name, doc in dropped.items():
        if name in cache:
            assert doc.astext() == f"page {name[3]}"
        else:
            assert len(doc.children) == 0 and doc.ids == {}


def test_the_outdated_page_check_counts_archived_outputs(tmp_path: Path) -> None:
    """A cached deploy's pages are in the site archive, not on disk: the HTML
    builder's outdated-page check reads their times through the wrapped
    ``sphinx.builders.html._last_modified_time``."""
    import sphinx.builders.html as html_builder

    problem = internals.archived_outputs_problem()
    assert problem == "", f"{problem} {WHERE}"
    outdir = tmp_path / "html"
    outdir.mkdir()
    (outdir / "on-disk.html").write_text("x")
    archived = {"acme/busybox/index.html": 1_700_000_000_123_456_789}
    assert internals.count_archived_outputs(outdir, archived.get) == ""
    try:
        check = html_builder._last_modified_time
        assert check(outdir / "acme/busybox/index.html") == 1_700_000_000_123_457  # us, up
        on_disk = (outdir / "on-disk.html").stat().st_mtime_ns
        assert check(outdir / "on-disk.html") == -(on_disk // -1000)
        with pytest.raises(OSError):
            check(outdir / "missing.html")
    finally:
        internals.forget_archived_outputs(outdir)
    with pytest.raises(OSError):
        html_builder._last_modified_time(outdir / "acme/busybox/index.html")


def test_a_check_without_the_time_function_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import sphinx.builders.html as html_builder

    monkeypatch.delattr(html_builder, "_last_modified_time")
    assert internals.archived_outputs_problem() == (
        "sphinx.builders.html has no _last_modified_time any more"
    )
