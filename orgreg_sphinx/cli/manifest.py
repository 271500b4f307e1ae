"""Write the manifest of a built image into a registry tree.

Computes the image's size in bytes and its sha256 digest, and writes
<root>/<org>/<repo>/manifests/<tag>/README.md, plus the namespace's collection
README.md and tags/README.md when they are missing, so a container
repository's CI needs no templates. The tag comes from --tag, else from the
recipe's name (Singularity -> latest, Singularity.pancakes -> pancakes), else
it is 'latest'. The recipe, when given, is copied next to the manifest.

The URL is where the image was uploaded (http/https), or the oras:// reference
it was pushed to (apptainer push image.sif oras://ghcr.io/<org>/<repo>:<tag>):
digest and size are then those of the SIF, the registry's layer blob, and the
digest of the OCI manifest (what shpc pulls by) is read from the registry and
recorded as the layer's ``oci_manifest_digest`` (or given with
--oci-manifest-digest); a registry that holds another image is an error, one
that cannot be reached a warning (the tag is then left out of shpc's files).

What is inside a SIF image (architecture, partitions, signatures, SBOM,
definition file, labels) is read from its header and recorded as the extra key
``sif:``; a file that is not a SIF gets a warning and no such key. What its system
partition holds (executables, OS, conda and Python packages, its SBOMs' packages)
is recorded beside the manifest in ``manifests/<tag>/contents.json`` (a file of its
own, so that the manifest stays small whatever the image holds); an image whose
partition cannot be read gets a warning and no such file, an image without a system
partition (an OCI-SIF image) none (nor does ``--no-contents``).

Exit status: 0 written, 2 usage error (bad name, URL or tag; unreadable image).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..core import contents, names, sif, sifblock
from ..core.files import write_if_changed
from ..core.frontmatter import FrontMatterError, decode, parse
from ..core.model import KIB_THRESHOLD, RECIPE_FILE, Limits, printable, schema
from ..core.project import find_project
from . import answers, online, oras

RECIPE_RE = re.compile(r"^Singularity(?:\.(?P<tag>.+))?$")


class ManifestError(Exception):
    """Input that cannot make a valid manifest."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("image", help="the image file (a SIF)")
    parser.add_argument(
        "--namespace",
        required=True,
        metavar="ORG/REPO",
        help="the namespace, usually the container's GitHub repository",
    )
    parser.add_argument(
        "--url",
        required=True,
        help="where the image was uploaded: an http(s) URL, or "
        "oras://<host>/<name>:<tag> for an image pushed to an OCI "
        "registry with 'apptainer push'",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--recipe",
        metavar="FILE",
        help="the recipe it was built from: the tag is its name's suffix "
        "(Singularity -> latest, Singularity.pancakes -> pancakes)",
    )
    which.add_argument("--tag", help="the tag (default: from --recipe, else latest)")
    parser.add_argument(
        "--root", default=".", metavar="DIR", help="the manifest tree of the registry (default: .)"
    )
    parser.add_argument(
        "--created",
        metavar="TIME",
        help="creation time, ISO 8601 (default: now, or SOURCE_DATE_EPOCH); 'none' leaves it out",
    )
    parser.add_argument("--commit", metavar="SHA", help="the source commit (extra key 'commit')")
    parser.add_argument(
        "--recipe-path",
        metavar="PATH",
        help="the recipe's path in its repository (extra key 'recipe'; default: --recipe as given)",
    )
    parser.add_argument(
        "--description", default="", help="description for a new collection README.md"
    )
    parser.add_argument(
        "--oci-manifest-digest",
        metavar="DIGEST",
        help="with an oras:// --url: the sha256 digest of the image's OCI manifest (what shpc "
        "pulls by); default: read from the registry, which must then hold this image",
    )
    parser.add_argument(
        "--no-contents",
        action="store_true",
        help=f"do not record what the image holds (manifests/<tag>/{contents.RECORD_FILE})",
    )


