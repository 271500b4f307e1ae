"""``orgreg manifest`` writes what the site build and ``orgreg check`` read (issue 4)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from clitools import orgreg
from conftest import read_json, soup, warnings_of

IMAGE = b"SIF image " * 70_000  # 700,000 bytes: a size in bytes, not read as KiB
DIGEST = "sha256:" + hashlib.sha256(IMAGE).hexdigest()
URL = "https://storage.example.org/acme/thing/pancakes.sif"
RECIPE = "Bootstrap: docker\nFrom: busybox:1.36\n"


def front_matter(path: Path) -> dict:
    text = path.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A container repository's CI folder: an image, recipes, and a registry tree."""
    (tmp_path / "image.sif").write_bytes(IMAGE)
    (tmp_path / "Singularity").write_text(RECIPE)
    (tmp_path / "Singularity.pancakes").write_text(RECIPE)
    (tmp_path / "registry").mkdir()
    return tmp_path


def test_writes_manifest_collection_and_tags(work: Path) -> None:
    result = orgreg(
        "manifest",
        "image.sif",
        "--namespace",
        "acme/thing",
        "--url",
        URL,
        "--recipe",
        "Singularity.pancakes",
        "--root",
        "registry",
        "--commit",
        "0123456789abcdef",
        cwd=work,
        SOURCE_DATE_EPOCH="1714645860",
    )
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "wrote registry/acme/thing/manifests/pancakes/README.md",
        "wrote registry/acme/thing/manifests/pancakes/Singularity",
        "wrote registry/acme/thing/README.md",
        "wrote registry/acme/thing/tags/README.md",
    ]
    folder = work / "registry/acme/thing"
    assert front_matter(folder / "manifests/pancakes/README.md") == {
        "layout": "manifests/singularity",
        "size": 700_000,
        "digest": DIGEST,
        "layers": [{"size": 700_000, "digest": DIGEST, "url": URL}],
        "created": "2024-05-02T10:31:00Z",
        "commit": "0123456789abcdef",
        "recipe": "Singularity.pancakes",
    }
    assert (folder / "manifests/pancakes/Singularity").read_text() == RECIPE
    assert front_matter(folder / "README.md") == {"layout": "collection", "description": ""}
    assert front_matter(folder / "tags/README.md") == {"layout": "tags"}


@pytest.mark.parametrize(
    ("args", "tag"),
    [
        (["--recipe", "Singularity"], "latest"),
        (["--recipe", "Singularity.pancakes"], "pancakes"),
        (["--tag", "1.36"], "1.36"),
        ([], "latest"),
    ],
)
def test_tag_from_recipe_name_or_option(work: Path, args: list[str], tag: str) -> None:
    result = orgreg(
        "manifest",
        "image.sif",
        "--namespace",
        "acme/thing",
        "--url",
        URL,
        "--root",
        "registry",
        "--created",
        "none",
        *args,
        cwd=work,
    )
    assert result.code == 0, result.err
    written = work / f"registry/acme/thing/manifests/{tag}/README.md"
    assert f"wrote registry/acme/thing/manifests/{tag}/README.md" in result.out
    assert "created" not in front_matter(written)
    assert (written.parent / "Singularity").exists() == ("--recipe" in args)


def test_existing_collection_is_kept_and_a_new_build_replaces_the_manifest(work: Path) -> None:
    folder = work / "registry/acme/thing"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("---\nlayout: collection\ndescription: Mine\n---\nHi\n")
    args = (
        "manifest",
        "image.sif",
        "--namespace",
        "acme/thing",
        "--url",
        URL,
        "--root",
        "registry",
        "--created",
        "2024-01-01T00:00:00Z",
    )
    assert orgreg(*args, cwd=work).code == 0
    (work / "image.sif").write_bytes(IMAGE + b"v2")
    result = orgreg(*args, cwd=work)
    assert result.code == 0
    assert result.out.splitlines() == ["wrote registry/acme/thing/manifests/latest/README.md"]
    data = front_matter(folder / "manifests/latest/README.md")
    assert data["size"] == len(IMAGE) + 2
    assert data["digest"] == "sha256:" + hashlib.sha256(IMAGE + b"v2").hexdigest()
    assert (folder / "README.md").read_text().endswith("description: Mine\n---\nHi\n")


def test_output_passes_orgreg_check(work: Path) -> None:
    for recipe in ("Singularity", "Singularity.pancakes"):
        assert (
            orgreg(
                "manifest",
                "image.sif",
                "--namespace",
                "acme/thing",
                "--url",
                URL,
                "--recipe",
                recipe,
                "--root",
                "registry",
                cwd=work,
            ).code
            == 0
        )
    result = orgreg("check", "registry", "--format", "json", cwd=work)
    assert result.code == 0
    body = result.json()
    assert (body["namespaces"], body["tags"], body["problems"]) == (1, 2, [])


