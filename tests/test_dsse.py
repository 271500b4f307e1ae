"""DSSE signatures with PEM keys and X.509 certificates (issue 29).

sylabs/sif's DSSE test images and keys (Debian trixie's package, copied into
``tests/data/sif-dsse`` with their BSD-3 licence) are verified as sif's
``pkg/integrity/dsse.go`` does; keys and a CA/leaf chain are generated here and
images signed with them (the envelope of a test image signed again), so the
certificate policy is tested: a codeSigning leaf is accepted, a serverAuth leaf,
an expired one and one of another root are refused. Hostile variants go through
the reference verifier of sif >= 2.10 (``tests/oracle/sifverify-dsse``) where the
installed sif has DSSE (the trixie root of ``.ci/range``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from clitools import orgreg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sifcraft import Sif, hostile_variants
from siforacle import Reference

from orgreg_sphinx.cli.signatures import SignatureCheck
from orgreg_sphinx.core import sifblock
from orgreg_sphinx.core.integrity import Verifier
from orgreg_sphinx.core.keys import load_keys
from orgreg_sphinx.core.sif import DSSE_PAYLOAD_TYPE, summary
from orgreg_sphinx.core.x509keys import ssh_fingerprint

DATA = Path(__file__).resolve().parent / "data" / "sif-dsse"
ONE, TWO = DATA / "one-group-signed-dsse.sif", DATA / "two-groups-signed-dsse.sif"
#: the key ids (OpenSSH SHA256 fingerprints) of sif's Ed25519 and RSA test keys
ED25519 = "SHA256:x6l8ZblpSSXGaPMCzySedWg88BwIFcz8jlPb6el0mFs"
RSA = "SHA256:BhCwr7qZulYcOMSl2Jt2DuYHxHNnN6th4NdMqR/PGa4"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def keys_folder(folder: Path, *files: Path | tuple[str, bytes]) -> Path:
    """*folder* (made) holding copies of *files* and (name, bytes) files."""
    folder.mkdir(parents=True, exist_ok=True)
    for item in files:
        if isinstance(item, Path):
            shutil.copy(item, folder / item.name)
        else:
            (folder / item[0]).write_bytes(item[1])
    return folder


def verdict_of(folder: Path, image: Path):  # type: ignore[no-untyped-def]
    keys, problems = load_keys(folder)
    with Verifier(keys) as verifier:
        return verifier.verify_file(image), problems


def test_pem_keys_fingerprints_as_apptainer_prints_them(tmp_path: Path) -> None:
    keys, problems = load_keys(keys_folder(tmp_path / "keys", *DATA.glob("*-public.pem")))
    assert not problems
    assert {k.name: (k.kind, k.fingerprint) for k in keys} == {
        "ed25519-public": ("pem", ED25519),
        "rsa-public": ("pem", RSA),
        "ecdsa-public": ("pem", "SHA256:13cNV0A11AxgIQYCvlDmJlRi0CjRtjnYF47RzrMhlaU"),
    }
    # the key ids sif wrote into the envelopes are these fingerprints
    block, _ = summary(ONE)
    assert block["signatures"][0]["keyids"] == [ED25519, RSA]
    assert block["coverage"] == "current"


@pytest.mark.parametrize("key", ["ed25519-public.pem", "rsa-public.pem"])
@pytest.mark.parametrize("image", [ONE, TWO])
def test_dsse_test_images_verify(tmp_path: Path, key: str, image: Path) -> None:
    verdict, _ = verdict_of(keys_folder(tmp_path / "keys", DATA / key), image)
    assert verdict.verified and verdict.mode == "current", verdict
    assert {s.format for s in verdict.signatures} == {"dsse"}
    assert all(
        s.key is not None and s.key.name == key.removesuffix(".pem") for s in verdict.signatures
    )


def test_other_keys_do_not_verify_them(tmp_path: Path) -> None:
    verdict, _ = verdict_of(keys_folder(tmp_path / "keys", DATA / "ecdsa-public.pem"), ONE)
    assert not verdict.verified
    [sig] = verdict.signatures
    assert sig.status == "unknown-signer"
    assert ED25519 in sig.message and RSA in sig.message


def test_tampered_dsse_images_fail(tmp_path: Path) -> None:
    """A byte of the payload, of a signature, of a signed object or of a descriptor
    changed: refused (bad or changed)."""
    folder = keys_folder(tmp_path / "keys", DATA / "ed25519-public.pem")
    image = Sif(ONE.read_bytes())
    [sig] = [s for s in image.used() if s.data_type == 0x4005]
    envelope = json.loads(image.object_bytes(sig))
    cases = {}
    payload = bytearray(base64.b64decode(envelope["payload"]))
    payload[40] ^= 1
    cases["payload"] = {**envelope, "payload": base64.b64encode(payload).decode()}
    signature = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    signature[5] ^= 1
    cases["signature"] = {
        **envelope,
        "signatures": [{**envelope["signatures"][0], "sig": base64.b64encode(signature).decode()}],
    }
    cases["payload type"] = {**envelope, "payloadType": "application/vnd.in-toto+json"}
    for name, body in cases.items():
        path = tmp_path / f"{name}.sif"
        path.write_bytes(replace_signature(ONE.read_bytes(), json.dumps(body).encode()))
        verdict, _ = verdict_of(folder, path)
        assert not verdict.verified, name
        assert verdict.signatures[0].status in ("bad", "unknown-signer"), (name, verdict)
    data = bytearray(ONE.read_bytes())
    [part] = [s for s in image.used() if s.id == 2]
    data[part.offset + 7] ^= 1
    path = tmp_path / "object.sif"
    path.write_bytes(bytes(data))
    verdict, _ = verdict_of(folder, path)
    assert verdict.signatures[0].status == "changed"
    assert "object 2" in verdict.signatures[0].message


# ---------------------------------------------------------------- signing here


def replace_signature(data: bytes, envelope: bytes, created: dt.datetime | None = None) -> bytes:
    """The image with its (first) signature object's bytes replaced by *envelope*
    (appended to the file), and its creation time set to *created*."""
    image = Sif(data)
    [sig] = [s for s in image.used() if s.data_type == 0x4005][:1]
    offset = image.append(envelope)
    image.point(sig, offset, len(envelope))
    if created is not None:
        image.set_field(sig, "created", int(created.timestamp()))
    return bytes(image.data)


def signed_with(private_key, data: bytes = b"", created: dt.datetime | None = None) -> bytes:  # type: ignore[no-untyped-def]
    """One-group-signed-dsse.sif's metadata signed again with *private_key*."""
    source = data or ONE.read_bytes()
    image = Sif(source)
    [sig] = [s for s in image.used() if s.data_type == 0x4005]
    payload = base64.b64decode(json.loads(image.object_bytes(sig))["payload"])
    kind = DSSE_PAYLOAD_TYPE.encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        signature = private_key.sign(pae)
    else:
        signature = private_key.sign(pae, ec.ECDSA(hashes.SHA256()))
    envelope = {
        "payloadType": DSSE_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [
            {
                "keyid": ssh_fingerprint(private_key.public_key()),
                "sig": base64.b64encode(signature).decode(),
            }
        ],
    }
    return replace_signature(source, json.dumps(envelope).encode(), created)


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


