"""``orgreg check --verify-signatures``: the signatures of SIF images (issue 13).

The reference implementation's signed test images (Debian's
``golang-github-sylabs-sif-dev``), manifests for them written by ``orgreg
manifest``, served over HTTP on 127.0.0.1; the trusted key is the public half of
the package's test key, exported with GnuPG. ``core.integrity`` is also driven
directly on altered copies of the images.
"""

from __future__ import annotations

import base64
import os
import shutil
import struct
import subprocess
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from clitools import Result, clean_env, orgreg
from conftest import require_system_tool
from test_cli_manifest_sif import make_cases

from orgreg_sphinx.core.integrity import MAX_SIGNATURE, Verifier
from orgreg_sphinx.core.keys import TrustedKey, load_keys
from orgreg_sphinx.core.sif import read_sif_file

SIF_SRC = Path(os.environ.get("ORGREG_SIF_SRC", "/usr/share/gocode/src/github.com/sylabs/sif"))
IMAGES = SIF_SRC / "test/images"
PRIVATE_KEY = SIF_SRC / "test/keys/private.asc"
KEY = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"
HOSTILE = Path(__file__).resolve().parent / "hostile" / "sif"
FAST = ("--retries", "0", "--timeout", "10", "--no-progress")
LEGACY = [
    "one-group-signed-legacy.sif",
    "one-group-signed-legacy-group.sif",
    "one-group-signed-legacy-all.sif",
    "two-groups-signed-legacy.sif",
    "two-groups-signed-legacy-group.sif",
    "two-groups-signed-legacy-all.sif",
]


def signed(group: str) -> str:
    """The OpenPGP-signed image: ``*-signed.sif`` (sif < 2.10) or ``*-signed-pgp.sif``."""
    for name in (f"{group}-signed.sif", f"{group}-signed-pgp.sif"):
        if (IMAGES / name).is_file():
            return name
    raise AssertionError(f"no {group}-signed(-pgp).sif in {IMAGES}")


