"""Hostile variants of signed SIF images, made byte by byte (for the signature tests).

A SIF image is a 128-byte global header, a table of 585-byte descriptors and the
objects' data (layout: sylabs/sif ``pkg/sif``). :class:`Sif` edits those bytes
in place; :func:`hostile_variants` makes a seeded, repeatable set of variants of
each signed image: one byte changed in every header and descriptor field and in
each object, duplicate ids, objects moved between groups, aliased offsets, added
objects, truncations, changed signature bytes, signatures transplanted between
images. Nothing here knows what a verifier should say about them.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from dataclasses import dataclass

HEADER_FIELDS = {
    "launch": (0, 32),
    "magic": (32, 42),
    "version": (42, 45),
    "arch": (45, 48),
    "id": (48, 64),
    "created": (64, 72),
    "modified": (72, 80),
    "free": (80, 88),
    "total": (88, 96),
    "descr_offset": (96, 104),
    "descr_size": (104, 112),
    "data_offset": (112, 120),
    "data_size": (120, 128),
}
DESCRIPTOR_FIELDS = {
    "type": (0, 4),
    "used": (4, 5),
    "id": (5, 9),
    "group": (9, 13),
    "link": (13, 17),
    "offset": (17, 25),
    "size": (25, 33),
    "padded": (33, 41),
    "created": (41, 49),
    "modified": (49, 57),
    "uid": (57, 65),
    "gid": (65, 73),
    "name": (73, 201),
    "extra": (201, 585),
}
DESCRIPTOR_SIZE = 585
GROUP_FLAG = 0xF0000000
SIGNATURE_TYPE = 0x4005
PARTITION_TYPE = 0x4004


@dataclass(frozen=True)
class Slot:
    """One descriptor of the table (used or free)."""

    index: int
    start: int
    used: bool
    data_type: int
    id: int
    group_raw: int
    link_raw: int
    offset: int
    size: int


class Sif:
    """A SIF image's bytes, editable by field."""

    def __init__(self, data: bytes) -> None:
        self.data = bytearray(data)

    def copy(self) -> Sif:
        return Sif(bytes(self.data))

    def header(self, name: str) -> int:
        start, _ = HEADER_FIELDS[name]
        return int(struct.unpack_from("<q", self.data, start)[0])

    def set_header(self, name: str, value: int) -> None:
        struct.pack_into("<q", self.data, HEADER_FIELDS[name][0], value)

    def slots(self) -> list[Slot]:
        table = self.header("descr_offset")
        out = []
        for index in range(self.header("total")):
            start = table + index * DESCRIPTOR_SIZE
            data_type, used, ident, group, link, offset, size = struct.unpack_from(
                "<i?IIIqq", self.data, start
            )
            out.append(Slot(index, start, used, data_type, ident, group, link, offset, size))
        return out

    def used(self) -> list[Slot]:
        return [s for s in self.slots() if s.used]

    def free_slot(self) -> Slot:
        return next(s for s in self.slots() if not s.used)

    def set_field(self, slot: Slot, name: str, value: int) -> None:
        start, end = DESCRIPTOR_FIELDS[name]
        fmt = {1: "<?", 4: "<I", 8: "<q"}[end - start]
        struct.pack_into(fmt, self.data, slot.start + start, value)

    def copy_descriptor(self, source: Slot, target: Slot) -> Slot:
        """Copy *source*'s 585 bytes into *target* (counted as used: the header's
        free count goes down); the new slot."""
        self.data[target.start : target.start + DESCRIPTOR_SIZE] = self.data[
            source.start : source.start + DESCRIPTOR_SIZE
        ]
        self.set_header("free", self.header("free") - 1)
        return next(s for s in self.slots() if s.index == target.index)

    def append(self, data: bytes) -> int:
        """Append *data* to the file (the data section grows); its offset."""
        offset = len(self.data)
        self.data += data
        self.set_header("data_size", len(self.data) - self.header("data_offset"))
        return offset

    def object_bytes(self, slot: Slot) -> bytes:
        return bytes(self.data[slot.offset : slot.offset + slot.size])

    def point(self, slot: Slot, offset: int, size: int) -> None:
        self.set_field(slot, "offset", offset)
        self.set_field(slot, "size", size)
        self.set_field(slot, "padded", size)

    def flip(self, position: int, mask: int) -> None:
        self.data[position] ^= mask


