"""The organization's trusted OpenPGP keys: a folder of ASCII-armored public keys.

A registry keeps the public keys that sign its images next to its manifests
(``_keys/*.asc`` in the manifest tree by default), so readers and the
pull-request check need no keyserver. Keys are read with GnuPG through
python-gnupg (one ``gpg`` process per key file, in a throw-away home folder);
a file that holds a secret key, a revoked or expired key, no key, or something
else is a problem naming the file, and is left out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gnupg

from .files import load_stamped, save_stamped
from .trusted import TrustedKey, slug
from .x509keys import CA, CERTIFICATE, certificate_problem, read_x509_file

#: the folder of trusted keys, relative to the manifest tree, when nothing else says
DEFAULT_FOLDER = "_keys"
#: the suffixes of key files in that folder: OpenPGP keys, then PEM public keys
#: and X.509 certificates (:mod:`.x509keys`)
KEY_SUFFIXES = (".asc", ".pub", ".gpg", ".pem", ".crt")
X509_SUFFIXES = (".pem", ".crt")
#: a key file larger than this is not read (a public key is a few KiB)
MAX_KEY_FILE = 1024 * 1024
#: GnuPG's validity letters of keys nobody should trust any more
UNUSABLE = {"r": "has been revoked", "e": "has expired"}


@dataclass(frozen=True)
class KeyProblem:
    """Why a key file was left out."""

    path: Path
    message: str


def gpg_available() -> bool:
    """True when a ``gpg`` program is on the PATH."""
    return shutil.which("gpg") is not None


@contextmanager
def gnupg_home() -> Iterator[gnupg.GPG]:
    """A GnuPG instance with its own empty home folder, removed afterwards."""
    home = tempfile.mkdtemp(prefix="orgreg-gnupg-")
    try:
        yield gnupg.GPG(gnupghome=home)
    finally:
        stop_agent(Path(home))
        shutil.rmtree(home, ignore_errors=True)


def stop_agent(home: Path) -> None:
    """Stop the gpg-agent GnuPG may have started for *home* (it would outlive the
    folder): ``gpgconf --kill all``, only when an agent socket is there."""
    if not any(home.glob("S.gpg-agent*")):
        return
    gpgconf = shutil.which("gpgconf")
    if gpgconf:
        subprocess.run(
            [gpgconf, "--homedir", str(home), "--kill", "all"],
            capture_output=True,
            check=False,
            timeout=30,
        )


def key_files(folder: Path) -> list[Path]:
    """The key files of *folder*, sorted; none when it does not exist."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in KEY_SUFFIXES)


def load_keys(folder: Path, cache: Path | None = None) -> tuple[list[TrustedKey], list[KeyProblem]]:
    """Read every key file of *folder*: the trusted keys (sorted by fingerprint,
    each once) and a problem for each file left out.

    With *cache* (a file), the answer is kept there and given again without
    running GnuPG while no key file was added, removed or changed."""
    files = key_files(folder)
    if not files:
        return [], []
    if cache is None:
        return _load_keys(folder, files)
    try:
        # the day is part of the stamp: a key may expire while no file changes
        stamp = (
            time.strftime("%Y-%m-%d", time.gmtime()),
            tuple((str(p), st.st_size, st.st_mtime_ns) for p in files for st in (p.stat(),)),
        )
    except OSError:
        return _load_keys(folder, files)
    kept = load_stamped(cache, stamp)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    answer = _load_keys(folder, files)
    if gpg_available():
        save_stamped(cache, stamp, answer)
    return answer


def _load_keys(folder: Path, files: list[Path]) -> tuple[list[TrustedKey], list[KeyProblem]]:
    if not gpg_available():
        return [], [
            KeyProblem(
                folder, "cannot read trusted keys: the 'gpg' program (GnuPG) is not installed"
            )
        ]
    keys: dict[str, TrustedKey] = {}
    problems: list[KeyProblem] = []
    with gnupg_home() as gpg:
        for path in files:
            if path.suffix.lower() in X509_SUFFIXES:
                found, problem = _read_x509_file(path)
            else:
                found, problem = _read_key_file(gpg, path)
            if problem:
                problems.append(KeyProblem(path, problem))
            for key in found:
                keys.setdefault(key.fingerprint, key)
    chained, left_out = _with_chains(list(keys.values()))
    problems.extend(left_out)
    return sorted(chained, key=lambda k: k.fingerprint), problems


def _read_x509_file(path: Path) -> tuple[list[TrustedKey], str | None]:
    try:
        if path.stat().st_size > MAX_KEY_FILE:
            return [], f"larger than {MAX_KEY_FILE // 1024} KiB: not a public key or certificate"
        data = path.read_bytes()
    except OSError as error:
        return [], f"cannot be read: {error.strerror or error}"
    return read_x509_file(path, data)


def _with_chains(keys: list[TrustedKey]) -> tuple[list[TrustedKey], list[KeyProblem]]:
    """Each signing certificate with its chain to a CA certificate of the folder;
    one that reaches none (now or when it became valid) is left out, a problem."""
    import dataclasses
    import datetime as dt

    authorities = [k for k in keys if k.kind == CA]
    out: list[TrustedKey] = []
    problems: list[KeyProblem] = []
    for key in keys:
        if key.kind != CERTIFICATE:
            out.append(key)
            continue
        moments = [
            dt.datetime.now(dt.UTC),
            dt.datetime.fromtimestamp(key.not_before + 1, dt.UTC),
        ]
        why: str | None = None
        for moment in moments:
            why, chain = certificate_problem(key, authorities, moment)
            if why is None:
                out.append(dataclasses.replace(key, chain=chain))
                break
        if why is not None:
            problems.append(
                KeyProblem(
                    key.source,
                    f"holds certificate {key.subject!r}, which cannot sign: {why}; "
                    "left out of the trusted keys (add its CA certificates to the folder)",
                )
            )
    return out, problems