def gpg(home: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["gpg", "--batch", "--homedir", str(home), *args],
        input=input,
        capture_output=True,
        check=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keys folder with the public half of the package's test key."""
    require_system_tool(str(IMAGES), "apt-get install golang-github-sylabs-sif-dev")
    require_system_tool("gpg", "apt-get install gnupg")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    gpg(home, "--import", str(PRIVATE_KEY))
    folder = tmp_path_factory.mktemp("keys")
    (folder / "unit-test.asc").write_bytes(gpg(home, "--armor", "--export", KEY).stdout)
    return folder


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A keys folder with a key generated here only (it signed nothing)."""
    require_system_tool("gpg", "apt-get install gnupg")
    home = tmp_path_factory.mktemp("gnupg-other")
    home.chmod(0o700)
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
    folder = tmp_path_factory.mktemp("other-keys")
    (folder / "other.asc").write_bytes(gpg(home, "--armor", "--export").stdout)
    return folder


def publish(
    root: Path, served: tuple[Path, str], image: Path, tag: str, namespace: str = "acme/images"
) -> Path:
    """Serve *image* and write its manifest with ``orgreg manifest``; the manifest."""
    folder, base = served
    root.mkdir(exist_ok=True)
    name = f"{tag}.sif"
    shutil.copy(image, folder / name)
    result = orgreg(
        "manifest",
        folder / name,
        "--namespace",
        namespace,
        "--url",
        f"{base}/{name}",
        "--tag",
        tag,
        "--created",
        "none",
        "--root",
        root,
        cwd=root,
    )
    assert result.code == 0, result.err
    return root / namespace / "manifests" / tag / "README.md"


def check(root: Path, *args: str | Path) -> Result:
    return orgreg("check", root, "--verify-signatures", *args, *FAST, "--format", "json")


def found(result: Result) -> list[dict]:
    """The problems of a JSON report about signatures and keys (not the advice on
    http URLs and small sizes the test images get)."""
    return [p for p in result.json()["problems"] if p["code"].startswith(("signature-", "key-"))]


def codes(result: Result) -> list[tuple[str, str, str]]:
    """(file, severity, code) of each signature or key problem of a JSON report."""
    return [(p["file"], p["severity"], p["code"]) for p in found(result)]


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- orgreg check


def test_signed_images_pass(tmp_path: Path, served: tuple[Path, str], keys: Path) -> None:
    root = tmp_path / "tree"
    for group in ("one-group", "two-groups"):
        publish(root, served, IMAGES / signed(group), group)
    result = check(root, "--keys", keys)
    assert result.code == 0, result.out + result.err
    body = result.json()
    assert found(result) == []
    assert body["online"]["signatures"] == {
        "images": 2,
        "verified": 2,
        "unsigned": 0,
        "failed": 0,
        "good_signatures": 3,
        "keys": [{"fingerprint": KEY, "name": "Unit Test <unit@test.com>"}],
    }
    human = orgreg("check", root, "--verify-signatures", "--keys", keys, *FAST)
    assert human.code == 0
    assert (
        "signatures: 2 images checked with 1 trusted key: 2 verified, 0 unsigned, 0 failed"
    ) in human.out


def test_default_keys_folder_is_root_keys(
    tmp_path: Path, served: tuple[Path, str], keys: Path
) -> None:
    root = tmp_path / "tree"
    publish(root, served, IMAGES / signed("one-group"), "1.0")
    without = check(root)
    assert without.code == 1
    assert ("acme/images/manifests/1.0/README.md", "error", "signature-unknown-signer") in [
        (f.split("tree/")[-1], s, c) for f, s, c in codes(without)
    ]
    assert "the keys folder " + str(root / "_keys") + " holds none" in found(without)[0]["message"]
    shutil.copytree(keys, root / "_keys")
    assert check(root).code == 0


def test_flipped_partition_byte_fails(tmp_path: Path, served: tuple[Path, str], keys: Path) -> None:
    """One byte of a signed partition flipped, the manifest's digest and size made
    for the altered file: only the signature can tell."""
    root = tmp_path / "tree"
    image = tmp_path / "altered.sif"
    shutil.copy(IMAGES / signed("two-groups"), image)
    [part] = [d for d in read_sif_file(image).descriptors if d.id == 3]
    flip(image, part.offset + part.size // 2)
    good = publish(root, served, IMAGES / signed("one-group"), "good")
    bad = publish(root, served, image, "altered")
    result = check(root, "--keys", keys)
    assert result.code == 1
    problems = found(result)
    assert [(p["file"], p["severity"], p["code"]) for p in problems] == [
        (str(bad), "error", "signature-changed")
    ]
    assert problems[0]["line"] is not None
    assert (
        "signature object 5 is signed by Unit Test <unit@test.com> (" + KEY + "), "
        "but object 3 (FS, 262144 bytes) changed after signing" in problems[0]["message"]
    )
    assert str(good) not in str(found(result))
    # the digest check alone passes: the manifest was made for the altered file
    assert orgreg("check", root, "--verify-digest", *FAST).code == 0
    github = orgreg(
        "check", root, "--verify-signatures", "--keys", keys, *FAST, "--format", "github"
    )
    assert github.code == 1
    [line] = [x for x in github.out.splitlines() if x.startswith("::error")]
    assert "file=" in line and "altered/README.md" in line and "signature-changed" in line


def test_key_of_someone_else_fails(
    tmp_path: Path, served: tuple[Path, str], other_keys: Path
) -> None:
    root = tmp_path / "tree"
    manifest = publish(root, served, IMAGES / signed("one-group"), "1.0")
    result = check(root, "--keys", other_keys)
    assert result.code == 1
    [problem] = found(result)
    assert (problem["file"], problem["code"]) == (str(manifest), "signature-unknown-signer")
    assert f"made by key {KEY}, which is not among the trusted keys" in problem["message"]


def test_require_signatures(tmp_path: Path, served: tuple[Path, str], keys: Path) -> None:
    root = tmp_path / "tree"
    publish(root, served, IMAGES / signed("one-group"), "signed")
    unsigned = publish(root, served, IMAGES / "one-group.sif", "unsigned")
    relaxed = check(root, "--keys", keys)
    assert relaxed.code == 0
    assert codes(relaxed) == [(str(unsigned), "warning", "signature-none")]
    strict = check(root, "--keys", keys, "--require-signatures")
    assert strict.code == 1
    assert codes(strict) == [(str(unsigned), "error", "signature-none")]
    assert "is not signed" in found(strict)[0]["message"]


def test_secret_key_in_keys_folder(tmp_path: Path, served: tuple[Path, str], keys: Path) -> None:
    root = tmp_path / "tree"
    publish(root, served, IMAGES / signed("one-group"), "1.0")
    folder = tmp_path / "keys"
    shutil.copytree(keys, folder)
    shutil.copy(PRIVATE_KEY, folder / "leaked.asc")
    result = check(root, "--keys", folder)
    assert result.code == 1
    [problem] = found(result)
    assert (problem["file"], problem["code"]) == (str(folder / "leaked.asc"), "key-file")
    assert "SECRET key" in problem["message"]


def test_legacy_images(tmp_path: Path, served: tuple[Path, str], keys: Path) -> None:
    """Legacy (SIFHASH) signatures are verified: a warning each (they protect the
    data, not the header or descriptors), and one for what they leave unsigned."""
    root = tmp_path / "tree"
    manifests = {
        name: publish(root, served, IMAGES / name, name.removesuffix(".sif")) for name in LEGACY
    }
    result = check(root, "--keys", keys)
    assert result.code == 0, result.out
    found = codes(result)
    assert all(severity == "warning" for _, severity, _ in found)

    def of(name: str) -> list[str]:
        return sorted(code for f, _, code in found if f == str(manifests[name]))

    assert of("one-group-signed-legacy-group.sif") == ["signature-legacy"]
    assert of("one-group-signed-legacy-all.sif") == ["signature-legacy"] * 2
    # object 2 of group 1 signed, object 1 not
    assert of("one-group-signed-legacy.sif") == ["signature-legacy", "signature-partial"]
    # group 2 (object 3) signed by none
    assert of("two-groups-signed-legacy-group.sif") == ["signature-legacy", "signature-partial"]
    assert of("two-groups-signed-legacy-all.sif") == ["signature-legacy"] * 2 + [
        "signature-partial"
    ]
    assert of("two-groups-signed-legacy.sif") == ["signature-legacy"] + ["signature-partial"] * 2
    assert check(root, "--keys", keys, "--require-signatures").code == 1
    # an altered object fails a legacy signature too
    altered = tmp_path / "altered.sif"
    shutil.copy(IMAGES / "one-group-signed-legacy-group.sif", altered)
    [part] = [d for d in read_sif_file(altered).descriptors if d.id == 2]
    flip(altered, part.offset)
    bad = publish(root, served, altered, "altered")
    failing = check(root, "--keys", keys)
    assert failing.code == 1
    assert (str(bad), "error", "signature-changed") in codes(failing)


HOSTILE_RESULTS = {
    "not-a-sif.sif": ("warning", "signature-not-sif", "not a SIF image"),
    "truncated-header.sif": ("error", "signature-unreadable", "truncated SIF header"),
    "truncated-table.sif": ("error", "signature-unreadable", "lies outside the file"),
    "descriptor-offset-past-end.sif": ("error", "signature-unreadable", "lies outside the file"),
    "negative-offset.sif": ("error", "signature-unreadable", "lies outside the file"),
    "billion-descriptors.sif": ("error", "signature-unreadable", "claims 1000000000 descriptors"),
    "huge-object-size.sif": ("error", "signature-unreadable", "lies outside the file"),
    "signature-not-openpgp.sif": (
        "error",
        "signature-bad",
        "signature object 2 is not an OpenPGP clear-signed message",
    ),
    "labels-not-json.sif": ("warning", "signature-none", "is not signed"),
    "labels-nested-deep.sif": ("warning", "signature-none", "is not signed"),
}


def test_hostile_images(tmp_path: Path, served: tuple[Path, str], keys: Path) -> None:
    """Each hostile SIF of tests/hostile/sif/: one clear finding naming its manifest,
    in bounded time and memory (the check runs under a 1 GiB address-space limit)."""
    cases = yaml.safe_load((HOSTILE / "cases.yaml").read_text(encoding="utf-8"))
    assert {c["file"] for c in cases} == set(HOSTILE_RESULTS)
    root = tmp_path / "tree"
    manifests = {
        name: publish(root, served, HOSTILE / name, name.removesuffix(".sif"))
        for name in HOSTILE_RESULTS
    }
    started = time.monotonic()
    done = subprocess.run(
        [
            "prlimit",
            f"--as={1 << 30}",
            "--",
            *orgreg_command(),
            "check",
            str(root),
            "--verify-signatures",
            "--keys",
            str(keys),
            *FAST,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    result = Result(done.returncode, done.stdout, done.stderr)
    problems = found(result)
    for name, (severity, code, text) in HOSTILE_RESULTS.items():
        mine = [p for p in problems if p["file"] == str(manifests[name])]
        assert len(mine) == 1, (name, mine)
        assert (mine[0]["severity"], mine[0]["code"]) == (severity, code), name
        assert text in mine[0]["message"], name
    assert elapsed < 30


def orgreg_command() -> list[str]:
    import sys

    return [sys.executable, "-m", "orgreg_sphinx"]


def test_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    result = orgreg("check", tmp_path / "tree", "--require-signatures")
    assert result.code == 2 and "--require-signatures needs --verify-signatures" in result.err
    (tmp_path / "file").write_text("not a folder")
    result = orgreg("check", tmp_path / "tree", "--verify-signatures", "--keys", tmp_path / "file")
    assert result.code == 2 and "is not a folder" in result.err
    # a keys folder that does not exist holds no key (a registry without keys yet)
    result = orgreg(
        "check", tmp_path / "tree", "--verify-signatures", "--keys", tmp_path / "nowhere"
    )
    assert result.code == 0, result.err


# ---------------------------------------------------------------- core.integrity


@pytest.fixture(scope="module")
def trusted(keys: Path) -> list[TrustedKey]:
    found, problems = load_keys(keys)
    assert problems == [] and [k.fingerprint for k in found] == [KEY]
    return found


def altered(tmp_path: Path, name: str, offset: int, value: bytes) -> Path:
    path = tmp_path / name
    data = bytearray((IMAGES / name).read_bytes())
    data[offset : offset + len(value)] = value
    path.write_bytes(bytes(data))
    return path


def statuses(trusted: list[TrustedKey], path: Path) -> list[tuple[int, str, str]]:
    with Verifier(trusted) as verifier:
        return [(s.object_id, s.status, s.message) for s in verifier.verify_file(path).signatures]


def test_every_signed_reference_image(trusted: list[TrustedKey]) -> None:
    with Verifier(trusted) as verifier:
        for group in ("one-group", "two-groups"):
            verdict = verifier.verify_file(IMAGES / signed(group))
            assert verdict.verified, verdict
            assert all(
                s.key is not None and s.key.fingerprint == KEY and s.format == "current"
                for s in verdict.signatures
            )
        for name in LEGACY:
            verdict = verifier.verify_file(IMAGES / name)
            assert [s.status for s in verdict.signatures] == ["good"] * len(verdict.signatures)
            assert {s.format for s in verdict.signatures} == {"legacy"}


def test_header_change(tmp_path: Path, trusted: list[TrustedKey]) -> None:
    # the image id (header bytes 48..64) is protected; a new launch script too
    path = altered(tmp_path, signed("one-group"), 50, b"\x00\x01")
    [(_, status, message)] = statuses(trusted, path)
    assert status == "changed" and "the image header" in message


def test_descriptor_change(tmp_path: Path, trusted: list[TrustedKey]) -> None:
    image = read_sif_file(IMAGES / signed("one-group"))
    descriptor_offset = image.descriptors_offset + 585 * 1  # object 2
    path = altered(tmp_path, signed("one-group"), descriptor_offset + 73, b"renamed")
    [(_, status, message)] = statuses(trusted, path)
    assert status == "changed" and "the descriptor of object 2 (FS)" in message


def test_tampered_signature(tmp_path: Path, trusted: list[TrustedKey]) -> None:
    image = read_sif_file(IMAGES / signed("one-group"))
    [sig] = [d for d in image.descriptors if d.signature]
    data = (IMAGES / signed("one-group")).read_bytes()[sig.offset : sig.offset + sig.size]
    at = data.index(b'"digest":"sha256:') + len(b'"digest":"sha256:')
    path = altered(
        tmp_path, signed("one-group"), sig.offset + at, b"0" if data[at : at + 1] != b"0" else b"1"
    )
    [(_, status, message)] = statuses(trusted, path)
    assert status == "bad" and "does not verify" in message


def test_bounded_signature_objects(tmp_path: Path, trusted: list[TrustedKey]) -> None:
    cases = make_cases()
    fingerprint = bytes.fromhex(KEY)
    extra = b"\x01\x00\x00\x00" + fingerprint
    huge = b"-----BEGIN PGP SIGNED MESSAGE-----\n" + b"A" * (MAX_SIGNATURE + 1)
    dsse = b'{"payloadType":"application/vnd.sylabs.sif-metadata+json","signatures":[]}'
    path = tmp_path / "odd.sif"
    path.write_bytes(cases.image([cases.SQUASHFS, (0x4005, extra, huge), (0x4005, extra, dsse)]))
    tracemalloc.start()
    try:
        found = statuses(trusted, path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert [(i, s) for i, s, _ in found] == [(2, "bad"), (3, "bad")]
    assert "more than 64 KiB" in found[0][2]
    assert "DSSE envelope without signatures" in found[1][2]
    assert peak < 4 * 1024 * 1024


# ---------------------------------------------------------------- workflows

from conftest import REPO  # noqa: E402
from test_cli_scope import git  # noqa: E402
from test_workflows import run_step, step_named  # noqa: E402

TEMPLATE = REPO / "templates/container-repository/.github/workflows/publish-to-registry.yml"
CHECKS = [REPO / ".github/workflows/check.yml", REPO / "orgreg_sphinx/cli/templates/check.yml"]


def fake_apptainer(folder: Path) -> Path:
    """An ``apptainer`` that logs its arguments, the line it reads on standard
    input, its keyring folder and the key file's mode; the log."""
    log = folder / "apptainer.log"
    script = folder / "bin" / "apptainer"
    script.parent.mkdir(parents=True)
    script.write_text(
        "#!/bin/sh\n"
        "read -r line\n"
        f'{{ echo "$*"; echo "stdin=$line"; echo "keysdir=$APPTAINER_KEYSDIR";\n'
        f'  [ "$2" = import ] && stat -c \'mode=%a\' "$3"; echo ---; }} >> {log}\n'
    )
    script.chmod(0o755)
    return log


def test_template_signs_images_only_with_a_key(tmp_path: Path) -> None:
    log = fake_apptainer(tmp_path)
    (tmp_path / "images").mkdir()
    for tag in ("latest", "1.0"):
        (tmp_path / f"images/{tag}.sif").write_bytes(b"SIF")
    runner = tmp_path / "runner"
    runner.mkdir()
    env = {"PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", "RUNNER_TEMP": str(runner)}
    script = step_named(TEMPLATE, "Sign the images")["run"]

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=tmp_path,
            text=True,
            capture_output=True,
            env=clean_env(**env, **extra),
            check=False,
        )

    unsigned = run(SIGNING_KEY="")
    assert unsigned.returncode == 0 and "the images are not signed" in unsigned.stdout
    assert not log.exists()
    signed_run = run(
        SIGNING_KEY="-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n", SIGNING_KEY_PASSPHRASE="s3cret"
    )
    assert signed_run.returncode == 0, signed_run.stderr
    keysdir = runner / "apptainer-keys"
    assert log.read_text().split("---\n")[:-1] == [
        f"key import {runner}/signing-key.asc\nstdin=s3cret\nkeysdir={keysdir}\nmode=600\n",
        f"sign --keyidx 0 images/1.0.sif\nstdin=s3cret\nkeysdir={keysdir}\n",
        f"sign --keyidx 0 images/latest.sif\nstdin=s3cret\nkeysdir={keysdir}\n",
    ]
    assert list(runner.iterdir()) == []  # neither the key nor the keyring is left


