"""Benchmark: orgreg-sphinx against plain Sphinx + MyST on the same pages, and
against a minimal floor.

For each size N it generates (deterministically, from a seed) a manifest tree of
N namespaces x T tags in the original format, plus a plain Sphinx + MyST project
holding the same pages written by hand (one Markdown page per namespace with its
tag table, an index listing them all, no extension), plus the *minimal floor*
(issue 17): plain Sphinx + MyST with alabaster and no sidebars, one page per
namespace holding only its title, description and a plain tag table, and a bare
script (bench/bare_json.py) writing the same JSON files from a copy of the tree.
A floor figure is the Sphinx build plus the script, both run each time. It then
times, for all three:

* a full build, a no-op rebuild, a rebuild after editing one manifest, a rebuild
  after adding one tag, and a full build with ``-j 2``;
* the peak memory (max RSS) of each build;

counts the output files each rebuild rewrote (mtime/inode of every file), checks
that the ``-j 1`` and ``-j 2`` output trees are byte for byte the same, and
prints a table of figures and ratios. It asserts nothing about time.

    python bench/run.py --sizes 100,1000,3000 [--tags 5] [--memory-size 10000]
        [--search-sizes 1000,10000] [--search-pagefind] [--git] [--deploy]
        [--skip plain,parallel] [--baseline DIR]

``--skip plain,parallel`` leaves out the plain-Sphinx project and the ``-j``
builds (what makes N=10,000 affordable on two cores: the figures against the
minimal floor stay).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

WORDS = [
    "alpine",
    "busybox",
    "centos",
    "debian",
    "fedora",
    "ubuntu",
    "samtools",
    "bwa",
    "gatk",
    "blast",
    "pytorch",
    "tensorflow",
    "openmpi",
    "hdf5",
    "netcdf",
    "gromacs",
    "lammps",
    "namd",
    "quantum",
    "espresso",
    "rstudio",
    "jupyter",
    "julia",
    "octave",
    "paraview",
    "blender",
    "ffmpeg",
    "imagemagick",
    "nginx",
    "postgres",
    "redis",
    "mongo",
    "spark",
    "hadoop",
    "kafka",
    "fastqc",
    "trimmomatic",
    "bowtie",
    "star",
    "salmon",
    "kallisto",
    "cellranger",
    "seurat",
    "scanpy",
    "deepvariant",
]
ORG_WORDS = [
    "acme",
    "bio-core",
    "hpc-lab",
    "astro",
    "geo",
    "chem",
    "neuro",
    "climate",
    "vision",
    "robotics",
]

CONF_COMMON = """\
project = "Benchmark registry"
source_suffix = {{".md": "markdown"}}
exclude_patterns = ["_build"]
html_theme = {theme!r}
"""
EXT_CONF = 'extensions = ["myst_parser", "orgreg_sphinx"]\n'
PLAIN_CONF = 'extensions = ["myst_parser"]\n'
INTRO = (
    "# Benchmark registry\n\nContainers of this organization, built by the CI of each "
    "container's own repository.\n\n"
)
EXT_INDEX = INTRO + "```{registry}\n:toctree:\n```\n"

# --------------------------------------------------------------------------- trees


@dataclass
class TagData:
    name: str
    size: int
    digest: str
    url: str
    created: str
    recipe: bool


@dataclass
class NamespaceData:
    org: str
    repo: str
    description: str
    body: str
    tags: list[TagData] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.org}/{self.repo}"


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def make_tag(rng: random.Random, ns: str, name: str, index: int) -> TagData:
    digest = _digest(f"{ns}:{name}:{rng.random()}")
    return TagData(
        name=name,
        size=rng.randrange(5_000_000, 900_000_000),
        digest=digest,
        url=f"https://storage.example.org/{ns}/{digest[7:19]}.sif",
        created=f"2024-{1 + index % 12:02d}-{1 + rng.randrange(28):02d}"
        f"T10:{rng.randrange(60):02d}:00Z",
        recipe=name == "latest",
    )


def synthetic_registry(n: int, tags: int, seed: int) -> list[NamespaceData]:
    """N namespaces x T tags, the same for the same (n, tags, seed)."""
    rng = random.Random(seed)
    orgs = [
        f"{ORG_WORDS[i % len(ORG_WORDS)]}{i // len(ORG_WORDS) or ''}"
        for i in range(max(1, n // 10))
    ]
    out = []
    for i in range(n):
        org = orgs[i % len(orgs)]
        word = rng.choice(WORDS)
        repo = f"{word}-{i:05d}"
        description = f"{word.capitalize()} image number {i}, built by CI, kept in object storage"
        body = (
            f"## About\n\nThis container packages **{word}** for the cluster. "
            f"It is rebuilt weekly from [its recipe](https://github.com/{org}/{repo}).\n\n"
            "- runs on every node\n- needs no root\n"
        )
        ns = NamespaceData(org, repo, description, body)
        names = ["latest"] + [f"{1 + t // 3}.{t % 3}" for t in range(tags - 1)]
        ns.tags = [make_tag(rng, ns.name, name, t) for t, name in enumerate(names)]
        out.append(ns)
    return out


def manifest_text(tag: TagData) -> str:
    return (
        "---\nlayout: manifests/singularity\n"
        f"size: {tag.size}\ndigest: {tag.digest}\nlayers:\n"
        f'- size: {tag.size}\n  digest: "{tag.digest}"\n  url: "{tag.url}"\n'
        f'created: "{tag.created}"\n---\n'
    )


def write_manifest(root: Path, ns: NamespaceData, tag: TagData, contents: bool = False) -> None:
    folder = root / ns.org / ns.repo / "manifests" / tag.name
    folder.mkdir(parents=True, exist_ok=True)
    text = manifest_text(tag)
    if contents:
        facts, record = contents_record(ns, tag)
        text = text[: -len("---\n")] + facts + "---\n"
        (folder / "contents.json").write_text(json.dumps(record, indent=0))
    (folder / "README.md").write_text(text)
    if tag.recipe:
        (folder / "Singularity").write_text(f"Bootstrap: docker\nFrom: {ns.repo}:{tag.name}\n")


#: commands every generated image holds (the worst case of a search: in every tag)
BASE_COMMANDS = ["bash", "sh", "ls", "cat", "env", "grep", "sed", "tar", "python3", "perl"]
#: the OS packages generated images draw from
LIBRARIES = [f"lib{word}{n}" for word in WORDS for n in range(60)]


def contents_record(ns: NamespaceData, tag: TagData) -> tuple[str, dict[str, Any]]:
    """What a generated image holds (its tool as a command and a conda package at
    a version, the base commands, 20 OS libraries, a tag-dependent pick), and the
    manifest's ``sif:`` lines (architecture, a signature on some, labels), the
    same for the same namespace and tag."""
    rng = random.Random(f"{ns.name}:{tag.name}")
    tool = ns.repo.rsplit("-", 1)[0]
    version = f"1.{rng.randrange(10, 20)}"
    packages = [{"name": tool, "type": "conda", "version": version}]
    packages += [
        {"name": lib, "type": "deb", "version": f"{rng.randrange(1, 4)}.{rng.randrange(10)}-1"}
        for lib in sorted(rng.sample(LIBRARIES, 20))
    ]
    record = {
        "contentsVersion": 1,
        "executables": [{"path": f"/usr/bin/{c}"} for c in BASE_COMMANDS]
        + [{"path": f"/opt/conda/bin/{tool}"}],
        "packages": packages,
    }
    arch = "arm64" if rng.random() < 0.1 else "amd64"
    facts = f"sif:\n  arch: {arch}\n"
    if rng.random() < 0.3:
        fingerprint = hashlib.sha1(ns.org.encode()).hexdigest().upper()
        facts += f"  signatures:\n  - fingerprint: {fingerprint}\n"
    facts += f'  labels:\n    org.label-schema.name: "{tool}"\n    maintainer: "{ns.org}"\n'
    if rng.random() < 0.05:
        facts += 'deprecated: "Superseded by a newer tag"\n'
    return facts, record


def write_extension_project(
    src: Path, registry: list[NamespaceData], theme: str, contents: bool = False
) -> None:
    """The manifest tree in the original format, with a conf.py and index.md
    (*contents*: each tag with a ``contents.json`` record and a ``sif:`` block,
    :func:`contents_record`)."""
    src.mkdir(parents=True)
    (src / "conf.py").write_text(EXT_CONF + CONF_COMMON.format(theme=theme))
    (src / "index.md").write_text(EXT_INDEX)
    for ns in registry:
        folder = src / ns.org / ns.repo
        (folder / "tags").mkdir(parents=True)
        (folder / "README.md").write_text(
            f"---\nlayout: collection\ndescription: {json.dumps(ns.description)}\n---\n\n{ns.body}"
        )
        (folder / "tags" / "README.md").write_text("---\nlayout: tags\n---\n")
        for tag in ns.tags:
            write_manifest(src, ns, tag, contents)


def commit_tree(src: Path, registry: list[NamespaceData], commits: int) -> None:
    """Make *src* a git repository holding the tree in *commits* commits (the
    namespaces added a slice at a time, a day apart), so the extension reads
    each tag's history (orgreg_history) as a registry's Pages build does."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str, date: str = "") -> None:
        extra = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}
        subprocess.run(
            [
                "git",
                "-C",
                str(src),
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@example.org",
                *args,
            ],
            env={**env, **extra},
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    (src / ".gitignore").write_text("_build/\n")
    for index in range(commits):
        paths = [".gitignore", "conf.py", "index.md"] if index == 0 else []
        paths += [f"{ns.org}/{ns.repo}" for ns in registry[index::commits]]
        if paths:
            git("add", "--", *paths)
            git(
                "commit",
                "-q",
                "-m",
                f"part {index + 1}",
                date=f"2024-01-{index % 28 + 1:02d}T12:00:00Z",
            )


def as_model(ns: NamespaceData) -> Any:
    """The extension's model of *ns* (to show the same usage examples)."""
    from orgreg_sphinx.core import model

    tags = tuple(
        model.Tag(
            name=t.name,
            size=t.size,
            digest=t.digest,
            layers=(model.Layer(size=t.size, digest=t.digest, url=t.url),),
            extra={"created": t.created},
        )
        for t in sorted(ns.tags, key=lambda t: t.name)
    )
    return model.Namespace(
        org=ns.org,
        repo=ns.repo,
        path=Path(ns.name),
        description=ns.description,
        body=ns.body,
        tags=tags,
    )


def plain_page(ns: NamespaceData) -> str:
    """What the extension's namespace page shows, as a hand-written MyST page:
    title, description, README, the usage examples of every client, tag table."""
    from orgreg_sphinx.core import clients
    from orgreg_sphinx.sphinxext import shared

    lines = [f"# {ns.name}", "", ns.description, "", ns.body, "## Usage", ""]
    for tab in clients.usage_tabs(as_model(ns), ""):
        lines += [f"### {tab.label}", "", tab.intro, "", "```console", *tab.lines, "```", ""]
    lines += [
        "Set `html_baseurl` (or `orgreg_site_url`) in conf.py to show this registry's "
        "real address here.",
        "",
        "## Tags",
        "",
        "| Image | Tag | Size | Digest | Created | Download | Recipe |",
        "|---|---|---|---|---|---|---|",
    ]
    for tag in sorted(ns.tags, key=lambda t: t.name):
        recipe = (
            f"[Singularity](https://github.com/{ns.name}/blob/main/Singularity)"
            if tag.recipe
            else ""
        )
        lines.append(
            f"| `{ns.name}:{tag.name}` | **{tag.name}** | {shared.human_size(tag.size)} | "
            f"`{tag.digest[:19]}` | {tag.created} | [download]({tag.url}) | {recipe} |"
        )
    return "\n".join(lines) + "\n"


def plain_index(registry: list[NamespaceData]) -> str:
    lines = [INTRO, "| Namespace | Description | Tags | Updated |", "|---|---|---|---|"]
    for ns in sorted(registry, key=lambda n: n.name):
        updated = max(t.created for t in ns.tags)[:10]
        lines.append(
            f"| [{ns.name}]({ns.org}/{ns.repo}/index.md) | {ns.description} | "
            f"{len(ns.tags)} | {updated} |"
        )
    lines += ["", "```{toctree}", ":hidden:", ":titlesonly:", ":maxdepth: 1", ""]
    lines += [f"{ns.org}/{ns.repo}/index" for ns in sorted(registry, key=lambda n: n.name)]
    lines += ["```", ""]
    return "\n".join(lines)


MINIMAL_CONF = """\
extensions = ["myst_parser"]
project = "Benchmark registry"
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_sidebars = {"**": []}
"""


def minimal_page(ns: NamespaceData) -> str:
    """The minimal floor's page: title, description, a plain tag table."""
    lines = [
        f"# {ns.name}",
        "",
        ns.description,
        "",
        "| Tag | Size | Digest | Created | Download |",
        "|---|---|---|---|---|",
    ]
    for tag in sorted(ns.tags, key=lambda t: t.name):
        lines.append(
            f"| {tag.name} | {tag.size} | {tag.digest} | {tag.created} | [download]({tag.url}) |"
        )
    return "\n".join(lines) + "\n"


def write_minimal_project(src: Path, tree: Path, registry: list[NamespaceData]) -> None:
    """The minimal floor: its Sphinx project in *src*, its manifest tree (read by
    bench/bare_json.py) in *tree*."""
    src.mkdir(parents=True)
    (src / "conf.py").write_text(MINIMAL_CONF)
    (src / "index.md").write_text(plain_index(registry))
    for ns in registry:
        folder = src / ns.org / ns.repo
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(minimal_page(ns))
    write_extension_project(tree, registry, "alabaster")


def write_plain_project(src: Path, registry: list[NamespaceData], theme: str) -> None:
    src.mkdir(parents=True)
    (src / "conf.py").write_text(PLAIN_CONF + CONF_COMMON.format(theme=theme))
    (src / "index.md").write_text(plain_index(registry))
    for ns in registry:
        folder = src / ns.org / ns.repo
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(plain_page(ns))


# --------------------------------------------------------------------------- builds


@dataclass
class Run:
    seconds: float
    #: user + system CPU time of the build (less sensitive to a busy machine)
    cpu: float
    max_rss_mib: float
    returncode: int
    warnings: int


def sphinx_build(
    src: Path,
    out: Path,
    doctrees: Path,
    log: Path,
    jobs: int = 1,
    json_tree: Path | None = None,
    pythonpath: str = "",
) -> Run:
    """Run sphinx-build in a child process; wall time and the child's peak RSS.
    With *json_tree* (the minimal floor), then also bench/bare_json.py on that
    tree into the same output folder: the figures are the sum (peak: the larger)."""
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees)]
    if jobs > 1:
        cmd += ["-j", str(jobs)]
    cmd += [str(src), str(out)]
    run = timed(cmd, src, log, pythonpath)
    if json_tree is None:
        return run
    script = timed([sys.executable, str(HERE / "bare_json.py"), str(json_tree), str(out)], src, log)
    return Run(
        run.seconds + script.seconds,
        run.cpu + script.cpu,
        max(run.max_rss_mib, script.max_rss_mib),
        run.returncode,
        run.warnings,
    )


