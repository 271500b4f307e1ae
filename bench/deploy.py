"""Deploy with and without the restored build: the Pages workflow's build job,
run on this machine (issue 28).

It writes a registry repository as ``orgreg init`` does (its ``pages.yml``
included), puts a synthetic manifest tree of N namespaces x T tags into
``source/`` in K commits, then runs the build job of that repository's own
``.github/workflows/pages.yml`` step by step, three times, each in a fresh
checkout at the same path (as a runner's workspace):

1. ``cold``: no cache (the first deploy); its caches are saved;
2. ``cached``: one tag added and committed, the caches restored;
3. ``uncached``: the same commit, no cache (what every deploy cost before).

``run:`` steps run as written (``bash -e -c``, with the step's ``env:`` and
``if:``); the ``uses:`` steps are done here as the actions do them: checkout
(``git clone``), ``actions/cache`` (exact key, else the newest entry starting
with a restore key; saved at the end of the job when the key was not hit; its
archive made and extracted with the commands of @actions/cache's ``tar.ts``:
``tar --posix`` (file times survive to the nanosecond) through ``zstdmt``, or
gzip where zstd is not installed, :func:`cache_commands`; the download and
upload are not emulated, the archive's size is shown),
``actions/upload-pages-artifact`` (its ``tar --dereference --hard-dereference``,
whose size is what Pages checks), ``actions/upload-artifact`` (the file's size
shown; the upload is not emulated, nor counted). Each job's artifact is kept
beside the workspace (``<label>-artifact.tar``), and the cached deploy's is
compared member by member with the uncached one's. The Python environment is prepared once (a
virtual environment that sees this checkout's packages, offline) and stands in
the ``venv`` cache, a hit in every run. Prints the time of every step.

    python bench/deploy.py [--namespaces 1000] [--tags 10] [--git-commits 10]
        [--reuse] [--drop-caches] [--repeat K]
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import platform
import re
import resource
import shlex
import shutil
import site
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import run as bench  # noqa: E402

SITE_URL = "https://acme.github.io/registry/"
WORKFLOW = ".github/workflows/pages.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def cache_commands() -> tuple[str, str, str]:
    """actions/cache's archive name, and its commands to make it (in a temporary
    folder, from the paths listed in its manifest.txt) and to extract it into the
    workspace: @actions/toolkit packages/cache/src/internal/tar.ts with GNU tar
    on Linux, through zstd when ``zstd --quiet --version`` answers
    (``CompressionMethod.ZstdWithoutLong``), else gzip (``cacheUtils.ts``)."""
    if shutil.which("zstd"):
        name, make, extract = (
            "cache.tzst",
            "--use-compress-program zstdmt",
            "--use-compress-program unzstd",
        )
    else:
        name, make, extract = "cache.tgz", "-z", "-z"
    return (
        name,
        f"tar --posix -cf {name} --exclude {name} -P -C {{workspace}} "
        f"--files-from manifest.txt {make}",
        f"tar -xf {{archive}} -P -C {{workspace}} {extract}",
    )


#: the steps a deploy's build time counts: ``run:``, the caches' restore and save
BUILD_KINDS = ("run", "uses:actions/cache", "post")


def git(cwd: Path, *args: str, date: str = "") -> str:
    extra = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {}
    done = subprocess.run(
        ["git", "-C", str(cwd), "-c", "user.name=bench", "-c", "user.email=b@example.org", *args],
        env={**os.environ, **GIT_ENV, **extra},
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


# --------------------------------------------------------------------------- expressions


def hash_files(workspace: Path, patterns: list[str]) -> str:
    """``hashFiles(...)``: the sha256 of the sha256 of every file matched (in
    path order); '' when nothing matches."""
    matched: list[str] = []
    for folder, folders, files in os.walk(workspace):
        folders[:] = sorted(f for f in folders if f != ".git")
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(folder, name), workspace).replace(os.sep, "/")
            if any(fnmatch.fnmatchcase(rel, p.replace("**", "*")) for p in patterns):
                matched.append(rel)
    if not matched:
        return ""
    outer = hashlib.sha256()
    for rel in sorted(matched):
        outer.update(hashlib.sha256((workspace / rel).read_bytes()).digest())
    return outer.hexdigest()


@dataclass
class Context:
    """What expressions read: the workspace, the commit, steps' outputs."""

    workspace: Path
    sha: str
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, expression: str) -> str:
        if expression == "runner.os":
            return "Linux"
        if expression == "github.sha":
            return self.sha
        found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if found:
            return self.outputs.get(found[1], {}).get(found[2], "")
        found = re.fullmatch(r"hashFiles\((.*)\)", expression)
        if found:
            patterns = [p.strip().strip("'\"") for p in found[1].split(",")]
            return hash_files(self.workspace, patterns)
        raise ValueError(f"expression not emulated: {expression}")

    def expand(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m[1]), text)

    def condition(self, text: str) -> bool:
        found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)\s*(==|!=)\s*'([^']*)'", text)
        if not found:
            raise ValueError(f"condition not emulated: {text}")
        same = self.outputs.get(found[1], {}).get(found[2], "") == found[4]
        return same if found[3] == "==" else not same


