"""Property-based tests (hypothesis) of untrusted input (issue 8).

Generated front matter, READMEs, Markdown and whole trees: reading them never
raises anything but a reported problem, every accepted manifest comes back
unchanged through the model into the JSON API, and rendered Markdown holds only
harmless HTML.
"""

from __future__ import annotations

import json
import os
import string
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from bs4 import BeautifulSoup
from conftest import good_tree, manifest, sha256, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgreg_sphinx.core import endpoints, markdown
from orgreg_sphinx.core.frontmatter import FrontMatterError, decode, parse
from orgreg_sphinx.core.model import MANIFEST_KEYS, load_registry
from orgreg_sphinx.core.names import TAG_RE

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ------------------------------------------------------------------ strategies

#: text without YAML's own line breaks (NEL, LS, PS): PyYAML writes them raw with
#: allow_unicode, and any YAML reader folds them to spaces
texts = st.text(
    alphabet=st.characters(exclude_characters="\x85\u2028\u2029", exclude_categories=("Cs",)),
    max_size=40,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(texts.filter(bool), inner, max_size=4),
    ),
    max_leaves=12,
)
hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
digests = st.one_of(
    hex64.map(lambda h: f"sha256:{h}"),
    st.text(alphabet="0123456789abcdef", min_size=128, max_size=128).map(lambda h: f"sha512:{h}"),
    st.binary(min_size=16, max_size=16).map(
        lambda b: "md5:" + __import__("base64").b64encode(b).decode()
    ),
)
url_chars = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%<>\"{}|^`"
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True),
    st.text(alphabet=url_chars, max_size=60),
)
layers = st.fixed_dictionaries(
    {"size": st.integers(min_value=0, max_value=2**53), "digest": digests, "url": urls},
    optional={"mediaType": st.text(alphabet=string.printable.strip(), min_size=1, max_size=40)},
)
extra_keys = texts.filter(lambda k: k and k not in MANIFEST_KEYS)
manifests = st.fixed_dictionaries(
    {
        "size": st.integers(min_value=0, max_value=2**53),
        "digest": digests,
        "layers": st.lists(layers, min_size=1, max_size=4),
    },
    optional={"layout": st.just("manifests/singularity")},
).flatmap(
    lambda data: st.dictionaries(extra_keys, json_values, max_size=5).map(
        # the top-level digest is the image's: the first layer's (issue 23)
        lambda extra: {
            **extra,
            **data,
            "layers": [{**data["layers"][0], "digest": data["digest"]}, *data["layers"][1:]],
        }
    )
)


def front_matter(data: dict[str, Any], body: str = "") -> str:
    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n" + body


def expected_manifest_body(data: dict[str, Any]) -> dict[str, Any]:
    """The manifest endpoint as the SPEC defines it, from the input values."""
    return {
        "schemaVersion": 2,
        "mediaType": "application/vnd.singularity.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.singularity.container.image.v1+json",
            "size": data["size"],
            "digest": data["digest"],
        },
        "layers": [
            {
                "mediaType": layer.get("mediaType", "application/vnd.singularity.image.squashfs"),
                "size": layer["size"],
                "digest": layer["digest"],
                "urls": [layer["url"]],
            }
            for layer in data["layers"]
        ],
    }


# ------------------------------------------------------------------ front matter


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_parse_or_are_refused(raw: bytes) -> None:
    try:
        doc = parse(decode(raw))
    except FrontMatterError as err:
        assert err.message and (err.line is None or err.line >= 1)
    else:
        assert isinstance(doc.data, dict)
        json.dumps(doc.data)  # JSON-compatible


@SETTINGS
@given(
    st.lists(
        st.sampled_from(
            [
                "---",
                "...",
                "a: 1",
                "- x",
                "  - y",
                "b: [1, {c: 2}]",
                "&a x",
                "*a",
                "!!binary aGk=",
                "? [k]",
                ": v",
                "\tc: 3",
                "d: 2024-13-45",
                "e: 1e400",
                "key: 'unterminated",
                "f: !!python/name:os.system",
                "%YAML 1.2",
                "g: |",
                "  text",
                "# comment",
                "",
                "01: x",
                "1: y",
                "~: z",
                "null: w",
                'h: "\\u2028"',
                "<<: {m: 1}",
            ]
        ),
        max_size=12,
    )
)
def test_yaml_shaped_lines_parse_or_are_refused(lines: list[str]) -> None:
    text = "---\n" + "\n".join(lines) + "\n---\nbody\n"
    try:
        doc = parse(decode(text.encode()))
    except FrontMatterError as err:
        assert err.message
    else:
        json.dumps(doc.data)


@SETTINGS
@given(st.dictionaries(texts.filter(bool), json_values, max_size=6))
def test_front_matter_round_trips(data: dict[str, Any]) -> None:
    """Whatever YAML a contributor's tool dumps comes back as the same values."""
    text = front_matter(data)
    try:
        doc = parse(decode(text.encode("utf-8")))
    except FrontMatterError as err:
        # only size and emptiness limits may refuse well-formed YAML
        assert "empty front matter" in err.message or "over the limit" in err.message, err
        return
    assert doc.data == json.loads(json.dumps(data))


# ------------------------------------------------------------------ manifests


