"""Configuration values of the extension: the options table, and the settings of a build.

:data:`OPTIONS` lists every ``orgreg_*`` value (name, default, types, what a
change rebuilds, its documentation: the guide's reference is generated from it,
:mod:`.docs`). At ``config-inited`` :func:`read_settings` checks the values and
reads them once into a frozen :class:`BuildSettings` (as MyST's ``MdParserConfig``);
the rest of the extension reads :func:`settings_of` and never ``config.orgreg_*``.
"""

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
from ..core.remote import FetchSettings

#: what Sphinx rebuilds when a value changes (a subset of what Sphinx accepts)
Rebuild = Literal["", "env", "html"]


@dataclass(frozen=True)
class Option:
    """One configuration value: its name, default, accepted types, what a change
    rebuilds, and its documentation (text with `code` spans; the guide's
    reference is made from it, :mod:`.docs`)."""

    name: str
    default: Any
    types: tuple[type, ...]
    rebuild: Rebuild
    doc: str
    #: the default as the documentation shows it ('' : the value, as code)
    shown: str = ""


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
        "Absolute URL of the published site; defaults to `html_baseurl`, then the "
        "Read the Docs or GitHub Actions environment.",
    ),
    Option(
        "orgreg_namespace_pages",
        True,
        (bool,),
        "env",
        "Generate one page per namespace at `<org>/<repo>/` (the targets of `:limit:` "
        "links and of the `container` role).",
    ),
    Option(
        "orgreg_json_api",
        True,
        (bool,),
        "html",
        "Write the `tags/` and `manifests/<tag>/` endpoints and `api/catalog.json`.",
    ),
    Option(
        "orgreg_repository_url",
        "",
        (str,),
        "env",
        'URL of the registry repository on GitHub, for "view the manifests" links.',
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
        shown="512 KiB",
    ),
    Option(
        "orgreg_max_front_matter_bytes",
        Limits.max_front_matter,
        (int,),
        "env",
        "Largest front matter read from a README.md.",
        shown="64 KiB",
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
        "Write `api/container/<org>/<repo>:<tag>` for Singularity/Apptainer `shub://` "
        "and sregistry pulls, and show their pull commands on namespace pages.",
    ),
    Option(
        "orgreg_oci_layout",
        False,
        (bool,),
        "env",
        "Write a read-only OCI-style `v2/` layout (`tags/list`, `manifests/<tag>`), "
        "for a site at the root of its host.",
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
        "Read deployed registries named in `registry` directives over the network. "
        "`False` shows only the copies cached by earlier builds (with a warning when "
        "there is none), for offline or reproducible builds.",
    ),
    Option(
        "orgreg_remote_timeout",
        10.0,
        (int, float),
        "env",
        "Seconds to wait for a deployed registry before using its cached copy.",
    ),
    Option(
        "orgreg_remote_max_bytes",
        64 * 1024 * 1024,
        (int,),
        "env",
        "Largest answer read from a deployed registry.",
        shown="64 MiB",
    ),
    Option(
        "orgreg_history",
        True,
        (bool,),
        "env",
        "When the tree is in a git repository, read each tag's former images (digest, "
        "size, dates, commit) from the history of its manifest: one `git log` for the "
        "whole tree, cached in the doctree folder so a rebuild reads only new commits. "
        'Shown as "previously" on namespace pages, as `history` in `api/catalog.json`. '
        "A shallow clone or no git: no history, and one line in the build's output.",
    ),
    Option(
        "orgreg_feed",
        None,
        (bool, type(None)),
        "html",
        "Write `feed.xml`, an Atom feed of new, changed and deprecated tags, linked "
        "from the home page. `None`: when the site's URL is known (its links must be "
        "absolute); `True`: also warn when it is not; `False`: never.",
    ),
    Option(
        "orgreg_feed_entries",
        MAX_ENTRIES,
        (int,),
        "html",
        "Most entries in `feed.xml` (the newest).",
    ),
    Option(
        "orgreg_keys",
        "",
        (str, os.PathLike),
        "env",
        "Folder of the organization's trusted public keys (OpenPGP `.asc`, PEM keys "
        "and X.509 certificates `.pem`), relative to the source folder. Empty: "
        "`_keys/` in the manifest tree. The keys are published under `api/keys/` and "
        "in `api/keys.json`, listed on a generated page at `api/keys/`, and marked as "
        "trusted on the tags they signed.",
    ),
    Option(
        "orgreg_listing_page_size",
        100,
        (int,),
        "env",
        "Most rows of a listing of the whole registry (the home page's `registry` "
        "directive); a larger registry's listing is paged: the rest on static pages "
        "`_containers/name-<n>.html` (and `_containers/updated-<n>.html`, most recently "
        "updated first) linked from the listing, and the listing's filter finds any "
        "namespace through `api/namespaces/`, a names index in shards of about 64 KiB.",
    ),
    Option(
        "orgreg_tree_pages",
        False,
        (bool,),
        "env",
        "Also read `.md`/`.rst` pages inside `<org>/<repo>/` folders as pages of the "
        "site (a hand-written namespace page). Only for trees whose every file is "
        "trusted: a contributed page could include files of the build machine.",
    ),
)


