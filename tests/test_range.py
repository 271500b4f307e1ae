"""The supported range (issue 12): what is declared is what CI tests, and what the
tested ends differ in does not change what users see."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from packaging.requirements import Requirement

from orgreg_sphinx.core import frontmatter

RANGE = REPO / ".ci/range"
TESTS_WORKFLOW = REPO / ".github/workflows/tests.yml"
SHIPPED = sorted(
    [*REPO.glob(".github/workflows/*.yml"), *REPO.glob("templates/*/.github/workflows/*.yml")]
)


def range_setting(name: str) -> str:
    [value] = re.findall(rf"^{name}=(\S+)$", RANGE.read_text(), re.MULTILINE)
    return value


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def matrix_rows() -> list[dict[str, str]]:
    [job] = [j for j in load(TESTS_WORKFLOW)["jobs"].values() if "strategy" in j]
    return [{k: str(v) for k, v in row.items()} for row in job["strategy"]["matrix"]["include"]]


#: folders of the clone that hold no shipped workflow or config
NOT_SHIPPED = {"tests", "_build", "build", "node_modules", ".git"}
PYTHON_SETTING = re.compile(r"python(?:-version)?:\s*[\"']?(3\.\d+)|python(3\.\d+)")


def installed_pythons() -> dict[str, set[str]]:
    """Every Python version a workflow or config installs (the shipped workflows,
    the container template, `orgreg init`'s templates, .readthedocs.yaml), by file."""
    found: dict[str, set[str]] = {}
    for path in sorted([*REPO.rglob("*.yml"), *REPO.rglob("*.yaml")]):
        parts = path.relative_to(REPO).parts
        if NOT_SHIPPED & set(parts) or any(p.startswith(".venv") for p in parts):
            continue
        versions = {a or b for a, b in PYTHON_SETTING.findall(path.read_text())}
        if versions:
            found[str(path.relative_to(REPO))] = versions
    return found


def test_ci_tests_both_ends_on_the_pythons_the_project_workflow_tests() -> None:
    lowest, newest = range_setting("LOWEST_VERSION"), range_setting("NEWEST_VERSION")
    assert (lowest, newest) == ("3.11", "3.13")
    rows = matrix_rows()
    assert {"python": lowest, "dependencies": "lowest"} in rows
    assert {"python": newest, "dependencies": "newest"} in rows
    assert {row["python"] for row in rows} == {lowest, newest}
    # the lowest Python is the lowest the package declares
    assert load_pyproject()["project"]["requires-python"] == f">={lowest}"


def test_no_workflow_or_config_installs_a_python_ci_does_not_test() -> None:
    tested = {row["python"] for row in matrix_rows()}
    found = installed_pythons()
    assert {
        ".readthedocs.yaml",
        ".github/workflows/pages.yml",
        ".github/workflows/check.yml",
        "orgreg_sphinx/cli/templates/container/.github/workflows/publish-to-registry.yml",
    } <= set(found)
    untested = {name: versions - tested for name, versions in found.items() if versions - tested}
    assert untested == {}


def load_pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())


def lower_bounds(lines: list[str]) -> dict[str, str]:
    bounds = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            [spec] = [s for s in requirement.specifier if s.operator == ">="]
            bounds[requirement.name.lower()] = spec.version
    return bounds


def test_requirements_and_pyproject_declare_the_same_lower_bounds() -> None:
    """The range CI installs from requirements*.txt is the one pip users get."""
    pyproject = load_pyproject()["project"]
    files = (REPO / "requirements.txt").read_text().splitlines()
    files += (REPO / "requirements-test.txt").read_text().splitlines()
    in_files = lower_bounds(files)
    declared = lower_bounds(pyproject["dependencies"])
    declared |= lower_bounds(pyproject["optional-dependencies"]["test"])
    assert {name: in_files.get(name) for name in declared} == declared
    # Sphinx 8.1 rewrote the root page on every build that wrote anything
    assert declared["sphinx"] == "8.2"


DEEP_BLOCK = "".join("  " * i + f"k{i}:\n" for i in range(25)) + "  " * 25 + "v: 1\n"


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ("x: " + "[" * 30 + "]" * 30 + "\n", 3),  # under every libyaml's own limit
        ("x: " + "[" * 1100 + "]" * 1100 + "\n", 3),  # over libyaml 0.2.6's, not 0.2.5's
        (DEEP_BLOCK, 23),
    ],
    ids=["flow-30", "flow-1100", "block-25"],
)
def test_deep_nesting_gives_one_message_whichever_limit_refuses_it(front: str, line: int) -> None:
    """libyaml 0.2.5 (in PyYAML up to 6.0.2, the lower bound's) has no flow-nesting
    limit, later ones stop at 1000 levels: the author reads the same message either way,
    with the line where the nesting goes too deep."""
    with pytest.raises(frontmatter.FrontMatterError) as caught:
        frontmatter.parse("---\nsize: 1\n" + front + "---\nbody\n")
    assert (caught.value.message, caught.value.line) == (
        "has front matter nested too deeply: lists and mappings nested deeper than "
        "20 levels are refused",
        line,
    )
