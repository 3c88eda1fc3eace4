"""The best trial and ``best.json``'s Pareto front from a run's results, with constraints
(``raytune_hpo.experiment.scoring``), on made-up results shaped as Ray Tune's."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from raytune_hpo.config import ExperimentConfig, validate_config
from raytune_hpo.experiment import scoring
from raytune_hpo.pareto import dominates, to_minimised


def config(**extra: Any) -> ExperimentConfig:
    raw = {
        "name": "scored",
        "trainable": "my_code:train",
        "searcher": {"name": "random"},
        "search_space": {"lr": {"loguniform": [0.01, 1.0]}},
        **extra,
    }
    return validate_config(raw)


def result(
    trial_id: str, reports: list[dict[str, float]], error: Exception | None = None
) -> SimpleNamespace:
    """What ``ResultGrid[i]`` holds of a trial, as far as the scoring reads it."""
    frame = pd.DataFrame(
        [
            {"trial_id": trial_id, "training_iteration": epoch, "config/lr": 0.5, **report}
            for epoch, report in enumerate(reports, 1)
        ]
    )
    return SimpleNamespace(
        error=error,
        metrics_dataframe=frame,
        config={"lr": 0.5, "trial": trial_id},
        metrics={"trial_id": trial_id, **reports[-1]},
        checkpoint=None,
        best_checkpoints=[],
    )


def test_a_constraint_breaker_or_errored_trial_is_never_best_of_one_objective() -> None:
    cfg = config(metric="loss", mode="min", constraints={"memory": {"max": 1.0}})
    results = [
        result("breaker", [{"loss": 0.1, "memory": 0.5}, {"loss": 0.2, "memory": 2.0}]),
        result("silent", [{"loss": 0.05}]),  # never reported memory: breaks it
        result("crashed", [{"loss": 0.0, "memory": 0.0}], error=RuntimeError("boom")),
        result("kept", [{"loss": 0.3, "memory": 1.0}, {"loss": 0.9, "memory": 0.0}]),
        result("worse", [{"loss": 0.4, "memory": 0.0}]),
    ]
    best = scoring.best_result(results, cfg)  # type: ignore[arg-type]
    assert best is not None and best.metrics["trial_id"] == "kept"
    assert scoring.best_result(results[:3], cfg) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(8))
def test_best_json_holds_the_front_of_last_reports_as_brute_force_finds_it(
    seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    cfg = config(
        metric=["loss", "accuracy"], mode=["min", "max"], constraints={"memory": {"max": 3.0}}
    )
    trials = {
        f"t{k}": [
            {name: float(rng.randint(0, 5)) for name in ("loss", "accuracy", "memory")}
            for _ in range(rng.randint(1, 3))
        ]
        for k in range(rng.randint(2, 20))
    }
    errored = {trial_id for trial_id in trials if rng.random() < 0.15}
    results = [
        result(t, reports, RuntimeError("x") if t in errored else None)
        for t, reports in trials.items()
    ]
    summary = scoring.score_best_trial(cfg, results, tmp_path)  # type: ignore[arg-type]

    last = {
        t: to_minimised([reports[-1]["loss"], reports[-1]["accuracy"]], ["min", "max"])
        for t, reports in trials.items()
        if t not in errored and reports[-1]["memory"] <= 3.0
    }
    expected = {t for t, p in last.items() if not any(dominates(q, p) for q in last.values())}
    if not last:  # no trial to name best: no best.json
        assert summary is None and not (tmp_path / "best.json").exists()
        return
    written = json.loads((tmp_path / "best.json").read_text())
    front = written["pareto_front"]
    assert {entry["trial_id"] for entry in front} == expected
    assert [entry["metrics"]["loss"] for entry in front] == sorted(
        entry["metrics"]["loss"] for entry in front
    )
    for entry in front:
        assert entry["config"] == {"lr": 0.5, "trial": entry["trial_id"]}
        assert entry["metrics"] == {"training_iteration": len(trials[entry["trial_id"]]),
                                    **trials[entry["trial_id"]][-1]}  # fmt: skip
    assert summary is not None and summary["trial_id"] in last, "the best keeps its constraints"


def test_one_objective_writes_no_front(tmp_path: Path) -> None:
    cfg = config(metric="loss", mode="min")
    scoring.score_best_trial(cfg, [result("a", [{"loss": 1.0}])], tmp_path)  # type: ignore[arg-type]
    written = json.loads((tmp_path / "best.json").read_text())
    assert written["trial_id"] == "a" and "pareto_front" not in written
