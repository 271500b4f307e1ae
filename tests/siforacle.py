"""The reference SIF verifier as a test oracle.

``tests/oracle/sifverify`` holds ``main.go`` (sylabs/sif's ``pkg/integrity``, what
``apptainer verify`` runs, as a command) and ``build.sh``, which builds it offline
from Debian's packaged Go sources. :func:`build` builds it once into a cache
folder (keyed by the sources and the installed sif package); :class:`Reference`
runs it in batch mode, many images per process, and starts it again after a
crash (a hostile header can make the Go loader allocate without bound: that
image is refused, with the reason).
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ORACLE_SOURCE = Path(__file__).resolve().parent / "oracle" / "sifverify"
#: the DSSE-aware oracle (sif >= 2.10: Debian trixie's package)
DSSE_ORACLE_SOURCE = ORACLE_SOURCE.parent / "sifverify-dsse"
#: the Go module tree the oracle is built from (Debian's golang-github-sylabs-sif-dev);
#: ORGREG_GOCODE names another (a trixie package's tree, extracted)
GOCODE = Path(os.environ.get("ORGREG_GOCODE", "/usr/share/gocode/src"))
#: the address space a reference process may use (a lying descriptor count makes
#: the Go loader ask for terabytes: it then fails at once instead of swapping)
MEMORY_LIMIT = 2 << 30
MODES = ("default", "legacy", "legacy-all")


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orgreg-tests"


def _fingerprint(source: Path, gocode: Path) -> str:
    digest = hashlib.sha256()
    digest.update((source / "main.go").read_bytes())
    digest.update((ORACLE_SOURCE / "build.sh").read_bytes())
    digest.update(str(gocode).encode())
    for folder in ("github.com/sylabs/sif", "github.com/ProtonMail/go-crypto"):
        path = gocode / folder
        if path.exists():
            digest.update(str(path.resolve()).encode())
            digest.update(str(path.resolve().stat().st_mtime_ns).encode())
    return digest.hexdigest()[:16]


def has_dsse(gocode: Path = GOCODE) -> bool:
    """True when the sif sources know DSSE signatures (sif >= 2.10)."""
    return (gocode / "github.com/sylabs/sif/pkg/integrity/dsse.go").is_file()


def build(
    source: Path = ORACLE_SOURCE, gocode: Path = GOCODE, name: str = "sifverify"
) -> tuple[Path | None, str]:
    """The built oracle (cached), or ``None`` and why it cannot be built (Go from
    the PATH; ORGREG_GO names another ``go`` program)."""
    go = os.environ.get("ORGREG_GO") or shutil.which("go")
    if go is None:
        return None, "no Go compiler (apt-get install golang-go)"
    if not (gocode / "github.com/sylabs/sif/pkg/integrity").is_dir():
        return None, f"no sif sources in {gocode} (apt-get install golang-github-sylabs-sif-dev)"
    out = cache_folder() / f"{name}-{_fingerprint(source, gocode)}"
    binary = out / "sifverify"
    if binary.is_file():
        return binary, ""
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GOCODE": str(gocode),
        "MAIN_DIR": str(source),
        "PATH": f"{Path(go).parent}:{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["bash", str(ORACLE_SOURCE / "build.sh"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not binary.is_file():
        return None, f"build.sh failed: {done.stderr.strip()[-2000:]}"
    return binary, ""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@dataclass(frozen=True)
class Verdict:
    """The reference's answer in each mode: ``None`` when it verifies, else why not."""

    default: str | None
    legacy: str | None
    legacy_all: str | None

    def accepts(self, mode: str | None) -> bool:
        """True when the image verifies in *mode* (``current`` is the default mode)."""
        return {
            "current": self.default,
            "legacy": self.legacy,
            "legacy-all": self.legacy_all,
        }.get(mode or "", "no mode") is None

    @property
    def any(self) -> bool:
        return None in (self.default, self.legacy, self.legacy_all)


class Reference:
    """The oracle in batch mode with one keyring (an armored public key file)."""

    def __init__(self, binary: Path, keyring: Path | str, extra: tuple[str, ...] = ()) -> None:
        self.binary = binary
        self.keyring = keyring
        self.extra = extra

    def _run(self, lines: list[str]) -> list[str]:
        """Answers to *lines*, restarting after a crash (the crashing line fails)."""
        answers: list[str] = []
        while len(answers) < len(lines):
            left = lines[len(answers) :]
            done = subprocess.run(
                [str(self.binary), *self.extra, "--batch", str(self.keyring)],
                input="".join(line + "\n" for line in left),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
                preexec_fn=_limit_memory,
            )
            got = done.stdout.splitlines()
            answers.extend(got[: len(left)])
            if len(answers) < len(lines):
                why = next((line for line in done.stderr.splitlines() if line.strip()), "no output")
                answers.append(f"fail\tcrashed: {why}")
        return answers

    def verify(self, paths: list[Path]) -> list[Verdict]:
        """The verdict on each image, in every mode."""
        answers = self._run([f"{mode}\t{path}" for path in paths for mode in MODES])
        out = []
        for index in range(len(paths)):
            three = answers[3 * index : 3 * index + 3]
            reasons = [None if a == "ok" else a.partition("\t")[2] or a for a in three]
            out.append(Verdict(*reasons))
        return out
