"""Print problems for people (``human``), programs (``json``) or GitHub (``github``).

GitHub workflow commands are parsed from the log line by line: every value
that comes from the tree (file names, messages, URLs) is escaped so that a
crafted name cannot end an annotation or start a command of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from ..core.model import Problem, printable

FORMATS = ("human", "json", "github")


def shown_path(path: Path, cwd: Path | None = None) -> str:
    """*path* relative to the current folder when inside it (as GitHub wants)."""
    cwd = cwd or Path.cwd()
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path(os.path.abspath(cwd))).as_posix() or "."
    except ValueError:
        return str(path)


def order(problems: Iterable[Problem]) -> list[Problem]:
    """Errors and warnings in file order (line order within a file)."""
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))


def problem_dict(problem: Problem, cwd: Path | None = None) -> dict[str, Any]:
    return {
        "file": shown_path(problem.path, cwd),
        "line": problem.line,
        "severity": problem.severity,
        "code": problem.code,
        "message": problem.message,
    }


def human_line(problem: Problem, cwd: Path | None = None) -> str:
    where = shown_path(problem.path, cwd)
    if problem.line:
        where += f":{problem.line}"
    return f"{printable(where)}: {problem.severity}: {printable(problem.message)} [{problem.code}]"


def escape_data(text: str) -> str:
    """Escape the message part of a workflow command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=...``) of a workflow command."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(problem: Problem, cwd: Path | None = None) -> str:
    """``::error file=F,line=L,title=T::message`` (``warning`` for warnings,
    ``notice`` for information)."""
    shown = shown_path(problem.path, cwd)
    props = []
    if not problem.path.is_dir():  # a folder (the tree, for a branch name) has no line
        props.append(f"file={escape_property(shown)}")
        if problem.line:
            props.append(f"line={problem.line}")
    props.append(f"title={escape_property(f'orgreg check ({problem.code})')}")
    message = printable(f"{shown} {problem.message}")
    command = "notice" if problem.severity == "info" else problem.severity
    return f"::{command} {','.join(props)}::{escape_data(message)}"


def markdown_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no markup, no HTML, one line)."""
    text = " ".join(text.split())
    return "".join("\\" + c if c in "\\`*_{}[]<>()#+-.!|~" else c for c in text)


def step_summary(problems: list[Problem], summary_lines: list[str], cwd: Path | None = None) -> str:
    """A Markdown report for ``$GITHUB_STEP_SUMMARY`` (annotations are capped per step)."""
    lines = ["### orgreg check", ""]
    lines += [f"- {markdown_cell(text)}" for text in summary_lines]
    problems = order(problems)
    if problems:
        lines += ["", "| | file | problem |", "| --- | --- | --- |"]
        for p in problems:
            where = shown_path(p.path, cwd) + (f":{p.line}" if p.line else "")
            lines.append(
                f"| {p.severity} | {markdown_cell(where)} | "
                f"{markdown_cell(p.message)} ({markdown_cell(p.code)}) |"
            )
    return "\n".join(lines) + "\n"


def write(
    stream: IO[str],
    fmt: str,
    problems: list[Problem],
    summary: dict[str, Any],
    summary_lines: list[str],
    cwd: Path | None = None,
) -> None:
    """Write *problems* and the summary in *fmt*."""
    problems = order(problems)
    if fmt == "json":
        body = dict(summary)
        body["problems"] = [problem_dict(p, cwd) for p in problems]
        stream.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return
    line = github_line if fmt == "github" else human_line
    for problem in problems:
        stream.write(line(problem, cwd) + "\n")
    for text in summary_lines:
        stream.write(text + "\n")
