"""What is inside an image on the site (issue 13): each tag's details (signatures
with the signer's trust, partitions, SBOM, labels, definition file), the
organization's trusted keys (``orgreg_keys``, ``api/keys/``, the keys page), and
incremental builds when a key is added."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    collection,
    manifest,
    read_json,
    sha256,
    size_cell,
    soup,
    tag_row,
    tag_view,
    warnings_of,
)
from test_performance import rewritten, snapshot

from orgreg_sphinx.core import sifblock

SIF_SRC = Path(os.environ.get("ORGREG_SIF_SRC", "/usr/share/gocode/src/github.com/sylabs/sif"))
PRIVATE_KEY = SIF_SRC / "test/keys/private.asc"
TEST_FPR = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"
TEST_NAME = "Unit Test <unit@test.com>"
SITE = "https://reg.example.org/sub/"
TAGS = "---\nlayout: tags\n---\n"
HOSTILE_DEFINITION = (
    "Bootstrap: docker\nFrom: alpine\n\n%post\n    echo '</pre><script>alert(1)</script>'\n"
)

if shutil.which("gpg") is None:  # .ci/run installs gnupg
    if os.environ.get("CI"):
        raise RuntimeError("gpg is missing: .ci/run installs Debian's gnupg")
    pytest.skip("no gpg (apt-get install gnupg)", allow_module_level=True)


def gpg(home: Path, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--quiet", *args],
        input=data,
        capture_output=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, bytes | str]]:
    """The public half of Debian's SIF test key, and a second key made here."""
    if not PRIVATE_KEY.is_file():
        pytest.skip(f"{PRIVATE_KEY} is missing (apt-get install golang-github-sylabs-sif-dev)")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    gpg(home, "--import", str(PRIVATE_KEY))
    test_public = gpg(home, "--armor", "--export", TEST_FPR)
    gpg(
        home,
        "--passphrase",
        "",
        "--quick-gen-key",
        "Other Signer <other@example.org>",
        "ed25519",
        "sign",
        "never",
    )
    listed = gpg(home, "--with-colons", "--list-keys", "other@example.org").decode()
    other = next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))
    yield {
        "test": test_public,
        "other": gpg(home, "--armor", "--export", other),
        "other_fpr": other,
    }


def signed(
    fingerprint: str, extra: str = "", coverage: str | None = "current", fmt: str = "current"
) -> str:
    return (
        f"sif:\n  arch: amd64\n  signatures:\n  - {{fingerprint: {fingerprint}, "
        f"hash: sha256, format: {fmt}}}\n"
        "  partitions:\n  - {fstype: squashfs, role: system, primary: true, arch: amd64, "
        "size: 4096}\n" + (f"  coverage: {coverage}\n" if coverage else "") + extra
    )


def tree(other_fpr: str) -> dict[str, str | bytes]:
    definition = json.dumps(HOSTILE_DEFINITION)
    return {
        "lab/signed/README.md": collection("Signed by the test key"),
        "lab/signed/tags/README.md": TAGS,
        "lab/signed/manifests/latest/README.md": manifest(
            sha256("s"),
            900000,
            extra=signed(
                TEST_FPR,
                f"  definition: {definition}\n"
                "  labels:\n    '<img src=x onerror=alert(2)>': '<b>1.0</b>'\n"
                "    org.label-schema.version: '1.2'\n"
                "  sbom: [{format: cyclonedx-json, size: 454}]\n",
            ),
        ),
        "lab/signed/manifests/plain/README.md": manifest(sha256("p"), 900000),
        "lab/other/README.md": collection("Signed by another key"),
        "lab/other/tags/README.md": TAGS,
        "lab/other/manifests/latest/README.md": manifest(
            sha256("o"), 900000, extra=signed(other_fpr)
        ),
        "lab/states/manifests/legacy/README.md": manifest(
            sha256("l"), 900000, extra=signed(TEST_FPR, coverage="legacy", fmt="legacy")
        ),
        "lab/states/manifests/legacy-all/README.md": manifest(
            sha256("a"), 900000, extra=signed(TEST_FPR, coverage="legacy-all", fmt="legacy")
        ),
        "lab/states/manifests/partial/README.md": manifest(
            sha256("t"), 900000, extra=signed(TEST_FPR, coverage="partial")
        ),
        "lab/states/manifests/unrecorded/README.md": manifest(
            sha256("r"), 900000, extra=signed(TEST_FPR, coverage=None)
        ),
        "lab/unsigned/manifests/latest/README.md": manifest(
            sha256("u"), 900000, extra="sif:\n  arch: arm64\n"
        ),
    }


