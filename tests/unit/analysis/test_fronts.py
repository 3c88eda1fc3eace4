"""Fronts of trials' last reports, constraints, reference points and hypervolume histories
(``raytune_hpo.analysis.fronts``), and the Pareto plot, on made-up report frames."""

from __future__ import annotations

import math
import random
from typing import Any

import pandas as pd
import pytest

from raytune_hpo.analysis.fronts import (
    FEASIBLE,
    FROM_CONFIG,
    ON_FRONT,
    WORST_SEEN,
    Objectives,
    front_hypervolume,
    front_records,
    hypervolume_history,
    reference_point,
    trial_points,
)
from raytune_hpo.analysis.pareto_plots import front_steps, plot_pareto


def objectives(
    metric: list[str], mode: list[str], constraints: dict[str, Any] | None = None, **extra: Any
) -> Objectives:
    return Objectives.from_config(
        {"metric": metric, "mode": mode, "constraints": constraints or {}, **extra}
    )


def reports_frame(trials: dict[str, list[dict[str, float]]]) -> pd.DataFrame:
    """Reports of made-up trials: one second apart, in the order given, trial by trial."""
    rows = []
    for trial_id, reports in trials.items():
        for epoch, report in enumerate(reports, 1):
            rows.append(
                {
                    "trial_id": trial_id,
                    "training_iteration": epoch,
                    "elapsed_s": float(len(rows)),
                    "time_total_s": float(epoch),
                    "config/lr": 0.1 * epoch,
                    **report,
                }
            )
    return pd.DataFrame(rows)


def brute_force_front(
    last: dict[str, dict[str, float]], goals: Objectives, broken: set[str]
) -> set[str]:
    """Trials no feasible trial beats: better-or-equal in every objective, better in one."""

    def better_or_equal(a: float, b: float, mode: str) -> bool:
        return a <= b if mode == "min" else a >= b

    def beats(a: dict[str, float], b: dict[str, float]) -> bool:
        pairs = [(a[n], b[n], m) for n, m in zip(goals.names, goals.modes, strict=True)]
        return all(better_or_equal(x, y, m) for x, y, m in pairs) and any(
            x != y for x, y, _ in pairs
        )

    feasible = {t: r for t, r in last.items() if t not in broken}
    return {t for t, r in feasible.items() if not any(beats(o, r) for o in feasible.values())}


@pytest.mark.parametrize("seed", range(15))
def test_the_front_of_last_reports_is_what_brute_force_finds(seed: int) -> None:
    rng = random.Random(seed)
    count = rng.choice([2, 3])
    goals = objectives(
        ["loss", "accuracy", "latency"][:count],
        ["min", "max", "min"][:count],
        {"memory": {"max": 5.0}},
    )
    trials = {
        f"t{k}": [
            {
                "loss": float(rng.randint(0, 5)),
                "accuracy": float(rng.randint(0, 5)),
                "latency": float(rng.randint(0, 5)),
                "memory": float(rng.randint(0, 8)),
            }
            for _ in range(rng.randint(1, 3))
        ]
        for k in range(rng.randint(1, 25))
    }
    points = trial_points(reports_frame(trials), goals)

    last = {trial_id: reports[-1] for trial_id, reports in trials.items()}
    broken = {t for t, r in last.items() if r["memory"] > 5.0}
    assert set(points.loc[points[ON_FRONT], "trial_id"]) == brute_force_front(last, goals, broken)
    assert set(points.loc[~points[FEASIBLE], "trial_id"]) == broken
    assert len(points) == len(trials)
    first = points[goals.names[0]].tolist()
    assert first == sorted(first), "sorted by the first objective, best first"


def test_a_constraint_breaker_is_never_on_the_front_even_when_it_dominates() -> None:
    goals = objectives(["loss", "latency"], ["min", "min"], {"memory": {"max": 1.0}})
    reports = reports_frame(
        {
            "cheater": [{"loss": 0.0, "latency": 0.0, "memory": 9.0}],
            "silent": [{"loss": 0.0, "latency": 0.0}],  # never reported memory: breaks it
            "a": [{"loss": 1.0, "latency": 2.0, "memory": 1.0}],
            "b": [{"loss": 2.0, "latency": 1.0, "memory": 0.5}],
            "c": [{"loss": 2.0, "latency": 2.0, "memory": 0.5}],
        }
    )
    points = trial_points(reports, goals).set_index("trial_id")
    assert points[ON_FRONT].to_dict() == {
        "cheater": False,
        "silent": False,
        "a": True,
        "b": True,
        "c": False,
    }
    assert points[FEASIBLE].to_dict() == {
        "cheater": False,
        "silent": False,
        "a": True,
        "b": True,
        "c": True,
    }


def test_the_last_report_counts_and_errored_trials_are_no_points() -> None:
    goals = objectives(["loss", "latency"], ["min", "min"], {"memory": {"max": 1.0}})
    reports = reports_frame(
        {
            # Good first, then worse and over the memory bound: its last report counts.
            "late": [{"loss": 0.1, "latency": 0.1, "memory": 0.0},
                     {"loss": 3.0, "latency": 3.0, "memory": 2.0}],
            "crashed": [{"loss": 0.0, "latency": 0.0, "memory": 0.0}],
            "ok": [{"loss": 1.0, "latency": 1.0, "memory": 0.0}],
        }
    )  # fmt: skip
    points = trial_points(reports, goals, errored={"crashed"})
    assert points["trial_id"].tolist() == ["ok", "late"]
    assert points[ON_FRONT].tolist() == [True, False]
    records = front_records(points)
    assert records == [
        {
            "trial_id": "ok",
            "config": {"lr": 0.1},
            "metrics": {"training_iteration": 1, "loss": 1.0, "latency": 1.0, "memory": 0.0},
        }
    ]