def timed(cmd: list[str], cwd: Path, log: Path, pythonpath: str = "") -> Run:
    """Run *cmd* in a child process; wall time, CPU time and the child's peak RSS.
    With *pythonpath*, the child imports orgreg_sphinx from there first."""
    env = {**os.environ, "PYTHONPATH": pythonpath} if pythonpath else None
    with open(log, "ab") as handle:
        handle.write(f"\n$ {' '.join(cmd)}\n".encode())
        handle.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.PIPE, cwd=cwd, env=env)
        stderr = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        handle.write(stderr)
    if proc.returncode != 0:
        sys.exit(f"{cmd[2] if cmd[1] == '-m' else cmd[1]} failed ({proc.returncode}); see {log}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024, proc.returncode, stderr.count(b"WARNING"))


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """(mtime_ns, inode, size) of every file below *folder*."""
    out = {}
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            path = os.path.join(dirpath, name)
            info = os.stat(path)
            out[os.path.relpath(path, folder)] = (info.st_mtime_ns, info.st_ino, info.st_size)
    return out


def rewritten(before: dict, after: dict) -> list[str]:
    """Files written (changed, created or removed) between two snapshots."""
    changed = [rel for rel, info in after.items() if before.get(rel) != info]
    return sorted(changed + [rel for rel in before if rel not in after])


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        rel: hashlib.sha256((folder / rel).read_bytes()).hexdigest() for rel in snapshot(folder)
    }


