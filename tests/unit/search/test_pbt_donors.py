"""PBT's donors outlive ``num_to_keep``: Ray Tune's real checkpoint manager, on local files.

The trials are stand-ins holding only what the code reads (``run_metadata.checkpoint_manager``
and ``storage``); the manager, checkpoints and file system are Ray's own.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow.fs
from ray.train._internal.checkpoint_manager import _CheckpointManager
from ray.train._internal.session import _TrainingResult
from ray.tune import Checkpoint, CheckpointConfig

from raytune_hpo.layout import EXPLOIT_CHECKPOINT_PREFIX
from raytune_hpo.ray_compat import checkpoints
from raytune_hpo.search.pbt_donors import _copy_checkpoint


def checkpoint(folder: Path, name: str, text: str = "state") -> Checkpoint:
    path = folder / name
    path.mkdir(parents=True)
    (path / "state.json").write_text(text)
    return Checkpoint.from_directory(str(path))


def trial(folder: Path, keep: int | None = 1) -> Any:
    return SimpleNamespace(
        run_metadata=SimpleNamespace(
            checkpoint_manager=_CheckpointManager(CheckpointConfig(num_to_keep=keep))
        ),
        storage=SimpleNamespace(
            trial_fs_path=str(folder), storage_filesystem=pyarrow.fs.LocalFileSystem()
        ),
    )


def test_a_checkpoint_registered_twice_keeps_its_files(tmp_path: Path) -> None:
    checkpoints.register_checkpoints_once()
    manager = trial(tmp_path).run_metadata.checkpoint_manager
    first = checkpoint(tmp_path, "checkpoint_000000")
    manager.register_checkpoint(_TrainingResult(first, {"training_iteration": 1}))
    # PBT's save of a function trainable returns the checkpoint it reported last.
    manager.register_checkpoint(_TrainingResult(first, {"training_iteration": 1}))
    assert Path(first.path, "state.json").exists()
    second = checkpoint(tmp_path, "checkpoint_000001")
    manager.register_checkpoint(_TrainingResult(second, {"training_iteration": 2}))
    assert not Path(first.path).exists() and Path(second.path, "state.json").exists()


def test_a_donor_whose_recorded_checkpoint_is_gone_gives_its_latest(tmp_path: Path) -> None:
    donor = trial(tmp_path / "donor")
    manager = donor.run_metadata.checkpoint_manager
    recorded = checkpoint(tmp_path / "donor", "checkpoint_000001")
    manager.register_checkpoint(_TrainingResult(recorded, {"training_iteration": 2}))
    assert checkpoints.kept_checkpoint_result(donor, recorded).metrics == {"training_iteration": 2}
    latest = checkpoint(tmp_path / "donor", "checkpoint_000002")
    manager.register_checkpoint(_TrainingResult(latest, {"training_iteration": 3}))  # deletes 1
    source = checkpoints.kept_checkpoint_result(donor, recorded)
    assert source.checkpoint.path == latest.path
    assert source.metrics["training_iteration"] == 3  # the report the state was taken at


def test_an_exploit_copy_is_the_exploiting_trials_own_checkpoint(tmp_path: Path) -> None:
    donor_checkpoint = checkpoint(tmp_path / "donor", "checkpoint_000003", "donor at 4")
    exploiting = trial(tmp_path / "exploiting")
    copy = _copy_checkpoint(donor_checkpoint, exploiting, 1)
    checkpoints.register_exploited_checkpoint(exploiting, copy, {"training_iteration": 4})
    assert Path(copy.path).name == f"{EXPLOIT_CHECKPOINT_PREFIX}000001"
    assert Path(copy.path, "state.json").read_text() == "donor at 4"
    assert os.path.samefile(
        Path(copy.path, "state.json"), Path(donor_checkpoint.path, "state.json")
    )
    latest = exploiting.run_metadata.checkpoint_manager.latest_checkpoint_result
    assert latest.checkpoint.path == copy.path and latest.metrics["training_iteration"] == 4
    # The donor's num_to_keep deletes its own files; the copy keeps its links.
    (Path(donor_checkpoint.path) / "state.json").unlink()
    assert Path(copy.path, "state.json").read_text() == "donor at 4"


def test_a_kept_checkpoint_already_gone_counts_as_deleted(tmp_path: Path) -> None:
    # A resumed experiment's state can list a checkpoint deleted after Ray's last save of it.
    checkpoints.gone_checkpoints_count_as_deleted()
    manager = trial(tmp_path).run_metadata.checkpoint_manager
    old = checkpoint(tmp_path, "checkpoint_000003")
    manager.register_checkpoint(_TrainingResult(old, {"training_iteration": 3}))
    (Path(old.path) / "state.json").unlink()
    Path(old.path).rmdir()
    new = checkpoint(tmp_path, "checkpoint_000004")

    manager.register_checkpoint(_TrainingResult(new, {"training_iteration": 4}))

    assert [kept.checkpoint.path for kept in manager.best_checkpoint_results] == [new.path]
    newer = checkpoint(tmp_path, "checkpoint_000005")
    manager.register_checkpoint(_TrainingResult(newer, {"training_iteration": 5}))
    assert not Path(new.path).exists()  # a checkpoint that is there is still deleted
