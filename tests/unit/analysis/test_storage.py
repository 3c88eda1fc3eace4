"""Experiment folders on a local path or behind a URI (``file://`` stands in for s3:// here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytune_hpo import storage
from raytune_hpo.config import validate_config
from raytune_hpo.experiment.runner import experiment_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s3://bucket/results", True),
        ("gs://b/r", True),
        ("file:///tmp/r", True),
        ("~/results", False),
        ("/tmp/r", False),
        ("relative/r", False),
        ("c:/x", False),
    ],
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


def test_set_aside_renames_a_local_folder_and_keeps_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    storage.write_text(folder, "raytune_hpo.yaml", "name: exp\n")

    moved = storage.set_aside(folder)

    assert isinstance(moved, Path)
    assert not folder.exists()
    assert moved.name.startswith("exp.replaced-")
    assert (moved / "raytune_hpo.yaml").read_text() == "name: exp\n"


def test_set_aside_of_a_missing_folder_moves_nothing(tmp_path: Path) -> None:
    assert storage.set_aside(tmp_path / "never-run") is None
    assert list(tmp_path.iterdir()) == []


def test_set_aside_works_through_a_uri(tmp_path: Path) -> None:
    location = storage.experiment_location(f"file://{tmp_path}", "exp")
    storage.write_text(location, "best.json", "{}")

    moved = storage.set_aside(location)

    assert isinstance(moved, str) and moved.startswith(f"file://{tmp_path}/exp.replaced-")
    assert storage.read_text(moved, "best.json") == "{}"
    assert not storage.exists(location, "best.json")
