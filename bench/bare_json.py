"""The JSON half of the benchmark's minimal floor: a bare script that reads a
manifest tree and writes the same endpoint files the extension publishes (tags,
manifests, Singularity Hub ``api/container``, the catalog and the bulk-download
lists, recipe copies), with no validation, no messages and no care for what is
already there beyond writing only the files whose bytes change (so a no-op
rebuild rewrites nothing, as the extension's does). Nothing of orgreg_sphinx is
imported.

    python bench/bare_json.py TREE OUTDIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.sylabs.sif.config.v1+json"
LAYER = "application/vnd.sylabs.sif.layer.v1.sif"


def front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    data = yaml.load(text.split("---", 2)[1], Loader=yaml.CSafeLoader)
    return data if isinstance(data, dict) else {}


def dumps(body: Any) -> bytes:
    return (json.dumps(body, indent=2) + "\n").encode()


def write(out: Path, rel: str, data: bytes) -> None:
    """Write *data* unless the file already holds it (a rebuild rewrites nothing)."""
    path = out / rel
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def main(tree: Path, out: Path) -> int:
    catalog = []
    all_sums: list[str] = []
    all_urls: list[str] = []
    for readme in sorted(tree.glob("*/*/README.md")):
        ns_dir = readme.parent
        org, repo = ns_dir.parent.name, ns_dir.name
        name = f"{org}/{repo}"
        collection = front_matter(readme)
        tags = []
        sums, urls, curl = [], [], []
        for manifest in sorted(ns_dir.glob("manifests/*/README.md")):
            data = front_matter(manifest)
            tag = manifest.parent.name
            layers = data.get("layers") or []
            body = dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": MANIFEST,
                    "config": {
                        "mediaType": CONFIG,
                        "size": data.get("size"),
                        "digest": data.get("digest"),
                    },
                    "layers": [
                        {
                            "mediaType": LAYER,
                            "size": layer.get("size"),
                            "digest": layer.get("digest"),
                            "urls": [layer.get("url")],
                        }
                        for layer in layers
                    ],
                }
            )
            write(out, f"{name}/manifests/{tag}/index.html", body)
            write(out, f"{name}/manifests/{tag}/index.json", body)
            recipe = manifest.parent / "Singularity"
            if recipe.exists():
                write(out, f"{name}/manifests/{tag}/Singularity", recipe.read_bytes())
            write(
                out,
                f"api/container/{name}:{tag}",
                dumps(
                    {
                        "name": name,
                        "tag": tag,
                        "version": data.get("digest"),
                        "image": layers[0].get("url") if layers else None,
                    }
                ),
            )
            url = layers[0].get("url") if layers else ""
            hexdigest = str(data.get("digest", "")).partition(":")[2]
            sums.append(f"{hexdigest}  {repo}_{tag}.sif\n")
            urls.append(f"{url}\n")
            curl.append(f'url = "{url}"\noutput = "{repo}_{tag}.sif"\n')
            all_sums.append(f"{hexdigest}  {org}/{repo}_{tag}.sif\n")
            tags.append(
                {"name": tag, "size": data.get("size"), "digest": data.get("digest"), "urls": [url]}
            )
        body = dumps({"name": name, "tags": [t["name"] for t in tags]})
        write(out, f"{name}/tags/index.html", body)
        write(out, f"{name}/tags/index.json", body)
        write(out, f"{name}/SHA256SUMS", "".join(sums).encode())
        write(out, f"{name}/urls.txt", "".join(urls).encode())
        write(out, f"{name}/downloads.curl", "".join(curl).encode())
        all_urls += urls
        catalog.append(
            {
                "name": name,
                "description": collection.get("description", ""),
                "path": f"{name}/",
                "tags": tags,
            }
        )
    write(out, "api/catalog.json", dumps({"catalogVersion": 1, "namespaces": catalog}))
    write(out, "api/SHA256SUMS", "".join(all_sums).encode())
    write(out, "api/urls.txt", "".join(all_urls).encode())
    write(out, "api/downloads.curl", b"")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
