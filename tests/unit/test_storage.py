"""Experiment folders on a local path or behind a URI (``file://`` stands in for s3:// here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytune_hpo import storage
from raytune_hpo.config import validate_config
from raytune_hpo.runner import experiment_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [("s3://bucket/results", True), ("gs://b/r", True), ("file:///tmp/r", True),
     ("~/results", False), ("/tmp/r", False), ("relative/r", False), ("c:/x", False)],
)
def test_is_uri(path: str, expected: bool) -> None:
    assert storage.is_uri(path) is expected


def test_local_storage_path_is_expanded_and_resolved(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert storage.experiment_location("results", "exp") == tmp_path / "results" / "exp"
    assert storage.storage_root("results") == str(tmp_path / "results")


def test_uri_storage_path_stays_a_uri(tiny_lenet_config: dict) -> None:
    cfg = validate_config({**tiny_lenet_config, "storage_path": "s3://bucket/results/"})
    assert experiment_path(cfg) == "s3://bucket/results/tiny"
    assert storage.storage_root(cfg.storage_path) == "s3://bucket/results"


def test_files_round_trip_through_a_uri(tmp_path: Path) -> None:
    location = storage.experiment_location(f"file://{tmp_path}/results", "exp")
    assert location == f"file://{tmp_path}/results/exp"
    assert not storage.exists(location, "a.yaml")

    storage.write_text(location, "a.yaml", "x: 1\n")

    assert storage.exists(location, "a.yaml")
    assert storage.read_text(location, "a.yaml") == "x: 1\n"
    assert (tmp_path / "results" / "exp" / "a.yaml").read_text() == "x: 1\n"
    with pytest.raises(FileNotFoundError):
        storage.read_text(location, "missing.json")


def test_files_round_trip_through_a_local_folder(tmp_path: Path) -> None:
    location = storage.as_location(tmp_path / "exp")
    storage.write_text(location, "a.yaml", "x: 1\n")
    assert storage.exists(location, "a.yaml")
    assert storage.read_text(location, "a.yaml") == "x: 1\n"
    assert storage.as_location("s3://b/r/exp/") == "s3://b/r/exp"