def test_hypervolume_against_the_configs_point_or_the_worst_seen() -> None:
    reports = reports_frame(
        {
            "a": [{"loss": 1.0, "accuracy": 0.6}],
            "b": [{"loss": 2.0, "accuracy": 0.8}],
            "c": [{"loss": 4.0, "accuracy": 0.2}],
            "nan": [{"loss": math.nan, "accuracy": 0.0}],
        }
    )
    worst = objectives(["loss", "accuracy"], ["min", "max"])
    assert reference_point([reports], worst) == ((4.0, 0.0), WORST_SEEN)
    points = trial_points(reports, worst)
    assert set(points.loc[points[ON_FRONT], "trial_id"]) == {"a", "b"}
    # Against (loss 4, accuracy 0): a covers 3 x 0.6, b adds 2 x (0.8 - 0.6) = 1.8 + 0.4.
    assert front_hypervolume(points, worst, (4.0, 0.0)) == pytest.approx(2.2)

    configured = objectives(["loss", "accuracy"], ["min", "max"], reference_point=[3, 0.5])
    assert reference_point([reports], configured) == ((3.0, 0.5), FROM_CONFIG)
    # a: 2 x 0.1, b: 1 x 0.3, overlapping 1 x 0.1: 0.2 + 0.3 - 0.1.
    assert front_hypervolume(points, configured, (3.0, 0.5)) == pytest.approx(0.4)

    assert reference_point([reports.drop(columns="accuracy")], worst) is None


def test_the_hypervolume_history_follows_each_trials_last_report() -> None:
    goals = objectives(["loss", "latency"], ["min", "min"], {"memory": {"max": 1.0}})
    reports = reports_frame(
        {
            "a": [{"loss": 2.0, "latency": 2.0, "memory": 0.0},  # 2 x 2 = 4
                  {"loss": 1.0, "latency": 1.0, "memory": 0.0},  # 3 x 3 = 9
                  {"loss": 3.0, "latency": 3.0, "memory": 0.0}],  # worse again: 1
            "b": [{"loss": 0.0, "latency": 3.0, "memory": 5.0},  # breaks memory: still 1
                  {"loss": 0.0, "latency": 3.0, "memory": 0.0}],  # b dominates a: 4 x 1 = 4
        }
    )  # fmt: skip
    history = hypervolume_history(reports, goals, (4.0, 4.0))
    assert history["elapsed_s"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert history["hypervolume"].tolist() == pytest.approx([4.0, 9.0, 1.0, 1.0, 4.0])
    points = trial_points(reports, goals)
    assert front_hypervolume(points, goals, (4.0, 4.0)) == pytest.approx(4.0)
    assert hypervolume_history(reports, goals, (4.0, 4.0), errored={"b"})[
        "hypervolume"
    ].tolist() == pytest.approx([4.0, 9.0, 1.0])


def _scatter_counts(axes: Any) -> dict[str, int]:
    return {c.get_label(): len(c.get_offsets()) for c in axes.collections}


def test_the_pareto_plot_of_two_objectives_draws_every_trial_and_the_step_line() -> None:
    goals = objectives(["loss", "accuracy"], ["min", "max"], {"memory": {"max": 1.0}})
    reports = reports_frame(
        {
            "a": [{"loss": 1.0, "accuracy": 0.6, "memory": 0.0}],
            "b": [{"loss": 2.0, "accuracy": 0.8, "memory": 0.0}],
            "c": [{"loss": 4.0, "accuracy": 0.2, "memory": 0.0}],
            "x": [{"loss": 0.5, "accuracy": 0.9, "memory": 3.0}],
        }
    )
    points = trial_points(reports, goals)
    figure = plot_pareto(points, goals)
    assert len(figure.axes) == 1
    axes = figure.axes[0]
    assert _scatter_counts(axes) == {
        "trial (1)": 1,
        "breaks a constraint (1)": 1,
        "on the front (2)": 2,
    }
    (line,) = axes.get_lines()
    assert list(line.get_xdata()) == [1.0, 2.0, 2.0]
    assert list(line.get_ydata()) == [0.6, 0.6, 0.8]
    assert axes.get_xlabel() == "loss (lower is better)"
    assert axes.get_ylabel() == "accuracy (higher is better)"


def test_the_step_line_follows_the_minimised_order() -> None:
    goals = objectives(["accuracy", "loss"], ["max", "min"])
    front = pd.DataFrame({"accuracy": [0.5, 0.9, 0.7], "loss": [1.0, 3.0, 2.0]})
    assert front_steps(front, goals) == ([0.9, 0.7, 0.7, 0.5, 0.5], [3.0, 3.0, 2.0, 2.0, 1.0])


@pytest.mark.parametrize(("count", "panels"), [(3, 3), (4, 6)])
def test_many_objectives_make_a_panel_per_pair(count: int, panels: int) -> None:
    names = ["a", "b", "c", "d"][:count]
    goals = objectives(names, ["min"] * count)
    rng = random.Random(count)
    reports = reports_frame({f"t{k}": [{n: rng.random() for n in names}] for k in range(12)})
    points = trial_points(reports, goals)
    figure = plot_pareto(points, goals)
    assert len(figure.axes) == panels
    front = int(points[ON_FRONT].sum())
    for axes in figure.axes:
        assert sum(_scatter_counts(axes).values()) == 12
        assert _scatter_counts(axes)[f"on the front ({front})"] == front
        assert not axes.get_lines(), "no step line in a projection"


def test_a_plot_of_no_trials_still_draws() -> None:
    goals = objectives(["a", "b"], ["min", "min"])
    figure = plot_pareto(trial_points(pd.DataFrame(), goals), goals)
    assert len(figure.axes) == 1 and not figure.axes[0].collections
