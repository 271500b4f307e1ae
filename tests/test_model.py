"""The model layer reads a tree in the original format into plain objects."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLE_SOURCE, good_tree, write_tree

from orgreg_sphinx.core import model
from orgreg_sphinx.core.model import load_registry


def test_example_registry_is_clean() -> None:
    registry = load_registry(EXAMPLE_SOURCE)
    assert registry.problems == []
    names = [ns.name for ns in registry.namespaces]
    assert len(names) >= 4
    assert "acme/busybox" in names


def test_good_tree(tmp_path: Path) -> None:
    write_tree(tmp_path, good_tree())
    registry = load_registry(tmp_path)
    assert registry.problems == []
    busybox = registry.namespace("acme/busybox")
    assert busybox is not None
    assert [t.name for t in busybox.tags] == ["1.36", "latest"]
    assert busybox.description == "Busybox example"
    assert "A *tiny* image" in busybox.body
    latest = busybox.tag("latest")
    assert latest.created == "2024-05-02T10:31:00Z"
    assert latest.recipe_file is not None and latest.recipe_file.name == "Singularity"
    centos = registry.namespace("acme/centos")
    assert centos.tags[0].digest == "md5:WGQgL3Ok6o6uD2ZRdClzDQ=="
    assert centos.tags[0].size_is_kib and centos.tags[0].size_bytes == 75412 * 1024
    # a namespace without collection README still counts
    assert registry.namespace("lab/pancakes").description == ""


def test_names_with_a_trailing_newline_are_refused(tmp_path: Path) -> None:
    """`$` in a regex also matches before a final newline; names must not."""
    files = dict(good_tree())
    files["acme/busybox/manifests/bad\n/README.md"] = files["acme/busybox/manifests/1.36/README.md"]
    write_tree(tmp_path, files)
    registry = load_registry(tmp_path)
    assert [t.name for t in registry.namespace("acme/busybox").tags] == ["1.36", "latest"]
    assert any("is not a valid tag" in p.message for p in registry.problems)


def test_a_tags_time_stamp_is_found_once(tmp_path: Path) -> None:
    """Listings, their signatures and the feed ask each tag for its time stamp
    many times a build: it is looked up in the manifest's keys once, then kept."""
    write_tree(tmp_path, good_tree())
    latest = load_registry(tmp_path).namespace("acme/busybox").tag("latest")
    assert latest is not None
    again = load_registry(tmp_path).namespace("acme/busybox").tag("latest")
    assert latest.created == "2024-05-02T10:31:00Z"
    assert latest == again  # the kept value is no part of a tag's equality
    latest.extra.clear()  # the keys are not looked at again
    assert latest.created == "2024-05-02T10:31:00Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-02-23T10:42:00Z", "2024-02-23T10:42:00Z"),
        (" 2024-02-23T10:42:00Z\n", "2024-02-23T10:42:00Z"),
        ("2024-02-23T10:42:00+02:00", "2024-02-23T08:42:00Z"),
        ("2024-02-23T10:42:00.5Z", "2024-02-23T10:42:00Z"),
        ("2024-02-23", "2024-02-23T00:00:00Z"),
        ("2024-02-30T10:42:00Z", None),  # written as returned, but no such day
        ("2024-02-23T24:00:00Z", None),
        ("0000-01-01T00:00:00Z", None),
    ],
)
def test_time_stamps_in_utc(value: str, expected: str | None) -> None:
    assert model.utc_stamp(value) == expected
