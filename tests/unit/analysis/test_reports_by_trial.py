"""Each trial's reports and last report, taken from the reports frame in one pass (what
``summary`` of a 10,000-trial experiment reads instead of filtering the frame per trial)."""

from __future__ import annotations

import pandas as pd

from raytune_hpo.analysis.results import last_reports, reports_by_trial

REPORTS = pd.DataFrame(
    {
        "trial_id": ["b", "a", "b", "a", "b"],
        "training_iteration": [2, 1, 3, 2, 1],
        "loss": [0.5, 0.9, 0.4, 0.8, 0.6],
    }
)


def test_the_last_report_is_the_highest_iteration_whatever_the_order() -> None:
    last = last_reports(REPORTS)
    assert set(last) == {"a", "b"}
    assert last["a"]["training_iteration"] == 2 and last["a"]["loss"] == 0.8
    assert last["b"]["training_iteration"] == 3 and last["b"]["loss"] == 0.4


def test_each_trial_gets_its_own_rows() -> None:
    by_trial = reports_by_trial(REPORTS)
    assert sorted(by_trial["a"]["loss"]) == [0.8, 0.9]
    assert sorted(by_trial["b"]["training_iteration"]) == [1, 2, 3]


def test_no_reports_no_trials() -> None:
    empty = REPORTS.iloc[:0]
    assert last_reports(empty) == {}
    assert reports_by_trial(empty) == {}
