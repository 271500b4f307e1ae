"""Configuration values of the extension, their defaults and validation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

from ..core.feed import MAX_ENTRIES
from ..core.keys import DEFAULT_FOLDER
from ..core.model import Limits

#: what Sphinx rebuilds when a value changes (a subset of what Sphinx accepts)
Rebuild = Literal["", "env", "html"]


@dataclass(frozen=True)
class Option:
    """One configuration value: its name, default, accepted types, what a change
    rebuilds, and its documentation."""

    name: str
    default: Any
    types: tuple[type, ...]
    rebuild: Rebuild
    doc: str


OPTIONS = (
    Option(
        "orgreg_root",
        "",
        (str, os.PathLike),
        "env",
        "Folder of the manifest tree, relative to the source folder (or absolute).",
    ),
    Option(
        "orgreg_site_url",
        "",
        (str,),
        "env",
        "Absolute URL of the published site; defaults to html_baseurl, then the "
        "Read the Docs or GitHub Actions environment.",
    ),
    Option(
        "orgreg_namespace_pages",
        True,
        (bool,),
        "env",
        "Generate one page per namespace at <org>/<repo>/.",
    ),
    Option(
        "orgreg_json_api",
        True,
        (bool,),
        "html",
        "Write the tags/ and manifests/<tag>/ endpoints and api/catalog.json.",
    ),
    Option(
        "orgreg_repository_url",
        "",
        (str,),
        "env",
        "URL of the registry repository on GitHub, for 'view the manifests' links.",
    ),
    Option(
        "orgreg_repository_branch",
        "main",
        (str,),
        "env",
        "Branch of the registry repository used in those links.",
    ),
    Option(
        "orgreg_max_readme_bytes",
        Limits.max_readme,
        (int,),
        "env",
        "Largest README.md read from the tree; larger ones are refused.",
    ),
    Option(
        "orgreg_max_front_matter_bytes",
        Limits.max_front_matter,
        (int,),
        "env",
        "Largest front matter read from a README.md.",
    ),
    Option(
        "orgreg_max_tags",
        Limits.max_tags,
        (int,),
        "env",
        "Most tags read for one namespace; the rest are left out with a warning.",
    ),
    Option(
        "orgreg_shub_api",
        True,
        (bool,),
        "env",
        "Write api/container/<org>/<repo>:<tag> for Singularity/Apptainer shub:// "
        "and sregistry pulls, and show their pull commands.",
    ),
    Option(
        "orgreg_oci_layout",
        False,
        (bool,),
        "env",
        "Write a read-only OCI-style v2/ layout (tags/list, manifests/<tag>) for a "
        "site at a domain root.",
    ),
    Option(
        "orgreg_shpc",
        True,
        (bool,),
        "env",
        "Write what shpc (Singularity Registry HPC) reads: library.json, <org>/<repo>/"
        "container.yaml and the filesystem registry api/shpc-registry.tar.gz, and show "
        "each namespace's shpc install and module load lines.",
    ),
    Option(
        "orgreg_remote_fetch",
        True,
        (bool,),
        "env",
        "Read deployed registries named in registry directives over the network; "
        "False shows only their cached copies.",
    ),
    Option(
        "orgreg_remote_timeout",
        10.0,
        (int, float),
        "env",
        "Seconds to wait for a deployed registry's answer before using its cached copy.",
    ),
    Option(
        "orgreg_remote_max_bytes",
        64 * 1024 * 1024,
        (int,),
        "env",
        "Largest answer read from a deployed registry.",
    ),
    Option(
        "orgreg_history",
        True,
        (bool,),
        "env",
        "Read each tag's former images (digest, size, date, commit) from the git history "
        "of its manifest: one git log for the whole tree, cached in the doctree folder.",
    ),
    Option(
        "orgreg_feed",
        None,
        (bool, type(None)),
        "html",
        "Write feed.xml, an Atom feed of new, changed and deprecated tags. None (the "
        "default): when the site URL is known; True: warn when it is not; False: never.",
    ),
    Option(
        "orgreg_feed_entries", MAX_ENTRIES, (int,), "html", "Most entries in feed.xml (the newest)."
    ),
    Option(
        "orgreg_keys",
        "",
        (str, os.PathLike),
        "env",
        "Folder of the organization's trusted OpenPGP public keys (ASCII-armored .asc "
        "files), relative to the source folder; '' (the default): _keys/ in the "
        "manifest tree. Published at api/keys/ and shown on signed tags.",
    ),
    Option(
        "orgreg_tree_pages",
        False,
        (bool,),
        "env",
        "Also read .md/.rst pages inside <org>/<repo>/ folders as pages of the site (a "
        "hand-written namespace page). Only for trees whose every file is trusted.",
    ),
)


def add_config_values(app: Sphinx) -> None:
    """Register every option with Sphinx and check their values once read."""
    for option in OPTIONS:
        app.add_config_value(option.name, option.default, option.rebuild, types=option.types)
    app.connect("config-inited", validate, priority=400)


def validate(app: Sphinx, config: Config) -> None:
    """Refuse wrong-typed or out-of-range values with a clear message."""
    for option in OPTIONS:
        value = config[option.name]
        if isinstance(value, bool) and bool not in option.types:
            bad = True
        else:
            bad = not isinstance(value, option.types)
        if bad:
            expected = " or ".join(t.__name__ for t in option.types)
            raise ConfigError(
                f"{option.name} must be {expected}, not {type(value).__name__} ({value!r})"
            )
    for name in (
        "orgreg_max_readme_bytes",
        "orgreg_max_front_matter_bytes",
        "orgreg_max_tags",
        "orgreg_feed_entries",
        "orgreg_remote_timeout",
        "orgreg_remote_max_bytes",
    ):
        if config[name] <= 0:
            raise ConfigError(f"{name} must be a positive number, not {config[name]!r}")
    url = config.orgreg_site_url
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"orgreg_site_url must start with http:// or https://, not {url!r}")
    root = root_folder(app.srcdir, config)
    if not root.is_dir():
        raise ConfigError(
            f"orgreg_root: the manifest tree folder {str(root)!r} does not exist "
            f"(orgreg_root = {config.orgreg_root!r}, relative to {str(app.srcdir)!r})"
        )


def root_folder(srcdir: str | os.PathLike[str], config: Config) -> Path:
    """The manifest tree folder (orgreg_root resolved against the source folder)."""
    return (Path(srcdir) / os.fspath(config.orgreg_root or ".")).resolve()


def limits(config: Config) -> Limits:
    return Limits(
        max_front_matter=config.orgreg_max_front_matter_bytes,
        max_readme=config.orgreg_max_readme_bytes,
        max_tags=config.orgreg_max_tags,
    )


def site_url(config: Config, environ: Mapping[str, str] = os.environ) -> str:
    """The absolute URL the site is published at, ending in '/', or '' if unknown."""
    url = config.orgreg_site_url or getattr(config, "html_baseurl", "") or ""
    if not url:
        url = environ.get("READTHEDOCS_CANONICAL_URL", "")
    if not url and environ.get("GITHUB_REPOSITORY", "").count("/") == 1:
        owner, repo = environ["GITHUB_REPOSITORY"].split("/")
        host = f"{owner.lower()}.github.io"
        url = f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"
    if url and not url.endswith("/"):
        url += "/"
    return url


def keys_folder(srcdir: str | os.PathLike[str], config: Config) -> Path:
    """The folder of trusted keys: orgreg_keys resolved against the source folder,
    else ``_keys`` in the manifest tree."""
    if config.orgreg_keys:
        folder: str = os.fspath(config.orgreg_keys)
        return (Path(srcdir) / folder).resolve()
    return root_folder(srcdir, config) / DEFAULT_FOLDER