@pytest.mark.parametrize("workflow", CHECKS, ids=["registry", "orgreg-init"])
def test_check_workflow_verifies_with_the_base_branch_keys(
    tmp_path: Path, served: tuple[Path, str], keys: Path, other_keys: Path, workflow: Path
) -> None:
    """The pull-request check verifies a changed image's signatures with the keys
    of the base branch's checkout (trusted/), never with keys the change adds."""
    change = tmp_path / "change"
    (change / "source").mkdir(parents=True)
    (change / "source/index.md").write_text("# registry\n")
    git(change, "init", "-q", "-b", "main")
    git(change, "add", "-A")
    git(
        change,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.org",
        "commit",
        "-q",
        "-m",
        "registry",
    )
    git(change, "branch", "-q", "-f", "origin/main", "main")
    git(change, "checkout", "-q", "-b", "update/acme/images")
    publish(change / "source", served, IMAGES / signed("one-group"), "1.0")
    # the change brings the signer's key itself: it must not count
    shutil.copytree(keys, change / "source/_keys")
    trusted = tmp_path / "trusted/source/_keys"
    shutil.copytree(other_keys, trusted)
    env = {
        "REGISTRY_ROOT": "source",
        "HEAD_BRANCH": "update/acme/images",
        "EVENT": "push",
        "DEFAULT_BRANCH": "main",
    }
    done = run_step(workflow, "Run orgreg check", change, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert any(
        line.startswith("::error file=source/acme/images/manifests/1.0/README.md")
        and "signature-unknown-signer" in line
        for line in done.stdout.splitlines()
    )
    shutil.copy(keys / "unit-test.asc", trusted)
    done = run_step(workflow, "Run orgreg check", change, env)
    assert "signature-" not in done.stdout, done.stdout
    assert "signatures: 1 image checked with 2 trusted keys: 1 verified" in done.stdout
    # what fails now is the key file the change adds outside its namespace
    [failure] = [x for x in done.stdout.splitlines() if x.startswith("::error")]
    assert "file=source/_keys/unit-test.asc" in failure and "scope-outside" in failure


# ---------------------------------------------------------------- oras://

from test_oras import distribution, push, write_manifest  # noqa: E402, F401


def test_oras_images_are_verified(
    distribution: str,  # noqa: F811
    tmp_path: Path,
    keys: Path,
) -> None:
    """An ``oras://`` image: its SIF blob is downloaded (as --verify-digest does)
    and verified; a flipped byte in it is caught by the signature alone."""
    image = IMAGES / signed("two-groups")
    altered = tmp_path / "altered.sif"
    shutil.copy(image, altered)
    [part] = [d for d in read_sif_file(altered).descriptors if d.id == 3]
    flip(altered, part.offset + 7)
    push(distribution, "acme/signed:good", image)
    push(distribution, "acme/signed:altered", altered)
    root = tmp_path / "tree"
    root.mkdir()
    write_manifest(root, image, f"oras://{distribution}/acme/signed:good", "good", "acme/signed")
    write_manifest(
        root, altered, f"oras://{distribution}/acme/signed:altered", "altered", "acme/signed"
    )
    result = check(root, "--keys", keys)
    assert result.code == 1, result.out
    assert codes(result) == [
        (str(root / "acme/signed/manifests/altered/README.md"), "error", "signature-changed")
    ]
    assert result.json()["online"]["signatures"]["verified"] == 1


def test_changed_manifests_only(tmp_path: Path, served: tuple[Path, str], keys: Path) -> None:
    """With --changed, only the changed manifests' images are downloaded and verified."""
    root = tmp_path / "tree"
    good = publish(root, served, IMAGES / signed("one-group"), "good")
    image = tmp_path / "altered.sif"
    shutil.copy(IMAGES / signed("one-group"), image)
    [part] = [d for d in read_sif_file(image).descriptors if d.id == 2]
    flip(image, part.offset)
    publish(root, served, image, "altered")
    result = check(root, "--keys", keys, "--changed", good)
    assert result.code == 0, result.out
    assert result.json()["online"]["signatures"]["images"] == 1
    assert check(root, "--keys", keys).code == 1


def test_dsse_images_without_pem_keys_are_not_verified(trusted: list[TrustedKey]) -> None:
    """sif >= 2.10 also signs with DSSE envelopes: with OpenPGP keys only, their
    signer is unknown (never passed). With PEM keys they verify: tests/test_dsse.py."""
    dsse = sorted((Path(__file__).parent / "data/sif-dsse").glob("*-signed-dsse.sif"))
    assert dsse
    with Verifier(trusted) as verifier:
        for path in dsse:
            verdict = verifier.verify_file(path)
            assert verdict.signatures and not verdict.verified, path
            assert {(s.status, s.format) for s in verdict.signatures} == {
                ("unknown-signer", "dsse")
            }


# ---------------------------------------------------------------- gpg traps (review)


def _signature_bytes(name: str) -> tuple[bytes, int]:
    """The signature object of a reference image and its descriptor's index."""
    image = read_sif_file(IMAGES / name)
    [(index, sig)] = [(i, d) for i, d in enumerate(image.descriptors) if d.signature]
    return (IMAGES / name).read_bytes()[sig.offset : sig.offset + sig.size], index


def _with_signature(tmp_path: Path, name: str, message: bytes) -> Path:
    """A copy of *name* whose signature object is *message*, appended at the end
    (the signature descriptor's offset and sizes patched; they are not signed)."""
    _, index = _signature_bytes(name)
    image = read_sif_file(IMAGES / name)
    data = bytearray((IMAGES / name).read_bytes())
    at = image.descriptors_offset + 585 * index
    data[at + 17 : at + 41] = struct.pack("<qqq", len(data), len(message), len(message))
    path = tmp_path / f"re-signed-{name}"
    path.write_bytes(bytes(data) + message)
    return path


def test_encrypted_packet_in_signature_block(tmp_path: Path, trusted: list[TrustedKey]) -> None:
    """A signature block that also holds a passphrase-encrypted packet: no prompt,
    no wait, and the object is refused as no Apptainer signature."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    message, _ = _signature_bytes(signed("one-group"))
    clear, armored = message.split(b"-----BEGIN PGP SIGNATURE-----")
    packets = gpg(home, "--dearmor", input=b"-----BEGIN PGP SIGNATURE-----" + armored).stdout
    encrypted = gpg(
        home,
        "--symmetric",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "x",
        input=b'{"version":1}',
    ).stdout
    body = base64.encodebytes(packets + encrypted)
    hostile = clear + b"-----BEGIN PGP SIGNATURE-----\n\n" + body + b"-----END PGP SIGNATURE-----\n"
    # the hostile block is a readable clear-signed message with a good signature
    assert b"-----END PGP SIGNATURE-----" in hostile
    path = _with_signature(tmp_path, signed("one-group"), hostile)
    start = time.monotonic()
    [(_, status, message_text)] = statuses(trusted, path)
    assert time.monotonic() - start < 0.9  # a pinentry attempt alone takes a second
    assert status == "bad"
    assert "holds OpenPGP data other than one signature" in message_text


def _changed_key_folder(tmp_path: Path, home: Path) -> Path:
    folder = tmp_path / "changed-keys"
    folder.mkdir()
    (folder / "unit-test.asc").write_bytes(gpg(home, "--armor", "--export", KEY).stdout)
    return folder


def _left_out(folder: Path, why: str) -> None:
    """The key is not trusted (a problem naming its file); a check with that
    folder fails naming the key file, and the signature's signer is not trusted."""
    trusted, problems = load_keys(folder)
    assert trusted == []
    assert [p.path.name for p in problems] == ["unit-test.asc"]
    assert f"holds key {KEY}, which {why}: left out of the trusted keys" in problems[0].message
    tree = folder.parent / "tree"
    shutil.copytree(folder, tree / "_keys")
    result = check(tree, "--keys", tree / "_keys")
    assert result.code == 1, result.err
    [problem] = [p for p in found(result) if p["code"] == "key-file"]
    assert problem["file"].endswith("_keys/unit-test.asc") and problem["severity"] == "error"
    assert why in problem["message"]


def test_expired_trusted_key(tmp_path: Path) -> None:
    # the key given an expiry of one day on 2023-01-01: expired today
    home = tmp_path / "gnupg-changed"
    home.mkdir(mode=0o700)
    gpg(home, "--import", str(PRIVATE_KEY))
    gpg(
        home,
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--faked-system-time",
        "20230101T000000",
        "--quick-set-expire",
        KEY,
        "1d",
    )
    folder = _changed_key_folder(tmp_path, home)
    _left_out(folder, "has expired")
    # GnuPG itself refuses the signature should such a key be trusted anyway
    expired = [
        TrustedKey(
            KEY, "Unit Test", (folder / "unit-test.asc").read_text(), folder / "unit-test.asc"
        )
    ]
    [(_, status, message)] = statuses(expired, IMAGES / signed("one-group"))
    assert status == "bad"
    assert "does not verify (the key that made it has expired" in message


def test_revoked_trusted_key(tmp_path: Path) -> None:
    home = tmp_path / "gnupg-revoke"
    home.mkdir(mode=0o700)
    gpg(home, "--import", str(PRIVATE_KEY))
    certificate = subprocess.run(
        [
            "gpg",
            "--homedir",
            str(home),
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--command-fd",
            "0",
            "--armor",
            "--gen-revoke",
            KEY,
        ],
        input=b"y\n0\n\ny\n",
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    assert b"PGP PUBLIC KEY BLOCK" in certificate
    gpg(home, "--import", input=certificate)
    folder = _changed_key_folder(tmp_path, home)
    _left_out(folder, "has been revoked")
    revoked = [
        TrustedKey(
            KEY, "Unit Test", (folder / "unit-test.asc").read_text(), folder / "unit-test.asc"
        )
    ]
    [(_, status, message)] = statuses(revoked, IMAGES / signed("one-group"))
    assert status == "bad"
    assert "does not verify (the key that made it has been revoked" in message


def test_duplicate_descriptor_attack_fails(
    tmp_path: Path, served: tuple[Path, str], keys: Path
) -> None:
    """Issue 23, 1: a signed object's descriptor copied into a free slot (same id,
    group, size, name, times) pointing at new bytes appended to the file. The data
    digest was cached by object id: the copy was never hashed and the check said
    "1 verified"; sylabs/sif says "data object integrity compromised"."""
    from sifcraft import duplicate_descriptor_attack

    image = tmp_path / "attack.sif"
    image.write_bytes(duplicate_descriptor_attack((IMAGES / signed("one-group")).read_bytes()))
    root = tmp_path / "tree"
    path = publish(root, served, image, "attack")
    result = check(root, "--keys", keys)
    assert result.code == 1, result.out
    [problem] = [p for p in found(result) if p["severity"] == "error"]
    assert problem["file"] == str(path)
    assert problem["code"] == "signature-duplicate-id"
    assert "object 2" in problem["message"]
    assert result.json()["online"]["signatures"]["verified"] == 0


def test_claims_are_checked_against_the_image(
    tmp_path: Path, served: tuple[Path, str], keys: Path
) -> None:
    """Issue 23, 3: a sif: block claiming a signature by the trusted key on an
    unsigned image fails --verify-signatures (exit 1, as check.yml runs it, without
    --require-signatures); so does any other field that is not what the image
    holds (a legacy signature's coverage claimed as current, a partition)."""
    root = tmp_path / "tree"
    signed_manifest = publish(root, served, IMAGES / signed("one-group"), "signed")
    unsigned = publish(root, served, IMAGES / "one-group.sif", "unsigned")
    legacy = publish(root, served, IMAGES / "one-group-signed-legacy-group.sif", "legacy")
    assert check(root, "--keys", keys).code == 0  # what orgreg manifest wrote holds

    def front(path: Path) -> dict:
        return yaml.safe_load(path.read_text().split("---\n")[1])

    def rewrite(path: Path, sif: dict) -> None:
        data = front(path)
        data["sif"] = sif
        path.write_text("---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n")

    claimed = front(signed_manifest)["sif"]
    assert claimed["signatures"][0]["fingerprint"] == KEY and claimed["coverage"] == "current"
    rewrite(
        unsigned,
        {**front(unsigned)["sif"], "signatures": claimed["signatures"], "coverage": "current"},
    )
    rewrite(legacy, {**front(legacy)["sif"], "coverage": "current"})
    result = check(root, "--keys", keys)
    assert result.code == 1, result.out
    claims = {
        p["file"]: p["message"] for p in result.json()["problems"] if p["code"] == "sif-claim"
    }
    assert set(claims) == {str(unsigned), str(legacy)}
    # one error per manifest (the claims check runs once, not again in the signature check)
    assert [p["code"] for p in result.json()["problems"]].count("sif-claim") == 2
    assert claims[str(unsigned)].count("sif.signatures = ") == 1
    assert result.json()["online"]["signatures"]["verified"] == 1  # the honest signed one
    assert (
        f"sif.signatures = current by {KEY}, but the image holds no signature"
        in claims[str(unsigned)]
    )
    assert "sif.coverage = 'current', but the image holds 'legacy'" in claims[str(legacy)]
    # the unsigned image is still only a warning of its own (no --require-signatures)
    assert (str(unsigned), "warning", "signature-none") in codes(result)
