"""The endpoints real clients read (Singularity Hub API, OCI-style v2/ layout)
and the pull commands shown on namespace pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from conftest import (
    collection,
    good_tree,
    manifest,
    read_json,
    sha256,
    soup,
    warnings_of,
    write_tree,
)

from orgreg_sphinx.core import clients, endpoints
from orgreg_sphinx.core.model import Registry, load_registry

BUSYBOX_LATEST = sha256("busybox-latest")


def registry_of(tmp_path: Path, files: dict[str, str]) -> Registry:
    write_tree(tmp_path, files)
    return load_registry(tmp_path)


def test_shub_body_and_commit(tmp_path: Path) -> None:
    files = endpoints.shub_files(registry_of(tmp_path, good_tree()))
    body = json.loads(files["api/container/acme/busybox:latest"])
    assert body == {
        "image": f"https://storage.example.org/{BUSYBOX_LATEST[-12:]}.sif",
        "name": "busybox",
        "collection": "acme",
        "tag": "latest",
        "version": BUSYBOX_LATEST,
        "commit": BUSYBOX_LATEST.removeprefix("sha256:"),
    }
    # an old md5:<base64> digest gives the md5 in hex: stable and safe as a file name
    centos = json.loads(files["api/container/acme/centos:7"])
    assert centos["version"] == "md5:WGQgL3Ok6o6uD2ZRdClzDQ=="
    assert centos["commit"] == "5864202f73a4ea8eae0f66517429730d"
    assert set(files) == {
        "api/container/acme/busybox:latest",
        "api/container/acme/busybox:1.36",
        "api/container/acme/centos:7",
        "api/container/lab/pancakes:pancakes",
    }


def test_shub_commit_is_never_empty() -> None:
    assert endpoints.shub_commit("sha256:ABCDEF01") == "abcdef01"
    md5 = endpoints.shub_commit("md5:WGQgL3Ok6o6uD2ZRdClzDQ==")
    assert md5 == "5864202f73a4ea8eae0f66517429730d"
    odd = endpoints.shub_commit("md5:not/base64!")
    assert len(odd) == 64 and "/" not in odd
    assert endpoints.shub_commit("md5:not/base64!") == odd


def test_lower_cased_paths_for_names_with_capitals(tmp_path: Path) -> None:
    tree = {
        "Acme/BusyBox/README.md": collection("capitals"),
        "Acme/BusyBox/manifests/Latest/README.md": manifest(sha256("A")),
        # an exact path always wins over a lower-cased alias
        "Acme/BusyBox/manifests/v1/README.md": manifest(sha256("v1")),
        "Acme/BusyBox/manifests/V1/README.md": manifest(sha256("V1")),
        "lab/plain/manifests/latest/README.md": manifest(sha256("plain")),
    }
    files = endpoints.shub_files(registry_of(tmp_path, tree))
    assert set(files) == {
        "api/container/Acme/BusyBox:Latest",
        "api/container/acme/busybox:latest",
        "api/container/Acme/BusyBox:v1",
        "api/container/Acme/BusyBox:V1",
        "api/container/acme/busybox:v1",
        "api/container/lab/plain:latest",
    }
    alias = json.loads(files["api/container/acme/busybox:latest"])
    assert alias == json.loads(files["api/container/Acme/BusyBox:Latest"])
    assert alias["collection"] == "Acme" and alias["name"] == "BusyBox" and alias["tag"] == "Latest"
    assert json.loads(files["api/container/acme/busybox:v1"])["version"] == sha256("V1")


def test_oci_layout_files(tmp_path: Path) -> None:
    tree = good_tree()
    tree["Lab/Caps/manifests/Latest/README.md"] = manifest(sha256("caps"))
    registry = registry_of(tmp_path, tree)
    files = endpoints.oci_files(registry)
    assert json.loads(files["v2/index.html"]) == {} == json.loads(files["v2/index.json"])
    assert json.loads(files["v2/acme/busybox/tags/list"]) == {
        "name": "acme/busybox",
        "tags": ["1.36", "latest"],
    }
    ns = registry.namespace("acme/busybox")
    assert json.loads(files["v2/acme/busybox/manifests/latest"]) == endpoints.manifest_body(
        ns.tag("latest")
    )
    manifest_json = json.loads(files["v2/acme/busybox/manifests/latest"])
    assert manifest_json["layers"][0]["urls"] == [
        f"https://storage.example.org/{BUSYBOX_LATEST[-12:]}.sif"
    ]
    # Docker references are lower case: the repository path is; tags keep their case
    assert json.loads(files["v2/lab/caps/tags/list"]) == {"name": "lab/caps", "tags": ["Latest"]}
    assert "v2/lab/caps/manifests/Latest" in files


def test_endpoint_files_flags(tmp_path: Path) -> None:
    registry = registry_of(tmp_path, good_tree())
    default = endpoints.endpoint_files(registry)
    assert "api/container/acme/busybox:latest" in default
    assert not any(path.startswith("v2/") for path in default)
    no_shub = endpoints.endpoint_files(registry, shub=False, oci=True)
    assert not any(path.startswith("api/container/") for path in no_shub)
    assert "v2/acme/busybox/tags/list" in no_shub
    only_clients = endpoints.endpoint_files(registry, original=False, catalog=False, oci=True)
    assert all(p.startswith(("api/container/", "v2/")) for p in only_clients)


def test_shub_reference_rules(tmp_path: Path) -> None:
    tree = good_tree()
    tree["my_org/tool/manifests/latest/README.md"] = manifest(sha256("tool"))
    tree["my.org/tool/manifests/latest/README.md"] = manifest(sha256("dotted"))
    tree["acme/Tool.sif2/manifests/latest/README.md"] = manifest(sha256("sif"))
    registry = registry_of(tmp_path, tree)
    busybox = registry.namespace("acme/busybox")
    dotted = registry.namespace("my.org/tool")
    sif = registry.namespace("acme/Tool.sif2")
    latest = busybox.tag("latest")
    ref = clients.shub_reference
    assert ref("https://reg.example.org/", busybox, latest).value == (
        "shub://reg.example.org/acme/busybox:latest"
    )
    assert ref("https://acme.github.io/registry/", busybox, latest).value == (
        "shub://acme.github.io/registry/acme/busybox:latest"
    )
    assert ref("", busybox, latest).value == "shub://<your-registry-site>/acme/busybox:latest"
    assert "https" in ref("http://reg.example.org/", busybox, latest).problem
    assert "port" in ref("https://reg.example.org:8443/", busybox, latest).problem
    underscore = registry.namespace("my_org/tool")
    assert "my_org" in ref("https://reg.example.org/", underscore, underscore.tags[0]).problem
    assert clients.sregistry_reference(busybox, latest).value == "acme/busybox:latest"
    assert "registry host" in clients.sregistry_reference(dotted, dotted.tags[0]).problem
    assert "'.sif'" in clients.sregistry_reference(sif, sif.tags[0]).problem
    assert clients.sregistry_base("https://acme.github.io/registry/") == (
        "https://acme.github.io/registry"
    )
    assert clients.oci_reference("https://reg.example.org/", busybox).value == (
        "reg.example.org/acme/busybox"
    )
    assert "root" in clients.oci_reference("https://acme.github.io/registry/", busybox).problem


def tabs_of(page) -> dict[str, str]:
    return {
        next(
            c for c in tab["class"] if c.startswith("orgreg-usage-") and c != "orgreg-usage-tab"
        ).removeprefix("orgreg-usage-"): tab.select_one("pre").get_text()
        for tab in page.select(".orgreg-usage-tab")
    }


def test_built_site_has_shub_endpoints_and_pull_commands(registry_project, build) -> None:
    app = build(registry_project(conf='html_baseurl = "https://reg.example.org/sub/"\n'))
    out = Path(app.outdir)
    body = read_json(out / "api" / "container" / "acme" / "busybox:latest")
    assert body["image"] == f"https://storage.example.org/{BUSYBOX_LATEST[-12:]}.sif"
    assert body["commit"] == BUSYBOX_LATEST.removeprefix("sha256:")
    assert not (out / "v2").exists()
    tabs = tabs_of(soup(out / "acme" / "busybox" / "index.html"))
    assert list(tabs) == ["download", "singularity", "apptainer", "sregistry", "curl"]
    assert tabs["singularity"].strip() == (
        "singularity pull shub://reg.example.org/sub/acme/busybox:latest"
    )
    assert tabs["apptainer"].strip() == (
        "apptainer pull shub://reg.example.org/sub/acme/busybox:latest"
    )
    assert tabs["sregistry"].splitlines() == [
        "export SREGISTRY_CLIENT=registry",
        "export SREGISTRY_REGISTRY_BASE=https://reg.example.org/sub",
        "sregistry pull --name busybox_latest.sif acme/busybox:latest",
        # the file it saved is the one SHA256SUMS names (issue 25)
        "curl -sSL https://reg.example.org/sub/acme/busybox/SHA256SUMS"
        " | sha256sum -c --ignore-missing",
    ]
    assert "storage.example.org" in tabs["download"]


def test_shub_api_can_be_turned_off(registry_project, build) -> None:
    srcdir = registry_project()
    app = build(srcdir)
    out = Path(app.outdir)
    assert (out / "api" / "container" / "acme" / "busybox:latest").is_file()
    conf = srcdir / "conf.py"
    conf.write_text(conf.read_text() + "orgreg_shub_api = False\n")
    app = build(srcdir)
    assert not (out / "api" / "container").exists()  # stale files removed
    assert (out / "acme" / "busybox" / "tags" / "index.json").is_file()
    tabs = tabs_of(soup(out / "acme" / "busybox" / "index.html"))
    assert list(tabs) == ["download", "curl"]


def test_oci_layout_in_build(registry_project, build) -> None:
    app = build(
        registry_project(
            conf='html_baseurl = "https://reg.example.org/"\norgreg_oci_layout = True\n'
        )
    )
    out = Path(app.outdir)
    assert read_json(out / "v2" / "index.json") == {}
    assert read_json(out / "v2" / "acme" / "busybox" / "tags" / "list")["tags"] == [
        "1.36",
        "latest",
    ]
    assert read_json(out / "v2" / "acme" / "busybox" / "manifests" / "latest") == read_json(
        out / "acme" / "busybox" / "manifests" / "latest" / "index.json"
    )
    tabs = tabs_of(soup(out / "acme" / "busybox" / "index.html"))
    assert tabs["skopeo"].splitlines() == [
        "skopeo list-tags docker://reg.example.org/acme/busybox",
        "skopeo inspect --raw docker://reg.example.org/acme/busybox:latest",
    ]
    assert "orgreg_oci_layout" not in warnings_of(app)


def test_oci_layout_below_the_host_root_is_reported(registry_project, build) -> None:
    app = build(
        registry_project(
            conf='html_baseurl = "https://acme.github.io/registry/"\norgreg_oci_layout = True\n'
        )
    )
    warnings = warnings_of(app)
    assert "orgreg_oci_layout" in warnings
    assert "https://acme.github.io/v2/" in warnings
    assert (Path(app.outdir) / "v2" / "acme" / "busybox" / "tags" / "list").is_file()
    tabs = tabs_of(soup(Path(app.outdir) / "acme" / "busybox" / "index.html"))
    assert "skopeo" not in tabs


def test_sites_shub_cannot_name_get_the_url_pull(registry_project, build) -> None:
    tree = good_tree()
    tree["my_org/tool/manifests/latest/README.md"] = manifest(
        sha256("tool"), url="https://storage.example.org/tool.sif"
    )
    tree["my.org/tool/manifests/latest/README.md"] = manifest(sha256("dotted"))
    app = build(registry_project(tree, conf='html_baseurl = "http://reg.example.org:8080/"\n'))
    out = Path(app.outdir)
    page = soup(out / "acme" / "busybox" / "index.html")
    tabs = tabs_of(page)
    url = f"https://storage.example.org/{BUSYBOX_LATEST[-12:]}.sif"
    assert tabs["singularity"].strip() == f"singularity pull busybox_latest.sif {url}"
    assert tabs["apptainer"].strip() == f"apptainer pull busybox_latest.sif {url}"
    intro = page.select_one(".orgreg-usage-singularity p:not(.rubric)").get_text()
    assert "https only" in intro
    assert "SREGISTRY_REGISTRY_BASE=http://reg.example.org:8080\n" in tabs["sregistry"]
    # an organization name Singularity refuses, on an https site
    app = build(
        registry_project(tree, conf='html_baseurl = "https://reg.example.org/"\n', name="https")
    )
    page = soup(Path(app.outdir) / "my_org" / "tool" / "index.html")
    tabs = tabs_of(page)
    assert tabs["singularity"].strip() == (
        "singularity pull tool_latest.sif https://storage.example.org/tool.sif"
    )
    assert "'my_org'" in page.select_one(".orgreg-usage-singularity p:not(.rubric)").get_text()
    assert "sregistry pull --name tool_latest.sif my_org/tool:latest" in tabs["sregistry"]
    dotted = tabs_of(soup(Path(app.outdir) / "my.org" / "tool" / "index.html"))
    assert "sregistry" not in dotted  # sregistry would read my.org as a host
    assert "singularity" in dotted and "download" in dotted


def test_endpoint_files_are_made_and_written_one_at_a_time(tmp_path: Path) -> None:
    """A large registry's published files are never all in memory at once: they
    are made as they are asked for, each path once, and ``sync`` writes each one
    before it asks for the next."""
    from orgreg_sphinx.core.files import sync

    tree = good_tree()
    tree["Lab/Caps/manifests/Latest/README.md"] = manifest(sha256("caps"))
    tree["lab/caps/manifests/latest/README.md"] = manifest(sha256("lower"))
    registry = registry_of(tmp_path / "tree", tree)
    stream = endpoints.iter_endpoint_files(registry, oci=True)
    assert not isinstance(stream, dict)
    pairs = list(stream)
    paths = [path for path, _ in pairs]
    assert len(paths) == len(set(paths))  # each path once
    assert dict(pairs) == endpoints.endpoint_files(registry, oci=True)
    # the exact name wins over one that only lower-cases to it
    assert json.loads(dict(pairs)["api/container/lab/caps:latest"])["version"] == sha256("lower")

    out = tmp_path / "html"
    seen: list[str] = []

    def made_one_by_one() -> Iterator[tuple[str, bytes]]:
        for path, data in pairs:
            if seen:  # the file before this one is on disk already
                assert (out / seen[-1]).read_bytes() == dict(pairs)[seen[-1]]
            seen.append(path)
            yield path, data

    written, removed = sync(out, made_one_by_one(), tmp_path / "state.json")
    assert (written, removed) == (len(pairs), 0)
    # a file left out of the next stream is removed: the stream's paths are kept
    assert sync(out, iter(pairs[1:]), tmp_path / "state.json") == (0, 1)
    assert not (out / pairs[0][0]).exists()
