"""The JSON of an experiment page's "what matters" views, on synthetic folders in Ray's file
format: importance (from ``importance.json`` or rated by the page), slices, the contour and,
with several objectives, the Pareto front and the hypervolume history."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from raytune_hpo.dashboard import derived
from raytune_hpo.dashboard.contour import FIRST_VARYING, MOST_IMPORTANT, interpolate
from raytune_hpo.dashboard.experiment_page import experiment_data
from raytune_hpo.dashboard.importance_view import COMPUTED, FROM_FILE
from raytune_hpo.dashboard.index import experiment_row
from raytune_hpo.dashboard.trials import read_trials
from raytune_hpo.layout import CONFIG_FILE, IMPORTANCE_FILE, RESULT_FILE
from raytune_hpo.pareto import dominates
from raytune_hpo.storage.stamped import LocalStore

SPACE = {
    "lr": {"loguniform": [0.0001, 1.0]},
    "wd": {"uniform": [0.0, 1.0]},
    "act": {"choice": ["relu", "tanh"]},
    "width": 64,
}
TRIALS = 14
ERRORED_TRIAL = "t_00013"


def config_of(index: int) -> dict[str, Any]:
    """Trial ``index``'s config: lr spread over four decades, wd and act mixed."""
    return {"lr": 10 ** (-4 + 4 * index / (TRIALS - 1)), "wd": (index * 5 % TRIALS) / TRIALS,
            "act": ("relu", "tanh")[index % 2], "width": 64}  # fmt: skip


def error_of(config: dict[str, Any], epoch: int) -> float:
    """The error, set by lr alone: lowest at lr 0.01."""
    return (math.log10(config["lr"]) + 2) ** 2 + 1 / epoch


