"""The user's own Python code, tuned by import path with a real Ray instance.

``tests/user_code/tunable.py`` is copied into a temporary folder outside the package (under a
module name nothing else uses) and named as ``module:name`` or ``file.py:name``, as a user's
YAML file would; the experiments run in this process on the session's shared Ray.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ray import tune

import raytune_hpo
from raytune_hpo import cli
from raytune_hpo.analysis.results import load_experiment, summary_table
from raytune_hpo.config import ConfigError, anchor_paths, validate_config
from raytune_hpo.experiment.runner import ExperimentOutcome, run_experiment
from raytune_hpo.search.pbt_history import read_history
from tests.helpers.user_code import LRS, USER_MODULE, climb_config

pytestmark = pytest.mark.integration

MODULE = USER_MODULE


def _run(raw: dict[str, Any], user_code_dir: Path) -> ExperimentOutcome:
    cfg = anchor_paths(validate_config(raw), user_code_dir)
    return run_experiment(cfg, search_paths=(user_code_dir,))


@pytest.fixture(scope="module")
def asha_runs(
    ray_session: None, user_code_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ExperimentOutcome]:
    """A function (by module name) and a class (by file path) under ASHA, one run each."""
    tmp = tmp_path_factory.mktemp("asha")
    asha = {"name": "asha", "grace_period": 1, "reduction_factor": 2}
    # The strongest climbers first, two at a time: the weakest meets a full rung.
    order = {
        "scheduler": asha,
        "max_concurrent_trials": 2,
        "search_space": {"lr": {"grid": LRS[::-1]}, "seconds_per_step": 0.05},
    }
    return {
        kind: _run(climb_config(tmp, f"asha_{kind}", trainable, **order), user_code_dir)
        for kind, trainable in [
            ("function", f"{MODULE}:climb"),
            ("class", f"{MODULE}.py:Climber"),
        ]
    }


@pytest.mark.parametrize("kind", ["function", "class"])
def test_asha_stops_the_weak_trials_of_user_code_early(
    asha_runs: dict[str, ExperimentOutcome], kind: str
) -> None:
    experiment = load_experiment(asha_runs[kind].path)
    epochs = experiment.reports.groupby("trial_id")["training_iteration"].max()
    lr_of = experiment.reports.groupby("trial_id")["config/lr"].first()

    assert len(epochs) == len(LRS)
    assert epochs.max() == 4, "max_epochs caps code that never stops by itself"
    assert epochs[lr_of.idxmin()] < 4, "ASHA stops the slowest climber early"
    best = asha_runs[kind].best
    assert best is not None and best["config"]["lr"] == max(LRS)
    assert best["score"] == pytest.approx(4 * max(LRS))
    assert best["checkpoint"] and Path(best["checkpoint"]).is_dir()
    assert best["test"] is None  # no evaluate hook


def test_compare_reads_user_code_experiments(
    asha_runs: dict[str, ExperimentOutcome], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = [str(outcome.path) for outcome in asha_runs.values()]
    assert cli.main(["compare", *dirs, "--out", str(tmp_path / "cmp"), "--target", "8"]) == 0

    out = capsys.readouterr().out
    assert "asha" in out and "report:" in out
    assert (tmp_path / "cmp" / "report.md").exists()


@pytest.mark.parametrize(
    ("kind", "trainable"), [("function", f"{MODULE}:climb"), ("class", f"{MODULE}:Climber")]
)
def test_pbt_exploit_continues_from_the_donor_checkpoint_with_its_new_value(
    ray_session: None,
    user_code_dir: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    kind: str,
    trainable: str,
) -> None:
    pbt = {
        "name": "pbt",
        "perturbation_interval": 2,
        "quantile_fraction": 0.25,
        "resample_probability": 0.0,
        "hyperparam_mutations": {"lr": {"choice": LRS}},
    }
    raw = climb_config(tmp_path, f"pbt_{kind}", trainable, scheduler=pbt, max_epochs=6)
    raw["search_space"]["seconds_per_step"] = 0.2
    outcome = _run(raw, user_code_dir)

    history = read_history(outcome.path)
    reports = load_experiment(outcome.path).reports
    assert not history.empty, "the slowest climber is exploited at least once"
    for exploit in history.itertuples(index=False):
        own = reports[reports["trial_id"] == exploit.trial_id]
        after = own[own["restored_from"] == exploit.donor_id].nsmallest(1, "training_iteration")
        assert len(after) == 1, f"{exploit.trial_id} never continued from {exploit.donor_id}"
        after = after.iloc[0]
        # The donor's checkpoint is its state after the iteration before the trial's next one.
        saved_at = after["training_iteration"] - 1
        assert saved_at <= exploit.donor_iteration
        donor = reports.set_index(["trial_id", "training_iteration"]).loc[
            (exploit.donor_id, saved_at)
        ]
        assert after["lr_seen"] == exploit.new
        assert after["score"] == pytest.approx(donor["score"] + exploit.new)
    assert "without a checkpoint" not in capfd.readouterr().err


def test_missing_metric_ends_the_experiment_with_one_line(
    ray_session: None, user_code_dir: Path, tmp_path: Path
) -> None:
    raw = climb_config(tmp_path, "missing", f"{MODULE}:climb", metric="accuracy", max_epochs=2)
    with pytest.raises(ConfigError) as caught:
        _run(raw, user_code_dir)

    message = str(caught.value)
    assert caught.value.key == "metric" and "\n" not in message
    assert "reported no 'accuracy'" in message
    assert "epoch, lr_seen, restored_from, score" in message


def test_a_diverged_trial_stops_and_is_marked(
    ray_session: None, user_code_dir: Path, tmp_path: Path
) -> None:
    raw = climb_config(tmp_path, "nan", f"{MODULE}:climb_to_nan")
    raw["search_space"] = {"lr": {"grid": [1.0, 2.0]}}
    outcome = _run(raw, user_code_dir)

    table = summary_table(load_experiment(outcome.path)).set_index("lr")
    assert table.loc[2.0, "epochs"] == 2 and table.loc[2.0, "diverged"]
    assert table.loc[1.0, "epochs"] == 4 and not table.loc[1.0, "diverged"]
    assert outcome.best is not None and outcome.best["config"]["lr"] == 1.0


def test_pbt_without_checkpoints_warns_once(
    ray_session: None, user_code_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    pbt = {
        "name": "pbt",
        "perturbation_interval": 1,
        "hyperparam_mutations": {"lr": {"choice": LRS}},
    }
    raw = climb_config(tmp_path, "nockpt", f"{MODULE}:climb_without_checkpoints", scheduler=pbt)
    raw.update(max_epochs=3, search_space={"lr": {"grid": LRS[:2]}, "seconds_per_step": 0.01})
    _run(raw, user_code_dir)

    warnings = [
        line for line in capfd.readouterr().err.splitlines() if "without a checkpoint" in line
    ]
    assert len(warnings) == 1, warnings
    assert "exploited trials will start from scratch" in warnings[0]


def test_python_api_tunes_a_function_defined_in_the_caller(
    ray_session: None, user_code_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def objective(config: dict[str, Any]) -> None:  # as if defined in a notebook
        for step in range(1, 4):
            with_checkpoint = step == 3
            metrics = {"loss": (config["x"] - 2) ** 2 + 1 / step}
            if not with_checkpoint:
                tune.report(metrics)
                continue
            import json
            import tempfile

            with tempfile.TemporaryDirectory() as folder:
                Path(folder, "state.json").write_text(json.dumps({"score": -metrics["loss"]}))
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))

    config = {
        "name": "api",
        "metric": "loss",
        "max_epochs": 3,
        "num_samples": 3,
        "search_space": {"x": {"uniform": [0, 4]}},
        "resources_per_trial": {"cpu": 0.5},
        "storage_path": str(tmp_path / "results"),
        "evaluate": f"{user_code_dir / MODULE}.py:evaluate",
    }
    outcome = raytune_hpo.run(config, trainable=objective, output="quiet")

    assert outcome.config.trainable.endswith(":" + objective.__qualname__)
    assert outcome.best is not None and set(outcome.best["test"]) == {"test_score"}
    assert outcome.best["test"]["test_score"] == pytest.approx(-10 * outcome.best["loss"])
    printed = capsys.readouterr().out
    assert "best config:" in printed
    assert "Experiment api:" not in printed  # quiet: no header, no trial events