SPHINX_OWN = (
    "genindex.html",
    "404.html",  # the orgreg theme's, an extra page written every build as Sphinx's are
    "search.html",
    "searchindex.js",
    "objects.inv",
    ".buildinfo",
    ".nojekyll",
)


def kind(rel: str) -> str:
    """``page`` (HTML of a document), ``endpoint`` (JSON API, recipe copies) or
    ``sphinx`` (what Sphinx rewrites on every build: indices, static files)."""
    if rel in SPHINX_OWN or rel.startswith("_static/"):
        return "sphinx"
    if rel.startswith(("api/", "v2/")) or "/tags/" in rel or "/manifests/" in rel:
        return "endpoint"
    return "page" if rel.endswith(".html") else "sphinx"


def kinds(files: list[str]) -> dict[str, int]:
    """How many of *files* are pages, endpoints and Sphinx's own files."""
    counts = {"page": 0, "endpoint": 0, "sphinx": 0}
    for rel in files:
        counts[kind(rel)] += 1
    return counts


# --------------------------------------------------------------------------- site size

#: the kinds of published files, in the order they are printed (issue 28)
SITE_KINDS = (
    "manifests/<tag>/index.html (JSON)",
    "manifests/<tag>/index.json",
    "manifests/<tag>/Singularity",
    "tags/index.html + index.json",
    "api/container/* (shub)",
    "v2/ (OCI layout)",
    "namespace pages",
    "namespace SHA256SUMS, urls.txt, downloads.curl",
    "home page (index.html)",
    "api/catalog.json",
    "api/ bulk lists",
    "api/ other",
    "searchindex.js",
    "objects.inv",
    "_static",
    "other",
)
PAGES_LIMIT = 1024**3  # GitHub Pages: published sites may be no larger than 1 GB
PAGE_LIMIT = 200 * 1000  # issue 28: every HTML page a person opens <= 200 KB
SITE_BUDGET = 400 * 1000**2  # issue 28: the published site <= 400 MB (decimal) ...
SITE_BUDGET_TAGS = 100_000  # ... at 100,000 tags
TAG_BUDGET = SITE_BUDGET // SITE_BUDGET_TAGS  # = 4,000 B per tag on average


def site_kind(rel: str) -> str:
    """Which kind of published file *rel* is (:data:`SITE_KINDS`)."""
    parts = rel.split("/")
    if rel.startswith("_static/"):
        return "_static"
    if rel.startswith("v2/"):
        return "v2/ (OCI layout)"
    if rel.startswith("api/container/"):
        return "api/container/* (shub)"
    if rel == "api/catalog.json":
        return rel
    if rel in ("api/SHA256SUMS", "api/urls.txt", "api/downloads.curl"):
        return "api/ bulk lists"
    if rel.startswith("api/"):
        return "api/ other"
    if rel == "index.html":
        return "home page (index.html)"
    if rel in ("searchindex.js", "objects.inv"):
        return rel
    if len(parts) == 5 and parts[2] == "manifests":
        name = parts[4]
        if name == "index.html":
            return "manifests/<tag>/index.html (JSON)"
        if name in ("index.json", "Singularity"):
            return f"manifests/<tag>/{name}"
    if len(parts) == 4 and parts[2] == "tags" and parts[3] in ("index.html", "index.json"):
        return "tags/index.html + index.json"
    if len(parts) == 3 and parts[2] == "index.html":
        return "namespace pages"
    if len(parts) == 3 and parts[2] in ("SHA256SUMS", "urls.txt", "downloads.curl"):
        return "namespace SHA256SUMS, urls.txt, downloads.curl"
    return "other"


#: the deflate level actions/upload-artifact compresses with (its ``compression-level``
#: default), which the Pages artifact's tar goes through before it is stored
ARTIFACT_LEVEL = 6