def details_of(page: Path, tag: str) -> Any:
    """The view of *tag* (issue 25: a section of its namespace page) when it says
    what is inside the image, else None."""
    view = tag_view(soup(page), tag)
    assert view is not None, tag
    return view if view.select_one("p.orgreg-inside") is not None else None


def inside(view: Any) -> str:
    """The view's one line on what is inside the image."""
    return str(view.select_one("p.orgreg-inside").get_text())


@pytest.fixture
def site(
    registry_project: Callable[..., Path],
    build: Callable[..., object],
    keys: dict[str, bytes | str],
) -> object:
    src = registry_project(tree(str(keys["other_fpr"])), conf=f"orgreg_site_url = {SITE!r}\n")
    (src / "_keys").mkdir()
    (src / "_keys" / "unit-test.asc").write_bytes(keys["test"])  # type: ignore[arg-type]
    return build(src)


def test_signed_tag_details(site: object) -> None:
    assert "WARNING" not in warnings_of(site)
    out = Path(site.outdir)  # type: ignore[attr-defined]
    details = details_of(out / "lab/signed/index.html", "latest")
    assert details is not None
    # the row says the state in one word; its name links to the view
    row = tag_row(soup(out / "lab/signed/index.html"), "latest")
    assert row.select_one(".orgreg-badge-state-trusted").get_text() == "trusted"
    assert row.find("details") is None
    assert inside(details) == ("Inside: signed (trusted key) · SBOM · definition · 2 labels")
    text = details.get_text(" ", strip=True)
    assert TEST_FPR in [c.get_text() for c in details.select("code.orgreg-fingerprint")]
    assert "A20C27EE7FF7BA84" in text and "7FF7BA84" in text
    assert details.select_one(".orgreg-badge-trusted").get_text() == "trusted key"
    assert details.select_one(".orgreg-signer strong").get_text() == TEST_NAME
    link = details.select_one(f'a[href="../../api/keys/index.html#key-{TEST_FPR}"]')
    assert link is not None
    commands = details.select_one("div.orgreg-command pre").get_text().splitlines()
    assert commands == [
        f"curl -fsSLO {SITE}api/keys/{TEST_FPR}.asc && apptainer key import {TEST_FPR}.asc "
        "&& apptainer verify signed_latest.sif",
        f"curl -fsSLO {SITE}api/keys/{TEST_FPR}.asc && singularity key import {TEST_FPR}.asc "
        "&& singularity verify signed_latest.sif",
    ]
    assert "squashfs · system · primary · amd64 · 4.0 KiB" in text
    assert "cyclonedx-json · 454 B" in text
    # the definition file: highlighted as Singularity, shown as text
    code = details.select_one("div.highlight-singularity pre")
    assert code is not None and code.get_text() == HOSTILE_DEFINITION
    assert code.select("span.k, span.gh, span.nt, span.gu")  # Pygments tokens
    # hostile labels and definition: text, never markup
    labels = {
        dt.get_text(strip=True).rstrip(":"): dt.find_next_sibling("dd").get_text(strip=True)
        for dt in details.select("dl.field-list dt")
    }
    assert labels["<img src=x onerror=alert(2)>"] == "<b>1.0</b>"
    assert labels["org.label-schema.version"] == "1.2"
    page = soup(out / "lab/signed/index.html")
    assert page.find("img", src="x") is None and page.find("b", string="1.0") is None
    assert not [s for s in page.find_all("script") if "alert" in s.get_text()]
    # a tag without a sif: block has an empty cell; it is still in the table
    assert details_of(out / "lab/signed/index.html", "plain") is None


