"""Files read while they are written: half lines skipped, re-read once the file changes."""

from __future__ import annotations

import json
from pathlib import Path

from raytune_hpo.dashboard import files
from raytune_hpo.storage.stamped import LocalStore


def test_a_half_written_line_is_skipped_until_it_is_whole(tmp_path: Path) -> None:
    path, store = tmp_path / "result.json", LocalStore(tmp_path)
    whole, half = json.dumps({"a": 1}), json.dumps({"a": 2})
    path.write_text(f"{whole}\n{half[:4]}")
    assert files.json_lines(store, path.name) == [{"a": 1}]
    path.write_text(f"{whole}\n{half}\n")
    assert files.json_lines(store, path.name) == [{"a": 1}, {"a": 2}]


def test_a_missing_or_half_written_document_reads_as_none(tmp_path: Path) -> None:
    path, store = tmp_path / "best.json", LocalStore(tmp_path)
    assert files.json_document(store, path.name) is None
    assert files.json_lines(store, path.name) == []
    path.write_text('{"trial_id": "a_0')
    assert files.json_document(store, path.name) is None
    path.write_text('{"trial_id": "a_00000"}')
    assert files.json_document(store, path.name) == {"trial_id": "a_00000"}


class CountingStore(LocalStore):
    """A local store that counts the reads of each file."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def read(self, path: str) -> bytes:
        self.reads.append(path)
        return super().read(path)


def test_a_poll_reads_again_only_the_files_whose_stamp_changed(tmp_path: Path) -> None:
    store = CountingStore(tmp_path)
    (tmp_path / "a.json").write_text('{"a": 1}\n')
    (tmp_path / "b.json").write_text('{"b": 1}\n')
    for _ in range(2):
        assert files.json_lines(store, "a.json") == [{"a": 1}]
        assert files.json_lines(store, "b.json") == [{"b": 1}]
    (tmp_path / "b.json").write_text('{"b": 1}\n{"b": 2}\n')
    assert files.json_lines(store, "b.json") == [{"b": 1}, {"b": 2}]
    assert files.json_lines(store, "a.json") == [{"a": 1}]
    assert store.reads == ["a.json", "b.json", "b.json"]


def test_lines_with_nan_as_ray_writes_them_read_whole_and_a_half_line_is_still_skipped(
    tmp_path: Path,
) -> None:
    path, store = tmp_path / "result.json", LocalStore(tmp_path)
    path.write_text('{"loss": 0.5}\n{"loss": NaN}\n{"loss": Infinity}\n{"loss": 0.')
    rows = files.json_lines(store, path.name)
    assert [row["loss"] for row in rows[::2]] == [0.5, float("inf")]
    assert len(rows) == 3 and rows[1]["loss"] != rows[1]["loss"]  # NaN
