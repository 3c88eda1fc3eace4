"""Real Ray Tune experiments of LeNet on a digits slice, one per searcher/scheduler pair."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from raytune_hpo.analysis.results import load_experiment, summary_table
from raytune_hpo.config import validate_config
from raytune_hpo.experiment.runner import run_experiment
from raytune_hpo.search import search_space
from raytune_hpo.search.pbt_history import read_records

pytestmark = pytest.mark.integration

PAIRS: dict[str, dict[str, Any]] = {
    "random": {"searcher": {"name": "random"}},
    "grid": {
        "searcher": {"name": "grid"},
        "search_space": {
            "learning_rate": {"grid": [0.01, 0.05]},
            "batch_size": 64,
            "momentum": 0.9,
        },
        "num_samples": 1,
    },
    "hyperopt": {"searcher": {"name": "hyperopt", "n_initial_points": 2}},
    "asha": {
        "scheduler": {"name": "asha", "grace_period": 1, "reduction_factor": 2},
        "num_samples": 6,
        "max_epochs": 4,
    },
    "hyperopt+asha": {
        "searcher": {"name": "hyperopt", "n_initial_points": 2},
        "scheduler": {"name": "asha", "grace_period": 1, "reduction_factor": 2},
        "num_samples": 6,
        "max_epochs": 4,
    },
    "hyperband": {"scheduler": {"name": "hyperband", "reduction_factor": 2}},
    "median": {"scheduler": {"name": "median", "grace_period": 1, "min_samples_required": 2}},
    "pbt": {
        "scheduler": {
            "name": "pbt",
            "perturbation_interval": 1,
            "quantile_fraction": 0.5,
            "hyperparam_mutations": {"learning_rate": {"loguniform": [0.005, 0.3]}},
        },
        "max_epochs": 4,
    },
}


def _run(raw: dict[str, Any]) -> tuple[Any, Any]:
    cfg = validate_config(raw)
    outcome = run_experiment(cfg)
    return cfg, load_experiment(outcome.path)


@pytest.mark.parametrize("method", list(PAIRS))
def test_every_pair_runs_and_reports_every_epoch(
    method: str, tiny_lenet_config: dict[str, Any], ray_session: None
) -> None:
    raw = {**tiny_lenet_config, "name": method.replace("+", "_"), **PAIRS[method]}
    cfg, experiment = _run(raw)

    assert cfg.method == method
    trials = experiment.trials
    expected = 2 if method == "grid" else cfg.num_samples
    assert len(trials) == expected
    # Ray's synchronous HyperBand may end the experiment with a trial still PAUSED at a rung
    # whose bracket never filled; every other scheduler ends with all trials TERMINATED.
    allowed = {"TERMINATED", "PAUSED"} if method == "hyperband" else {"TERMINATED"}
    assert set(trials["status"]) <= allowed
    assert "TERMINATED" in set(trials["status"])
    for trial_id, reports in experiment.reports.groupby("trial_id"):
        epochs = sorted(reports["training_iteration"])
        if method == "pbt":
            # An exploit continues from the donor's checkpoint, which may be epochs ahead.
            assert epochs[0] == 1 and len(set(epochs)) == len(epochs), trial_id
        else:
            assert epochs == list(range(1, len(epochs) + 1)), f"{trial_id} skipped an epoch"
        assert list(reports.sort_values("training_iteration")["epoch"]) == epochs
        for column in ("validation_error", "validation_loss", "train_loss"):
            assert reports[column].notna().all()
    best = experiment.best
    assert best is not None
    for key, value in best["config"].items():
        assert search_space.contains(key, cfg.search_space[key], value), (key, value)
    assert 0.0 <= best["test"]["test_error"] <= 1.0
    table = summary_table(experiment)
    assert len(table) == expected


def test_fifo_runs_every_trial_to_max_epochs(
    tiny_lenet_config: dict[str, Any], ray_session: None
) -> None:
    cfg, experiment = _run({**tiny_lenet_config, "name": "fifo_full"})
    epochs = experiment.reports.groupby("trial_id")["training_iteration"].max()
    assert (epochs == cfg.max_epochs).all()


def test_asha_stops_a_trial_early(tiny_lenet_config: dict[str, Any], ray_session: None) -> None:
    raw = {**tiny_lenet_config, "name": "asha_early", **PAIRS["asha"], "num_samples": 8}
    cfg, experiment = _run(raw)
    epochs = experiment.reports.groupby("trial_id")["training_iteration"].max()
    assert (epochs < cfg.max_epochs).any(), epochs.to_dict()
    assert (epochs == cfg.max_epochs).any(), epochs.to_dict()


def test_pbt_exploits_another_trials_checkpoint(
    tiny_lenet_config: dict[str, Any], ray_session: None
) -> None:
    raw = {**tiny_lenet_config, "name": "pbt_exploit", **PAIRS["pbt"], "max_epochs": 5}
    _, experiment = _run(raw)
    log = Path(experiment.path) / "pbt_global.txt"
    assert log.exists() and log.read_text().strip(), "PBT never exploited"
    records = read_records(experiment.path)
    assert len(records) == len(log.read_text().splitlines()), "an exploit went unrecorded"
    reports = experiment.reports
    continued = 0
    for record in records:
        assert record["donor_id"] != record["trial_id"]
        own = reports[reports["trial_id"] == record["trial_id"]]
        # Up to the trial's next exploit, if any: PBT may exploit a paused trial again before
        # it trains with the value of this one.
        again = [r["time"] for r in records if r["trial_id"] == record["trial_id"]]
        until = min((t for t in again if t > record["time"]), default=math.inf)
        later = own[(own["report_time"] > record["time"]) & (own["report_time"] < until)]
        later = later.sort_values("report_time")
        new_rate = later[later["config/learning_rate"] == record["new"]["learning_rate"]]
        first_new = new_rate["report_time"].min() if not new_rate.empty else math.inf
        # Before the new value trains, at most the epoch that was running when PBT exploited
        # can arrive (the trial's own count, the old value).
        in_flight = later[later["report_time"] < first_new]
        assert len(in_flight) <= 1, in_flight[["training_iteration", "config/learning_rate"]]
        assert (in_flight["training_iteration"] == record["training_iteration"] + 1).all()
        if new_rate.empty:
            # Exploited at its last epoch, or exploited again before its next epoch.
            assert until < math.inf or later.empty, "the exploited trial never trained again"
            continue
        continued += 1
        # The next epoch trains with the new learning rate from the donor's checkpoint: it
        # continues the donor's epoch count, not its own.
        assert new_rate.iloc[0]["training_iteration"] <= record["donor_iteration"] + 1
    assert continued >= 1, "no exploited trial trained again after its exploit"
    # After an exploit, the exploiting trial continues the donor's epoch count from its
    # checkpoint: its epochs stay contiguous and it reaches max_epochs.
    epochs = reports.groupby("trial_id")["training_iteration"].max()
    assert (epochs == 5).all()