#: what a file holding an OpenPGP secret key starts with: the armor header, or
#: the first byte of a secret-key or secret-subkey packet (tags 5 and 7, in the
#: old and the new packet format)
_ARMORED_SECRET = b"-----BEGIN PGP PRIVATE KEY BLOCK-----"
_SECRET_PACKET_BYTES = frozenset({*range(0x94, 0x98), *range(0x9C, 0xA0), 0xC5, 0xC7})
SECRET_KEY_MESSAGE = (
    "holds a SECRET key: only public keys belong in the registry "
    "(export it with 'gpg --armor --export <fingerprint>'), and the "
    "secret key should be replaced"
)


def holds_secret_key(data: bytes) -> bool:
    """True when *data* (a file's bytes) holds an OpenPGP secret key, armored
    anywhere in it or binary: found without GnuPG."""
    return _ARMORED_SECRET in data or (bool(data) and data[0] in _SECRET_PACKET_BYTES)


def secret_key_problems(folder: Path) -> list[KeyProblem]:
    """A problem for each file of *folder* (whatever its name) holding a secret
    key: what every ``orgreg check`` fails on, with or without GnuPG."""
    if not folder.is_dir():
        return []
    problems = []
    for path in sorted(folder.iterdir()):
        try:
            if not path.is_file():
                continue
            with path.open("rb") as handle:
                data = handle.read(MAX_KEY_FILE)
        except OSError:
            continue
        if holds_secret_key(data):
            problems.append(KeyProblem(path, SECRET_KEY_MESSAGE))
    return problems


def _read_key_file(gpg: gnupg.GPG, path: Path) -> tuple[list[TrustedKey], str | None]:
    try:
        if path.stat().st_size > MAX_KEY_FILE:
            return [], f"larger than {MAX_KEY_FILE // 1024} KiB: not an OpenPGP public key"
        data = path.read_bytes()
    except OSError as error:
        return [], f"cannot be read: {error.strerror or error}"
    scanned = gpg.scan_keys_mem(data)
    if holds_secret_key(data) or any(entry.get("type") == "sec" for entry in scanned):
        return [], SECRET_KEY_MESSAGE
    public = [entry for entry in scanned if entry.get("type") == "pub"]
    if not public:
        return [], "holds no OpenPGP public key (expected an ASCII-armored public key)"
    unusable = [
        (str(entry.get("fingerprint", "")).upper(), UNUSABLE[str(entry.get("trust"))])
        for entry in public
        if str(entry.get("trust")) in UNUSABLE
    ]
    if unusable:
        fingerprint, why = unusable[0]
        return [], (
            f"holds key {fingerprint}, which {why}: left out of the trusted keys "
            "(remove the file, or export the key again after renewing it)"
        )
    imported = gpg.import_keys(data)
    found = []
    for entry in public:
        fingerprint = str(entry.get("fingerprint", "")).upper()
        if fingerprint not in {f.upper() for f in imported.fingerprints}:
            continue
        uids = entry.get("uids") or [""]
        armored = str(gpg.export_keys(fingerprint, armor=True))
        created = int(entry.get("date") or 0) if str(entry.get("date", "")).isdigit() else 0
        found.append(TrustedKey(fingerprint, str(uids[0]), armored, path, created))
    if not found:
        return [], "holds a key GnuPG would not import"
    return found, None


#: where the site publishes the trusted keys: ``api/keys/<FINGERPRINT>.asc``
PUBLISHED_FOLDER = "api/keys"
#: the list of published keys
PUBLISHED_LIST = "api/keys.json"


def published_path(fingerprint: str, kind: str = "openpgp") -> str:
    """The site path of a trusted key's file (armored OpenPGP, or PEM)."""
    return f"{PUBLISHED_FOLDER}/{slug(fingerprint)}.{'asc' if kind == 'openpgp' else 'pem'}"


def published_files(keys: list[TrustedKey], site: str = "") -> dict[str, bytes]:
    """The files that publish *keys* on the site: each key's ASCII armor at
    ``api/keys/<FINGERPRINT>.asc`` and the list ``api/keys.json``
    (``[{"fingerprint", "keyid", "name", "url"}]``, sorted by fingerprint; ``url``
    absolute when the site's address *site* is known, else relative to the site).
    Nothing when there are no keys."""
    if not keys:
        return {}
    files: dict[str, bytes] = {}
    listed = []
    for key in sorted(keys, key=lambda k: k.fingerprint):
        path = f"{PUBLISHED_FOLDER}/{key.file_name}"
        files[path] = key.armored.encode("utf-8")
        entry = {
            "fingerprint": key.fingerprint,
            "keyid": key.keyid,
            "name": key.name,
            "url": site + path if site else path,
        }
        if not key.is_openpgp:
            entry["kind"] = key.kind
        if key.subject:
            entry.update(subject=key.subject, issuer=key.issuer)
        listed.append(entry)
    text = json.dumps(listed, indent=2, ensure_ascii=False, sort_keys=True)
    # safe to serve as HTML too, as every JSON file of the site
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    files[PUBLISHED_LIST] = (text + "\n").encode("utf-8")
    return files