def tag_from_recipe(recipe: str) -> str:
    """``Singularity`` -> ``latest``; ``Singularity.pancakes`` -> ``pancakes``."""
    name = Path(recipe).name
    match = RECIPE_RE.fullmatch(name)
    if not match:
        raise ManifestError(
            f"cannot take a tag from the recipe name {name!r}: recipes are named "
            "Singularity or Singularity.<tag>; give --tag"
        )
    return match.group("tag") or "latest"


def digest_file(path: Path) -> tuple[int, str]:
    """(size in bytes, ``sha256:<hex>``) of a file, read in chunks."""
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            size += len(chunk)
            hasher.update(chunk)
    return size, f"sha256:{hasher.hexdigest()}"


def created_time(value: str | None) -> str | None:
    """The creation time to record (UTC, ISO 8601), or None."""
    if value is not None:
        if value.strip().lower() in ("", "none"):
            return None
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ManifestError(f"--created {value!r} is not an ISO 8601 time") from None
        return value
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    else:
        moment = dt.datetime.now(dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


#: how long ``orgreg manifest`` waits for an OCI registry (one retry)
RESOLVE_SETTINGS = answers.Settings(jobs=1, timeout=15.0, retries=1)


def oci_manifest_digest(url: str, size: int, digest: str, given: str | None) -> str | None:
    """The OCI manifest digest to record for an ``oras://`` *url*: *given*, else
    read from the registry, whose SIF layer must be this image (*size*, *digest*);
    None with a warning when the registry cannot be read."""
    if given is not None:
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", given):
            raise ManifestError(f"--oci-manifest-digest {given!r} is not sha256:<64 hex>")
        return given
    ref = names.oras_reference(url)
    if ref is not None and ref.digest:
        return None  # the url is pinned: its digest is the OCI manifest's
    try:
        found, layer_digest, layer_size = oras.resolve(url, online.Checker(RESOLVE_SETTINGS))
    except answers.Failure as err:
        if err.code in ("online-missing", "online-media-type"):
            raise ManifestError(f"{url} {printable(err.message)}") from None
        print(
            f"orgreg manifest: warning: {url} {printable(err.message)}; its OCI manifest "
            "digest is not recorded, so shpc cannot install this tag (give "
            "--oci-manifest-digest, or run again where the registry can be reached)",
            file=sys.stderr,
        )
        return None
    if (layer_digest, layer_size) != (digest, size):
        raise ManifestError(
            f"{url} holds a SIF layer of digest {layer_digest} and {layer_size} bytes, "
            f"not this image ({digest}, {size} bytes): push it there first"
        )
    return found


def manifest_text(
    size: int, digest: str, url: str, extra: dict[str, Any], oci_digest: str | None = None
) -> str:
    """The README.md of a manifest, validated against the manifest schema."""
    layer: dict[str, Any] = {"size": size, "digest": digest, "url": url}
    if oci_digest is not None:
        layer["oci_manifest_digest"] = oci_digest
    data: dict[str, Any] = {
        "layout": "manifests/singularity",
        "size": size,
        "digest": digest,
        "layers": [layer],
    }
    data.update({k: v for k, v in extra.items() if v is not None})
    errors = list(jsonschema.Draft202012Validator(schema("manifest")).iter_errors(data))
    if errors:
        raise ManifestError(f"the manifest would be invalid: {errors[0].message}")
    front = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return f"---\n{front}---\n"


#: room kept below the registry's front-matter limit (what YAML escaping may add)
FIT_MARGIN = 1024


def _front_bytes(text: str) -> int:
    """The bytes of the front matter of a manifest's *text*."""
    return len(text.split("---\n", 2)[1].encode("utf-8"))


def fitted_manifest_text(
    size: int,
    digest: str,
    url: str,
    extra: dict[str, Any],
    limits: Limits | None = None,
    oci_digest: str | None = None,
) -> tuple[str, list[str]]:
    """:func:`manifest_text`, cut so that the registry accepts it, and warnings
    saying what was cut: labels beyond what a page shows (the first
    :data:`~.sifblock.MAX_ITEMS`, each key and value cut to
    :data:`~.sifblock.MAX_LABEL` characters), then the definition file's end,
    then labels from the end, until the front matter is within the limit."""
    limits = limits or Limits()
    budget = limits.max_front_matter - FIT_MARGIN
    warnings: list[str] = []
    block = extra.get("sif")
    if isinstance(block, dict):
        block = dict(block)
        labels = block.get("labels")
        if isinstance(labels, dict):
            kept = {
                str(k)[: sifblock.MAX_LABEL]: str(v)[: sifblock.MAX_LABEL]
                for k, v in list(labels.items())[: sifblock.MAX_ITEMS]
            }
            if len(kept) < len(labels) or any(
                len(str(k)) > sifblock.MAX_LABEL or len(str(v)) > sifblock.MAX_LABEL
                for k, v in list(labels.items())[: sifblock.MAX_ITEMS]
            ):
                warnings.append(
                    f"the image has {len(labels)} labels: the manifest keeps the first "
                    f"{len(kept)} (a page shows at most {sifblock.MAX_ITEMS}), each key and "
                    f"value cut to {sifblock.MAX_LABEL} characters"
                )
            block["labels"] = kept
        extra = {**extra, "sif": block}
    text = manifest_text(size, digest, url, extra, oci_digest)
    full = len(block.get("definition") or "") if isinstance(block, dict) else 0
    labels_before = len(block.get("labels") or {}) if isinstance(block, dict) else 0
    while isinstance(block, dict) and _front_bytes(text) > budget:
        over = _front_bytes(text) - budget
        definition = block.get("definition")
        labels = block.get("labels")
        if isinstance(definition, str) and definition:
            keep = max(0, len(definition) - over - 64)
            cut = definition[:keep]
            cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else cut
            block["definition"] = cut
        elif isinstance(labels, dict) and labels:
            items = list(labels.items())
            block["labels"] = dict(items[: max(0, len(items) - max(1, len(items) // 8))])
        else:
            break
        text = manifest_text(size, digest, url, {**extra, "sif": block}, oci_digest)
    if isinstance(block, dict):
        shown = len(block.get("definition") or "")
        if shown < full:
            warnings.append(
                f"the definition file is {full} characters: the manifest keeps its first "
                f"{shown}, to stay within the registry's limit of "
                f"{limits.max_front_matter} bytes of front matter"
            )
        labels_after = len(block.get("labels") or {})
        if labels_after < labels_before:
            warnings.append(
                f"the manifest keeps {labels_after} of {labels_before} labels, to stay within "
                f"the registry's limit of {limits.max_front_matter} bytes of front matter"
            )
    try:  # what the registry does with it: the model's own reader
        parse(decode(text.encode("utf-8")), max_front_matter=limits.max_front_matter)
    except FrontMatterError as err:
        raise ManifestError(f"the manifest would be refused: it {err.message}") from None
    return text, warnings


def sif_block(image: Path) -> dict[str, Any] | None:
    """The ``sif:`` block of the image (what is inside it), or None with a warning."""
    try:
        block, warnings = sif.summary(image)
    except sif.SifError as err:
        print(
            f"orgreg manifest: warning: {image}: {err}; no 'sif:' block recorded", file=sys.stderr
        )
        return None
    except OSError as err:
        raise ManifestError(f"cannot read {image}: {err.strerror}") from None
    for warning in warnings:
        print(f"orgreg manifest: warning: {image}: {warning}", file=sys.stderr)
    return block or None


def contents_record(image: Path) -> bytes | None:
    """The contents record of the image (what it holds), or None with a warning."""
    try:
        record = contents.read_contents(image)
    except contents.NoSystemPartition:
        return None  # nothing to read, nothing to say
    except (sif.SifError, contents.ContentsError) as err:
        print(
            f"orgreg manifest: warning: {image}: {err}; no {contents.RECORD_FILE} recorded",
            file=sys.stderr,
        )
        return None
    except OSError as err:
        raise ManifestError(f"cannot read {image}: {err.strerror}") from None
    for sbom in record.get("sboms", []):
        if "error" in sbom:
            print(
                f"orgreg manifest: warning: {image}: the {sbom['format']} SBOM object is "
                f"{sbom['error']}",
                file=sys.stderr,
            )
    if record.get("truncated"):
        print(
            f"orgreg manifest: warning: {image}: holds more than is recorded (the record "
            "stops at the reading limits)",
            file=sys.stderr,
        )
    return contents.dumps_record(record)


def collection_text(namespace: str, description: str) -> str:
    front = yaml.safe_dump(
        {"layout": "collection", "description": description}, sort_keys=False, allow_unicode=True
    )
    return (
        f"---\n{front}---\n\nContainers built by the CI of "
        f"[{namespace}](https://github.com/{namespace}).\n"
    )


TAGS_TEXT = "---\nlayout: tags\n---\n"


def run(args: argparse.Namespace) -> int:
    try:
        written = write_manifest(args)
    except ManifestError as err:
        print(f"orgreg manifest: error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def write_manifest(args: argparse.Namespace) -> list[Path]:
    """Write the files; returns those written."""
    refused = names.namespace_name_problem(args.namespace)
    if refused is not None:  # the reason the site build and 'orgreg check' would give
        raise ManifestError(f"--namespace {args.namespace!r} {printable(refused.message)}")
    org, _, repo = args.namespace.partition("/")
    tag = (
        args.tag
        if args.tag is not None
        else (tag_from_recipe(args.recipe) if args.recipe else "latest")
    )
    refused = names.tag_problem(tag)
    if refused is not None:
        raise ManifestError(f"tag {tag!r} is not valid: {printable(refused.message)}")
    if names.is_oras(args.url) and (problem := names.oras_problem(args.url)):
        raise ManifestError(f"--url {printable(problem)}")
    if args.oci_manifest_digest is not None and not names.is_oras(args.url):
        raise ManifestError("--oci-manifest-digest needs an oras:// --url")
    root = Path(args.root)
    if not root.is_dir():
        raise ManifestError(f"--root {args.root!r} is not a folder")
    project = find_project(root)
    if project is not None:  # the top of a registry project: write into its tree
        root = project.tree
        if not root.is_dir():
            raise ManifestError(
                f"{str(root)!r}, the manifest tree named by {project.conf} (orgreg_root), "
                "is not a folder"
            )
    image = Path(args.image)
    recipe_bytes = None
    try:
        size, digest = digest_file(image)
        if args.recipe:
            recipe_bytes = Path(args.recipe).read_bytes()
    except OSError as err:
        raise ManifestError(f"cannot read {err.filename}: {err.strerror}") from None
    extra = {
        "created": created_time(args.created),
        "commit": args.commit,
        "recipe": args.recipe_path or args.recipe,
        "sif": sif_block(image),
    }
    # a manifest with a sif: block is read in bytes whatever its size
    if size < KIB_THRESHOLD and not names.is_oras(args.url) and not extra["sif"]:
        print(
            f"orgreg manifest: warning: the image is only {size} bytes; readers of this "
            f"format take sizes below {KIB_THRESHOLD} as KiB",
            file=sys.stderr,
        )
    folder = root / org / repo
    tag_dir = folder / "manifests" / tag
    written = []
    oci_digest = (
        oci_manifest_digest(args.url, size, digest, args.oci_manifest_digest)
        if names.is_oras(args.url)
        else None
    )
    text, cuts = fitted_manifest_text(size, digest, args.url, extra, oci_digest=oci_digest)
    for cut in cuts:
        print(f"orgreg manifest: warning: {image}: {cut}", file=sys.stderr)
    if write_if_changed(tag_dir / "README.md", text.encode("utf-8")):
        written.append(tag_dir / "README.md")
    if recipe_bytes is not None and write_if_changed(tag_dir / RECIPE_FILE, recipe_bytes):
        written.append(tag_dir / RECIPE_FILE)
    record_file = tag_dir / contents.RECORD_FILE
    record = None if args.no_contents or not extra["sif"] else contents_record(image)
    if record is not None:
        if write_if_changed(record_file, record):
            written.append(record_file)
    elif record_file.is_file():  # the record of a former image would lie
        record_file.unlink()
        print(f"removed {record_file}")
    for path, content in (
        (folder / "README.md", collection_text(args.namespace, args.description)),
        (folder / "tags" / "README.md", TAGS_TEXT),
    ):
        if not path.exists():
            write_if_changed(path, content.encode("utf-8"))
            written.append(path)
    return written
