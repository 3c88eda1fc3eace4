"""Files read while they are written: half lines skipped, re-read once the file changes."""

from __future__ import annotations

import json
from pathlib import Path

from raytune_hpo.dashboard import files


def test_a_half_written_line_is_skipped_until_it_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    whole, half = json.dumps({"a": 1}), json.dumps({"a": 2})
    path.write_text(f"{whole}\n{half[:4]}")
    assert files.json_lines(path) == [{"a": 1}]
    path.write_text(f"{whole}\n{half}\n")
    assert files.json_lines(path) == [{"a": 1}, {"a": 2}]


def test_a_missing_or_half_written_document_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "best.json"
    assert files.json_document(path) is None and files.json_lines(path) == []
    path.write_text('{"trial_id": "a_0')
    assert files.json_document(path) is None
    path.write_text('{"trial_id": "a_00000"}')
    assert files.json_document(path) == {"trial_id": "a_00000"}
