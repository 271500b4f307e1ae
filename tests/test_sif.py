"""The SIF reader against the reference implementation's test images (issue 13).

Ground truth is Debian's ``golang-github-sylabs-sif-dev``: the test images of
``github.com/sylabs/sif`` and ``siftool``'s expected ``header``, ``list`` and
``info`` outputs (goldie files). The listings are printed here from what
:mod:`orgreg_sphinx.core.sif` reads, in siftool's format, and compared byte for
byte; hostile files from ``tests/hostile/sif/`` give one clear error each.
"""

from __future__ import annotations

import math
import os
import re
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from conftest import require_system_tool

from orgreg_sphinx.core import sif

# ORGREG_SIF_SRC points the tests at another copy of the package's source tree
# (e.g. a newer Debian's, to check the reader against its images and goldens).
SIF_SRC = Path(os.environ.get("ORGREG_SIF_SRC", "/usr/share/gocode/src/github.com/sylabs/sif"))
IMAGES = SIF_SRC / "test/images"
GOLDEN = SIF_SRC / "internal/app/siftool/testdata"
HOSTILE = Path(__file__).resolve().parent / "hostile" / "sif"


@pytest.fixture
def reference() -> Path:
    """The reference test images (in CI a missing package fails, elsewhere skips)."""
    require_system_tool(str(IMAGES), "apt-get install golang-github-sylabs-sif-dev")
    return IMAGES


def goldens(kind: str) -> dict[str, str]:
    """siftool's golden names of one test (``TestApp_List``), keyed by their lower case.

    Acronym case differs between versions (``OneGroupSigned``, ``OneObjectOCIBlob``,
    ``EmptyID``), so images are matched to them case-insensitively.
    """
    folder = GOLDEN / kind
    return {p.stem.lower(): p.stem for p in folder.glob("*.golden")} if folder.is_dir() else {}


def golden_name(image: str) -> str | None:
    """``two-groups-signed.sif`` -> ``TwoGroupsSigned``; ``None`` when there is none."""
    return goldens("TestApp_List").get(Path(image).stem.replace("-", "").lower())


def image_names() -> list[str]:
    return sorted(p.name for p in IMAGES.glob("*.sif")) if IMAGES.is_dir() else []


def golden_images() -> list[str]:
    """The images siftool has header and list goldens for."""
    return [name for name in image_names() if golden_name(name) is not None]


def signed(group: str) -> str:
    """The OpenPGP-signed image: ``*-signed.sif`` (sif < 2.10) or ``*-signed-pgp.sif``."""
    for name in (f"{group}-signed.sif", f"{group}-signed-pgp.sif"):
        if (IMAGES / name).is_file():
            return name
    raise AssertionError(f"no {group}-signed(-pgp).sif in {IMAGES}")


def readable_size(size: int) -> str:
    """siftool's ``readableSize``."""
    if -1024 < size < 1024:
        return f"{size} B"
    div, exp, n = 1024, 0, size // 1024
    while n <= -1024 or n >= 1024:
        div *= 1024
        exp += 1
        n //= 1024
    value = size / div
    rounded = math.floor(value + 0.5)  # Go's math.Round: half away from zero
    return f"{rounded} {'KMGTPE'[exp]}iB"


def tabwrite(rows: list[list[str]], padding: int) -> str:
    """Go's text/tabwriter for rows whose last cell is not tab-terminated."""
    widths = [max(len(row[i]) for row in rows) + padding for i in range(len(rows[0]) - 1)]
    return "".join(
        "".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + row[-1] + "\n"
        for row in rows
    )


def go_time(moment: object) -> str:
    assert moment is not None
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")  # type: ignore[attr-defined]


def header_listing(image: sif.SifImage) -> str:
    rows = []
    if image.launch_script:
        rows.append(["Launch Script:", image.launch_script.removesuffix("\n")])
    rows.append(["Version:", image.version])
    if image.arch != "unknown":
        rows.append(["Primary Architecture:", image.arch])
    if image.id.int:
        rows.append(["ID:", str(image.id)])
    if image.created is not None:
        rows.append(["Created At:", go_time(image.created)])
    if image.modified is not None:
        rows.append(["Modified At:", go_time(image.modified)])
    rows += [
        ["Descriptors Free:", str(image.descriptors_free)],
        ["Descriptors Total:", str(image.descriptors_total)],
        ["Descriptors Offset:", str(image.descriptors_offset)],
        ["Descriptors Size:", readable_size(image.descriptors_size)],
        ["Data Offset:", str(image.data_offset)],
        ["Data Size:", readable_size(image.data_size)],
    ]
    return tabwrite(rows, 1)


