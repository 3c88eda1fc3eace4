"""The two per-report checks that look at the clock first: a trial worker's copy of its
artifacts (:func:`trial_storage.artifact_sync_checks_clock_first`) and the loop's save of the
experiment state (:func:`tune_loop.experiment_state_checks_clock_first`).

Both run on Ray's own classes (``StorageContext`` on a real Ray instance, Ray Tune's
experiment checkpoint manager). Each is shown to copy or save exactly when Ray's own method
would, and, inside the period, to return before it touches what Ray's own method reads first
(which Ray's own is shown to touch). What that saves per report is measured by
``experiments/benchmarks/bench_throughput.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray.train import SyncConfig
from ray.train._internal.storage import StorageContext
from ray.tune.execution.experiment_state import _ExperimentCheckpointManager

from raytune_hpo.ray_compat import trial_storage, tune_loop

PERIOD_S = 300.0


@pytest.fixture(scope="module", autouse=True)
def clock_first_checks() -> None:
    trial_storage.artifact_sync_checks_clock_first()
    tune_loop.experiment_state_checks_clock_first()


@pytest.fixture
def storage(tmp_path: Path, ray_session: None) -> Iterator[StorageContext]:
    """A trial's storage with a ``stdout`` file in its working folder, as ``log_to_file``
    leaves it."""
    context = StorageContext(
        storage_path=str(tmp_path / "results"),
        experiment_dir_name=tmp_path.name,  # the working folder is under Ray's session
        trial_dir_name="trial",
        sync_config=SyncConfig(
            sync_artifacts=True, sync_artifacts_on_checkpoint=False, sync_period=PERIOD_S
        ),
    )
    working = Path(context.trial_working_directory)
    working.mkdir(parents=True)
    (working / "stdout").write_text("epoch 1\n")
    yield context
    context.syncer.wait()


def copied(storage: StorageContext) -> bool:
    storage.syncer.wait()
    return (Path(storage.trial_fs_path) / "stdout").exists()


def test_artifacts_are_copied_when_the_period_has_passed(storage: StorageContext) -> None:
    storage.persist_artifacts()

    assert copied(storage)
    assert time.time() - storage.syncer.last_sync_up_time < 60


def test_artifacts_are_not_copied_within_the_period_unless_forced(storage: StorageContext) -> None:
    storage.syncer.last_sync_up_time = time.time()

    storage.persist_artifacts()
    assert not copied(storage)

    storage.persist_artifacts(force=True)
    assert copied(storage)


def test_within_the_period_the_working_folder_is_not_even_listed(storage: StorageContext) -> None:
    working = Path(storage.trial_working_directory)
    (working / "stdout").unlink()
    working.rmdir()
    storage.syncer.last_sync_up_time = time.time()

    storage.persist_artifacts()  # Ray's own lists the folder first:

    rays_own = StorageContext.persist_artifacts.rays_own  # type: ignore[attr-defined]
    with pytest.raises(FileNotFoundError):
        rays_own(storage)


def test_installing_twice_keeps_one_clock_check() -> None:
    installed = StorageContext.persist_artifacts
    trial_storage.artifact_sync_checks_clock_first()
    assert StorageContext.persist_artifacts is installed

    loop_installed = _ExperimentCheckpointManager.sync_up_experiment_state
    tune_loop.experiment_state_checks_clock_first()
    rays_own = _ExperimentCheckpointManager.sync_up_experiment_state.rays_own  # type: ignore[attr-defined]
    assert rays_own is loop_installed.rays_own  # type: ignore[attr-defined]


def test_the_experiment_state_is_saved_when_due_or_forced(storage: StorageContext) -> None:
    manager = _ExperimentCheckpointManager(storage=storage, checkpoint_period=PERIOD_S)
    saves: list[float] = []

    def save() -> None:
        saves.append(time.monotonic())
        staging = Path(storage.experiment_driver_staging_path)
        staging.mkdir(parents=True, exist_ok=True)
        (staging / "experiment_state.json").write_text("{}")

    manager.sync_up_experiment_state(save)
    manager.sync_up_experiment_state(save)
    assert len(saves) == 1
    manager.sync_up_experiment_state(save, force=True)
    assert len(saves) == 2
    manager._should_force_sync_up = True
    manager.sync_up_experiment_state(save, wait=True)
    assert len(saves) == 3
    assert (Path(storage.experiment_fs_path) / "experiment_state.json").exists()


def test_within_the_period_the_staging_path_is_not_even_built() -> None:
    manager = _ExperimentCheckpointManager(storage=None, checkpoint_period=PERIOD_S)
    manager._last_save_time = time.monotonic()

    manager.sync_up_experiment_state(lambda: None)  # Ray's own reads the storage first:

    rays_own = _ExperimentCheckpointManager.sync_up_experiment_state.rays_own  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        rays_own(manager, lambda: None)