# --------------------------------------------------------------------------- the job


def job_steps(workflow: Path) -> list[dict[str, Any]]:
    """The steps of the workflow's ``build`` job."""
    return list(yaml.safe_load(workflow.read_text())["jobs"]["build"]["steps"])


def cache_entries(store: Path, prefix: str) -> list[Path]:
    """Saved cache archives whose key starts with *prefix*, newest first."""
    suffix = Path(cache_commands()[0]).suffix
    found = [p for p in store.glob(f"*{suffix}") if p.name.startswith(prefix)]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def children_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class StepRun:
    name: str
    kind: str  # "run", "uses:<action>", "skipped"
    seconds: float
    note: str = ""
    #: CPU seconds of the step's processes (less sensitive to a busy machine)
    cpu: float = 0.0


@dataclass
class JobRun:
    label: str
    steps: list[StepRun]
    artifact_bytes: int = 0
    artifact_files: int = 0
    log: str = ""

    def seconds(self, kinds: tuple[str, ...] = ()) -> float:
        return sum(s.seconds for s in self.steps if not kinds or s.kind in kinds)

    def cpu(self, kinds: tuple[str, ...] = BUILD_KINDS) -> float:
        return sum(s.cpu for s in self.steps if s.kind in kinds)

    def build_seconds(self) -> float:
        """The build steps' time: the ``run:`` steps, the caches' restore and save."""
        return self.seconds(BUILD_KINDS)

    def step(self, name: str) -> StepRun:
        [found] = [s for s in self.steps if s.name == name]
        return found