def test_the_badge_says_what_the_signatures_prove(site: object) -> None:
    """Issue 23, 3: "trusted" only for current signatures by trusted keys covering
    the whole image; legacy ones say so and give the verify command that works
    (--legacy-insecure, with --all when each object is signed on its own); partly
    covered and unrecorded coverage are never called trusted."""
    out = Path(site.outdir)  # type: ignore[attr-defined]
    page = out / "lab/states/index.html"
    expected = {
        "legacy": ("Inside: signed (legacy signature)", "state-legacy", "--legacy-insecure"),
        "legacy-all": (
            "Inside: signed (legacy signature)",
            "state-legacy",
            "--legacy-insecure --all",
        ),
        "partial": ("Inside: signed in part", "state-partial", None),
        "unrecorded": ("Inside: signed (coverage not recorded)", "state-unrecorded", None),
    }
    for tag, (summary, kind, options) in expected.items():
        details = details_of(page, tag)
        assert inside(details) == summary, tag
        assert details.select_one(f".orgreg-badge-{kind}") is not None, tag
        assert details.select_one(".orgreg-badge-trusted") is None, tag
        assert "trusted" not in inside(details)
        commands = details.select_one("div.orgreg-command pre").get_text().splitlines()
        image = f"states_{tag}.sif"
        verify = f"apptainer verify {options} {image}" if options else f"apptainer verify {image}"
        assert commands[0].endswith(verify), (tag, commands)
    full = details_of(out / "lab/signed/index.html", "latest")
    assert full.select_one(".orgreg-badge-state-trusted") is not None
    # the keys page lists each signed tag with what its signatures prove
    keys_page = soup(out / "api/keys/index.html")
    listed = {
        li.code.get_text(): li.get_text(" ", strip=True)
        for li in keys_page.select(".orgreg-signed-tags li")
    }
    assert listed["lab/states:partial"].endswith("(signed in part)")
    assert listed["lab/states:legacy"].endswith("(signed (legacy signature))")
    assert listed["lab/signed:latest"].endswith("(signed (trusted key))")


def test_unknown_signer_and_unsigned(site: object, keys: dict[str, bytes | str]) -> None:
    out = Path(site.outdir)  # type: ignore[attr-defined]
    other = str(keys["other_fpr"])
    details = details_of(out / "lab/other/index.html", "latest")
    assert inside(details) == "Inside: signed (key not in this registry)"
    assert details.select_one(".orgreg-badge-untrusted").get_text() == "key not in this registry"
    assert other in details.get_text()
    assert details.select_one(".orgreg-badge-trusted") is None
    assert (
        f"apptainer key pull {other} && apptainer verify other_latest.sif"
        in details.select_one("div.orgreg-command pre").get_text()
    )
    unsigned = details_of(out / "lab/unsigned/index.html", "latest")
    assert inside(unsigned) == "Inside: not signed"
    assert "The image is not signed." in unsigned.get_text()


