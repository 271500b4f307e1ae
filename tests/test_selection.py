"""What a listing shows: filtering, sorting and cutting tags and namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orgreg_sphinx.core.model import Layer, Namespace, Tag
from orgreg_sphinx.core.selection import (
    ListingSpec,
    match_namespaces,
    natural_key,
    parse_sort,
    select_namespaces,
    select_tags,
    split_list,
)


def tag(name: str, size: int = 1_000_000, created: str | None = None) -> Tag:
    extra = {"created": created} if created else {}
    layer = Layer(size, "sha256:" + "0" * 64, "https://x.example/a.sif")
    return Tag(name, size, "sha256:" + "0" * 64, (layer,), extra)


def namespace(name: str, *tags: Tag) -> Namespace:
    org, repo = name.split("/")
    return Namespace(org, repo, Path(name), tags=tuple(tags))


def test_split_list() -> None:
    assert split_list(" a, b  c,,d ") == ["a", "b", "c", "d"]
    assert split_list("") == []


def test_natural_order() -> None:
    names = ["v1.10", "v1.9", "v2.0", "dev", "1.2", "1.10"]
    assert sorted(names, key=natural_key) == ["1.2", "1.10", "dev", "v1.9", "v1.10", "v2.0"]


def test_parse_sort() -> None:
    assert parse_sort("-created", ("name", "created")) == ("created", True)
    assert parse_sort("name", ("name",)) == ("name", False)
    with pytest.raises(ValueError, match="unknown sort order 'colour'"):
        parse_sort("colour", ("name",))


def test_match_namespaces_globs_names_and_case() -> None:
    pool = [namespace("acme/b"), namespace("acme/a"), namespace("lab/x")]
    assert [n.name for n in match_namespaces(pool, ["acme/*"])] == ["acme/a", "acme/b"]
    assert [n.name for n in match_namespaces(pool, ["LAB/X", "acme/*", "acme/a"])] == [
        "lab/x",
        "acme/a",
        "acme/b",
    ]
    assert match_namespaces(pool, ["none/*"]) == []


def test_created_sort_puts_tags_without_time_last() -> None:
    ns = namespace("a/b", tag("x"), tag("old", created="2020"), tag("new", created="2024"))
    for sort, expected in (("created", ["old", "new", "x"]), ("-created", ["new", "old", "x"])):
        assert [t.name for t in select_tags(ns, ListingSpec(sort=sort)).tags] == expected


def test_namespace_list_sort_and_limit() -> None:
    pool = [
        namespace("a/one", tag("1")),
        namespace("a/three", tag("1"), tag("2"), tag("3")),
        namespace("a/two", tag("1"), tag("2")),
    ]
    shown, hidden = select_namespaces(pool, ListingSpec(sort="-tags", limit=2))
    assert [n.name for n in shown] == ["a/three", "a/two"] and hidden == 1


names = st.from_regex(r"[a-z0-9][a-z0-9.]{0,6}", fullmatch=True)


@given(
    st.lists(names, unique=True, max_size=12),
    st.integers(min_value=0, max_value=15),
    st.sampled_from(["name", "-name", "size", "-size", "created", "-created"]),
    st.lists(st.sampled_from(["*", "1*", "a*", "*.?", "[0-9]*"]), max_size=2),
)
def test_select_tags_keeps_count(tag_names, limit, sort, globs) -> None:
    ns = namespace("a/b", *(tag(n, 1000 + i, f"2024-{i:02}") for i, n in enumerate(tag_names)))
    spec = ListingSpec(tags=tuple(globs), sort=sort, limit=limit)
    shown = select_tags(ns, spec)
    matching = select_tags(ns, ListingSpec(tags=tuple(globs), sort=sort))
    assert shown.tags == matching.tags[: limit or None]
    assert len(shown.tags) + shown.hidden == len(matching.tags)
    assert limit == 0 or len(shown.tags) <= limit
    assert sorted(t.name for t in matching.tags) == sorted(
        t.name for t in select_tags(ns, ListingSpec(tags=tuple(globs))).tags
    )