def run_job(
    origin: Path,
    workspace: Path,
    store: Path,
    label: str,
    use_cache: bool = True,
    prepare_venv: Callable[[Path], None] | None = None,
) -> JobRun:
    """The build job of *origin*'s Pages workflow in a fresh clone at *workspace*."""
    shutil.rmtree(workspace, ignore_errors=True)
    store.mkdir(parents=True, exist_ok=True)
    steps: list[StepRun] = []
    logs: list[str] = []
    start = time.perf_counter()
    git(origin.parent, "clone", "-q", str(origin), str(workspace))
    clone_seconds = time.perf_counter() - start
    context = Context(workspace, git(workspace, "rev-parse", "HEAD").strip())
    saves: list[tuple[str, list[str]]] = []  # (key, paths) saved at the end of the job
    artifact = (0, 0)
    kept_artifact = workspace.parent / f"{label}-artifact.tar"
    kept_artifact.unlink(missing_ok=True)
    for step in job_steps(workspace / WORKFLOW):
        name = step.get("name", step.get("uses", step.get("run", "")))
        if "if" in step and not context.condition(step["if"]):
            steps.append(StepRun(name, "skipped", 0.0))
            continue
        start, cpu = time.perf_counter(), children_cpu()
        note = ""
        if "run" in step:
            env = {
                **os.environ,
                **{k: context.expand(str(v)) for k, v in step.get("env", {}).items()},
            }
            env.pop("PYTHONPATH", None)
            done = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            logs.append(f"$ {step['run']}\n{done.stdout}{done.stderr}")
            if done.returncode != 0:
                raise SystemExit(f"step {name!r} failed:\n{done.stdout}\n{done.stderr}")
            note = (done.stdout.strip().splitlines() or [""])[-1][:100]
            steps.append(
                StepRun(name, "run", time.perf_counter() - start, note, children_cpu() - cpu)
            )
            continue
        action = step["uses"].split("@")[0]
        inputs = {k: str(v) for k, v in step.get("with", {}).items()}
        outputs: dict[str, str] = {}
        if action == "actions/setup-python":
            outputs["python-version"] = platform.python_version()
        elif action == "actions/configure-pages":
            outputs["base_url"] = SITE_URL.rstrip("/")
        elif action == "actions/cache":
            key = context.expand(inputs["key"])
            paths = inputs["path"].split()
            path = " ".join(paths)
            restore = [
                context.expand(k).strip() for k in inputs.get("restore-keys", "").splitlines()
            ]
            hit = False
            found: Path | None = None
            if use_cache or path == ".venv":
                exact = store / f"{key}{Path(cache_commands()[0]).suffix}"
                if exact.is_file():
                    found, hit = exact, True
                else:
                    for prefix in filter(None, restore):
                        entries = cache_entries(store, prefix)
                        if entries:
                            found = entries[0]
                            break
            if found is not None:
                command = cache_commands()[2].format(
                    archive=shlex.quote(str(found)), workspace=shlex.quote(str(workspace))
                )
                subprocess.run(shlex.split(command), check=True)
                size = found.stat().st_size / 1e6
                note = f"restored {'exactly' if hit else 'by prefix'} ({size:.1f} MB)"
            elif path == ".venv" and prepare_venv is not None:
                prepare_venv(workspace / ".venv")
                note = "prepared offline (stands in for a hit)"
                hit = True
            else:
                note = "miss"
            outputs["cache-hit"] = "true" if hit else "false"
            if not hit:
                saves.append((key, paths))
        elif action == "actions/upload-pages-artifact":
            tar = workspace.parent / f"{workspace.name}-artifact.tar"
            folder = workspace / inputs.get("path", "_site")
            pages_tar(folder, tar)
            artifact = (tar.stat().st_size, sum(1 for p in folder.rglob("*") if p.is_file()))
            tar.rename(kept_artifact)
            note = f"{artifact[0] / 1e6:.1f} MB tar, {artifact[1]} files"
        elif action == "actions/upload-artifact":
            [file] = [workspace / p for p in inputs["path"].split()]
            os.link(file, kept_artifact)  # (the next job's checkout removes the workspace)
            from orgreg_sphinx.core.sitearchive import SiteArchive  # (orgreg site-archive's)

            count = SiteArchive.load(file.parent).members.files() or len(tar_members(file)[0])
            artifact = (file.stat().st_size, count)
            note = f"{inputs.get('name')}: {artifact[0] / 1e6:.1f} MB tar, {artifact[1]} files"
        elif action == "actions/checkout":
            start -= clone_seconds  # done first, to read the workflow from the checkout
            note = "git clone"
        else:
            raise SystemExit(f"action not emulated: {action}")
        context.outputs[step.get("id", "")] = outputs
        seconds = time.perf_counter() - start
        steps.append(StepRun(name, f"uses:{action}", seconds, note, children_cpu() - cpu))
    for key, paths in saves:  # the cache action's post step
        start, cpu = time.perf_counter(), children_cpu()
        present = [p for p in paths if (workspace / p).exists()]
        if present and use_cache:
            folder = store / f"{key}.part"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            (folder / "manifest.txt").write_text("\n".join(present))
            name, make, _ = cache_commands()
            command = make.format(workspace=shlex.quote(str(workspace)))
            subprocess.run(shlex.split(command), cwd=folder, check=True)
            archive = store / f"{key}{Path(name).suffix}"
            (folder / name).rename(archive)
            shutil.rmtree(folder)
            note = f"saved {archive.stat().st_size / 1e6:.1f} MB"
        else:
            note = "not saved"
        seconds = time.perf_counter() - start
        name = f"Post: save {' '.join(paths)}"
        steps.append(StepRun(name, "post", seconds, note, children_cpu() - cpu))
    job = JobRun(label, steps, artifact[0], artifact[1], "\n".join(logs))
    (workspace.parent / f"{label}.log").write_text(job.log)
    return job


