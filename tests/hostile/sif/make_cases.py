"""Write the hostile SIF files of this folder (run from anywhere; output is committed).

Each is a small SIF image built field by field (the layout of
github.com/sylabs/sif pkg/sif: a 128-byte header, 585-byte descriptors) and then
made to lie in one way; ``cases.yaml`` says what the reader must answer.
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = struct.Struct("<32s10s3s3s16s8q")
DESCRIPTOR = struct.Struct("<i?IIIqqqqqqq128s384s")
TOTAL = 4
DESCR_OFFSET = 4096
DATA_OFFSET = DESCR_OFFSET + TOTAL * DESCRIPTOR.size


def image(
    objects: list[tuple[int, bytes, bytes]],
    *,
    total: int = TOTAL,
    sizes: dict[int, int] | None = None,
    offsets: dict[int, int] | None = None,
) -> bytes:
    """A SIF with ``objects`` (data type, extra, data); sizes/offsets override by index."""
    table, data = b"", b""
    for index, (kind, extra, payload) in enumerate(objects):
        offset = (offsets or {}).get(index, DATA_OFFSET + len(data))
        size = (sizes or {}).get(index, len(payload))
        table += DESCRIPTOR.pack(
            kind, True, index + 1, 0xF0000001, 0, offset, size, size, 0, 0, 0, 0, b"", extra
        )
        data += payload
    table += bytes(DESCRIPTOR.size * (TOTAL - len(objects)))
    header = HEADER.pack(
        b"#!/usr/bin/env run-singularity\n",
        b"SIF_MAGIC\x00",
        b"01\x00",
        b"02\x00",
        bytes(16),
        0,
        0,
        TOTAL - len(objects),
        total,
        DESCR_OFFSET,
        TOTAL * DESCRIPTOR.size,
        DATA_OFFSET,
        len(data),
    )
    return header + bytes(DESCR_OFFSET - len(header)) + table + data


SQUASHFS = (0x4004, struct.pack("<ii3s", 1, 1, b"02\x00"), b"hsqs" + bytes(60))
FINGERPRINT = bytes.fromhex("12045C8C0B1004D058DE4BEDA20C27EE7FF7BA84")
SIGNATURE = (0x4005, struct.pack("<i", 1) + FINGERPRINT, b"this is not an OpenPGP message at all")
LABELS = (0x4003, b"", b"{not json")
#: labels nested 100,000 deep (issue 23): JSON, but past any reader's recursion
DEEP_LABELS = (0x4003, b"", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
GOOD = image([SQUASHFS])

CASES = {
    "not-a-sif.sif": b"#!/bin/sh\necho this is a shell script, not an image\n",
    "truncated-header.sif": GOOD[:100],
    "truncated-table.sif": GOOD[: DESCR_OFFSET + 700],
    "descriptor-offset-past-end.sif": image([SQUASHFS], offsets={0: 1 << 40}),
    "negative-offset.sif": image([SQUASHFS], offsets={0: -4096}),
    "billion-descriptors.sif": image([SQUASHFS], total=1_000_000_000),
    "huge-object-size.sif": image([SQUASHFS], sizes={0: (1 << 63) - 1}),
    "signature-not-openpgp.sif": image([SQUASHFS, SIGNATURE]),
    "labels-not-json.sif": image([SQUASHFS, LABELS]),
    "labels-nested-deep.sif": image([SQUASHFS, DEEP_LABELS]),
}

if __name__ == "__main__":
    for name, content in CASES.items():
        (HERE / name).write_bytes(content)