def test_keys_published_and_listed(
    site: object, tmp_path: Path, keys: dict[str, bytes | str]
) -> None:
    out = Path(site.outdir)  # type: ignore[attr-defined]
    assert read_json(out / "api/keys.json") == [
        {
            "fingerprint": TEST_FPR,
            "keyid": "A20C27EE7FF7BA84",
            "name": TEST_NAME,
            "url": f"{SITE}api/keys/{TEST_FPR}.asc",
        }
    ]
    # the published file is the public key: gpg imports it and finds the fingerprint
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg(home, "--import", str(out / f"api/keys/{TEST_FPR}.asc"))
    listed = gpg(home, "--with-colons", "--list-keys").decode()
    assert f"fpr:::::::::{TEST_FPR}:" in listed
    assert "sec:" not in gpg(home, "--with-colons", "--list-secret-keys").decode()
    # the keys page, linked from the home page
    home_page = soup(out / "index.html")
    link = home_page.select_one(".orgreg-keys-link a")
    assert link["href"] == "api/keys/index.html"
    assert link.get_text() == "1 trusted signing key"
    page = soup(out / "api/keys/index.html")
    key = page.select_one(f"section#key-{TEST_FPR}")
    assert key.find("h2").get_text().rstrip("¶") == TEST_NAME
    assert key.select_one("code.orgreg-fingerprint").get_text(
        " ", strip=True
    ) == sifblock.group_fingerprint(TEST_FPR).replace("  ", " ")
    assert "A20C27EE7FF7BA84" in key.get_text() and "2020-04-27" in key.get_text()
    download = key.find("a", string=f"{TEST_FPR}.asc")
    assert download["href"] == f"{TEST_FPR}.asc"
    assert (out / "api/keys" / download["href"]).is_file()
    assert f"apptainer key import {TEST_FPR}.asc" in key.select_one("pre").get_text()
    signed_tags = [a.get_text() for a in key.select(".orgreg-signed-tags a")]
    assert signed_tags == [
        "lab/signed:latest",
        "lab/states:legacy",
        "lab/states:legacy-all",
        "lab/states:partial",
        "lab/states:unrecorded",
    ]
    assert key.select_one(".orgreg-signed-tags a")["href"] == (
        "../../lab/signed/index.html#tag-latest"
    )
    # the other signer is listed as not in the registry
    others = page.select_one("section#other-signers")
    assert others is not None and "lab/other:latest" in others.get_text()
    assert str(keys["other_fpr"])[:4] in others.get_text()


def test_secret_key_is_refused_and_not_published(
    registry_project: Callable[..., Path], build: Callable[..., object]
) -> None:
    if not PRIVATE_KEY.is_file():
        pytest.skip(f"{PRIVATE_KEY} is missing")
    src = registry_project(tree("0" * 40))
    (src / "_keys").mkdir()
    shutil.copy(PRIVATE_KEY, src / "_keys" / "private.asc")
    (src / "_keys" / "notes.asc").write_text("not a key\n")
    app = build(src)
    warnings = warnings_of(app)
    assert "_keys/private.asc" in warnings and "SECRET key" in warnings
    assert "_keys/notes.asc" in warnings and "no OpenPGP public key" in warnings
    out = Path(app.outdir)  # type: ignore[attr-defined]
    assert not (out / "api/keys.json").exists()
    assert not list((out / "api").glob("keys/*.asc"))
    assert not [p for p in out.rglob("*") if p.is_file() and b"PRIVATE KEY" in p.read_bytes()]


def test_keys_folder_setting(
    registry_project: Callable[..., Path],
    build: Callable[..., object],
    keys: dict[str, bytes | str],
) -> None:
    src = registry_project(tree("0" * 40), conf="orgreg_keys = 'trusted'\n")
    (src / "trusted").mkdir()
    (src / "trusted" / "ci.asc").write_bytes(keys["test"])  # type: ignore[arg-type]
    (src / "_keys").mkdir()  # not read: the setting names another folder
    (src / "_keys" / "other.asc").write_bytes(keys["other"])  # type: ignore[arg-type]
    app = build(src)
    listed = read_json(Path(app.outdir) / "api/keys.json")  # type: ignore[attr-defined]
    assert [k["fingerprint"] for k in listed] == [TEST_FPR]
    assert listed[0]["url"] == f"api/keys/{TEST_FPR}.asc"  # no site address: relative


@pytest.fixture
def rebuild(make_app: Callable[..., object]) -> Callable[..., tuple[object, list[str]]]:
    def run(srcdir: Path) -> tuple[object, list[str]]:
        app = make_app("html", srcdir=srcdir)
        read: list[str] = []
        app.connect(
            "env-before-read-docs",  # type: ignore[attr-defined]
            lambda _app, _env, docnames: read.extend(docnames),
        )
        try:
            app.build()  # type: ignore[attr-defined]
        finally:
            app.cleanup()  # type: ignore[attr-defined]
        return app, sorted(read)

    return run