def pages_tar_command(folder: Path, target: Path | str) -> list[str]:
    """The tar command actions/upload-pages-artifact (v3) runs on *folder*, writing
    *target* (``-``: the standard output)."""
    return [
        "tar",
        "--dereference",
        "--hard-dereference",
        "--directory",
        str(folder),
        "-cf",
        str(target),
        "--exclude=.git",
        "--exclude=.github",
        ".",
    ]


def tar_size(folder: Path) -> tuple[int, int]:
    """Bytes of the tar that actions/upload-pages-artifact makes of *folder* (its own
    command): what GitHub Pages counts against its 1 GB (512-byte headers and blocks,
    so each small file costs at least 1 KB); and of the same tar deflated at
    :data:`ARTIFACT_LEVEL` (gzip), about what upload-artifact stores and a
    deploy downloads."""
    proc = subprocess.Popen(pages_tar_command(folder, "-"), stdout=subprocess.PIPE)
    total = compressed = 0
    packer = zlib.compressobj(ARTIFACT_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
    assert proc.stdout is not None
    while chunk := proc.stdout.read(1 << 20):
        total += len(chunk)
        compressed += len(packer.compress(chunk))
    compressed += len(packer.flush())
    if proc.wait() != 0:
        sys.exit(f"tar of {folder} failed")
    return total, compressed


@dataclass
class Site:
    """What a build published: bytes and files in all and by kind, the tar."""

    bytes: int = 0
    files: int = 0
    folders: int = 0
    tar_bytes: int = 0
    #: the tar deflated (gzip, level 6): about what the Pages artifact stores
    tar_gz_bytes: int = 0
    tags: int = 0
    largest_page: str = ""
    largest_page_bytes: int = 0
    search_bytes: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [files, bytes]


def site_figures(out: Path, tags: int) -> Site:
    """Measure the published output *out* (no doctrees) of a registry of *tags* tags."""
    site = Site(tags=tags, by_kind={k: [0, 0] for k in SITE_KINDS})
    for dirpath, dirnames, filenames in os.walk(out):
        site.folders += len(dirnames)
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, out).replace(os.sep, "/")
            size = os.stat(path).st_size
            kind = site_kind(rel)
            site.bytes += size
            site.files += 1
            site.by_kind[kind][0] += 1
            site.by_kind[kind][1] += size
            person = kind in ("namespace pages", "home page (index.html)", "other")
            if person and rel.endswith(".html") and size > site.largest_page_bytes:
                site.largest_page, site.largest_page_bytes = rel, size
            if rel == "searchindex.js":
                site.search_bytes = size
    site.tar_bytes, site.tar_gz_bytes = tar_size(out)
    return site


def print_sites(results: list[dict]) -> None:
    """What the published site costs, in all and by kind of file (issue 28)."""
    for res in results:
        site: Site | None = res["ext"].site
        if site is None:
            continue
        n, tags = res["n"], site.tags
        print(
            f"\nN={n} x {res['tags']} tags ({tags} tags): published site {site.bytes / 1e6:.1f} MB "
            f"in {site.files} files and {site.folders} folders ({site.bytes / tags:.0f} B per "
            f"tag); as the Pages artifact (tar) {site.tar_bytes / 1e6:.1f} MB "
            f"({site.tar_bytes / tags:.0f} B per tag), deflated (tar.gz, level "
            f"{ARTIFACT_LEVEL}) {site.tar_gz_bytes / 1e6:.1f} MB "
            f"({site.tar_gz_bytes / tags:.0f} B per tag); largest page {site.largest_page} "
            f"{site.largest_page_bytes / 1e3:.0f} KB; search downloads searchindex.js "
            f"{site.search_bytes / 1e3:.0f} KB per query"
        )
        print(f"  {'kind':48} {'files':>7} {'MB':>8} {'B/tag':>7} {'share':>6}")
        for kind in SITE_KINDS:
            files, size = site.by_kind[kind]
            if files:
                print(
                    f"  {kind:48} {files:7d} {size / 1e6:8.2f} {size / tags:7.0f} "
                    f"{100 * size / site.bytes:5.1f}%"
                )


@dataclass
class Variant:
    """Figures of one project (extension or plain) at one size."""

    full: Run
    noop: Run
    edit: Run
    add: Run
    #: None when the -j build was skipped (--skip parallel)
    parallel: Run | None
    files: int = 0
    noop_rewritten: list[str] = field(default_factory=list)
    edit_rewritten: list[str] = field(default_factory=list)
    add_rewritten: list[str] = field(default_factory=list)
    parallel_differs: list[str] = field(default_factory=list)
    site: Site | None = None


def measure(
    name: str,
    work: Path,
    src: Path,
    edit,
    add,
    jobs: int,
    json_tree: Path | None = None,
    best_of: int = 1,
    pythonpath: str = "",
    tags: int = 0,
    parallel_build: bool = True,
) -> Variant:
    """Full build (-j 1), -j N build of the same tree (unless not
    *parallel_build*), then rebuilds of the first; with *tags*, the published
    site's figures after the full build."""
    out, doctrees = work / "html", work / "doctrees"
    out2, doctrees2 = work / "html-j", work / "doctrees-j"
    log = work / "build.log"

    def build(out: Path, doctrees: Path, jobs: int = 1) -> Run:
        return sphinx_build(src, out, doctrees, log, jobs, json_tree, pythonpath)

    print(f"  {name}: full build", flush=True)
    full = build(out, doctrees)
    for _ in range(best_of - 1):  # best of several, each from nothing
        shutil.rmtree(out)
        shutil.rmtree(doctrees)
        print(f"  {name}: full build again", flush=True)
        again = build(out, doctrees)
        full = again if again.seconds < full.seconds else full
    site = site_figures(out, tags) if tags else None
    parallel: Run | None = None
    differs: list[str] = []
    if parallel_build:
        print(f"  {name}: full build -j {jobs}", flush=True)
        parallel = build(out2, doctrees2, jobs)
        first, second = tree_hashes(out), tree_hashes(out2)
        differs = sorted(
            rel for rel in set(first) | set(second) if first.get(rel) != second.get(rel)
        )
        shutil.rmtree(out2)
        shutil.rmtree(doctrees2)
    before = snapshot(out)
    print(f"  {name}: no-op rebuild", flush=True)
    noop = build(out, doctrees)
    after_noop = snapshot(out)
    edit()
    print(f"  {name}: rebuild after editing one manifest", flush=True)
    edited = build(out, doctrees)
    after_edit = snapshot(out)
    add()
    print(f"  {name}: rebuild after adding one tag", flush=True)
    added = build(out, doctrees)
    after_add = snapshot(out)
    return Variant(
        full=full,
        noop=noop,
        edit=edited,
        add=added,
        parallel=parallel,
        files=len(before),
        noop_rewritten=rewritten(before, after_noop),
        edit_rewritten=rewritten(after_noop, after_edit),
        add_rewritten=rewritten(after_edit, after_add),
        parallel_differs=differs,
        site=site,
    )


