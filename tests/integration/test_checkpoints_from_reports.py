"""A reported checkpoint registered from the report, without a second call to the trial.

Real Ray Tune runs of a function trainable that reports a plain checkpoint every epoch: with
:func:`tune_loop.checkpoints_registered_from_reports` open, each checkpoint is registered
as the report is processed (no save call in flight at that moment), in order, once, with the
report's metrics, and Ray keeps ``num_to_keep`` of them; without it, Ray Tune's own path asks
the trial (a save call is in flight when the checkpoint is registered).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from ray import tune
from ray.tune.experiment import Trial

from raytune_hpo.ray_compat import tune_loop

pytestmark = pytest.mark.integration

EPOCHS = 4


class Registrations(tune.Callback):
    """Each registered checkpoint: its folder, whether a save call was in flight, the epoch."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool, int]] = []

    def on_checkpoint(
        self, iteration: int, trials: list[Trial], trial: Trial, checkpoint: Any, **info: Any
    ) -> None:
        in_flight = trial.temporary_state.saving_to is not None
        self.seen.append((Path(checkpoint.path).name, in_flight, trial.last_result["epoch"]))


def fit(tmp_path: Path, name: str) -> tuple[tune.ResultGrid, Registrations]:
    # Defined here, so that Ray sends the function itself to the workers, not its module's name.
    def report_a_checkpoint_every_epoch(config: dict[str, Any]) -> None:
        for epoch in range(1, EPOCHS + 1):
            with tempfile.TemporaryDirectory() as folder:
                Path(folder, "state.json").write_text(json.dumps({"epoch": epoch}))
                checkpoint = tune.Checkpoint.from_directory(folder)
                tune.report({"epoch": epoch, "loss": config["lr"] / epoch}, checkpoint=checkpoint)

    registrations = Registrations()
    tuner = tune.Tuner(
        report_a_checkpoint_every_epoch,
        param_space={"lr": tune.grid_search([0.1, 0.2])},
        tune_config=tune.TuneConfig(metric="loss", mode="min"),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(tmp_path),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            callbacks=[registrations],
            verbose=0,
        ),
    )
    return tuner.fit(), registrations


def test_checkpoints_are_registered_from_the_reports(ray_session: None, tmp_path: Path) -> None:
    with tune_loop.checkpoints_registered_from_reports():
        results, registrations = fit(tmp_path, "from_reports")
    assert not results.errors
    expected = [(f"checkpoint_{n:06d}", False, n + 1) for n in range(EPOCHS)]
    assert sorted(registrations.seen) == sorted(expected * 2)
    for result in results:
        assert result.metrics["epoch"] == EPOCHS
        assert Path(result.checkpoint.path).name == f"checkpoint_{EPOCHS - 1:06d}"
        saved = json.loads(Path(result.checkpoint.path, "state.json").read_text())
        assert saved == {"epoch": EPOCHS}
        kept = sorted(p.name for p in Path(result.path).glob("checkpoint_*"))
        assert kept == [f"checkpoint_{EPOCHS - 2:06d}", f"checkpoint_{EPOCHS - 1:06d}"]
        best_metrics = [metrics["epoch"] for _, metrics in result.best_checkpoints]
        assert best_metrics == [EPOCHS - 1, EPOCHS]


def test_without_it_ray_tune_asks_the_trial(ray_session: None, tmp_path: Path) -> None:
    results, registrations = fit(tmp_path, "rays_own")
    assert not results.errors
    assert len(registrations.seen) == 2 * EPOCHS
    assert all(in_flight for _, in_flight, _ in registrations.seen)