def write_experiment(root: Path, name: str, config: dict[str, Any], trials: int = TRIALS) -> Path:
    """An experiment of ``trials`` trials of 2 reports each; ``ERRORED_TRIAL`` errored."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / CONFIG_FILE).write_text(yaml.safe_dump({"name": name, **config}))
    states = []
    for index in range(trials):
        trial, params = f"t_{index:05d}", config_of(index)
        reports = [
            {"trial_id": trial, "training_iteration": epoch, "timestamp": 1000 + 10 * index + epoch,
             "validation_error": error_of(params, epoch), "cost": params["lr"] * 10,
             "config": params}
            for epoch in (1, 2)
        ]  # fmt: skip
        (folder / f"trial_{trial}").mkdir()
        (folder / f"trial_{trial}" / RESULT_FILE).write_text(
            "".join(json.dumps(r) + "\n" for r in reports)
        )
        status = "ERROR" if trial == ERRORED_TRIAL else "TERMINATED"
        states.append([json.dumps({"trial_id": trial, "status": status, "config": params,
                                   "relative_logdir": f"trial_{trial}"}),
                       json.dumps({"start_time": 1000.0})])  # fmt: skip
    state = {"trial_data": states, "runner_data": "{}", "stats": "{}"}
    (folder / "experiment_state-2026-01-01_00-00-00.json").write_text(json.dumps(state))
    return folder


ONE = {"metric": "validation_error", "mode": "min", "search_space": SPACE}
TWO = {"metric": ["validation_error", "cost"], "mode": ["min", "min"], "search_space": SPACE}


def test_a_list_of_objectives_names_the_first_as_the_metric_and_shows_every_one(
    tmp_path: Path,
) -> None:
    write_experiment(tmp_path, "two", {**TWO, "constraints": {"cost": {"max": 5.0}}})
    store = LocalStore(tmp_path)
    row = experiment_row(store, "two")
    assert (row["metric"], row["mode"]) == ("validation_error", "min")
    page = experiment_data(store, "two")
    assert page["objectives"] == [
        {"name": "validation_error", "mode": "min"},
        {"name": "cost", "mode": "min"},
    ]
    first = next(t for t in page["trial_rows"] if t["trial_id"] == "t_00000")
    assert first["last"] == pytest.approx(error_of(config_of(0), 2))
    assert first["others"] == {"cost": pytest.approx(0.001)}
    assert read_trials(store, "two").metric == "validation_error"


def test_without_importance_json_the_page_rates_each_objective_as_summary_does(
    tmp_path: Path,
) -> None:
    write_experiment(tmp_path, "two", TWO)
    importance = experiment_data(LocalStore(tmp_path), "two")["importance"]
    assert importance["source"] == COMPUTED and importance["missing"] == {}
    for objective in ("validation_error", "cost"):
        ranked = importance["ranked"][objective]
        assert ranked[0][0] == "lr", ranked  # both objectives follow lr alone
        assert {name for name, _ in ranked} == {"lr", "wd", "act"}  # width is a constant
        assert sum(value for _, value in ranked) == pytest.approx(1.0)


def test_too_few_trials_to_rate_say_how_many_are_needed(tmp_path: Path) -> None:
    write_experiment(tmp_path, "few", ONE, trials=5)
    importance = experiment_data(LocalStore(tmp_path), "few")["importance"]
    assert importance["ranked"] == {}
    assert importance["missing"]["validation_error"].startswith(
        "validation_error is in the last report of 5 trials; PED-ANOVA needs at least 11"
    )


def test_importance_json_is_shown_as_written(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path, "two", TWO)
    saved = {"validation_error": {"act": 0.1, "wd": 0.7, "lr": 0.2}}
    (folder / IMPORTANCE_FILE).write_text(json.dumps(saved))
    page = experiment_data(LocalStore(tmp_path), "two")
    importance = page["importance"]
    assert importance["source"] == FROM_FILE
    assert importance["ranked"] == {"validation_error": [("wd", 0.7), ("lr", 0.2), ("act", 0.1)]}
    assert "rates no cost" in importance["missing"]["cost"]
    # The contour follows the file: its two most important numeric hyperparameters.
    contour = page["contours"]["validation_error"]
    assert [p["name"] for p in contour["params"]] == ["wd", "lr"]
    assert contour["why"] == MOST_IMPORTANT
    # Without an importance for cost, its contour takes the first two that vary, by name.
    cost = page["contours"]["cost"]
    assert [p["name"] for p in cost["params"]] == ["lr", "wd"] and cost["why"] == FIRST_VARYING


def test_slices_draw_each_trials_last_report_on_log_axes_for_log_parameters(
    tmp_path: Path,
) -> None:
    write_experiment(tmp_path, "one", ONE)
    found = experiment_data(LocalStore(tmp_path), "one")["slices"]
    assert found["trials"] == [f"t_{i:05d}" for i in range(TRIALS - 1)]  # the errored one out
    assert list(found["values"]) == ["validation_error"]
    assert found["values"]["validation_error"][3] == pytest.approx(error_of(config_of(3), 2))
    axes = {axis["name"]: axis for axis in found["params"]}
    assert list(axes) == ["act", "lr", "wd"]  # width never varies
    assert axes["lr"]["log"] is True and axes["wd"]["log"] is False
    assert axes["lr"]["ticktext"] == ["0.0001", "0.001", "0.01", "0.1"]
    assert axes["lr"]["values"][0] == pytest.approx(1e-4)
    assert axes["act"]["categories"] == ["relu", "tanh"] and axes["act"]["values"][:2] == [
        "relu",
        "tanh",
    ]


def test_the_contour_passes_through_each_trial_and_spans_them_in_their_own_units(
    tmp_path: Path,
) -> None:
    write_experiment(tmp_path, "one", ONE)
    contour = experiment_data(LocalStore(tmp_path), "one")["contours"]["validation_error"]
    lr, wd = contour["params"]
    assert (lr["name"], wd["name"]) == ("lr", "wd") and lr["log"] and not wd["log"]
    surface = contour["surface"]
    assert surface["x"][0] == pytest.approx(min(lr["values"]))
    assert surface["x"][-1] == pytest.approx(max(lr["values"]))
    assert len(surface["z"]) == len(surface["y"]) and len(surface["z"][0]) == len(surface["x"])
    assert min(contour["values"]) <= min(map(min, surface["z"])) + 1e-9
    assert max(map(max, surface["z"])) <= max(contour["values"]) + 1e-9


def test_interpolation_takes_a_trials_value_on_it_and_a_weighted_mean_between() -> None:
    x, y, z = np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([2.0, 4.0])
    surface = interpolate(x, y, z, grid=3)
    assert surface["x"] == [0.0, 0.5, 1.0]
    assert surface["z"][0][0] == 2.0 and surface["z"][2][2] == 4.0
    assert surface["z"][1][1] == pytest.approx(3.0)  # halfway: equal weights
    assert 2.0 < surface["z"][0][1] < 3.0  # nearer the first trial


def test_the_front_and_hypervolume_follow_the_analysis_with_constraint_breakers_off_it(
    tmp_path: Path,
) -> None:
    write_experiment(tmp_path, "two", {**TWO, "constraints": {"cost": {"max": 0.5}}})
    fronts = experiment_data(LocalStore(tmp_path), "two")["fronts"]
    assert fronts["objectives"] == ["validation_error", "cost"]
    assert ERRORED_TRIAL not in fronts["trials"] and len(fronts["trials"]) == TRIALS - 1
    points = dict(zip(fronts["trials"], zip(*fronts["values"].values(), strict=True), strict=True))
    feasible = {t for t, ok in zip(fronts["trials"], fronts["feasible"], strict=True) if ok}
    assert feasible == {t for t, (_, cost) in points.items() if cost <= 0.5}
    expected = {t for t in feasible if not any(dominates(points[o], points[t]) for o in feasible)}
    on_front = {t for t, on in zip(fronts["trials"], fronts["on_front"], strict=True) if on}
    assert on_front == expected and len(expected) > 1
    assert fronts["reference_from"] == "the worst value seen per objective"
    history = fronts["hypervolume"]
    assert history["elapsed_s"] == sorted(history["elapsed_s"]) and history["value"][-1] > 0
    assert all(a != b for a, b in zip(history["value"], history["value"][1:], strict=False))


def test_one_objective_has_no_front(tmp_path: Path) -> None:
    write_experiment(tmp_path, "one", ONE)
    assert experiment_data(LocalStore(tmp_path), "one")["fronts"] is None


def test_derived_values_are_computed_again_only_when_a_trial_reports(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path, "one", ONE, trials=3)
    store, calls = LocalStore(tmp_path), []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert derived.derived("test", store, "one", read_trials(store, "one"), compute) == 1
    assert derived.derived("test", store, "one", read_trials(store, "one"), compute) == 1
    result = folder / "trial_t_00000" / RESULT_FILE
    last = json.loads(result.read_text().splitlines()[-1])
    with result.open("a") as out:
        out.write(json.dumps({**last, "training_iteration": 3}) + "\n")
    assert derived.derived("test", store, "one", read_trials(store, "one"), compute) == 2