@SETTINGS
@given(manifests, st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_accepted_manifest_round_trips_to_the_same_json(
    data: dict[str, Any], newline: str, bom: bool
) -> None:
    text = front_matter(data).replace("\n", newline)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_tree(
            root,
            {
                "org/repo/manifests/v1/README.md": ("\ufeff" if bom else "").encode()
                + text.encode("utf-8")
            },
        )
        registry = load_registry(root)
        assert registry.problems == [], registry.problems
        tag = registry.namespace("org/repo").tag("v1")
        body = json.loads(endpoints.dumps(endpoints.manifest_body(tag)))
        assert body == expected_manifest_body(data)
        catalog = json.loads(endpoints.dumps(endpoints.catalog_body(registry)))
        entry = catalog["namespaces"][0]["tags"][0]
        extra = {k: v for k, v in data.items() if k not in MANIFEST_KEYS}
        assert entry["extra"] == json.loads(json.dumps(extra))
        assert entry["urls"] == [layer["url"] for layer in data["layers"]]


@SETTINGS
@given(
    texts,
    st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=300),
)
def test_collection_description_and_body_round_trip(description: str, body: str) -> None:
    text = front_matter({"layout": "collection", "description": description}, body)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_tree(
            root,
            {
                "org/repo/README.md": text.encode("utf-8"),
                "org/repo/manifests/v1/README.md": manifest(sha256("v1")),
            },
        )
        registry = load_registry(root)
        assert registry.problems == [], registry.problems
        ns = registry.namespace("org/repo")
        catalog = json.loads(endpoints.dumps(endpoints.catalog_body(registry)))
        assert catalog["namespaces"][0]["description"] == description.strip()
        assert ns.body == body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


# ------------------------------------------------------------------ trees

names = st.sampled_from(
    [
        "acme",
        "x",
        "bad name",
        "-x",
        ".hidden",
        "_build",
        "Api",
        "api",
        "container",
        "search.html",
        "README.md",
        "manifests",
        "tags",
        "latest",
        "1.0",
        "Singularity",
        "a" * 130,
        "caf\u00e9",
    ]
)
contents = st.one_of(
    st.sampled_from(
        [
            manifest(sha256("t")),
            "---\nlayout: collection\ndescription: d\n---\n",
            "",
            "---\n",
            "---\na: &x 1\nb: *x\n---\n",
            "no front matter\n",
            "---\nlayout: tags\n---\n",
        ]
    ),
    st.binary(max_size=60),
)
entries = st.tuples(
    st.lists(names, min_size=1, max_size=5),
    st.one_of(contents, st.sampled_from(["<link:/etc>", "<link:..>", "<link:README.md>", "<dir>"])),
)


def _add(root: Path, parts: list[str], content: str | bytes) -> None:
    path = root.joinpath(*parts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "<dir>":
            path.mkdir(exist_ok=True)
        elif isinstance(content, str) and content.startswith("<link:"):
            path.symlink_to(content[6:-1])
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
    except OSError:
        pass  # a name already used for a file or a folder: skip that entry


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entries, max_size=25))
def test_random_trees_never_raise_and_keep_good_namespaces(tree: list) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "tree"
        write_tree(root, good_tree())
        reference = endpoints.endpoint_files(load_registry(root), catalog=False)
        for parts, content in tree:
            if (
                parts[0] in ("acme", "lab")
                and len(parts) > 1
                and parts[1] in ("busybox", "centos", "pancakes")
            ):
                continue  # the good namespaces are not touched
            _add(root, parts, content)
        registry = load_registry(root)
        real = root.resolve()
        for problem in registry.problems:
            assert problem.message
            assert os.path.abspath(problem.path).startswith(str(root))
        for ns in registry.namespaces:
            assert ns.path.resolve().is_relative_to(real)
            for tag in ns.tags:
                assert TAG_RE.match(tag.name)
                assert tag.path.resolve().is_relative_to(real)
        files = endpoints.endpoint_files(registry, catalog=False)
        for rel, body in reference.items():
            assert files[rel] == body


# ------------------------------------------------------------------ Markdown

SAFE_TAGS = {
    "p",
    "h3",
    "h4",
    "h5",
    "h6",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "hr",
    "br",
}
SAFE_ATTRS = {"href", "src", "alt", "title", "loading", "referrerpolicy", "rel", "class", "start"}
markdown_bits = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[a](javascript:alert(1))",
        "[a](JAVASCRIPT:alert(1))",
        "[a](java&#09;script:x)",
        "<javascript:alert(1)>",
        "![i](javascript:x)",
        "![i](http://x.org/a.png)",
        "![i](https://x.org/a.png)",
        "[r][1]",
        "[1]: javascript:alert(1)",
        "[1]: https://ok.example.org",
        "[a](//evil.org)",
        "[a](/\\evil.org)",
        "[a](data:text/html,x)",
        "[a](#top)",
        "[a](mailto:x@y.org)",
        "<https://x.org>",
        "<x@y.org>",
        "```{eval-rst}\n.. include:: /etc/passwd\n```",
        "{include}`/etc/passwd`",
        "|sub|",
        "# h1",
        "###### h6",
        "> q",
        "- l",
        "1. n",
        "`c`",
        "*e*",
        "**s**",
        "&lt;",
        "&#x3C;script&#x3E;",
        '"',
        "'",
        "\n",
        "\n\n",
        "    code",
        '[a](https://x.org/"onmouseover=alert(1))',
        '![a" onerror="alert(1)](https://x.org/a)',
    ]
)


@SETTINGS
@given(st.lists(st.one_of(markdown_bits, st.text(max_size=20)), max_size=25))
def test_rendered_markdown_is_harmless(bits: list[str]) -> None:
    html = markdown.render("".join(bits))
    page = BeautifulSoup(html, "html.parser")
    for element in page.find_all(True):
        assert element.name in SAFE_TAGS, element
        assert set(element.attrs) <= SAFE_ATTRS, element
        if element.name == "a":
            href = element["href"]
            assert href.startswith("#") or urlsplit(href).scheme in ("http", "https", "mailto")
            assert urlsplit(href).scheme != "" or href.startswith("#")
        if element.name == "img":
            assert urlsplit(element["src"]).scheme == "https"