def test_adding_a_key_rereads_exactly_the_pages_showing_its_signatures(
    registry_project: Callable[..., Path], rebuild, keys: dict[str, bytes | str]
) -> None:
    src = registry_project(tree(str(keys["other_fpr"])))
    (src / "_keys").mkdir()
    (src / "_keys" / "unit-test.asc").write_bytes(keys["test"])  # type: ignore[arg-type]
    app, _ = rebuild(src)
    out = Path(app.outdir)  # type: ignore[attr-defined]
    before = snapshot(out)
    # a no-op rebuild reads nothing and rewrites nothing
    _, read = rebuild(src)
    assert read == []
    assert rewritten(before, snapshot(out)) == set()

    (src / "_keys" / "other.asc").write_bytes(keys["other"])  # type: ignore[arg-type]
    _, read = rebuild(src)
    # the page of the tag it signed, the keys page, the home page (its key count)
    assert read == ["api/keys/index", "index", "lab/other/index"]
    other = str(keys["other_fpr"])
    details = details_of(out / "lab/other/index.html", "latest")
    assert inside(details) == "Inside: signed (trusted key)"
    assert (out / f"api/keys/{other}.asc").is_file()
    assert (
        soup(out / "index.html").select_one(".orgreg-keys-link a").get_text()
        == "2 trusted signing keys"
    )

    # removing it: the same pages, and its file is gone
    (src / "_keys" / "other.asc").unlink()
    _, read = rebuild(src)
    assert read == ["api/keys/index", "index", "lab/other/index"]
    assert not (out / f"api/keys/{other}.asc").exists()
    assert (
        "key not in this registry" in details_of(out / "lab/other/index.html", "latest").get_text()
    )


def test_sif_block_is_read_defensively() -> None:
    block = sifblock.parse(
        {
            "arch": "<b>",
            "signatures": [
                {"fingerprint": "not hex"},
                "x",
                {"fingerprint": TEST_FPR.lower(), "hash": 5},
            ],
            "partitions": {"not": "a list"},
            "labels": {"a": ["list"], "b": "2"},
            "definition": 7,
            "sbom": [{"format": "spdx-json", "size": -1}],
        }
    )
    assert block is not None
    assert block.arch == "" and block.definition == "" and block.partitions == ()
    assert [s.fingerprint for s in block.signatures] == ["", TEST_FPR]
    assert block.signers == [TEST_FPR]
    assert block.signatures[1].hash == "" and block.signatures[1].keyid == "A20C27EE7FF7BA84"
    assert block.labels == (("a", ""), ("b", "2"))
    assert block.sbom[0].size is None
    assert sifblock.parse("text") is None


def test_small_sif_images_are_read_in_bytes(
    registry_project: Callable[..., Path], build: Callable[..., object]
) -> None:
    """A manifest with a sif: block is written by orgreg manifest, in bytes: a
    42,014-byte SIF is 41.0 KiB, not 41 MiB (the original CI's KiB rule)."""
    src = registry_project(
        {
            "lab/small/manifests/latest/README.md": manifest(
                sha256("x"), 42014, extra="sif:\n  arch: '386'\n"
            ),
            "lab/small/manifests/legacy/README.md": manifest(sha256("y"), 42014),
        }
    )
    out = Path(build(src).outdir)  # type: ignore[attr-defined]
    sizes = {
        tag: size_cell(soup(out / "lab/small/index.html"), tag) for tag in ("latest", "legacy")
    }
    assert sizes == {"latest": "41.0 KiB", "legacy": "41.0 MiB"}


