"""An experiment's reports as the analysis reads them, made from what the pages already read.

The importance (:mod:`raytune_hpo.analysis.importance`) and the fronts
(:mod:`raytune_hpo.analysis.fronts`) take tidy report frames: ``trial_id``,
``training_iteration``, metrics and ``config/<name>`` columns. The pages read an experiment
while it runs, possibly from a bucket, through :mod:`~raytune_hpo.dashboard.trials`; this module
turns those reports into that frame, so that the pages rate and rank trials exactly as
``summary`` does. The trials that errored are left out, as ``summary`` leaves them out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from raytune_hpo.analysis.fronts import ELAPSED
from raytune_hpo.dashboard.curves import elapsed
from raytune_hpo.dashboard.trials import Trials
from raytune_hpo.layout import CONFIG_PREFIX
from raytune_hpo.trial_ends import ERRORED


def _row(report: dict[str, Any], metrics: Sequence[str], origin: float) -> dict[str, Any]:
    at = elapsed(report, origin)
    config = report.get("config") or {}
    return {
        "trial_id": str(report["trial_id"]),
        "training_iteration": report["training_iteration"],
        ELAPSED: at if at is not None else math.nan,
        **{name: report.get(name) for name in metrics},
        **{f"{CONFIG_PREFIX}{key}": value for key, value in config.items()},
    }


def reports_frame(trials: Trials, metrics: Sequence[str], last_only: bool = False) -> pd.DataFrame:
    """The reports of the trials that did not error: ``trial_id``, ``training_iteration``,
    ``elapsed_s``, the ``metrics`` and the config as ``config/<name>`` columns.

    Args:
        trials: The experiment's trials.
        metrics: The metrics to keep (a report without one holds None).
        last_only: Each trial's last report only.
    """
    rows = [
        _row(report, metrics, trials.origin)
        for trial_id, reports in trials.reports.items()
        if trials.rows.get(trial_id, {}).get("status") != ERRORED
        for report in (reports[-1:] if last_only else reports)
    ]
    return pd.DataFrame(rows, columns=None if rows else ["trial_id", "training_iteration"])