# --------------------------------------------------------------------------- artifacts


def pages_tar(folder: Path, tar: Path) -> Path:
    """The tar actions/upload-pages-artifact (v3) makes of *folder*."""
    subprocess.run(bench.pages_tar_command(folder, tar), check=True)
    return tar


def tar_members(tar: Path) -> tuple[dict[str, str], set[str]]:
    """The files of a tar (name -> sha256 of the bytes) and its folders' names."""
    files: dict[str, str] = {}
    folders: set[str] = set()
    with tarfile.open(tar) as archive:
        for member in archive:
            if member.isdir():
                folders.add(member.name.rstrip("/") or ".")
            elif member.isfile():
                handle = archive.extractfile(member)
                assert handle is not None
                files[member.name] = hashlib.sha256(handle.read()).hexdigest()
            else:
                raise ValueError(f"{tar}: {member.name} is neither a file nor a folder")
    return files, folders


#: files that may differ between two builds of the same tree by design (none so far:
#: Sphinx's .buildinfo holds hashes of the configuration, not times)
DIFFER_BY_DESIGN: frozenset[str] = frozenset()


def compare_artifacts(first: Path, second: Path) -> list[str]:
    """What differs between two Pages artifacts (members, bytes), besides
    :data:`DIFFER_BY_DESIGN`: one line each, none when they hold the same site."""
    files_a, folders_a = tar_members(first)
    files_b, folders_b = tar_members(second)
    found = [f"only in {first.name}: {n}" for n in sorted(set(files_a) - set(files_b))]
    found += [f"only in {second.name}: {n}" for n in sorted(set(files_b) - set(files_a))]
    found += [
        f"bytes differ: {n}"
        for n in sorted(set(files_a) & set(files_b))
        if files_a[n] != files_b[n] and n.removeprefix("./") not in DIFFER_BY_DESIGN
    ]
    found += [f"folder only in {first.name}: {n}" for n in sorted(folders_a - folders_b)]
    found += [f"folder only in {second.name}: {n}" for n in sorted(folders_b - folders_a)]
    return found


# --------------------------------------------------------------------------- the registry


def offline_venv(folder: Path) -> None:
    """A virtual environment that sees this checkout's installed packages (no
    download), with the console scripts the Makefile runs and its stamp."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    [packages] = (folder / "lib").glob("python*/site-packages")
    (packages / "orgreg-bench.pth").write_text(
        "\n".join([str(REPO), *site.getsitepackages()]) + "\n"
    )
    scripts = {
        "sphinx-build": "from sphinx.cmd.build import main",
        "orgreg": "from orgreg_sphinx.cli import main",
    }
    for name, line in scripts.items():
        script = folder / "bin" / name
        script.write_text(f"#!{folder / 'bin' / 'python'}\nimport sys\n{line}\nsys.exit(main())\n")
        script.chmod(0o755)
    (folder / ".installed").touch()


def make_registry(origin: Path, n: int, tags: int, seed: int, commits: int) -> Any:
    """A registry repository as ``orgreg init`` writes it, holding N x T tags in
    *commits* commits; returns the bench's registry (to add a tag later)."""
    shutil.rmtree(origin, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "orgreg_sphinx",
            "init",
            str(origin),
            "--org",
            "acme",
            "--url",
            SITE_URL,
        ],
        check=True,
        capture_output=True,
    )
    registry = bench.synthetic_registry(n, tags, seed)
    source = origin / "source"
    git(origin, "init", "-q", "-b", "main")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "orgreg init", date="2024-01-01T12:00:00Z")
    for index in range(max(1, commits)):
        part = registry[index :: max(1, commits)]
        for ns in part:
            folder = source / ns.org / ns.repo
            (folder / "tags").mkdir(parents=True)
            (folder / "README.md").write_text(
                f"---\nlayout: collection\ndescription: {ns.description!r}\n---\n\n{ns.body}"
            )
            (folder / "tags" / "README.md").write_text("---\nlayout: tags\n---\n")
            for tag in ns.tags:
                bench.write_manifest(source, ns, tag)
        git(origin, "add", "-A")
        git(
            origin,
            "commit",
            "-q",
            "-m",
            f"part {index + 1}",
            date=f"2024-02-{index % 28 + 1:02d}T12:00:00Z",
        )
    return registry