def list_listing(image: sif.SifImage) -> str:
    rule = "-" * 78 + "\n"
    out = [
        rule,
        f"{'ID':<4} {'|GROUP':<8} {'|LINK':<8} {'|SIF POSITION (start-end)':<26} |TYPE\n",
        rule,
    ]
    for d in image.descriptors:
        link, is_group = d.link
        group = f"|{d.group or 'NONE':<7} "
        if link == 0:
            linked = f"|{'NONE':<7} "
        elif is_group:
            linked = f"|{link:<3} (G) "
        else:
            linked = f"|{link:<7} "
        position = f"{f'|{d.offset}-{d.offset + d.size} ':<26} "
        if (part := d.partition) is not None:
            kind = f"|FS ({part[0]}/{part[1]}/{part[2]})"
        elif (signature := d.signature) is not None:
            kind = f"|Signature ({signature[0]})"
        elif (message := d.message) is not None:
            kind = f"|{d.type_name} ({message[0]}/{message[1]})"
        elif (fmt := d.sbom_format) is not None:
            kind = f"|SBOM ({fmt})"
        else:
            kind = f"|{d.type_name}"  # OCI.RootIndex, OCI.Blob, ... print only their type
        out.append(f"{d.id:<4} {group}{linked}{position}{kind}\n")
    return "".join(out)


def info_listing(d: sif.Descriptor) -> str:
    link, is_group = d.link
    rows = [
        ["", "Data Type:", d.type_name],
        ["", "ID:", str(d.id)],
        ["", "Group ID:", str(d.group or "NONE")],
        ["", "Linked ID:", "NONE" if link == 0 else f"{link} (G)" if is_group else str(link)],
        ["", "Offset:", str(d.offset)],
        ["", "Size:", str(d.size)],
    ]
    if d.created is not None:
        rows.append(["", "Created At:", go_time(d.created)])
    if d.modified is not None:
        rows.append(["", "Modified At:", go_time(d.modified)])
    if d.name:
        rows.append(["", "Name:", d.name])
    if (part := d.partition) is not None:
        rows += [
            ["", "Filesystem Type:", part[0]],
            ["", "Partition Type:", part[1]],
            ["", "Architecture:", part[2]],
        ]
    elif (signature := d.signature) is not None:
        rows.append(["", "Hash Type:", signature[0]])
        if signature[1]:
            rows.append(["", "Entity:", signature[1]])
    elif (message := d.message) is not None:
        rows += [["", "Format Type:", message[0]], ["", "Message Type:", message[1]]]
    elif (fmt := d.sbom_format) is not None:
        rows.append(["", "Format:", fmt])
    elif d.data_type in (sif.OCI_ROOT_INDEX, sif.OCI_BLOB):
        assert d.oci_digest is not None
        rows.append(["", "Digest:", d.oci_digest])
    return tabwrite(rows, 2)


@pytest.mark.parametrize("name", golden_images())
def test_header_equals_siftool(reference: Path, name: str) -> None:
    image = sif.read_sif_file(IMAGES / name)
    golden = GOLDEN / "TestApp_Header" / f"{golden_name(name)}.golden"
    assert header_listing(image) == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", golden_images())
def test_list_equals_siftool(reference: Path, name: str) -> None:
    image = sif.read_sif_file(IMAGES / name)
    golden = GOLDEN / "TestApp_List" / f"{golden_name(name)}.golden"
    assert list_listing(image) == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(set(image_names()) - set(golden_images())))
def test_image_without_goldens_is_read_and_listed(reference: Path, name: str) -> None:
    """Images siftool has no goldens for (the DSSE-signed ones of sif 2.21): read
    without error, every object listed with a known type, summarised without warnings."""
    image = sif.read_sif_file(IMAGES / name)
    assert image.descriptors
    rows = list_listing(image).splitlines()[3:]
    assert len(rows) == len(image.descriptors)
    for row, d in zip(rows, image.descriptors, strict=True):
        assert row.startswith(f"{d.id:<4} ")
        assert d.type_name != "Unknown" and f"|{d.type_name}" in row
    block, warnings = sif.summary(IMAGES / name)
    assert warnings == []
    if "signed" in name:
        assert block["signatures"]


def info_cases() -> list[tuple[str, str, int]]:
    """(golden, image, object id) as in siftool's TestApp_Info."""
    source = (SIF_SRC / "internal/app/siftool/info_test.go").read_text(encoding="utf-8")
    body = source.split("func TestApp_Info", 1)[1].split("\nfunc ", 1)[0]
    cases = re.findall(
        r'name:\s+"(\w+)",\s+path:\s+filepath.Join\(corpus, "([\w.-]+)"\),'
        r"\s+id:\s+(\d+),",
        body,
    )
    # every TestApp_Info golden the package ships is one case (8 in sif 2.8, 10 in 2.21)
    assert sorted(c[0] for c in cases) == sorted(goldens("TestApp_Info").values()), cases
    return [(golden, image, int(ident)) for golden, image, ident in cases]


