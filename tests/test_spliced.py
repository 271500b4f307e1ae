"""Registry-wide files made again from the parts that changed (issue 28): the
bytes are always those a make from scratch gives; a part is copied from the
former file only while its stamp, the batch's stamp and the file are as the
last build left them. Timings are measured by ``bench/deploy.py``, never here."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

from conftest import good_tree, manifest, sha256, write_tree

from orgreg_sphinx.core import endpoints, files, spliced
from orgreg_sphinx.core.files import Batch, OutputState, Recall, sync_batches
from orgreg_sphinx.core.model import load_registry


def test_a_spliced_file_copies_only_unchanged_parts_from_its_former_bytes(
    tmp_path: Path,
) -> None:
    out, state = tmp_path / "out", tmp_path / "state.pickle"
    made: list[str] = []

    def run(stamps: dict[str, str], batch_stamp: str = "1") -> bytes:
        def part(key: str) -> spliced.Part:
            def make() -> bytes:
                made.append(key)
                return f'"{key}{stamps[key]}"'.encode()

            return spliced.Part(key, stamps[key], make)

        def make(recall: Recall) -> Iterator[tuple[str, bytes]]:
            body = spliced.splice("all.json", b"[", map(part, sorted(stamps)), b"]\n", recall, b",")
            yield "all.json", body

        made.clear()
        sync_batches(out, [Batch("", batch_stamp, make, recalls=True)], state)
        return (out / "all.json").read_bytes()

    assert run({"a": "1", "b": "1", "c": "1"}) == b'["a1","b1","c1"]\n'
    assert made == ["a", "b", "c"]
    assert run({"a": "1", "b": "2", "c": "1"}) == b'["a1","b2","c1"]\n'
    assert made == ["b"]
    # a part added and one removed: only the new one is made
    assert run({"a": "1", "b": "2", "d": "1"}) == b'["a1","b2","d1"]\n'
    assert made == ["d"]
    # another batch stamp (code, switches): every part made again
    assert run({"a": "1", "b": "2", "d": "1"}, batch_stamp="2") == b'["a1","b2","d1"]\n'
    assert made == ["a", "b", "d"]
    # the file edited by hand (same size): its bytes are not trusted
    (out / "all.json").write_bytes(b'["a9","b2","d1"]\n')
    assert run({"a": "1", "b": "2", "d": "1"}, batch_stamp="2") == b'["a1","b2","d1"]\n'
    assert made == ["a", "b", "d"]
    # a note that is not splice's (a damaged state): made from scratch, no error
    kept = OutputState.load(state)
    assert set(kept.notes) == {"all.json"}
    kept.notes["all.json"] = ("junk",)
    kept.save(state)
    assert run({"a": "1", "b": "2", "d": "1"}, batch_stamp="2") == b'["a1","b2","d1"]\n'
    assert made == ["a", "b", "d"]
    assert run({"a": "1", "b": "2", "d": "1"}, batch_stamp="2") == b'["a1","b2","d1"]\n'
    assert made == []


def test_registry_wide_files_from_kept_parts_are_those_made_from_scratch(
    tmp_path: Path, monkeypatch
) -> None:
    root, out, state = tmp_path / "tree", tmp_path / "out", tmp_path / "state.pickle"
    write_tree(root, good_tree())
    made: list[str] = []
    real = endpoints.catalog_namespace

    def counted(ns):  # type: ignore[no-untyped-def]
        made.append(ns.name)
        return real(ns)

    monkeypatch.setattr(endpoints, "catalog_namespace", counted)
    registry_wide = ("api/catalog.json", "api/SHA256SUMS", "api/urls.txt", "api/downloads.curl")

    def check() -> list[str]:
        """The namespaces whose catalog entry the sync made."""
        made.clear()
        registry = load_registry(root)
        sync_batches(out, endpoints.endpoint_batches(registry, "code-1"), state)
        during = list(made)
        fresh = dict(endpoints.iter_endpoint_files(registry))
        for rel in registry_wide:
            assert (out / rel).read_bytes() == fresh[rel], rel
        return during

    assert len(check()) == 3
    assert check() == []
    # one tag added: only its namespace's catalog entry is made
    write_tree(root, {"lab/pancakes/manifests/waffles/README.md": manifest(sha256("w"))})
    assert check() == ["lab/pancakes"]
    assert "lab/pancakes_waffles.sif" in (out / "api/SHA256SUMS").read_text()
    # two tags whose registry-wide image names clash: both are named otherwise
    write_tree(
        root,
        {
            "acme/tools/manifests/v1_gpu/README.md": manifest(sha256("t1")),
            "acme/tools_v1/manifests/gpu/README.md": manifest(sha256("t2")),
        },
    )
    assert check() == ["acme/tools", "acme/tools_v1"]
    sums = (out / "api/SHA256SUMS").read_text()
    assert "acme/tools/v1_gpu.sif" in sums and "acme/tools_v1/gpu.sif" in sums
    # one of them gone: the other's usual name comes back
    (root / "acme/tools_v1/manifests/gpu/README.md").unlink()
    (root / "acme/tools_v1/manifests/gpu").rmdir()
    assert check() == ["acme/tools_v1"]
    assert "acme/tools_v1.sif" not in (out / "api/SHA256SUMS").read_text()
    assert "acme/tools_v1_gpu.sif" in (out / "api/SHA256SUMS").read_text()


def test_the_output_state_keeps_the_notes(tmp_path: Path) -> None:
    """The notes are saved with the state; a state of the former format (no
    notes) is not used: every file is compared by its bytes once."""
    state = OutputState("s", notes={"api/catalog.json": (["a"], ["1"], b"")})
    path = tmp_path / "state.pickle"
    state.save(path)
    assert OutputState.load(path).notes == state.notes
    files.save_stamped(path, "orgreg-outputs-2", ("s", {}, []))
    assert OutputState.load(path) == OutputState()
    assert pickle.loads(pickle.dumps(state)) == state