def use_this_workflow(origin: Path) -> None:
    """Commit into *origin* (made by an earlier run) the ``pages.yml`` that this
    checkout's ``orgreg init`` writes, when it differs."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "registry"
        subprocess.run(
            [sys.executable, "-m", "orgreg_sphinx", "init", str(fresh), "--org", "acme"]
            + ["--url", SITE_URL],
            check=True,
            capture_output=True,
        )
        data = (fresh / WORKFLOW).read_bytes()
    if (origin / WORKFLOW).read_bytes() != data:
        (origin / WORKFLOW).write_bytes(data)
        git(origin, "add", WORKFLOW)
        git(origin, "commit", "-q", "-m", "This checkout's workflow", date="2024-02-28T12:00:00Z")


def drop_page_cache() -> str:
    """Empty the kernel's page cache, as a fresh runner's is ('' when done, else
    why not: it needs root). A full cache makes every write reclaim memory first,
    and that system time would be counted to whichever step writes."""
    subprocess.run(["sync"], check=False)
    try:
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
    except OSError as error:
        return f"page cache not dropped: {error}"
    return ""


def add_tag(origin: Path, registry: Any, seed: int) -> str:
    """Add and commit one tag (as a merged pull request); its namespace. The
    tag's name is new in every run on the same *origin*."""
    import random

    target = registry[len(registry) // 2]
    name = f"9.{int(git(origin, 'rev-list', '--count', 'HEAD'))}"
    tag = bench.make_tag(random.Random(seed + 1), target.name, name, 0)
    bench.write_manifest(origin / "source", target, tag)
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", f"Update {target.name}", date="2024-03-01T12:00:00Z")
    return str(target.name)


def deploy_runs(
    n: int,
    tags: int,
    seed: int,
    commits: int,
    workdir: Path,
    reuse: bool = False,
    drop_caches: bool = False,
    repeat: int = 1,
) -> tuple[JobRun, list[tuple[JobRun, JobRun]]]:
    """cold (no cache), then *repeat* times: cached (one tag added, caches
    restored) and uncached (the same commit). With *reuse*, the registry an
    earlier run made in *workdir* (the same sizes and seed) is used again, with
    this checkout's workflow; with *drop_caches*, each job starts with an empty
    page cache (:func:`drop_page_cache`)."""
    origin, workspace, store = workdir / "origin", workdir / "workspace", workdir / "caches"
    shutil.rmtree(store, ignore_errors=True)
    if reuse and (origin / ".git").is_dir():
        registry = bench.synthetic_registry(n, tags, seed)
        use_this_workflow(origin)
    else:
        registry = make_registry(origin, n, tags, seed, commits)

    def job(label: str, use_cache: bool = True) -> JobRun:
        if drop_caches and (problem := drop_page_cache()):
            print(problem)
        return run_job(
            origin, workspace, store, label, use_cache=use_cache, prepare_venv=offline_venv
        )

    cold = job("cold")
    pairs = []
    for round_ in range(1, max(1, repeat) + 1):
        add_tag(origin, registry, seed)
        suffix = "" if round_ == 1 else f"-{round_}"
        pairs.append((job(f"cached{suffix}"), job(f"uncached{suffix}", use_cache=False)))
    return cold, pairs


def print_runs(runs: tuple[JobRun, ...]) -> None:
    names: list[str] = []
    for job in runs:
        names += [s.name for s in job.steps if s.name not in names]
    width = max(len(n) for n in names)
    print(f"{'seconds (cpu seconds)':{width}}  " + "  ".join(f"{job.label:>15}" for job in runs))
    for name in names:
        cells = []
        for job in runs:
            found = [s for s in job.steps if s.name == name]
            if found and found[0].kind != "skipped":
                cells.append(f"{found[0].seconds:7.2f} ({found[0].cpu:5.1f})")
            else:
                cells.append(f"{'-':>15}")
        print(f"{name:{width}}  " + "  ".join(cells))
    for job in runs:
        notes = "; ".join(f"{s.name}: {s.note}" for s in job.steps if s.note)
        print(f"  {job.label}: {notes}")
    print(
        f"{'build steps (run: + cache restore/save)':{width}}  "
        + "  ".join(f"{job.build_seconds():7.2f} ({job.cpu():5.1f})" for job in runs)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--git-commits", type=int, default=10, metavar="K")
    parser.add_argument("--workdir", type=Path, default=REPO / "_build" / "bench-deploy")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the registry an earlier run made in WORKDIR (same sizes and seed) "
        "again, with this checkout's workflow, and add another tag",
    )
    parser.add_argument(
        "--drop-caches",
        action="store_true",
        help="empty the page cache before each job, as on a fresh runner (needs root)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="K",
        help="add a tag and deploy with and without the cache K times (the verdict "
        "on the median ratio: a full build's CPU time varies between runs)",
    )
    args = parser.parse_args(argv)
    cold, pairs = deploy_runs(
        args.namespaces,
        args.tags,
        args.seed,
        args.git_commits,
        args.workdir,
        reuse=args.reuse,
        drop_caches=args.drop_caches,
        repeat=args.repeat,
    )
    print(f"\nPages workflow's build job, N={args.namespaces} x {args.tags} tags:")
    print_runs((cold, *(job for pair in pairs for job in pair)))
    walls, cpus = [], []
    for cached, uncached in pairs:
        walls.append(cached.build_seconds() / uncached.build_seconds())
        cpus.append(cached.cpu() / uncached.cpu())
        print(
            f"{cached.label}: {cached.build_seconds():.1f} s with the cache vs "
            f"{uncached.build_seconds():.1f} s without = {100 * walls[-1]:.1f}% "
            f"(cpu {cached.cpu():.1f} s vs {uncached.cpu():.1f} s = {100 * cpus[-1]:.1f}%)"
        )
        artifacts = [args.workdir / f"{job.label}-artifact.tar" for job in (cached, uncached)]
        if all(a.is_file() for a in artifacts):
            differences = compare_artifacts(*artifacts)
            print(
                f"  the cached deploy's artifact "
                f"{'holds' if not differences else 'DIFFERS from'} "
                f"the uncached one's members and bytes ({cached.artifact_files} files"
                + (f"; besides {', '.join(sorted(DIFFER_BY_DESIGN))}" if DIFFER_BY_DESIGN else "")
                + ")"
            )
            for line in differences[:20]:
                print(f"    {line}")
    for what, ratios in (("cpu", cpus), ("wall", walls)):
        share = statistics.median(ratios)
        verdict = "MET   " if share <= 0.10 else "MISSED"
        print(
            f"{verdict} one added tag deploys in <= 10% of a full build ({what}): "
            f"{100 * share:.1f}%" + (f" (median of {len(ratios)})" if len(ratios) > 1 else "")
        )
    print(f"(command: python bench/deploy.py {shlex.join(argv or sys.argv[1:])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
