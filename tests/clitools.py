"""Run the ``orgreg`` command line as a user would: a separate process."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the console script installed next to the test interpreter
ORGREG = Path(sys.executable).parent / "orgreg"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without proxies (requests go to 127.0.0.1 only) or CI values."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        and not k.startswith(("GITHUB_", "ORGREG_"))
    }
    env.update(extra)
    return env


def orgreg(
    *args: str | Path,
    cwd: Path | None = None,
    module: bool = True,
    timeout: float = 120,
    **env: str,
) -> Result:
    """Run ``python -m orgreg_sphinx ARGS`` (or the ``orgreg`` script when not *module*)."""
    command = [sys.executable, "-m", "orgreg_sphinx"] if module else [str(ORGREG)]
    done = subprocess.run(
        [*command, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def on_terminal(*args: str | Path, columns: int = 0, timeout: float = 120) -> Result:
    """Run ``python -m orgreg_sphinx ARGS`` with a pseudo-terminal for stderr
    (*columns* wide; 0: a terminal that was given no size); ``err`` holds what
    that terminal received."""
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orgreg_sphinx", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=slave,
        env=clean_env(),
        text=True,
    )
    os.close(slave)
    out, _ = proc.communicate(timeout=timeout)
    screen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(master)
    return Result(proc.returncode, out, screen.decode())
