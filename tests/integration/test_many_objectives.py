"""Two objectives from YAML through ``raytune_hpo.run``: Optuna's NSGA-II with a constraint, and
random search under MOASHA, on the ``sleep`` trainable (its error falls and its cost rises with
the learning rate), a few trials of a few epochs each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.api import run
from raytune_hpo.config import validate_config
from raytune_hpo.console.summary import print_summary
from raytune_hpo.dashboard.experiment_page import experiment_data
from raytune_hpo.layout import CONFIG_FILE, PARETO_PNG
from raytune_hpo.pareto import dominates
from raytune_hpo.storage.stamped import LocalStore

pytestmark = pytest.mark.integration

EPOCHS = 3


def write_config(tmp_path: Path, name: str, **changes: Any) -> Path:
    raw = {
        "name": name,
        "trainable": "sleep",
        "trainable_options": {"seconds_per_epoch": 0.01},
        "dataset": {"data_dir": str(tmp_path / "data")},
        "metric": ["validation_error", "cost"],
        "mode": ["min", "min"],
        "max_epochs": EPOCHS,
        "num_samples": 6,
        "seed": 0,
        "search_space": {"learning_rate": {"loguniform": [0.05, 1.0]}},
        "checkpoint": {"num_to_keep": 1},
        "tensorboard": False,
        "storage_path": str(tmp_path / "results"),
        **changes,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def epochs_per_trial(folder: Path) -> dict[str, int]:
    reports = load_experiment(folder).reports
    assert {"validation_error", "cost"} <= set(reports.columns)
    return reports.groupby("trial_id")["training_iteration"].max().to_dict()


def test_nsga2_with_a_constraint_runs_every_trial_to_the_end(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(
        tmp_path,
        "nsga2",
        searcher={"name": "optuna", "sampler": "nsga2", "population_size": 2},
        constraints={"cost": {"max": 0.5}},
    )
    outcome = run(path, output="quiet")
    folder = Path(outcome.path)
    assert epochs_per_trial(folder) == dict.fromkeys(epochs_per_trial(folder), EPOCHS)
    assert len(epochs_per_trial(folder)) == 6
    saved = validate_config(yaml.safe_load((folder / CONFIG_FILE).read_text()))
    assert [o.name for o in saved.objectives] == ["validation_error", "cost"]
    assert saved.constraints["cost"].max == 0.5

    # best.json's front: the trials whose last report keeps cost <= 0.5 that none of those beats.
    reports = load_experiment(folder).reports.sort_values("training_iteration")
    last = reports.groupby("trial_id").tail(1).set_index("trial_id")
    kept = {t: (r.validation_error, r.cost) for t, r in last.iterrows() if r.cost <= 0.5}
    expected = {t for t, p in kept.items() if not any(dominates(q, p) for q in kept.values())}
    assert outcome.best is not None and expected
    assert {entry["trial_id"] for entry in outcome.best["pareto_front"]} == expected
    assert outcome.best["trial_id"] in kept, "the best trial keeps the constraint"
    # The dashboard's experiment page draws the same front, the constraint breakers off it.
    page = experiment_data(LocalStore(folder.parent), folder.name)
    fronts = page["fronts"]
    assert page["metric"] == "validation_error" and fronts["constraints"] == ["cost"]
    drawn = {t for t, on in zip(fronts["trials"], fronts["on_front"], strict=True) if on}
    assert drawn == expected and fronts["hypervolume"]["value"][-1] > 0
    capsys.readouterr()
    print_summary(folder)
    out = capsys.readouterr().out
    assert f"Pareto front ({len(expected)} of 6 trials; each trial's last report):" in out
    assert "the worst value seen per objective" in out
    assert f"Pareto plot: {folder / PARETO_PNG}" in out and (folder / PARETO_PNG).exists()


def test_moasha_stops_trials_at_its_rungs(ray_session: None, tmp_path: Path) -> None:
    path = write_config(tmp_path, "moasha", scheduler={"name": "moasha", "grace_period": 1})
    outcome = run(path, output="quiet")
    epochs = epochs_per_trial(Path(outcome.path))
    assert len(epochs) == 6
    assert EPOCHS in epochs.values()  # the first trial at each rung goes on
    assert min(epochs.values()) < EPOCHS  # and some are stopped at a rung
