"""A trial that finished keeps less in the driver (:class:`FinishedTrialsSlimmed`): its metric
windows go, its analysis stays, and its state still saves and restores. On Ray Tune's own
``Trial`` (a stub: no Ray instance needed to hold results)."""

from __future__ import annotations

from typing import Any

from ray.tune.experiment import Trial

from raytune_hpo.experiment.finished_trials import FinishedTrialsSlimmed


def reported(reports: int) -> Trial:
    trial = Trial("sleep", config={"lr": 0.1}, stub=True)
    for iteration in range(1, reports + 1):
        result: dict[str, Any] = {"loss": 1.0 / iteration, "training_iteration": iteration}
        trial.update_last_result({**result, "trial_id": trial.trial_id, "config": trial.config})
    return trial


def test_a_finished_trial_drops_its_windows_and_keeps_its_analysis() -> None:
    trial = reported(12)
    analysis = {k: dict(v) for k, v in trial.run_metadata.metric_analysis.items()}
    assert trial.run_metadata.metric_n_steps["loss"]["10"]

    FinishedTrialsSlimmed().on_trial_complete(iteration=12, trials=[trial], trial=trial)

    assert trial.run_metadata.metric_n_steps == {}
    assert trial.run_metadata.metric_analysis == analysis
    assert trial.run_metadata.metric_analysis["loss"]["last-10-avg"] > 0
    assert trial.last_result["loss"] == 1.0 / 12


def test_its_saved_state_is_smaller_and_restores() -> None:
    trial = reported(12)
    _, before = trial.get_json_state()

    FinishedTrialsSlimmed().on_trial_complete(iteration=12, trials=[trial], trial=trial)
    _, after = trial.get_json_state()

    assert len(after) < len(before) * 0.7  # 2 numeric keys here; a dozen in a real result
    restored = Trial("sleep", stub=True)  # as Ray Tune restores an experiment's trials
    restored.restore_run_metadata(after)
    assert restored.run_metadata.metric_analysis == trial.run_metadata.metric_analysis
    assert restored.last_result["loss"] == 1.0 / 12