def test_pem_keys_and_certificates_on_the_site(
    registry_project: Callable[..., Path], build: Callable[..., object]
) -> None:
    """Issue 29: the keys page shows each key's kind, its OpenSSH SHA256 fingerprint,
    a certificate's subject and issuer; a DSSE-signed tag gives the exact
    ``apptainer verify --key`` / ``--certificate … --certificate-roots`` commands."""
    from test_dsse import DATA, ED25519, Authority

    from orgreg_sphinx.core.keys import slug
    from orgreg_sphinx.core.x509keys import ssh_fingerprint

    root = Authority()
    leaf_key, leaf = root.leaf()
    leaf_id = ssh_fingerprint(leaf_key.public_key())

    def dsse(keyid: str) -> str:
        return (
            "sif:\n  arch: amd64\n  signatures:\n"
            f"  - {{hash: sha256, format: dsse, keyids: ['{keyid}']}}\n"
            "  coverage: current\n"
        )

    src = registry_project(
        {
            "lab/dsse/manifests/key/README.md": manifest(sha256("k"), 900000, extra=dsse(ED25519)),
            "lab/dsse/manifests/cert/README.md": manifest(sha256("c"), 900000, extra=dsse(leaf_id)),
        },
        conf=f"orgreg_site_url = {SITE!r}\n",
    )
    (src / "_keys").mkdir()
    shutil.copy(DATA / "ed25519-public.pem", src / "_keys" / "ci.pem")
    (src / "_keys" / "root.pem").write_bytes(root.pem())
    (src / "_keys" / "signer.pem").write_bytes(leaf)
    app = build(src)
    assert "WARNING" not in warnings_of(app)
    out = Path(app.outdir)  # type: ignore[attr-defined]
    key_file, leaf_file = f"{slug(ED25519)}.pem", f"{slug(leaf_id)}.pem"
    root_file = next(
        f"{k['url'].rsplit('/', 1)[1]}"
        for k in read_json(out / "api/keys.json")
        if k.get("kind") == "ca"
    )
    listed = {k["fingerprint"]: k for k in read_json(out / "api/keys.json")}
    assert listed[ED25519]["kind"] == "pem" and listed[ED25519]["name"] == "ci"
    assert listed[leaf_id]["subject"] == "CN=Acme CI signer"
    assert listed[leaf_id]["issuer"] == "CN=Acme Root CA"
    assert (out / "api/keys" / key_file).read_bytes() == (DATA / "ed25519-public.pem").read_bytes()
    page = soup(out / "api/keys/index.html")

    def facts(section: Any) -> dict[str, str]:
        return {
            dt.get_text(strip=True).rstrip(":"): dt.find_next_sibling("dd").get_text(
                " ", strip=True
            )
            for dt in section.select("dl.field-list dt")
        }

    pem = facts(page.select_one(f"section#key-{slug(ED25519)}"))
    assert pem["Kind"] == "PEM public key" and pem["Fingerprint"] == ED25519
    cert = facts(page.select_one(f"section#key-{slug(leaf_id)}"))
    assert cert["Kind"] == "X.509 signing certificate"
    assert cert["Subject"] == "CN=Acme CI signer" and cert["Issuer"] == "CN=Acme Root CA"
    assert cert["Fingerprint"] == leaf_id
    # each tag: who signed it and the exact verify commands
    key_tag = details_of(out / "lab/dsse/index.html", "key")
    assert inside(key_tag) == "Inside: signed (trusted key)"
    assert key_tag.select_one(".orgreg-signer strong").get_text() == "ci"
    commands = key_tag.select_one("div.orgreg-command pre").get_text().splitlines()
    assert commands[0] == (
        f"curl -fsSL -O {SITE}api/keys/{key_file} && apptainer verify --key {key_file} dsse_key.sif"
    )
    cert_tag = details_of(out / "lab/dsse/index.html", "cert")
    text = cert_tag.get_text(" ", strip=True)
    assert "CN=Acme CI signer" in text and "CN=Acme Root CA" in text
    commands = cert_tag.select_one("div.orgreg-command pre").get_text().splitlines()
    assert commands[0] == (
        f"curl -fsSL -O {SITE}api/keys/{leaf_file} -O {SITE}api/keys/{root_file} && "
        f"apptainer verify --certificate {leaf_file} --certificate-roots {root_file} "
        "dsse_cert.sif"
    )
