"""A stand-in for ``singularity`` on PATH, for shpc in tests (Apptainer is not in
Debian): only ``--version`` and ``pull --name FILE oras://HOST/NAME@sha256:DIGEST``.

The pull does what Apptainer's does over the OCI distribution API: it asks the
registry for the manifest by digest, checks that the manifest's bytes have that
digest, takes the SIF layer (Apptainer's media type), downloads its blob and
checks the blob's digest before saving it. Plain http, for a registry on
127.0.0.1 only; none at all with ``STANDIN_OFFLINE`` set (an air-gapped
cluster). Anything else (``inspect``, ``exec``) fails: the tests need it not.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import requests

SIF_LAYER = "application/vnd.sylabs.sif.layer.v1.sif"
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json"
REFERENCE = re.compile(r"^oras://(127\.0\.0\.1:\d+)/([a-z0-9/._-]+)@(sha256:[0-9a-f]{64})$")


def fail(message: str) -> int:
    print(f"FATAL:   {message}", file=sys.stderr)
    return 255


def pull(name: str, reference: str) -> int:
    if os.environ.get("STANDIN_OFFLINE"):
        return fail(f"no network here (STANDIN_OFFLINE): cannot pull {reference}")
    match = REFERENCE.fullmatch(reference)
    if match is None:
        return fail(f"stand-in pulls oras://127.0.0.1:<port>/<name>@sha256:... only: {reference}")
    host, repository, digest = match.groups()
    base = f"http://{host}/v2/{repository}"
    answer = requests.get(
        f"{base}/manifests/{digest}", headers={"Accept": MANIFEST_TYPES}, timeout=30
    )
    if answer.status_code != 200:
        return fail(f"manifest {digest}: {answer.status_code}")
    if "sha256:" + hashlib.sha256(answer.content).hexdigest() != digest:
        return fail(f"the manifest's bytes are not {digest}")
    layers = [la for la in json.loads(answer.content)["layers"] if la["mediaType"] == SIF_LAYER]
    if len(layers) != 1:
        return fail("no SIF layer in the manifest")
    blob = requests.get(f"{base}/blobs/{layers[0]['digest']}", timeout=30)
    if "sha256:" + hashlib.sha256(blob.content).hexdigest() != layers[0]["digest"]:
        return fail("the SIF blob's digest differs from its manifest's")
    Path(name).write_bytes(blob.content)
    print(f"INFO:    Downloading oras image {reference} (stand-in)", file=sys.stderr)
    return 0


def main(argv: list[str]) -> int:
    if argv == ["--version"]:
        print("singularity-ce version 4.1.0 (stand-in of the orgreg-sphinx tests)")
        return 0
    if len(argv) == 4 and argv[0] == "pull" and argv[1] == "--name":
        return pull(argv[2], argv[3])
    return fail(f"the stand-in does not do: singularity {' '.join(argv)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