def duplicate_descriptor_attack(data: bytes, object_id: int = 2) -> bytes:
    """The attack of issue 23: object *object_id*'s descriptor copied into a free
    slot (same id, group, size, name and times) pointing at as many new bytes
    appended to the file."""
    image = Sif(data)
    [source] = [s for s in image.used() if s.id == object_id]
    copy = image.copy_descriptor(source, image.free_slot())
    offset = image.append(bytes((7 * i + 1) % 251 for i in range(source.size)))
    image.point(copy, offset, source.size)
    return bytes(image.data)


@dataclass(frozen=True)
class Variant:
    """A hostile variant: what was done (``kind`` groups them) and its bytes."""

    name: str
    kind: str
    data: bytes


def _mask(rng: random.Random) -> int:
    return rng.randrange(1, 256)


def single_image_variants(base: str, data: bytes, rng: random.Random) -> Iterator[Variant]:
    """The variants of one image made from its own bytes."""
    original = Sif(data)
    used = original.used()
    # one byte changed in every header field
    for field, (start, end) in HEADER_FIELDS.items():
        image = original.copy()
        image.flip(rng.randrange(start, end), _mask(rng))
        yield Variant(f"{base}:header-{field}", "header byte", bytes(image.data))
    # one byte changed in every field of every used descriptor
    for slot in used:
        for field, (start, end) in DESCRIPTOR_FIELDS.items():
            image = original.copy()
            if field in ("name", "extra"):
                # where the text, hash type and fingerprint are, and anywhere
                positions = {rng.randrange(start, start + 24), rng.randrange(start, end)}
            else:
                positions = {rng.randrange(start, end)}
            for position in positions:
                image.flip(slot.start + position, _mask(rng))
            yield Variant(f"{base}:descr{slot.id}-{field}", "descriptor byte", bytes(image.data))
    # one byte changed in each object (signatures: in the text, the armor, the signature)
    for slot in used:
        if slot.size == 0:
            continue
        picks = [rng.randrange(slot.size)]
        if slot.data_type == SIGNATURE_TYPE:
            picks += [rng.randrange(slot.size // 3), rng.randrange(slot.size // 3, slot.size)]
        for n, pick in enumerate(picks):
            image = original.copy()
            image.flip(slot.offset + pick, _mask(rng))
            kind = "signature byte" if slot.data_type == SIGNATURE_TYPE else "object byte"
            yield Variant(f"{base}:object{slot.id}-byte{n}", kind, bytes(image.data))
    # duplicate ids: a descriptor copied, pointing at new bytes, at the same bytes, elsewhere
    for slot in used:
        if slot.data_type == SIGNATURE_TYPE:
            continue
        image = original.copy()
        copy = image.copy_descriptor(slot, image.free_slot())
        offset = image.append(bytes(rng.randrange(256) for _ in range(slot.size)))
        image.point(copy, offset, slot.size)
        yield Variant(f"{base}:dup{slot.id}-new-bytes", "duplicate id", bytes(image.data))
        image = original.copy()
        image.copy_descriptor(slot, image.free_slot())
        yield Variant(f"{base}:dup{slot.id}-same-bytes", "duplicate id", bytes(image.data))
        others = [o for o in used if o.id != slot.id and o.data_type != SIGNATURE_TYPE]
        if others:
            image = original.copy()
            copy = image.copy_descriptor(slot, image.free_slot())
            other = rng.choice(others)
            image.point(copy, other.offset, other.size)
            yield Variant(f"{base}:dup{slot.id}-at-{other.id}", "duplicate id", bytes(image.data))
    # objects moved between groups (another group, a new one, none)
    groups = sorted({s.group_raw & ~GROUP_FLAG for s in used if s.group_raw})
    for slot in used:
        if slot.data_type == SIGNATURE_TYPE and not slot.group_raw:
            continue
        current = slot.group_raw & ~GROUP_FLAG
        for target in sorted({*groups, max(groups, default=0) + 1, 0} - {current}):
            image = original.copy()
            image.set_field(slot, "group", GROUP_FLAG | target if target else 0)
            yield Variant(f"{base}:move{slot.id}-to-group{target}", "moved", bytes(image.data))
    # a signature linked elsewhere (another group, an object, nothing)
    for slot in used:
        if slot.data_type != SIGNATURE_TYPE:
            continue
        targets = [GROUP_FLAG | g for g in groups] + [s.id for s in used] + [0]
        for link in targets:
            if link == slot.link_raw:
                continue
            image = original.copy()
            image.set_field(slot, "link", link)
            yield Variant(f"{base}:relink{slot.id}-to-{link:x}", "relinked", bytes(image.data))
    # aliased offsets: one object's descriptor pointing at another's bytes
    for slot in used:
        for other in used:
            if other.id == slot.id:
                continue
            image = original.copy()
            image.point(slot, other.offset, other.size)
            yield Variant(f"{base}:alias{slot.id}-to-{other.id}", "aliased", bytes(image.data))
    # added objects: in a signed group, in a new group, in none
    top = max(s.id for s in used)
    for group in [*groups, max(groups, default=0) + 1, 0]:
        image = original.copy()
        source = next(s for s in used if s.data_type != SIGNATURE_TYPE)
        added = image.copy_descriptor(source, image.free_slot())
        offset = image.append(b"added object " * 8)
        image.point(added, offset, 104)
        image.set_field(added, "id", top + 1)
        image.set_field(added, "group", GROUP_FLAG | group if group else 0)
        yield Variant(f"{base}:added-in-group{group}", "added", bytes(image.data))
    # truncation: past the descriptors, inside the data, the last byte
    last = max(s.offset + s.size for s in used)
    for cut in sorted({100, original.header("descr_offset") + 600, used[0].offset, last - 1}):
        yield Variant(f"{base}:truncated-at-{cut}", "truncated", bytes(original.data[:cut]))


def transplanted(name_a: str, a: bytes, name_b: str, b: bytes) -> Iterator[Variant]:
    """Each signature of image *a* put into image *b* in place of each of *b*'s
    (its bytes appended, the descriptor's fingerprint and link copied, or only
    its bytes)."""
    source = Sif(a)
    for sig_a in [s for s in source.used() if s.data_type == SIGNATURE_TYPE]:
        for sig_b in [s for s in Sif(b).used() if s.data_type == SIGNATURE_TYPE]:
            payload = source.object_bytes(sig_a)
            for keep_link in (True, False):
                image = Sif(b)
                offset = image.append(payload)
                image.point(sig_b, offset, len(payload))
                if not keep_link:
                    image.set_field(sig_b, "link", sig_a.link_raw)
                how = "keeping its link" if keep_link else "with the link"
                yield Variant(
                    f"{name_b}:sig{sig_b.id}-from-{name_a}:sig{sig_a.id} ({how})",
                    "transplanted",
                    bytes(image.data),
                )


def hostile_variants(images: dict[str, bytes], seed: int) -> list[Variant]:
    """Every variant of every image, and signatures transplanted between them."""
    rng = random.Random(seed)
    out: list[Variant] = []
    for name, data in sorted(images.items()):
        out.extend(single_image_variants(name, data, rng))
    for name_a, a in sorted(images.items()):
        for name_b, b in sorted(images.items()):
            if name_a != name_b:
                out.extend(transplanted(name_a, a, name_b, b))
    return out
