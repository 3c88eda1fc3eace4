"""Each trial's figures and last report, taken from the reports frame in one pass (what
``summary`` of a 10,000-trial experiment reads instead of filtering the frame per trial)."""

from __future__ import annotations

import math

import pandas as pd

from raytune_hpo.analysis.results import figures_by_trial, last_reports

REPORTS = pd.DataFrame(
    {
        "trial_id": ["b", "a", "b", "a", "b"],
        "training_iteration": [2, 1, 3, 2, 1],
        "loss": [0.5, 0.9, 0.4, 0.8, 0.6],
        "time_total_s": [2.0, 1.0, 3.0, 2.5, 1.0],
    }
)


def test_the_last_report_is_the_highest_iteration_whatever_the_order() -> None:
    last = last_reports(REPORTS)
    assert set(last) == {"a", "b"}
    assert last["a"]["training_iteration"] == 2 and last["a"]["loss"] == 0.8
    assert last["b"]["training_iteration"] == 3 and last["b"]["loss"] == 0.4


def test_each_trial_gets_its_own_figures() -> None:
    figures = figures_by_trial(REPORTS, "loss", "min")
    assert figures["a"] == {"epochs": 2, "best": 0.8, "worker_time_s": 2.5, "diverged": False}
    assert figures["b"] == {"epochs": 3, "best": 0.4, "worker_time_s": 3.0, "diverged": False}
    assert figures_by_trial(REPORTS, "loss", "max")["b"]["best"] == 0.6


def test_a_metric_that_was_not_finite_is_a_divergence_unless_the_trial_flags_its_own() -> None:
    reports = REPORTS.assign(loss=[0.5, 0.9, math.inf, 0.8, 0.6])
    assert figures_by_trial(reports, "loss", "min")["b"]["diverged"]
    assert not figures_by_trial(reports, "loss", "min")["a"]["diverged"]
    flagged = reports.assign(diverged=[False, True, False, False, False])
    assert figures_by_trial(flagged, "loss", "min")["a"]["diverged"]
    assert not figures_by_trial(flagged, "loss", "min")["b"]["diverged"]


def test_no_reports_no_trials() -> None:
    empty = REPORTS.iloc[:0]
    assert last_reports(empty) == {}
    assert figures_by_trial(empty, "loss", "min") == {}
