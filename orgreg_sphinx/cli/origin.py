"""Where the running orgreg-sphinx was installed from, as a requirement line
that installs the same package again (PEP 610's ``direct_url.json``).

A registry made by ``orgreg init`` must build with the orgreg-sphinx that made
it: an index release only when this one came from an index, else the folder,
wheel or VCS commit it was installed from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._version import __version__

DISTRIBUTION = "orgreg-sphinx"


@dataclass(frozen=True)
class Origin:
    """How orgreg-sphinx was installed."""

    #: one line of a requirements file installing this orgreg-sphinx again
    requirement: str
    #: "index", "folder", "archive", "vcs" or "unknown"
    kind: str
    #: what the admin should know about it ("" when nothing): one sentence or two
    note: str = ""


def from_direct_url(data: Any, version: str = __version__) -> Origin:
    """The origin a PEP 610 ``direct_url.json`` (parsed) records; ``None``-like
    data (no file) means an index release."""
    if data is None:
        return Origin(f"{DISTRIBUTION}=={version}", "index")
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return unknown("its direct_url.json is not as PEP 610 describes it")
    url: str = data["url"]
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
        commit = vcs.get("commit_id")
        pinned = f"@{commit}" if isinstance(commit, str) and commit else ""
        note = ""
        if isinstance(vcs.get("requested_revision"), str):
            note = f"installed from {vcs['requested_revision']} of {url}; pinned to its commit"
        return Origin(f"{DISTRIBUTION} @ {vcs['vcs']}+{url}{pinned}", "vcs", note)
    local = urlsplit(url).scheme == "file"
    if isinstance(data.get("dir_info"), dict):
        note = ""
        if local:
            note = (
                f"requirements.txt installs orgreg-sphinx from the folder {url[len('file://') :]}, "
                "which only this machine has: before you push the registry, replace that line "
                "with a git URL (orgreg-sphinx @ git+https://...) or a release"
            )
        return Origin(f"{DISTRIBUTION} @ {url}", "folder", note)
    if isinstance(data.get("archive_info"), dict) or "archive_info" in data:
        note = ""
        if local:
            note = (
                f"requirements.txt installs orgreg-sphinx from the file {url[len('file://') :]}, "
                "which only this machine has: before you push the registry, publish the wheel "
                "where CI can download it (a release asset) and put its https:// URL there"
            )
        return Origin(f"{DISTRIBUTION} @ {url}", "archive", note)
    return unknown(f"its direct_url.json names {url} in a way PEP 610 does not describe")


def unknown(why: str, version: str = __version__) -> Origin:
    """An origin that cannot be told: the index release, said to be a guess."""
    return Origin(
        f"{DISTRIBUTION}=={version}",
        "unknown",
        f"cannot tell where this orgreg-sphinx was installed from ({why}); requirements.txt "
        f"names the release {version} from the package index: if it is not there, replace "
        "that line with where it comes from (a git URL, a wheel's URL)",
    )


def installed(version: str = __version__) -> Origin:
    """The origin of the orgreg-sphinx that runs this code.

    Every distribution of that name on ``sys.path`` is looked at: a source
    tree's ``orgreg_sphinx.egg-info`` (left by an editable install, found first
    when Python runs in that tree) records nothing, the installed one does.
    """
    found = [d for d in metadata.distributions(name=DISTRIBUTION) if d.version == version]
    if not found:
        return unknown("it is not installed as a package: run from a source tree?", version)
    for distribution in found:
        text = distribution.read_text("direct_url.json")
        if text is None:
            continue
        try:
            data = json.loads(text)
        except ValueError:
            return unknown("its direct_url.json is not JSON", version)
        return from_direct_url(data, version)
    for distribution in found:
        base = Path(str(distribution.locate_file("")))
        if (base / "pyproject.toml").is_file() and (base / "orgreg_sphinx").is_dir():
            return from_direct_url({"url": base.resolve().as_uri(), "dir_info": {}}, version)
    return from_direct_url(None, version)