def add_config_values(app: Sphinx) -> None:
    """Register every option with Sphinx (checked by :func:`validate`)."""
    for option in OPTIONS:
        app.add_config_value(option.name, option.default, option.rebuild, types=option.types)


@dataclass(frozen=True)
class BuildSettings:
    """The ``orgreg_*`` values of one build, checked, with what follows from them
    (the folders resolved, the site's address, the reading limits)."""

    #: the manifest tree folder (``orgreg_root`` resolved against the source folder)
    root: Path
    #: the site's absolute address, ending in '/', or '' when unknown (:func:`site_url`)
    site_url: str
    namespace_pages: bool
    json_api: bool
    repository_url: str
    repository_branch: str
    #: what is read of the tree (sizes of files, tags per namespace)
    limits: Limits
    shub_api: bool
    oci_layout: bool
    #: write what shpc reads and show the Cluster module tab (issue 27)
    shpc: bool
    #: how deployed registries are read
    remote: FetchSettings
    history: bool
    feed: bool | None
    feed_entries: int
    #: the trusted keys' folder (:func:`keys_folder`)
    keys_folder: Path
    tree_pages: bool
    #: most rows of a listing of the whole registry (more: paged, :mod:`.listpages`)
    listing_page_size: int = 100


#: where :func:`read_settings` keeps the settings on the config object (an
#: underscore name: Sphinx neither pickles nor compares it)
SETTINGS_ATTRIBUTE = "_orgreg_settings"


def read_settings(app: Sphinx, config: Config) -> None:
    """``config-inited``: check the values (:func:`validate`) and read them into
    the build's :class:`BuildSettings`."""
    validate(app, config)
    setattr(config, SETTINGS_ATTRIBUTE, settings_from(app.srcdir, config))


def settings_of(config: Config) -> BuildSettings:
    """The settings of the build whose configuration is *config*."""
    found = config.__dict__.get(SETTINGS_ATTRIBUTE)
    if not isinstance(found, BuildSettings):
        raise ConfigError("orgreg_sphinx: the settings are read at config-inited, not before")
    return found


def settings_from(
    srcdir: str | os.PathLike[str], config: Config, environ: Mapping[str, str] = os.environ
) -> BuildSettings:
    """The :class:`BuildSettings` of *config* (values already checked)."""
    return BuildSettings(
        root=root_folder(srcdir, config),
        site_url=site_url(config, environ),
        namespace_pages=config.orgreg_namespace_pages,
        json_api=config.orgreg_json_api,
        repository_url=config.orgreg_repository_url,
        repository_branch=config.orgreg_repository_branch,
        limits=Limits(
            max_front_matter=config.orgreg_max_front_matter_bytes,
            max_readme=config.orgreg_max_readme_bytes,
            max_tags=config.orgreg_max_tags,
        ),
        shub_api=config.orgreg_shub_api,
        oci_layout=config.orgreg_oci_layout,
        shpc=config.orgreg_shpc,
        remote=FetchSettings(
            timeout=float(config.orgreg_remote_timeout),
            max_bytes=int(config.orgreg_remote_max_bytes),
            fetch=bool(config.orgreg_remote_fetch),
        ),
        history=config.orgreg_history,
        feed=config.orgreg_feed,
        feed_entries=config.orgreg_feed_entries,
        keys_folder=keys_folder(srcdir, config),
        tree_pages=config.orgreg_tree_pages,
        listing_page_size=config.orgreg_listing_page_size,
    )


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
        "orgreg_listing_page_size",
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