@pytest.mark.parametrize(("golden", "image", "ident"), info_cases() if IMAGES.is_dir() else [])
def test_info_equals_siftool(reference: Path, golden: str, image: str, ident: int) -> None:
    read = sif.read_sif_file(IMAGES / image)
    (descriptor,) = [d for d in read.descriptors if d.id == ident]
    expected = (GOLDEN / "TestApp_Info" / f"{golden}.golden").read_text(encoding="utf-8")
    assert info_listing(descriptor) == expected


def test_every_golden_has_its_image(reference: Path) -> None:
    """No golden is left untested; only DSSE-signed images may lack goldens."""
    tested = {golden_name(name) for name in golden_images()}
    assert tested == set(goldens("TestApp_List").values())
    assert tested == set(goldens("TestApp_Header").values())
    assert all("dsse" in name for name in set(image_names()) - set(golden_images()))
    assert len(tested) >= 17


def test_signatures_fingerprint_and_format(reference: Path) -> None:
    """The test key's fingerprint on every signature; legacy images say so."""
    key = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"
    for name in image_names():
        block, warnings = sif.summary(IMAGES / name)
        assert warnings == []
        signatures = block.get("signatures", [])
        assert bool(signatures) == ("signed" in name), name
        for signature in signatures:
            if "dsse" in name:  # ed25519 and RSA keys, no OpenPGP fingerprint
                assert signature["fingerprint"] is None and signature["hash"] == "sha256"
                assert signature["format"] == "dsse" and len(signature["keyids"]) == 2
                continue
            assert signature["fingerprint"] == key
            legacy = "legacy" in name
            assert signature == {
                "fingerprint": key,
                "hash": "sha384" if legacy else "sha256",
                "format": "legacy" if legacy else "current",
            }


def test_summary_of_two_groups_signed(reference: Path) -> None:
    block, warnings = sif.summary(IMAGES / signed("two-groups"))
    assert warnings == []
    assert block["arch"] == "386"
    assert block["partitions"] == [
        {"fstype": "raw", "role": "system", "primary": False, "arch": "386", "size": 4},
        {"fstype": "squashfs", "role": "system", "primary": True, "arch": "386", "size": 4096},
        {"fstype": "ext3", "role": "system", "primary": False, "arch": "amd64", "size": 262144},
    ]
    assert sif.summary(IMAGES / "one-object-sbom.sif")[0] == {
        "sbom": [{"format": "cyclonedx-json", "size": 454}]
    }
    assert sif.summary(IMAGES / "empty-id.sif")[0] == {"id": "3fa802cc-358b-45e3-bcc0-69dc7a45f9f8"}


def test_summary_of_oci_objects(reference: Path) -> None:
    """OCI root index and blob objects (sif >= 2.15): their digest, checked against
    siftool's info goldens, and size."""
    kinds = {
        "one-object-oci-root-index.sif": ("root-index", "OCIRootIndex"),
        "one-object-oci-blob.sif": ("blob", "OCIBlob"),
    }
    present = [name for name in kinds if (IMAGES / name).is_file()]
    if not present:
        pytest.skip(f"sif in {SIF_SRC} predates OCI objects")
    for name in present:
        kind, golden = kinds[name]
        block, warnings = sif.summary(IMAGES / name)
        assert warnings == []
        [entry] = block["oci"]
        info = (GOLDEN / "TestApp_Info" / f"{golden}.golden").read_text(encoding="utf-8")
        assert f"Digest:     {entry['digest']}\n" in info
        assert entry["type"] == kind and f"Size:       {entry['size']}\n" in info


HOSTILE_CASES: list[dict[str, str]] = yaml.safe_load(
    (HOSTILE / "cases.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", HOSTILE_CASES, ids=[c["file"] for c in HOSTILE_CASES])
def test_hostile_sif(case: dict[str, str]) -> None:
    """Each hostile file: one clear error or warning, in bounded time and memory."""
    path = HOSTILE / case["file"]
    tracemalloc.start()
    start = time.perf_counter()
    try:
        if "error" in case:
            with pytest.raises(sif.SifError) as caught:
                sif.summary(path)
            messages = [str(caught.value)]
        else:
            _block, messages = sif.summary(path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    expected = case.get("error") or case["warning"]
    assert len(messages) == 1, messages
    assert expected in messages[0]
    assert elapsed < 1.0
    assert peak < 4 * 1024 * 1024
