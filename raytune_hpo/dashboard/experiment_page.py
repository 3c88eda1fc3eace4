"""What an experiment's page draws, as one JSON-ready dict, read while the experiment may run.

Trials come from Ray's state file and from the trials' ``result.json`` files (a running trial
reports before Ray copies its state over), reports from ``result.json`` with half-written lines
skipped, the best trial from ``best.json``, perturbations from ``pbt_history.jsonl`` (PBT and
PB2) and each failed trial's error from its error file.

A trial's ``status`` is how it ended (:mod:`raytune_hpo.trial_ends`: ``finished``, ``stopped
early``, ``errored``, ...) and ``end`` the words the console and ``summary`` use, as the run
recorded them (``trial_ends.json``) or else as Ray's state tells them; a trial that has not
ended shows Ray's status in lower case (``running``, ``pending``, ``paused``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from raytune_hpo.analysis.results import NOT_STARTED, derived_end
from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.index import (
    RESULTS,
    experiment_row,
    read_config,
    run_ends,
    trial_summaries,
)
from raytune_hpo.dashboard.store import Store, join
from raytune_hpo.layout import BEST_FILE
from raytune_hpo.output_lines import error_headline
from raytune_hpo.search.pbt_history import HISTORY_FILE
from raytune_hpo.trial_ends import ERRORED, TrialEnd

NOT_ENDED = ("RUNNING", "PENDING", "PAUSED")
"""Ray's statuses of a trial that has not ended while its run goes on."""

ERROR_TAIL = 4000
"""Characters of a failed trial's error file shown (its end: the exception)."""


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (JSON has no NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _reports(store: Store, folder: str) -> dict[str, list[dict[str, Any]]]:
    """Each trial's reports by ``training_iteration`` (a repeated iteration: the last wins)."""
    by_trial: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for result_file in store.glob(folder, RESULTS):
        for row in files.json_lines(store, join(folder, result_file)):
            if "trial_id" in row and "training_iteration" in row:
                by_trial[str(row["trial_id"])][int(row["training_iteration"])] = row
    return {trial: [rows[i] for i in sorted(rows)] for trial, rows in by_trial.items()}


def _error(store: Store, folder: str, trial: dict[str, Any]) -> str | None:
    """The end of a failed trial's error file, if it names one inside the root."""
    if not trial.get("error_file") or not trial.get("folder"):
        return None
    text = files.text(store, join(folder, str(trial["folder"]), str(trial["error_file"])))
    return text[-ERROR_TAIL:] if text is not None else None


def _end(
    config: dict[str, Any],
    state: dict[str, Any],
    own: list[dict[str, Any]],
    error: str | None,
    recorded: dict[str, TrialEnd],
) -> TrialEnd | None:
    """How the trial ended: as recorded, else derived; None while it has not ended."""
    if state.get("trial_id") in recorded:
        return recorded[state["trial_id"]]
    status = str(state.get("status"))
    if status in NOT_ENDED:
        return None
    return derived_end(
        config,
        "TERMINATED" if status == NOT_STARTED else status,
        started=status != NOT_STARTED and state.get("start_time") is not None,
        last_report=own[-1] if own else {},
        error=error_headline(error) if error else None,
        log=state.get("error_file"),
    )


def _dimension(label: str, values: list[Any]) -> dict[str, Any]:
    """One axis of the parallel coordinates: numbers as they are, anything else by category."""
    numbers = [_number(v) for v in values]
    if all(n is not None for n in numbers):
        return {"label": label, "values": numbers}
    categories = sorted({str(v) for v in values})
    return {
        "label": label,
        "values": [categories.index(str(v)) for v in values],
        "tickvals": list(range(len(categories))),
        "ticktext": categories,
    }


def _curves(
    reports: dict[str, list[dict[str, Any]]], metric: str, origin: float
) -> dict[str, list[Any]]:
    """Every trial's curve in one trace: ``epoch``, ``elapsed_s``, ``value``, ``trial``, with a
    None between trials (one trace draws a thousand trials quickly)."""
    curve: dict[str, list[Any]] = {"epoch": [], "elapsed_s": [], "value": [], "trial": []}
    for trial_id, rows in sorted(reports.items()):
        for row in rows:
            clock = row.get("report_time", row.get("timestamp"))
            curve["epoch"].append(row["training_iteration"])
            curve["elapsed_s"].append(round(clock - origin, 3) if clock is not None else None)
            curve["value"].append(_number(row.get(metric)))
            curve["trial"].append(trial_id)
        for values in curve.values():
            values.append(None)
    return curve


def experiment_data(store: Store, folder: str) -> dict[str, Any]:
    """Everything the experiment page shows, as JSON-ready values.

    Args:
        store: The dashboard's files; no file outside its root is read.
        folder: The experiment folder, relative to the root.
    """
    config = read_config(store, folder)
    metric, mode = str(config.get("metric", "")), str(config.get("mode", "min"))
    row = experiment_row(store, folder)
    states = {t["trial_id"]: t for t in trial_summaries(store, folder)}
    reports = _reports(store, folder)
    ends = run_ends(store, folder)
    recorded = ends.trials if ends is not None else {}
    pick = min if mode == "min" else max
    trials = []
    for trial_id in sorted(set(states) | set(reports)):
        state = states.get(trial_id, {"trial_id": trial_id, "status": "RUNNING", "config": {}})
        own = reports.get(trial_id, [])
        values = [v for v in (_number(r.get(metric)) for r in own) if v is not None]
        error = _error(store, folder, state)
        end = _end(config, state, own, error, recorded)
        trials.append(
            {
                "trial_id": trial_id,
                "status": end.kind if end is not None else str(state["status"]).lower(),
                "end": end.sentence if end is not None else None,
                "epochs": own[-1]["training_iteration"] if own else 0,
                "last": values[-1] if values else None,
                "best": pick(values) if values else None,
                "worker_time_s": _number(own[-1].get("time_total_s")) if own else None,
                "config": (own[-1].get("config") if own else None) or state["config"],
                "error": error,
            }
        )
    best = files.json_document(store, join(folder, BEST_FILE))
    scored = [t for t in trials if t["best"] is not None]
    candidates = [t for t in scored if t["status"] != ERRORED]  # an errored trial is never best
    best_id = (
        best.get("trial_id")
        if isinstance(best, dict)
        else (pick(candidates, key=lambda t: t["best"])["trial_id"] if candidates else None)
    )
    clocks = [r.get("report_time", r.get("timestamp")) for rows in reports.values() for r in rows]
    starts = [s["start_time"] for s in states.values() if s.get("start_time") is not None]
    origin = min([c for c in clocks if c is not None] + starts, default=0.0)
    curves = _curves({k: v for k, v in reports.items() if k != best_id}, metric, origin)
    params = sorted({p for t in trials for p in t["config"]})
    return {
        **row,
        "params": params,
        "trial_rows": trials,
        "best_trial": best_id,
        "best_summary": best if isinstance(best, dict) else None,
        "curves": curves,
        "best_curve": _curves({best_id: reports.get(best_id, [])}, metric, origin)
        if best_id
        else None,
        "parcoords": [
            *(_dimension(p, [t["config"].get(p) for t in scored]) for p in params),
            {"label": metric, "values": [t["best"] for t in scored]},
        ]
        if scored
        else [],
        "perturbations": files.json_lines(store, join(folder, HISTORY_FILE)),
    }