def bench_size(
    n: int,
    tags: int,
    seed: int,
    workdir: Path,
    theme: str,
    jobs: int,
    commits: int = 0,
    best_of: int = 1,
    baseline: Path | None = None,
    skip: frozenset[str] = frozenset(),
) -> dict:
    """Build the extension's tree, the minimal floor, and unless skipped the
    plain-Sphinx project (and the baseline's copy of the extension's tree, with
    *baseline*); with *commits*, the extension's trees (the baseline's too) are
    git repositories, so both read the history."""
    print(f"N = {n} namespaces x {tags} tags", flush=True)
    registry = synthetic_registry(n, tags, seed)
    base = workdir / f"n{n}"
    shutil.rmtree(base, ignore_errors=True)
    ext_src, plain_src = base / "ext" / "src", base / "plain" / "src"
    minimal_src, minimal_tree = base / "minimal" / "src", base / "minimal" / "tree"
    write_extension_project(ext_src, registry, theme)
    if "plain" not in skip:
        write_plain_project(plain_src, registry, theme)
    write_minimal_project(minimal_src, minimal_tree, registry)
    base_src = base / "baseline" / "src"
    if baseline is not None:
        write_extension_project(base_src, registry, theme)
    if commits:
        commit_tree(ext_src, registry, commits)
        if baseline is not None:  # the same history on: before and after read it
            commit_tree(base_src, registry, commits)
    target = registry[len(registry) // 2]
    rng = random.Random(seed + 1)
    new_digest = _digest(f"edited:{target.name}")
    new_tag = make_tag(rng, target.name, "9.9", 0)

    def ext_edit(src: Path = ext_src) -> None:
        tag = target.tags[1] if len(target.tags) > 1 else target.tags[0]
        path = src / target.org / target.repo / "manifests" / tag.name / "README.md"
        path.write_text(path.read_text().replace(tag.digest, new_digest))

    def ext_add(src: Path = ext_src) -> None:
        write_manifest(src, target, new_tag)

    def plain_edit() -> None:
        tag = target.tags[1] if len(target.tags) > 1 else target.tags[0]
        path = plain_src / target.org / target.repo / "index.md"
        path.write_text(path.read_text().replace(tag.digest[:19], new_digest[:19]))

    def plain_add() -> None:
        target.tags.append(new_tag)
        (plain_src / target.org / target.repo / "index.md").write_text(plain_page(target))
        (plain_src / "index.md").write_text(plain_index(registry))
        target.tags.remove(new_tag)

    def minimal_edit() -> None:
        tag = target.tags[1] if len(target.tags) > 1 else target.tags[0]
        page = minimal_src / target.org / target.repo / "index.md"
        page.write_text(page.read_text().replace(tag.digest, new_digest))
        path = minimal_tree / target.org / target.repo / "manifests" / tag.name / "README.md"
        path.write_text(path.read_text().replace(tag.digest, new_digest))

    def minimal_add() -> None:
        target.tags.append(new_tag)
        (minimal_src / target.org / target.repo / "index.md").write_text(minimal_page(target))
        (minimal_src / "index.md").write_text(plain_index(registry))
        target.tags.remove(new_tag)
        write_manifest(minimal_tree, target, new_tag)

    ext = measure(
        "extension",
        base / "ext",
        ext_src,
        ext_edit,
        ext_add,
        jobs,
        best_of=best_of,
        tags=sum(len(ns.tags) for ns in registry),
        parallel_build="parallel" not in skip,
    )
    plain = None
    if "plain" not in skip:
        plain = measure(
            "plain Sphinx",
            base / "plain",
            plain_src,
            plain_edit,
            plain_add,
            jobs,
            best_of=best_of,
            parallel_build="parallel" not in skip,
        )
    minimal = measure(
        "minimal floor",
        base / "minimal",
        minimal_src,
        minimal_edit,
        minimal_add,
        jobs,
        json_tree=minimal_tree,
        best_of=best_of,
        parallel_build="parallel" not in skip,
    )
    result = {
        "n": n,
        "tags": tags,
        "git_commits": commits,
        "namespace": target.name,
        "ext": ext,
        "plain": plain,
        "minimal": minimal,
    }
    if baseline is not None:
        result["baseline"] = measure(
            f"extension from {baseline}",
            base / "baseline",
            base_src,
            lambda: ext_edit(base_src),
            lambda: ext_add(base_src),
            jobs,
            best_of=best_of,
            pythonpath=str(baseline),
            parallel_build="parallel" not in skip,
        )
    return result


def memory_only(n: int, tags: int, seed: int, workdir: Path, theme: str) -> Run:
    print(f"N = {n}: extension full build for peak memory", flush=True)
    base = workdir / f"mem{n}"
    shutil.rmtree(base, ignore_errors=True)
    src = base / "src"
    write_extension_project(src, synthetic_registry(n, tags, seed), theme)
    return sphinx_build(src, base / "html", base / "doctrees", base / "build.log")


# --------------------------------------------------------------------------- report


def print_report(results: list[dict], memory: Run | None, jobs: int) -> None:
    rows = []
    for res in results:
        ext, plain = res["ext"], res["plain"]
        n = res["n"]

        def line(label: str, e: Run, p: Run | None, note: str = "", n: int = n) -> None:
            if p is None:  # --skip plain
                rows.append(
                    (
                        f"N={n}",
                        label,
                        f"{e.seconds:7.2f}",
                        "-",
                        "-",
                        f"{e.cpu:7.2f}",
                        "-",
                        "-",
                        note,
                    )
                )
                return
            ratio = e.seconds / p.seconds if p.seconds else float("nan")
            cpu_ratio = e.cpu / p.cpu if p.cpu else float("nan")
            rows.append(
                (
                    f"N={n}",
                    label,
                    f"{e.seconds:7.2f}",
                    f"{p.seconds:7.2f}",
                    f"{ratio:5.2f}x",
                    f"{e.cpu:7.2f}",
                    f"{p.cpu:7.2f}",
                    f"{cpu_ratio:5.2f}x",
                    note,
                )
            )

        def written(files: list[str]) -> str:
            k = kinds(files)
            return (
                f"rewrote {k['page']} pages, {k['endpoint']} endpoints "
                f"(+{k['sphinx']} Sphinx files)"
            )

        plain_peak = f" (plain {plain.full.max_rss_mib:.0f})" if plain is not None else ""
        line(
            "full build",
            ext.full,
            plain.full if plain is not None else None,
            f"{ext.files} files out; peak {ext.full.max_rss_mib:.0f} MiB{plain_peak}",
        )
        line(
            "no-op rebuild",
            ext.noop,
            plain.noop if plain is not None else None,
            written(ext.noop_rewritten),
        )
        line(
            "edit one manifest",
            ext.edit,
            plain.edit if plain is not None else None,
            written(ext.edit_rewritten) + f"; {100 * ext.edit.seconds / ext.full.seconds:.0f}%"
            " of full",
        )
        line(
            "add one tag",
            ext.add,
            plain.add if plain is not None else None,
            written(ext.add_rewritten),
        )
        if ext.parallel is not None:
            same = (
                "same output"
                if not ext.parallel_differs
                else f"{len(ext.parallel_differs)} files differ"
            )
            line(
                f"full build -j {jobs}",
                ext.parallel,
                plain.parallel if plain is not None else None,
                f"{same}; {ext.full.seconds / ext.parallel.seconds:.2f}x faster than -j 1; "
                f"peak {ext.parallel.max_rss_mib:.0f} MiB",
            )
    headers = (
        "size",
        "measure",
        "ext s",
        "plain s",
        "ratio",
        "ext cpu",
        "plain cpu",
        "ratio",
        "notes",
    )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    for a, b in zip(results, results[1:], strict=False):
        wall = b["ext"].full.seconds / a["ext"].full.seconds
        cpu = b["ext"].full.cpu / a["ext"].full.cpu
        plain_growth = ""
        if a["plain"] is not None and b["plain"] is not None:
            plain_growth = f"; plain Sphinx {b['plain'].full.cpu / a['plain'].full.cpu:.2f}x cpu"
        print(
            f"\ngrowth N={a['n']} -> N={b['n']} ({b['n'] / a['n']:.1f}x the namespaces), "
            f"full build: extension {wall:.2f}x wall, {cpu:.2f}x cpu{plain_growth}"
        )
    if memory is not None:
        print(
            f"\nextension at N={memory_n}: full build {memory.seconds:.1f} s "
            f"({memory.cpu:.1f} s cpu), peak memory {memory.max_rss_mib:.0f} MiB"
        )
    for res in results:
        ext = res["ext"]
        print(
            f"\nN={res['n']}: pages and endpoints rewritten by editing one manifest of "
            f"{res['namespace']}:"
        )
        for rel in ext.edit_rewritten:
            if kind(rel) != "sphinx":
                print(f"    {rel}")
        noop = [rel for rel in ext.noop_rewritten if kind(rel) != "sphinx"]
        if noop:
            print(
                f"N={res['n']}: pages and endpoints rewritten by the no-op rebuild: "
                f"{', '.join(noop[:20])}"
            )
        if ext.parallel_differs:
            print(
                f"N={res['n']}: -j 1 and -j {jobs} differ in: "
                f"{', '.join(ext.parallel_differs[:20])}"
            )


def print_floor(results: list[dict], jobs: int) -> None:
    """The extension against the minimal floor (issue 17), measured in the same run."""
    headers = (
        "size",
        "measure",
        "ext s",
        "floor s",
        "ratio",
        "ext cpu",
        "floor cpu",
        "ratio",
        "notes",
    )
    rows = []
    for res in results:
        ext, floor = res["ext"], res["minimal"]
        for label, e, f in (
            ("full build", ext.full, floor.full),
            ("no-op rebuild", ext.noop, floor.noop),
            ("edit one manifest", ext.edit, floor.edit),
            ("add one tag", ext.add, floor.add),
            (f"full build -j {jobs}", ext.parallel, floor.parallel),
        ):
            if e is None or f is None:  # --skip parallel
                continue
            note = ""
            if label == "full build":
                note = (
                    f"peak {e.max_rss_mib:.0f} MiB (floor {f.max_rss_mib:.0f}); floor "
                    f"{floor.files} files out"
                )
            elif label in ("edit one manifest", "add one tag"):
                note = f"{100 * e.seconds / ext.full.seconds:.1f}% of the extension's full build"
            rows.append(
                (
                    f"N={res['n']}",
                    label,
                    f"{e.seconds:7.2f}",
                    f"{f.seconds:7.2f}",
                    f"{e.seconds / f.seconds:5.2f}x",
                    f"{e.cpu:7.2f}",
                    f"{f.cpu:7.2f}",
                    f"{e.cpu / f.cpu:5.2f}x",
                    note,
                )
            )
    if not rows:
        return
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print(
        "\nthe extension against the minimal floor (plain Sphinx + MyST, alabaster without "
        "sidebars, title + description + plain tag table per namespace, plus "
        "bench/bare_json.py writing the JSON files):"
    )
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def print_baseline(results: list[dict], baseline: Path | None, jobs: int) -> None:
    """Before (the extension from *baseline*) and after (this checkout), same run."""
    if baseline is None:
        return
    headers = (
        "size",
        "measure",
        "before s",
        "after s",
        "after/before",
        "before cpu",
        "after cpu",
        "floor s",
    )
    rows = []
    for res in results:
        before, after, floor = res["baseline"], res["ext"], res["minimal"]
        for label in ("full", "noop", "edit", "add", "parallel"):
            b, a, f = getattr(before, label), getattr(after, label), getattr(floor, label)
            if b is None or a is None or f is None:  # --skip parallel
                continue
            name = {
                "full": "full build",
                "noop": "no-op rebuild",
                "edit": "edit one manifest",
                "add": "add one tag",
                "parallel": f"full build -j {jobs}",
            }[label]
            rows.append(
                (
                    f"N={res['n']}",
                    name,
                    f"{b.seconds:7.2f}",
                    f"{a.seconds:7.2f}",
                    f"{a.seconds / b.seconds:5.2f}x",
                    f"{b.cpu:7.2f}",
                    f"{a.cpu:7.2f}",
                    f"{f.seconds:7.2f}",
                )
            )
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    print(f"\nbefore (the extension from {baseline}) and after (this checkout), same run:")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def print_floor_targets(results: list[dict], memory: Run | None, jobs: int) -> None:
    """Issue 17's targets, each MET or MISSED with its figures (nothing is asserted)."""
    lines = []

    def verdict(ok: bool) -> str:
        return "MET   " if ok else "MISSED"

    for res in results:
        ext, floor, n = res["ext"], res["minimal"], res["n"]
        wall, cpu = ext.full.seconds / floor.full.seconds, ext.full.cpu / floor.full.cpu
        lines.append(
            f"{verdict(wall <= 1.0)} N={n} full build <= 1.0x the minimal floor: "
            f"{ext.full.seconds:.1f} s vs {floor.full.seconds:.1f} s = {wall:.2f}x "
            f"wall ({cpu:.2f}x cpu)"
        )
        extra = ext.noop.seconds - floor.noop.seconds
        lines.append(
            f"{verdict(extra <= 0.5)} N={n} no-op rebuild <= the floor's + 0.5 s: "
            f"{ext.noop.seconds:.2f} s vs {floor.noop.seconds:.2f} s "
            f"({extra:+.2f} s)"
        )
        share = ext.edit.seconds / ext.full.seconds
        lines.append(
            f"{verdict(share <= 0.05)} N={n} one edited manifest <= 5% of the full "
            f"build: {ext.edit.seconds:.2f} s = {100 * share:.1f}%"
        )
        share = ext.add.seconds / ext.full.seconds
        lines.append(
            f"{verdict(share <= 0.08)} N={n} one added tag <= 8% of the full build: "
            f"{ext.add.seconds:.2f} s = {100 * share:.1f}%"
        )
        if ext.parallel is not None:
            lines.append(
                f"{verdict(not ext.parallel_differs)} N={n} -j {jobs} output identical to "
                f"-j 1: {len(ext.parallel_differs)} files differ"
            )
    if memory is not None:
        lines.append(
            f"{verdict(memory.max_rss_mib < 1024)} N={memory_n} peak memory < 1 GiB: "
            f"{memory.max_rss_mib:.0f} MiB"
        )
    if lines:
        print("\ntargets of issue 17 (against the minimal floor, same run):")
        for line in lines:
            print(f"  {line}")


def print_targets(results: list[dict], memory: Run | None) -> None:
    """The issue's targets, each met or missed (for reading; nothing is asserted)."""
    by_n = {r["n"]: r for r in results}
    lines = []

    def verdict(ok: bool) -> str:
        return "met   " if ok else "MISSED"

    if 1000 in by_n and by_n[1000]["plain"] is not None:
        ext, plain = by_n[1000]["ext"], by_n[1000]["plain"]
        wall, cpu = ext.full.seconds / plain.full.seconds, ext.full.cpu / plain.full.cpu
        lines.append(
            f"{verdict(wall <= 1.1)} full build N=1000 <= 1.1x plain Sphinx: "
            f"{wall:.2f}x wall, {cpu:.2f}x cpu"
        )
        pages_endpoints = [f for f in ext.noop_rewritten if kind(f) != "sphinx"]
        lines.append(
            f"{verdict(ext.noop.seconds < 3 and not pages_endpoints)} no-op rebuild "
            f"N=1000 < 3 s, rewriting no page or endpoint: {ext.noop.seconds:.2f} s, "
            f"{len(pages_endpoints)} rewritten"
        )
    if 1000 in by_n and 3000 in by_n:
        wall = by_n[3000]["ext"].full.seconds / by_n[1000]["ext"].full.seconds
        cpu = by_n[3000]["ext"].full.cpu / by_n[1000]["ext"].full.cpu
        lines.append(
            f"{verdict(wall <= 3.3)} full build N=3000 <= 3.3x N=1000: "
            f"{wall:.2f}x wall, {cpu:.2f}x cpu"
        )
    for res in results:
        ext, n, name = res["ext"], res["n"], res["namespace"]
        changed = [f for f in ext.edit_rewritten if kind(f) != "sphinx"]
        own = all(
            f == "index.html"
            or f.startswith(
                (f"{name}/", "api/catalog.json", "api/SHA256SUMS", f"api/container/{name}:")
            )
            for f in changed
        )
        share = ext.edit.seconds / ext.full.seconds
        lines.append(
            f"{verdict(own and share < 0.05)} N={n} one edited manifest rewrites only "
            f"its page, the pages listing it and its endpoints ({len(changed)} of "
            f"{ext.files} files), in < 5% of the full build: {100 * share:.1f}%"
        )
        if ext.parallel is not None:
            faster = ext.parallel.seconds < ext.full.seconds
            lines.append(
                f"{verdict(not ext.parallel_differs and faster)} N={n} -j 2 same output "
                f"as -j 1 ({len(ext.parallel_differs)} files differ) and faster: "
                f"{ext.parallel.seconds:.1f} s vs {ext.full.seconds:.1f} s"
            )
    if memory is not None:
        lines.append(
            f"{verdict(memory.max_rss_mib < 1024)} peak memory N={memory_n} < 1 GiB: "
            f"{memory.max_rss_mib:.0f} MiB"
        )
    if lines:
        print("\ntargets of issue 7:")
        for line in lines:
            print(f"  {line}")


def print_scale_targets(results: list[dict], memory: Run | None, deploys: dict) -> None:
    """Issue 28's targets (stated for N=10,000 x 10), each MET or MISSED at every
    size measured, with its figures (nothing is asserted)."""
    lines = []

    def verdict(ok: bool) -> str:
        return "MET   " if ok else "MISSED"

    for res in results:
        ext, floor, n = res["ext"], res["minimal"], res["n"]
        at = f"N={n}x{res['tags']}"
        wall, cpu = ext.full.seconds / floor.full.seconds, ext.full.cpu / floor.full.cpu
        lines.append(
            f"{verdict(cpu <= 0.7)} {at} full build <= 0.7x the minimal floor: "
            f"{ext.full.cpu:.1f} s vs {floor.full.cpu:.1f} s cpu = {cpu:.2f}x "
            f"({wall:.2f}x wall: {ext.full.seconds:.1f} s vs {floor.full.seconds:.1f} s)"
        )
        lines.append(
            f"{verdict(ext.full.max_rss_mib <= 1024)} {at} peak memory <= 1 GiB: "
            f"{ext.full.max_rss_mib:.0f} MiB"
        )
        site = ext.site
        if site is not None:
            # the published site's size is its files' bytes (the lead's choice); the
            # tar (headers, folders) is what GitHub Pages' 1 GB counts
            per_tag = site.bytes / site.tags
            lines.append(
                f"{verdict(per_tag <= TAG_BUDGET)} {at} published site <= {TAG_BUDGET:,} B per "
                f"tag (issue 28: {SITE_BUDGET / 1e6:.0f} MB at {SITE_BUDGET_TAGS:,} tags), "
                f"measured as the files' bytes: {per_tag:.0f} B per tag, "
                f"{per_tag * SITE_BUDGET_TAGS / 1e6:.1f} MB at {SITE_BUDGET_TAGS:,} tags "
                f"({site.bytes / 1e6:.1f} MB in {site.files} files; the tar "
                f"{site.tar_bytes / site.tags:.0f} B per tag, tar.gz "
                f"{site.tar_gz_bytes / site.tags:.0f} B per tag)"
            )
            lines.append(
                f"{verdict(site.tar_bytes <= PAGES_LIMIT)} {at} site within GitHub Pages' "
                f"1 GB, measured as the artifact's tar: {site.tar_bytes / 1e6:.1f} MB "
                f"(tar.gz {site.tar_gz_bytes / 1e6:.1f} MB)"
            )
            lines.append(
                f"{verdict(site.largest_page_bytes <= PAGE_LIMIT)} {at} every HTML page "
                f"<= 200 KB: largest {site.largest_page} {site.largest_page_bytes / 1e3:.0f} KB"
            )
            lines.append(
                f"{verdict(site.search_bytes <= PAGE_LIMIT)} {at} search download per query "
                f"bounded (<= 200 KB): searchindex.js {site.search_bytes / 1e3:.0f} KB"
            )
        extra = ext.noop.cpu - floor.noop.cpu
        history = "history on" if res.get("git_commits") else "no git: run with --git"
        lines.append(
            f"{verdict(extra <= 0.5)} {at} no-op rebuild <= the floor's + 0.5 s ({history}): "
            f"{ext.noop.cpu:.2f} s vs {floor.noop.cpu:.2f} s cpu ({extra:+.2f} s; wall "
            f"{ext.noop.seconds:.2f} s vs {floor.noop.seconds:.2f} s)"
        )
        lines.append(
            f"{verdict(ext.edit.cpu <= floor.edit.cpu)} {at} one edited manifest <= "
            f"the floor's edit ({history}): {ext.edit.cpu:.2f} s vs "
            f"{floor.edit.cpu:.2f} s cpu (wall {ext.edit.seconds:.2f} s vs "
            f"{floor.edit.seconds:.2f} s)"
        )
        runs = deploys.get(n)
        if runs is not None:
            cached, uncached = runs[1], runs[2]
            share = cached.cpu() / uncached.cpu()
            lines.append(
                f"{verdict(share <= 0.10)} {at} one added tag deploys in <= 10% of a full "
                f"build (the Pages workflow's build steps, bench/deploy.py): cpu "
                f"{cached.cpu():.1f} s with the restored build vs {uncached.cpu():.1f} s "
                f"without = {100 * share:.1f}% (wall {cached.build_seconds():.1f} s vs "
                f"{uncached.build_seconds():.1f} s = "
                f"{100 * cached.build_seconds() / uncached.build_seconds():.1f}%)"
            )
        else:
            lines.append(f"(not run) {at} deploy with the cache: run with --deploy")
    if memory is not None:
        lines.append(
            f"{verdict(memory.max_rss_mib <= 1024)} N={memory_n} peak memory <= 1 GiB: "
            f"{memory.max_rss_mib:.0f} MiB"
        )
    if lines:
        print(
            "\ntargets of issue 28 (stated for N=10,000 x 10; same run; times judged in CPU "
            "seconds, user+sys, which a shared machine disturbs less than wall times):"
        )
        for line in lines:
            print(f"  {line}")


memory_n = 0
#: what --skip may leave out
SKIPPABLE = frozenset({"plain", "parallel"})


def main(argv: list[str] | None = None) -> int:
    global memory_n
    import deploy  # bench/deploy.py, beside this script

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="100,1000,3000",
        help="comma-separated numbers of namespaces (default: 100,1000,3000)",
    )
    parser.add_argument("--tags", type=int, default=5, help="tags per namespace (default: 5)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the tree generator")
    parser.add_argument("--jobs", type=int, default=2, help="workers of the parallel build")
    parser.add_argument("--theme", default="orgreg", help="html_theme of both projects")
    parser.add_argument(
        "--best-of",
        type=int,
        default=2,
        metavar="K",
        help="full builds of each project: the fastest counts (default: 2)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also measure the extension imported from DIR (another checkout, "
        "e.g. `git archive main | tar -x -C DIR`), in the same run",
    )
    parser.add_argument(
        "--memory-size",
        type=int,
        default=0,
        help="also build the extension once at this size for peak memory",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=REPO / "_build" / "bench",
        help="where the projects are generated and built",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--skip",
        default="",
        metavar="PARTS",
        help="comma-separated parts left out: 'plain' (the plain-Sphinx project), "
        "'parallel' (the -j builds of every project); e.g. --skip plain,parallel at "
        "N=10000 on two cores",
    )
    parser.add_argument(
        "--git-commits",
        type=int,
        default=0,
        metavar="K",
        help="commit the extension's tree in K commits to a git repository "
        "first, so builds read the tags' history (default: 0, no git)",
    )
    parser.add_argument(
        "--git",
        action="store_true",
        help="the git-repository mode: --git-commits 10 unless given",
    )
    parser.add_argument(
        "--deploy",
        action="store_true",
        help="also run the Pages workflow's build job at each size (bench/deploy.py): "
        "cold, one tag added with the restored build, the same without",
    )
    parser.add_argument(
        "--contents-gib",
        type=float,
        default=1.0,
        metavar="G",
        help="also report the contents reading time per GiB on a G GiB SIF image "
        "(bench/contents.py; needs mksquashfs and siftool; 0: skip; default: 1)",
    )
    parser.add_argument(
        "--search-sizes",
        default="1000,10000",
        metavar="N,N",
        help="also report what one search of the software index downloads at these "
        "numbers of namespaces (bench/search.py; empty: skip; default: 1000,10000)",
    )
    parser.add_argument(
        "--search-pagefind",
        action="store_true",
        help="also measure Pagefind on the same names (needs pagefind[bin] and chromium)",
    )
    args = parser.parse_args(argv)
    skip = frozenset(part.strip() for part in args.skip.split(",") if part.strip())
    unknown = skip - SKIPPABLE
    if unknown:
        parser.error(f"--skip: unknown part(s) {', '.join(sorted(unknown))}")
    if args.git and not args.git_commits:
        args.git_commits = 10
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [
        bench_size(
            n,
            args.tags,
            args.seed,
            args.workdir,
            args.theme,
            args.jobs,
            args.git_commits,
            args.best_of,
            args.baseline,
            skip,
        )
        for n in sizes
    ]
    deploys: dict[int, Any] = {}
    if args.deploy:
        for n in sizes:
            print(f"N = {n}: the Pages workflow's build job, three times", flush=True)
            deploys[n] = deploy.deploy_runs(
                n, args.tags, args.seed, args.git_commits or 10, args.workdir / f"deploy{n}"
            )
    memory = None
    if args.memory_size:
        memory_n = args.memory_size
        memory = memory_only(args.memory_size, args.tags, args.seed, args.workdir, args.theme)
    print_report(results, memory, args.jobs)
    print_floor(results, args.jobs)
    print_baseline(results, args.baseline, args.jobs)
    print_targets(results, memory)
    print_floor_targets(results, memory, args.jobs)
    print_sites(results)
    for n, runs in deploys.items():
        print(f"\nN={n}: the Pages workflow's build job (bench/deploy.py), seconds per step:")
        deploy.print_runs(runs)
    print_scale_targets(results, memory, deploys)
    contents_figures = None
    if args.contents_gib > 0:
        from contents import bench_contents  # bench/contents.py

        contents_figures = bench_contents(args.workdir, args.contents_gib)
    search_figures = None
    search_sizes = [int(s) for s in args.search_sizes.split(",") if s.strip()]
    if search_sizes:
        from search import bench_search, print_search  # bench/search.py

        search_figures = bench_search(
            args.workdir, search_sizes, args.tags, args.seed, args.search_pagefind
        )
        print_search(search_figures, args.tags)
    print(
        f"\nbenchmark took {time.perf_counter() - started:.0f} s "
        f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)"
    )
    if args.json:
        data = {
            "results": [
                {k: asdict(v) if isinstance(v, Variant) else v for k, v in r.items()}
                for r in results
            ],
            "memory": asdict(memory) if memory else None,
            "contents": contents_figures,
            "search": search_figures,
        }
        args.json.write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