class Authority:
    """A CA (root) made here, issuing leaf certificates."""

    def __init__(self, name: str = "Acme Root CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = name
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=365))
            .not_valid_after(NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def leaf(
        self,
        usage: x509.ObjectIdentifier = ExtendedKeyUsageOID.CODE_SIGNING,
        start: dt.datetime = NOW - dt.timedelta(days=1),
        end: dt.datetime = NOW + dt.timedelta(days=30),
        name: str = "Acme CI signer",
    ) -> tuple[ed25519.Ed25519PrivateKey, bytes]:
        key = ed25519.Ed25519PrivateKey.generate()
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(self.name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return key, cert.public_bytes(serialization.Encoding.PEM)


def test_generated_pem_keys(tmp_path: Path) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    p256 = ec.generate_private_key(ec.SECP256R1())
    pems = {
        name: key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        for name, key in (("ed.pem", ed), ("p256.pem", p256))
    }
    folder = keys_folder(tmp_path / "keys", *pems.items())
    for key in (ed, p256):
        path = tmp_path / "signed.sif"
        path.write_bytes(signed_with(key))
        verdict, problems = verdict_of(folder, path)
        assert not problems and verdict.verified, verdict
    # a private key in the folder is an error naming the file, and left out
    private = ed.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    keys, problems = load_keys(keys_folder(tmp_path / "leak", ("leaked.pem", private)))
    assert not keys
    [problem] = problems
    assert problem.path.name == "leaked.pem" and "PRIVATE key" in problem.message


def test_certificate_policy(tmp_path: Path) -> None:
    """codeSigning leaf of a root in the folder: accepted; serverAuth leaf, a leaf
    expired at signing time, a leaf of another root: refused."""
    root, other = Authority(), Authority("Other Root CA")
    cases = {
        "code-signing": (root, {}, NOW, True),
        "server-auth": (root, {"usage": ExtendedKeyUsageOID.SERVER_AUTH}, NOW, False),
        "expired": (
            root,
            {"start": NOW - dt.timedelta(days=20), "end": NOW - dt.timedelta(days=10)},
            NOW,
            False,
        ),
        # expired now, valid when the image was signed: accepted
        "valid-at-signing": (
            root,
            {"start": NOW - dt.timedelta(days=20), "end": NOW - dt.timedelta(days=10)},
            NOW - dt.timedelta(days=15),
            True,
        ),
        "wrong-root": (other, {}, NOW, False),
    }
    for name, (issuer, options, created, accepted) in cases.items():
        key, cert = issuer.leaf(**options)
        folder = tmp_path / name
        keys_folder(folder / "keys", ("root.pem", root.pem()), ("signer.pem", cert))
        image = tmp_path / f"{name}.sif"
        image.write_bytes(signed_with(key, created=created))
        verdict, problems = verdict_of(folder / "keys", image)
        assert verdict.verified is accepted, (name, verdict, problems)
        if accepted:
            [sig] = verdict.signatures
            assert sig.key is not None and sig.key.kind == "certificate"
            assert sig.key.subject == "CN=Acme CI signer" and sig.key.issuer == "CN=Acme Root CA"
        elif name == "expired":
            assert "does not verify at" in verdict.signatures[0].message
        else:  # left out when the keys are read: the folder's problem names the file
            assert [p.path.name for p in problems] == ["signer.pem"], name
            assert verdict.signatures[0].status == "unknown-signer"


def test_check_verifies_dsse_and_checks_the_claims(
    tmp_path: Path, served: tuple[Path, str]
) -> None:
    """``orgreg check --verify-signatures``: a DSSE image with the PEM key in the
    keys folder passes; the manifest's sif: block records the envelope's key ids."""
    folder, base = served
    root = tmp_path / "tree"
    root.mkdir()
    keys_folder(root / "_keys", DATA / "ed25519-public.pem")
    shutil.copy(TWO, folder / "two.sif")
    made = orgreg(
        "manifest",
        folder / "two.sif",
        "--namespace",
        "acme/dsse",
        "--url",
        f"{base}/two.sif",
        "--tag",
        "v1",
        "--created",
        "none",
        "--root",
        root,
        cwd=root,
    )
    assert made.code == 0, made.err
    block = sifblock.parse(
        __import__("yaml").safe_load(
            (root / "acme/dsse/manifests/v1/README.md").read_text().split("---\n")[1]
        )["sif"]
    )
    assert block is not None and block.coverage == "current"
    assert [s.keyids for s in block.signatures] == [(ED25519, RSA)] * 2
    result = orgreg(
        "check",
        root,
        "--verify-signatures",
        "--require-signatures",
        "--retries",
        "0",
        "--no-progress",
        "--format",
        "json",
    )
    assert result.code == 0, result.out
    assert result.json()["online"]["signatures"]["verified"] == 1


def test_hostile_dsse_variants_agree_with_the_reference(
    tmp_path: Path, dsse_reference_verifier: Path
) -> None:
    """The differential test of issue 23 on DSSE images, against sif >= 2.10."""
    variants = hostile_variants({ONE.name: ONE.read_bytes(), TWO.name: TWO.read_bytes()}, 29)
    assert len(variants) >= 200
    key = DATA / "ed25519-public.pem"
    folder = keys_folder(tmp_path / "keys", key)
    paths = []
    for index, variant in enumerate(variants):
        path = tmp_path / f"{index}.sif"
        path.write_bytes(variant.data)
        paths.append(path)
    reference = Reference(dsse_reference_verifier, folder / key.name).verify(paths)
    wrong, stricter = [], []
    with SignatureCheck(folder, require=True) as check:
        for variant, path, answer in zip(variants, paths, reference, strict=True):
            verdict = check.verifier.verify_file(path)
            ok = not any(s == "error" for s, _, _ in check.findings(verdict))
            if ok and not answer.accepts(verdict.mode):
                wrong.append((variant.name, answer))
            elif not ok and answer.any:
                stricter.append((variant.name, variant.kind, verdict.error or verdict.uncovered))
    assert not wrong, wrong
    print(f"DSSE variants: {len(variants)}, agree {len(variants) - len(stricter)}")
    for item in stricter:
        print("orgreg stricter:", item)
    assert all(
        kind in ("header byte", "descriptor byte", "duplicate id") for _, kind, _ in stricter
    )
