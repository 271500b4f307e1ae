"""``orgreg manifest`` records what is inside a SIF image as ``sif:`` (issue 13)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from clitools import orgreg
from conftest import read_json, require_system_tool, warnings_of

# ORGREG_SIF_SRC: another copy of the package's source tree (as in test_sif.py)
IMAGES = Path(
    os.environ.get("ORGREG_SIF_SRC", "/usr/share/gocode/src/github.com/sylabs/sif"), "test/images"
)
HOSTILE = Path(__file__).resolve().parent / "hostile" / "sif"
URL = "https://storage.example.org/acme/thing/thing.sif"
KEY = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"
DEFINITION = "Bootstrap: docker\nFrom: alpine:3.20\n\n%labels\n    Maintainer <x@y.org>\n"


def signed(group: str) -> str:
    """The OpenPGP-signed image: ``*-signed.sif`` (sif < 2.10) or ``*-signed-pgp.sif``."""
    for name in (f"{group}-signed.sif", f"{group}-signed-pgp.sif"):
        if (IMAGES / name).is_file():
            return name
    raise AssertionError(f"no {group}-signed(-pgp).sif in {IMAGES}")


def make_cases() -> ModuleType:
    """tests/hostile/sif/make_cases.py, which builds SIF images field by field."""
    spec = importlib.util.spec_from_file_location("make_cases", HOSTILE / "make_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---\n")[1])


def manifest_of(work: Path, image: Path) -> tuple[dict, str]:
    """The ``sif:`` block written (the images here hold made-up partitions: what
    they hold is not read, tests/test_contents.py reads real ones)."""
    result = orgreg(
        "manifest",
        "--no-contents",
        image,
        "--namespace",
        "acme/thing",
        "--url",
        URL,
        "--tag",
        "1.0",
        "--created",
        "none",
        "--root",
        work,
        cwd=work,
    )
    assert result.code == 0, result.err
    return front_matter(work / "acme/thing/manifests/1.0/README.md"), result.err


@pytest.fixture
def reference() -> Path:
    require_system_tool(str(IMAGES), "apt-get install golang-github-sylabs-sif-dev")
    return IMAGES


def test_signed_image_gets_a_sif_block(reference: Path, tmp_path: Path) -> None:
    data, err = manifest_of(tmp_path, reference / signed("two-groups"))
    assert signed("two-groups") not in err  # no warning about its contents
    assert data["sif"] == {
        "arch": "386",
        "partitions": [
            {"fstype": "raw", "role": "system", "primary": False, "arch": "386", "size": 4},
            {"fstype": "squashfs", "role": "system", "primary": True, "arch": "386", "size": 4096},
            {"fstype": "ext3", "role": "system", "primary": False, "arch": "amd64", "size": 262144},
        ],
        "signatures": [{"fingerprint": KEY, "hash": "sha256", "format": "current"}] * 2,
        # each object group has a current signature: what `apptainer verify` checks
        "coverage": "current",
    }


def test_legacy_signature_and_sbom(reference: Path, tmp_path: Path) -> None:
    data, _ = manifest_of(tmp_path, reference / "one-group-signed-legacy.sif")
    assert data["sif"]["id"] == "6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1"
    assert data["sif"]["created"] == "2020-05-22T19:30:59Z"
    assert data["sif"]["signatures"] == [{"fingerprint": KEY, "hash": "sha384", "format": "legacy"}]
    # one of the group's two objects is signed (object 2, linked to it alone)
    assert data["sif"]["coverage"] == "partial"
    for name, coverage in [
        ("one-group-signed-legacy-group.sif", "legacy"),
        ("one-group-signed-legacy-all.sif", "legacy-all"),
        ("two-groups-signed-legacy-group.sif", "partial"),
    ]:
        assert manifest_of(tmp_path, reference / name)[0]["sif"]["coverage"] == coverage, name
    data, _ = manifest_of(tmp_path, reference / "one-object-sbom.sif")
    assert data["sif"] == {"sbom": [{"format": "cyclonedx-json", "size": 454}]}


def test_definition_and_labels(tmp_path: Path) -> None:
    cases = make_cases()
    labels = {"org.label-schema.version": "1.2", "count": 3}
    image = tmp_path / "built.sif"
    image.write_bytes(
        cases.image(
            [
                (0x4001, b"", DEFINITION.encode()),
                (0x4003, b"", json.dumps(labels).encode()),
                (0x4004, struct.pack("<ii3s", 1, 2, b"04\x00"), b"hsqs" + bytes(60)),
            ]
        )
    )
    data, err = manifest_of(tmp_path, image)
    assert str(image) not in err  # no warning about its contents
    assert data["sif"]["definition"] == DEFINITION
    assert data["sif"]["labels"] == {"org.label-schema.version": "1.2", "count": "3"}
    assert data["sif"]["partitions"] == [
        {"fstype": "squashfs", "role": "system", "primary": True, "arch": "arm64", "size": 64}
    ]


def test_not_a_sif_warns_and_still_writes(tmp_path: Path) -> None:
    image = tmp_path / "image.sif"
    image.write_bytes(b"docker image, not SIF " * 30_000)
    data, err = manifest_of(tmp_path, image)
    assert f"warning: {image}: not a SIF image" in err
    assert "no 'sif:' block recorded" in err
    assert "sif" not in data
    assert data["size"] == 660_000


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("billion-descriptors.sif", "claims 1000000000 descriptors"),
        ("huge-object-size.sif", "lies outside the file"),
        ("signature-not-openpgp.sif", "signature object 2 is not an OpenPGP clear-signed message"),
    ],
)
def test_hostile_sif_warns_once(tmp_path: Path, name: str, message: str) -> None:
    image = tmp_path / name
    shutil.copy(HOSTILE / name, image)
    data, err = manifest_of(tmp_path, image)
    lines = [line for line in err.splitlines() if "warning" in line and str(image) in line]
    assert len(lines) == 1 and message in lines[0], err
    if name == "signature-not-openpgp.sif":
        assert "signatures" not in data["sif"] and data["sif"]["arch"] == "amd64"
    else:
        assert "sif" not in data


def test_sif_block_reaches_the_catalog(reference: Path, registry_project, build) -> None:
    srcdir = registry_project()
    result = orgreg(
        "manifest",
        reference / signed("one-group"),
        "--namespace",
        "acme/thing",
        "--url",
        URL,
        "--tag",
        "1.0",
        "--created",
        "none",
        "--root",
        srcdir,
    )
    assert result.code == 0, result.err
    app = build(srcdir)
    assert "acme/thing" not in warnings_of(app)
    catalog = read_json(Path(app.outdir) / "api/catalog.json")
    [entry] = [ns for ns in catalog["namespaces"] if ns["name"] == "acme/thing"]
    sif = entry["tags"][0]["extra"]["sif"]
    assert sif["arch"] == "386"
    assert sif["signatures"] == [{"fingerprint": KEY, "format": "current", "hash": "sha256"}]