def test_output_is_read_back_by_the_site_build(registry_project, build, work: Path) -> None:
    srcdir = registry_project()
    result = orgreg(
        "manifest",
        work / "image.sif",
        "--namespace",
        "acme/thing",
        "--url",
        URL,
        "--recipe",
        work / "Singularity.pancakes",
        "--recipe-path",
        "Singularity.pancakes",
        "--commit",
        "abc1234",
        "--created",
        "2024-05-02T10:31:00Z",
        "--description",
        "A thing",
        "--root",
        srcdir,
    )
    assert result.code == 0, result.err
    app = build(srcdir)
    assert "acme/thing" not in warnings_of(app)
    out = Path(app.outdir)
    assert read_json(out / "acme/thing/tags/index.json") == {
        "name": "acme/thing",
        "tags": ["pancakes"],
    }
    body = read_json(out / "acme/thing/manifests/pancakes/index.json")
    assert body["config"]["size"] == 700_000 and body["config"]["digest"] == DIGEST
    assert body["layers"][0]["urls"] == [URL]
    catalog = read_json(out / "api/catalog.json")
    [entry] = [ns for ns in catalog["namespaces"] if ns["name"] == "acme/thing"]
    assert entry["description"] == "A thing"
    assert entry["tags"][0]["extra"] == {
        "commit": "abc1234",
        "created": "2024-05-02T10:31:00Z",
        "recipe": "Singularity.pancakes",
    }
    page = soup(out / "acme/thing/index.html")
    assert "pancakes" in page.get_text()


def test_small_image_warns_that_it_reads_as_kib(work: Path) -> None:
    (work / "tiny.sif").write_bytes(b"x" * 1000)
    result = orgreg(
        "manifest",
        "tiny.sif",
        "--namespace",
        "acme/thing",
        "--url",
        URL,
        "--root",
        "registry",
        cwd=work,
    )
    assert result.code == 0
    assert (
        "warning: the image is only 1000 bytes; readers of this format take sizes below "
        "500000 as KiB"
    ) in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["missing.sif", "--namespace", "acme/thing", "--url", URL],
            "cannot read missing.sif: No such file or directory",
        ),
        (
            ["image.sif", "--namespace", "tools", "--url", URL],
            "--namespace 'tools' has no organization (ORG/ is missing): a namespace is "
            "<org>/<repo>, e.g. 'acme/tools'",
        ),
        (
            ["image.sif", "--namespace", "api/container", "--url", URL],
            "would hide a published endpoint",
        ),
        (
            ["image.sif", "--namespace", "acme/thing", "--url", "ftp://x.org/a.sif"],
            "--url 'ftp://x.org/a.sif' needs http://, https:// or oras:// in front",
        ),
        (  # issue 25: no scheme printed the schema's 600-character pattern
            ["image.sif", "--namespace", "acme/thing", "--url", "127.0.0.1:8801/x.sif"],
            "--url '127.0.0.1:8801/x.sif' needs http://, https:// or oras:// in front: the "
            "address users download the image from, e.g. https://127.0.0.1:8801/x.sif",
        ),
        (
            ["image.sif", "--namespace", "acme/thing", "--url", "https://x.org/a b.sif"],
            "--url 'https://x.org/a b.sif' holds spaces: write them as %20",
        ),
        (
            ["image.sif", "--namespace", "acme/thing", "--url", URL, "--recipe", "image.def"],
            "cannot take a tag from the recipe name 'image.def'",
        ),
        (
            ["image.sif", "--namespace", "acme/thing", "--url", URL, "--tag=-x"],
            "tag '-x' is not valid",
        ),
        (
            ["image.sif", "--namespace", "acme/thing", "--url", URL, "--created", "yesterday"],
            "--created 'yesterday' is not an ISO 8601 time",
        ),
        (
            ["image.sif", "--namespace", "acme/thing", "--url", URL, "--root", "nowhere"],
            "--root 'nowhere' is not a folder",
        ),
        (["image.sif", "--url", URL], "the following arguments are required: --namespace"),
        (
            [
                "image.sif",
                "--namespace",
                "acme/thing",
                "--url",
                URL,
                "--tag",
                "a",
                "--recipe",
                "Singularity",
            ],
            "not allowed with argument",
        ),
    ],
)
def test_usage_errors_exit_2(work: Path, args: list[str], message: str) -> None:
    (work / "image.def").write_text(RECIPE)
    if "--root" not in args:
        args = [*args, "--root", "registry"]
    result = orgreg("manifest", *args, cwd=work)
    assert result.code == 2, result.out
    assert message in result.err
    assert "Traceback" not in result.err
    assert "(?:" not in result.err  # never a regular expression
    assert not any((work / "registry").iterdir())
