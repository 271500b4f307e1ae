"""From registry to cluster (issue 27): what shpc reads, read by the real shpc.

The site publishes ``library.json`` (what shpc's remote registry reads),
``<org>/<repo>/container.yaml`` (checked here with shpc's own ``containerConfig``
schema, read by shpc's own YAML reader) and the filesystem registry as a tar.gz.
End to end: an image pushed to Debian's ``docker-registry`` with ``oras://``,
its manifest written by ``orgreg manifest`` (which records the OCI manifest
digest shpc pulls by), the site built and served over https as
``https://acme.github.io/registry/`` (a CONNECT proxy on 127.0.0.1 and a test CA,
given to shpc by ``HTTPS_PROXY`` and ``REQUESTS_CA_BUNDLE``, which requests
honours: shpc itself is not patched), then the namespace page's own "Cluster
module" lines run in bash: the real ``shpc`` installs the module and Debian's
Lmod loads it. The one stand-in is ``singularity pull`` (Apptainer is not in
Debian): a script that fetches the image over the OCI distribution API by the
digest shpc asks for and checks both digests.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import select
import shlex
import socket
import ssl
import subprocess
import sys
import tarfile
import textwrap
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import jsonschema
import pytest
import requests
import yaml
from conftest import collection, manifest, require_system_tool, sha256, soup, write_tree

from orgreg_sphinx.core import shpc
from orgreg_sphinx.core.model import load_registry

shpc_schemas = pytest.importorskip("shpc.main.schemas")
shpc_utils = pytest.importorskip("shpc.utils")

LMOD_INIT = Path("/usr/share/lmod/lmod/init/bash")
SHPC = Path(sys.executable).with_name("shpc")


def oras_manifest(
    host: str, name: str, tag: str, seed: str, *, pinned: bool = False, extra: str = ""
) -> str:
    """A manifest of an image kept at ``oras://<host>/<name>:<tag>`` with a
    recorded OCI manifest digest (or one pinned in the URL); *extra*: more
    front matter lines."""
    sif = sha256(f"sif {seed}")
    oci = sha256(f"oci {seed}")
    url = f"oras://{host}/{name}:{tag}" + (f"@{oci}" if pinned else "")
    recorded = "" if pinned else f'  oci_manifest_digest: "{oci}"\n'
    return (
        "---\nlayout: manifests/singularity\n"
        f"size: 600000\ndigest: {sif}\nlayers:\n"
        f'- size: 600000\n  digest: "{sif}"\n  url: "{url}"\n{recorded}'
        f'created: "2024-05-0{len(seed) % 9 + 1}T10:00:00Z"\n{extra}---\n'
    )


#: tag names YAML would read as numbers or booleans if they were not quoted
AWKWARD_TAGS = ("1.21", "1e3", "0x1F", "on", "1_000", "007")


def mixed_tree() -> dict[str, str]:
    """acme/tools: oras:// tags (awkward names, a pinned one, one without the OCI
    digest, one in another repository, one plain URL); hpc/plain: plain URLs only."""
    files = {
        "acme/tools/README.md": (
            "---\nlayout: collection\ndescription: Tools for the lab\n"
            "shpc:\n  maintainer: '@lab-admins'\n  aliases:\n"
            "    samtools: /usr/local/bin/samtools\n    bcftools: /usr/local/bin/bcftools\n"
            "---\nThe lab's tools.\n"
        ),
        "acme/tools/manifests/pinned/README.md": oras_manifest(
            "ghcr.io", "acme/tools", "pinned", "pinned", pinned=True
        ),
        "acme/tools/manifests/nodigest/README.md": manifest(
            sha256("nodigest"), 600000, url="oras://ghcr.io/acme/tools:nodigest"
        ),
        "acme/tools/manifests/elsewhere/README.md": oras_manifest(
            "quay.io", "acme/tools", "elsewhere", "elsewhere"
        ),
        "acme/tools/manifests/download/README.md": manifest(sha256("download"), 600000),
        "hpc/plain/README.md": collection("Plain downloads"),
        "hpc/plain/manifests/1.0/README.md": manifest(sha256("plain"), 600000),
    }
    for name in AWKWARD_TAGS:
        files[f"acme/tools/manifests/{name}/README.md"] = oras_manifest(
            "ghcr.io", "acme/tools", name, name
        )
    return files


def test_container_yaml_is_valid_for_shpc_and_keeps_tag_names_strings(tmp_path: Path) -> None:
    write_tree(tmp_path, mixed_tree())
    registry = load_registry(tmp_path)
    assert registry.errors == []
    site = "https://acme.github.io/registry/"
    published = dict(shpc.files(registry, site))
    assert sorted(published) == [
        "acme/tools/container.yaml",
        "api/shpc-registry.tar.gz",
        "api/shpc-registry.tar.gz.sha256",
        "library.json",
    ]
    # shpc reads container.yaml with its own (YAML 1.2) reader: every tag name a string
    (tmp_path / "container.yaml").write_bytes(published["acme/tools/container.yaml"])
    config = shpc_utils.read_yaml(str(tmp_path / "container.yaml"))
    jsonschema.validate(config, shpc_schemas.containerConfig)
    config = json.loads(json.dumps(config))
    expected_tags = {name: sha256(f"oci {name}") for name in AWKWARD_TAGS}
    expected_tags["pinned"] = sha256("oci pinned")
    assert config == {
        "description": "Tools for the lab",
        "maintainer": "@lab-admins",
        "url": "https://acme.github.io/registry/acme/tools/",
        # the newest tag (by its created time)
        "latest": {"pinned": sha256("oci pinned")},
        "tags": expected_tags,
        "oras": "ghcr.io/acme/tools",
        "aliases": {"bcftools": "/usr/local/bin/bcftools", "samtools": "/usr/local/bin/samtools"},
    }
    # PyYAML (YAML 1.1) reads the same
    assert yaml.safe_load(published["acme/tools/container.yaml"]) == config

    library = json.loads(published["library.json"])
    assert list(library) == ["ghcr.io/acme/tools"]
    entry = library["ghcr.io/acme/tools"]
    assert entry["config"] == config
    assert entry["config_url"] == "https://acme.github.io/registry/acme/tools/container.yaml"
    assert (entry["name"], entry["tags"], entry["latest"], entry["aliases"]) == (
        "ghcr.io/acme/tools",
        config["tags"],
        config["latest"],
        config["aliases"],
    )
    jsonschema.validate(entry["config"], shpc_schemas.containerConfig)

    # every tag shpc cannot pull is named, with the reason
    modules = {m.namespace.name: m for m in shpc.modules(registry, site)}
    left = {item.tag: item.reason for item in modules["acme/tools"].left_out}
    assert left == {
        "download": shpc.NOT_ORAS,
        "nodigest": shpc.NO_OCI_DIGEST,
        "elsewhere": "is kept in quay.io/acme/tools, not in ghcr.io/acme/tools: shpc pulls "
        "every tag of a module from one repository",
    }
    plain = modules["hpc/plain"]
    assert (plain.name, plain.problem) == ("", "no tag shpc can pull")
    messages = shpc.build_messages(list(modules.values()))
    assert messages[0].startswith(
        "acme/tools: left out of module ghcr.io/acme/tools: download has a plain download URL"
    )
    assert messages[1] == (
        "1 namespace(s) have only plain download URLs, which shpc cannot pull, and no shpc "
        "module: hpc/plain"
    )

    # the archive: a filesystem registry of the same container.yaml, checked by its line
    packed = published["api/shpc-registry.tar.gz"]
    with tarfile.open(fileobj=io.BytesIO(packed)) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["shpc-registry/ghcr.io/acme/tools/container.yaml"].isfile()
        held = tar.extractfile("shpc-registry/ghcr.io/acme/tools/container.yaml")
        assert held is not None and held.read() == published["acme/tools/container.yaml"]
    assert published["api/shpc-registry.tar.gz.sha256"].decode() == (
        f"{hashlib.sha256(packed).hexdigest()}  shpc-registry.tar.gz\n"
    )
    # the same tree gives the same bytes
    assert dict(shpc.files(load_registry(tmp_path), site)) == published


def test_aliases_refuse_what_would_break_a_wrapper_script(tmp_path: Path) -> None:
    """Aliases become file names and shell lines on the cluster: only plain names
    and absolute paths of plain characters are kept; an image label gives them
    when the maintainers list none."""
    label = "'samtools=/usr/bin/samtools /opt/conda/bin/python3 evil=/bin/sh;rm'"
    files = {
        "acme/tools/manifests/1.0/README.md": oras_manifest(
            "ghcr.io",
            "acme/tools",
            "1.0",
            "a",
            extra=f"sif:\n  labels:\n    org.orgreg.shpc.aliases: {label}\n",
        )
    }
    write_tree(tmp_path, files)
    registry = load_registry(tmp_path)
    assert registry.errors == []
    [module] = shpc.modules(registry, "")
    assert module.config["aliases"] == {
        "python3": "/opt/conda/bin/python3",
        "samtools": "/usr/bin/samtools",
    }
    assert [item.reason for item in module.left_out] == [
        "alias 'evil': '/bin/sh;rm' is not an absolute path of plain characters"
    ]
    # no site address: config_url is the file's path in the site
    library = json.loads(dict(shpc.files(registry, ""))["library.json"])
    assert library["ghcr.io/acme/tools"]["config_url"] == "acme/tools/container.yaml"


def test_bad_shpc_front_matter_and_digest_are_errors_naming_the_file(tmp_path: Path) -> None:
    files = {
        "acme/tools/README.md": "---\nlayout: collection\nshpc:\n  aliases: [samtools]\n---\n",
        "acme/tools/manifests/1.0/README.md": manifest(
            sha256("x"), 600000, url="https://storage.example.org/x.sif"
        ).replace("  url:", f'  oci_manifest_digest: "{sha256("y")}"\n  url:'),
        "acme/tools/manifests/2.0/README.md": oras_manifest(
            "ghcr.io", "acme/tools", "2.0", "b", pinned=True
        ).replace("  url:", f'  oci_manifest_digest: "{sha256("other")}"\n  url:'),
    }
    write_tree(tmp_path, files)
    registry = load_registry(tmp_path)
    found = {(p.path.relative_to(tmp_path).as_posix(), p.line): p.message for p in registry.errors}
    assert found == {
        ("acme/tools/README.md", 4): "has shpc.aliases = list, which is not a mapping",
        ("acme/tools/manifests/1.0/README.md", 8): "has an invalid layers[0].oci_manifest_digest: "
        "it is the digest of an OCI manifest, which only an oras:// url has",
        ("acme/tools/manifests/2.0/README.md", 8): "has an invalid layers[0].oci_manifest_digest: "
        f"{sha256('other')} differs from the digest the url is pinned to ({sha256('oci b')})",
    }
