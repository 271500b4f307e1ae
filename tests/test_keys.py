"""The organization's trusted keys folder (core.keys), read with the real GnuPG."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from orgreg_sphinx.core import keys

SIF_SRC = Path(os.environ.get("ORGREG_SIF_SRC", "/usr/share/gocode/src/github.com/sylabs/sif"))
TEST_KEY = SIF_SRC / "test/keys/private.asc"
TEST_FINGERPRINT = "12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84"

pytestmark = pytest.mark.skipif(
    not (TEST_KEY.is_file() and shutil.which("gpg")),
    reason="needs Debian's golang-github-sylabs-sif-dev and gnupg (installed by .ci/run)",
)


def gpg(home: Path, *args: str, data: bytes | None = None) -> bytes:
    home.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(
        ["gpg", "--batch", "--quiet", "--homedir", str(home), *args],
        input=data,
        capture_output=True,
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def public_key(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    home = tmp_path_factory.mktemp("gnupg")
    gpg(home, "--import", str(TEST_KEY))
    return gpg(home, "--armor", "--export", TEST_FINGERPRINT)


def test_a_public_key_is_trusted_with_its_fingerprint_name_and_key_id(
    tmp_path: Path, public_key: bytes
) -> None:
    (tmp_path / "unit-test.asc").write_bytes(public_key)
    (tmp_path / "README.md").write_text("not a key file: ignored\n")
    found, problems = keys.load_keys(tmp_path)
    assert problems == []
    assert [(k.fingerprint, k.keyid, k.name) for k in found] == [
        (TEST_FINGERPRINT, "A20C27EE7FF7BA84", "Unit Test <unit@test.com>")
    ]
    assert found[0].source == tmp_path / "unit-test.asc"
    assert found[0].armored.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert found[0].created == 1588023536


def test_the_same_key_twice_is_one_trusted_key(tmp_path: Path, public_key: bytes) -> None:
    (tmp_path / "a.asc").write_bytes(public_key)
    (tmp_path / "b.asc").write_bytes(public_key)
    found, problems = keys.load_keys(tmp_path)
    assert problems == [] and len(found) == 1


def test_a_secret_key_is_refused_and_named(tmp_path: Path) -> None:
    shutil.copy(TEST_KEY, tmp_path / "leaked.asc")
    found, problems = keys.load_keys(tmp_path)
    assert found == []
    assert [p.path.name for p in problems] == ["leaked.asc"]
    assert "SECRET key" in problems[0].message


@pytest.mark.parametrize(
    "content",
    [b"", b"hello", b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n", bytes(range(256)) * 4],
)
def test_a_file_that_is_no_key_is_a_problem_naming_it(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "broken.asc").write_bytes(content)
    found, problems = keys.load_keys(tmp_path)
    assert found == []
    assert [p.path.name for p in problems] == ["broken.asc"]
    assert "no OpenPGP public key" in problems[0].message


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "huge.asc").write_bytes(b"x" * (keys.MAX_KEY_FILE + 1))
    found, problems = keys.load_keys(tmp_path)
    assert found == [] and "larger than" in problems[0].message


def test_no_folder_means_no_keys_and_no_problem(tmp_path: Path) -> None:
    assert keys.load_keys(tmp_path / "missing") == ([], [])


def test_with_a_cache_gnupg_runs_only_when_a_key_file_changes(
    tmp_path: Path, public_key: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, cache = tmp_path / "_keys", tmp_path / "doctrees" / "keys.pickle"
    folder.mkdir()
    (folder / "unit-test.asc").write_bytes(public_key)
    first = keys.load_keys(folder, cache=cache)
    assert [k.fingerprint for k in first[0]] == [TEST_FINGERPRINT] and cache.is_file()

    runs: list[str] = []
    real = keys._read_key_file
    monkeypatch.setattr(
        keys, "_read_key_file", lambda gpg, path: runs.append(path.name) or real(gpg, path)
    )
    assert keys.load_keys(folder, cache=cache) == first
    assert runs == []
    shutil.copy(TEST_KEY, folder / "leaked.asc")  # a file added: read again
    found, problems = keys.load_keys(folder, cache=cache)
    assert sorted(runs) == ["leaked.asc", "unit-test.asc"]
    assert [p.path.name for p in problems] == ["leaked.asc"]
    (folder / "leaked.asc").unlink()
    assert keys.load_keys(folder, cache=cache) == first
