"""The file-system seam's newer calls (append, read from an offset, stat, create empty, a local
file by its path), on a local folder and on the same folder as a ``file://`` URI read through
``pyarrow``."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytune_hpo import storage
from raytune_hpo.storage import ray_storage


@pytest.fixture(params=["local", "uri"])
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> storage.Location:
    return tmp_path if request.param == "local" else storage.Uri(f"file://{tmp_path}")


def test_append_read_from_an_offset_and_stat(folder: storage.Location) -> None:
    assert storage.stat(folder, "log.jsonl") is None
    storage.append_text(folder, "log.jsonl", "one\n")
    storage.append_text(folder, "log.jsonl", "two\n")
    assert storage.read_text(folder, "log.jsonl") == "one\ntwo\n"
    assert storage.read_bytes(folder, "log.jsonl", start=4) == b"two\n"
    stat = storage.stat(folder, "log.jsonl")
    assert stat is not None and stat.size == 8 and stat.mtime_ns > 0
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(folder, "missing.txt")


def test_create_empty_keeps_a_file_that_exists(folder: storage.Location) -> None:
    storage.create_empty(folder / "trial", "a")
    assert storage.read_text(folder / "trial", "a") == ""
    assert storage.stat(folder, "trial") is None  # a folder is not a file
    storage.write_text(folder, "b", "kept")
    storage.create_empty(folder, "b")
    assert storage.read_text(folder, "b") == "kept"


def test_a_local_file_by_its_path(tmp_path: Path) -> None:
    (tmp_path / "error.txt").write_bytes(b"Traceback\n\xff boom\n")
    assert storage.read_file_text(tmp_path / "error.txt") == "Traceback\n\ufffd boom\n"
    assert storage.read_file_text(tmp_path / "gone.txt") is None
    assert storage.read_file_text(tmp_path) is None
    storage.probe_writable(tmp_path / "new" / "folder")
    assert list((tmp_path / "new" / "folder").iterdir()) == []


def test_rays_folders_copy_with_hard_links_on_a_local_disk(tmp_path: Path) -> None:
    from pyarrow import fs

    local = fs.LocalFileSystem()
    source = tmp_path / "checkpoint_000001"
    source.mkdir()
    (source / "state.bin").write_bytes(b"state")
    target = tmp_path / "copy"
    ray_storage.copy_folder(local, str(source), local, str(target))
    assert (target / "state.bin").stat().st_ino == (source / "state.bin").stat().st_ino
    assert ray_storage.read_bytes(local, str(target / "state.bin")) == b"state"
    assert ray_storage.read_bytes(local, str(target / "none")) is None
    ray_storage.create_empty(local, str(tmp_path / "trial"), "result.json")
    assert (tmp_path / "trial" / "result.json").read_bytes() == b""
