"""Hyperparameter importance on made-up trials whose objective is known.

The objective is ``(log(lr / 0.03))^2 + (4 unless act == "relu")`` plus a little seeded
noise: it uses the learning rate most, the activation less, and ignores ``dropout`` (drawn
uniformly) and ``width`` (an integer). The rankings hold for every seed from 0 to 19.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from raytune_hpo import cli
from raytune_hpo.analysis.importance import (
    EVALUATORS,
    ObjectiveImportance,
    method_importance,
    to_distribution,
    trials_importance,
    write_importance,
)
from raytune_hpo.layout import IMPORTANCE_FILE

SPACE = {
    "lr": {"loguniform": [0.001, 1.0]},
    "act": {"choice": ["relu", "tanh", "sigmoid"]},
    "dropout": {"uniform": [0.0, 0.5]},
    "width": {"randint": [16, 64]},
    "momentum": 0.9,
}
USED = ("lr", "act")
IGNORED = ("dropout", "width")
TRIALS = 100


def made_up_reports(trials: int = TRIALS, seed: int = 0) -> pd.DataFrame:
    """One report per trial, the objective known (``loss``; ``score`` is its negative)."""
    rng = np.random.default_rng(seed)
    lr = np.exp(rng.uniform(np.log(0.001), np.log(1.0), trials))
    act = rng.choice(["relu", "tanh", "sigmoid"], trials)
    loss = np.log(lr / 0.03) ** 2 + np.where(act == "relu", 0.0, 4.0)
    loss += 0.05 * rng.normal(size=trials)
    return pd.DataFrame(
        {
            "trial_id": [f"t{i:03d}" for i in range(trials)],
            "training_iteration": 1,
            "loss": loss,
            "score": -loss,
            "config/lr": lr,
            "config/act": act,
            "config/dropout": rng.uniform(0.0, 0.5, trials),
            "config/width": rng.integers(16, 65, trials),
            "config/momentum": 0.9,
        }
    )


def config(**changes: Any) -> dict[str, Any]:
    return {"metric": "loss", "mode": "min", "search_space": SPACE, **changes}


def only(found: Any) -> ObjectiveImportance:
    assert found is not None and len(found.objectives) == 1
    return found.objectives[0]


@pytest.mark.parametrize("evaluator", list(EVALUATORS))
def test_a_parameter_the_objective_ignores_ranks_below_the_ones_it_uses(evaluator: str) -> None:
    rated = only(trials_importance(made_up_reports(), config(), evaluator=evaluator))

    assert rated.missing is None and rated.trials == TRIALS
    assert set(rated.importance) == {*USED, *IGNORED}  # the constant momentum is left out
    assert next(iter(rated.importance)) == "lr"
    assert max(rated.importance[p] for p in IGNORED) < min(rated.importance[p] for p in USED)
    assert sum(rated.importance.values()) == pytest.approx(1.0)


def test_fanovas_forest_is_seeded() -> None:
    reports = made_up_reports(trials=40)
    first = trials_importance(reports, config(), evaluator="fanova")
    assert trials_importance(reports, config(), evaluator="fanova") == first


def test_a_maximised_objective_is_rated_by_its_own_direction() -> None:
    maximised = only(trials_importance(made_up_reports(), config(metric="score", mode="max")))
    minimised = only(trials_importance(made_up_reports(), config()))

    assert maximised.importance == pytest.approx(minimised.importance)


def test_too_few_trials_say_so_in_one_line() -> None:
    rated = only(trials_importance(made_up_reports(trials=10), config()))

    assert rated.importance == {}
    assert rated.missing == (
        "loss is in the last report of 10 trials; PED-ANOVA needs at least 11 "
        "(its best 10% must hold 2 trials)"
    )
    assert only(trials_importance(made_up_reports(trials=11), config())).missing is None


def test_each_trials_last_report_counts_and_trials_without_the_objective_are_left_out() -> None:
    reports = made_up_reports()
    earlier = reports.assign(training_iteration=0, loss=reports["loss"].sample(frac=1.0).values)
    reports.loc[:4, "loss"] = [np.nan, np.inf, np.nan, np.nan, np.nan]
    rated = only(trials_importance(pd.concat([earlier, reports]), config()))

    assert rated.trials == TRIALS - 5
    assert next(iter(rated.importance)) == "lr"  # the shuffled first reports did not count


def test_constraint_breakers_count_and_configs_outside_the_space_are_left_out() -> None:
    reports = made_up_reports().assign(latency=100.0)
    reports.loc[:2, "config/width"] = 1000  # beyond randint [16, 64]
    every_one_breaks = config(constraints={"latency": {"max": 1.0}})
    rated = only(trials_importance(reports, every_one_breaks))

    assert (rated.trials, rated.outside) == (TRIALS - 3, 3)


def test_every_objective_is_rated() -> None:
    reports = made_up_reports().assign(size=lambda f: f["config/width"] * 1.0)
    found = trials_importance(reports, config(metric=["loss", "size"], mode=["min", "min"]))

    assert found is not None
    loss, size = found.objectives
    assert (loss.objective, size.objective) == ("loss", "size")
    assert next(iter(loss.importance)) == "lr"
    assert next(iter(size.importance)) == "width"


def test_no_sampled_parameter_means_no_importance() -> None:
    assert trials_importance(made_up_reports(), config(search_space={"lr": 0.1})) is None


def test_a_pbt_space_takes_the_specs_it_mutates() -> None:
    scheduler = {"name": "pbt", "hyperparam_mutations": {"dropout": {"uniform": [0.0, 0.5]}}}
    space = {**SPACE, "dropout": 0.1}
    rated = only(
        trials_importance(made_up_reports(), config(search_space=space, scheduler=scheduler))
    )

    assert "dropout" in rated.importance


def test_specs_become_optunas_distributions() -> None:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    assert to_distribution("a", {"loguniform": [0.01, 1.0]}) == FloatDistribution(
        0.01, 1.0, log=True
    )
    assert to_distribution("b", {"quniform": [0.0, 1.0, 0.25]}) == FloatDistribution(
        0.0, 1.0, step=0.25
    )
    assert to_distribution("c", {"randint": [32, 256]}) == IntDistribution(32, 256)
    assert to_distribution("d", {"lograndint": [1, 64]}) == IntDistribution(1, 64, log=True)
    assert to_distribution("e", {"grid": [[1, 2], "x"]}) == CategoricalDistribution(["[1, 2]", "x"])


def test_methods_hold_the_mean_over_their_runs() -> None:
    runs = [trials_importance(made_up_reports(seed=seed), config()) for seed in (0, 1)]
    table = method_importance([("tpe", runs[0]), ("tpe", runs[1]), ("grid", None)])
    lr = table[(table["method"] == "tpe") & (table["param"] == "lr")].iloc[0]

    expected = np.mean([only(run).importance["lr"] for run in runs])
    assert lr["importance"] == pytest.approx(expected)
    assert lr["runs"] == 2
    assert set(table["method"]) == {"tpe"}


def write_folder(path: Path, reports: pd.DataFrame, raw_config: dict[str, Any]) -> Path:
    """An experiment folder as ``raytune-hpo run`` leaves it, one report per trial."""
    path.mkdir()
    (path / "raytune_hpo.yaml").write_text(yaml.safe_dump({"name": path.name, **raw_config}))
    state = []
    for row in reports.to_dict("records"):
        trial_dir = path / f"trial_{row['trial_id']}"
        trial_dir.mkdir()
        params = {k.removeprefix("config/"): v for k, v in row.items() if k.startswith("config/")}
        report = {k: v for k, v in row.items() if not k.startswith("config/")}
        report.update(timestamp=1.0, time_this_iter_s=1.0, time_total_s=1.0, config=params)
        (trial_dir / "result.json").write_text(json.dumps(report, default=_plain) + "\n")
        trial = {
            "trial_id": row["trial_id"],
            "status": "TERMINATED",
            "relative_logdir": trial_dir.name,
        }
        state.append([json.dumps(trial), json.dumps({"start_time": 0.0, "num_failures": 0})])
    state_file = path / "experiment_state-2026-01-01_00-00-00.json"
    state_file.write_text(json.dumps({"trial_data": state}))
    return path


def _plain(value: Any) -> Any:
    return value.item()


def test_summary_prints_the_top_parameters_and_writes_importance_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_folder(tmp_path / "made_up", made_up_reports(trials=30), config())

    assert cli.main(["summary", str(folder), "--importance", "fanova"]) == 0

    out = capsys.readouterr().out
    assert "importance of loss (fANOVA, 30 trials' last reports):" in out
    assert out.split("importance of loss")[1].splitlines()[1].split()[0] == "lr"
    written = json.loads((folder / IMPORTANCE_FILE).read_text())
    assert list(written) == ["loss"]
    assert set(written["loss"]) == {*USED, *IGNORED}
    assert max(written["loss"], key=written["loss"].get) == "lr"


def test_importance_json_holds_only_the_rated_objectives(tmp_path: Path) -> None:
    reports = made_up_reports().assign(size=np.nan)
    found = trials_importance(reports, config(metric=["loss", "size"], mode=["min", "min"]))
    assert found is not None
    write_importance(tmp_path, found)

    written = json.loads((tmp_path / IMPORTANCE_FILE).read_text())
    assert set(written) == {"loss"}
    assert written["loss"] == pytest.approx(found.objectives[0].importance)


def test_compare_reports_each_methods_mean_importance(tmp_path: Path) -> None:
    from raytune_hpo.analysis.compare import load_comparison, write_comparison

    raw = config(searcher={"name": "random"}, scheduler={"name": "fifo"})
    folders = [
        write_folder(tmp_path / f"random_s{seed}", made_up_reports(trials=30, seed=seed), raw)
        for seed in (0, 1)
    ]
    comparison = load_comparison(folders)
    written = write_comparison(comparison, tmp_path / "out")

    table = pd.read_csv(written["importance"])
    assert set(table["runs"]) == {2}
    assert table.iloc[0][["method", "objective", "param"]].tolist() == ["random", "loss", "lr"]
    report = written["report"].read_text()
    assert "## Which hyperparameters mattered" in report
    assert "| method | runs | lr |" in report
