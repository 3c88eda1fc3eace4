"""An experiment's trials as its pages read them, while the experiment may run.

Trials come from Ray's state file and from the trials' ``result.json`` files (a running trial
reports before Ray copies its state over), reports from ``result.json`` with half-written lines
skipped, and each failed trial's error from its error file.

A trial's ``status`` is how it ended (:mod:`raytune_hpo.trial_ends`: ``finished``, ``stopped
early``, ``errored``, ...) and ``end`` the words the console and ``summary`` use, as the run
recorded them (``trial_ends.json``) or else as Ray's state tells them; a trial that has not
ended shows Ray's status in lower case (``running``, ``pending``, ``paused``). ``error`` is the
exception's own line, the one the console prints; ``traceback`` the error file's end. Text read
from a trial's files reaches the page through :func:`plain_text`, without terminal escapes.
"""

from __future__ import annotations

import math
import posixpath
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from raytune_hpo.config.objectives import Objective
from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.index import (
    RESULTS,
    ordered_counts,
    read_config,
    run_ends,
    trial_end,
    trial_summaries,
)
from raytune_hpo.dashboard.page_objectives import first_objective, objectives
from raytune_hpo.output_lines import clean_line, error_headline
from raytune_hpo.storage.stamped import Store, join
from raytune_hpo.trial_ends import ERRORED, TrialEnd

TRACEBACK_TAIL = 8000
"""Characters of a failed trial's error file shown (its end: the exception)."""
CLOCK_KEYS = ("report_time", "timestamp")
"""Report keys that say when it was made, the first found counts (``report_time``: the
built-in trainables' own, finer than Ray's ``timestamp``)."""


def number(value: Any) -> float | None:
    """``value`` as a finite float, or None (JSON has no NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def numbers(reports: list[dict[str, Any]], key: str) -> list[float | None]:
    """:func:`number` of ``key`` in each of ``reports``, in order (JSON's numbers: exactly float
    or int, never bool; checked by type, the fastest test over a million reports)."""
    found: list[Any] = [r.get(key) for r in reports]
    return [float(v) if type(v) in (float, int) and math.isfinite(v) else None for v in found]


def finite_values(reports: list[dict[str, Any]], key: str) -> list[float]:
    """The finite values of ``key`` in ``reports``, in order (checked as in :func:`numbers`)."""
    return [value for value in numbers(reports, key) if value is not None]


def last_value(reports: list[dict[str, Any]], key: str) -> float | None:
    """The last finite value of ``key`` in ``reports``."""
    values = finite_values(reports, key)
    return values[-1] if values else None


def plain_text(text: str) -> str:
    """``text`` as a terminal shows it: no colour or cursor escapes, each line's last ``\\r``
    part (:func:`~raytune_hpo.output_lines.clean_line`)."""
    return "\n".join(clean_line(line) for line in text.splitlines())


def clock(report: dict[str, Any]) -> float | None:
    """When a report was made (seconds since the epoch)."""
    for key in CLOCK_KEYS:
        if key in report:
            return number(report[key])
    return None


@dataclass(frozen=True)
class Trials:
    """An experiment's trials, read once per request.

    Attributes:
        config: The experiment's resolved config.
        metric: The metric it optimises: the first objective's (empty if none is named).
        mode: ``min`` or ``max``.
        objectives: Every objective, the first one first (:mod:`~raytune_hpo.dashboard.
            objectives`).
        rows: One dict per trial, by trial id (see :func:`read_trials`).
        reports: Each trial's reports in order of ``training_iteration`` (a repeated
            iteration, after a restore from an earlier checkpoint: the last wins).
        folders: Each trial's folder, relative to the experiment folder.
        origin: The experiment's start (seconds since the epoch): wall-clock axes count from it.
    """

    config: dict[str, Any]
    metric: str
    mode: str
    objectives: tuple[Objective, ...]
    rows: dict[str, dict[str, Any]]
    reports: dict[str, list[dict[str, Any]]]
    folders: dict[str, str]
    origin: float

    def counts(self) -> list[tuple[str, int]]:
        """Trials by status: the ends in :data:`~raytune_hpo.trial_ends.KINDS` order, then
        those not ended."""
        return ordered_counts(row["status"] for row in self.rows.values())


def _reports(store: Store, folder: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Each trial's reports by ``training_iteration``, and the folder its reports are in."""
    by_trial: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    where: dict[str, str] = {}
    for result_file, stamp in store.glob(folder, RESULTS).items():
        trial_folder = posixpath.dirname(result_file)
        for row in files.json_lines(store, join(folder, result_file), stamp):
            if "trial_id" in row and "training_iteration" in row:
                by_trial[str(row["trial_id"])][int(row["training_iteration"])] = row
                where[str(row["trial_id"])] = trial_folder
    reports = {trial: [rows[i] for i in sorted(rows)] for trial, rows in by_trial.items()}
    return reports, where


def _traceback(store: Store, folder: str, state: dict[str, Any]) -> str | None:
    """The end of a failed trial's error file, if it names one inside the root."""
    if not state.get("error_file") or not state.get("folder"):
        return None
    text = files.text(store, join(folder, str(state["folder"]), str(state["error_file"])))
    return plain_text(text)[-TRACEBACK_TAIL:] if text is not None else None


def _error_line(end: TrialEnd | None, traceback: str | None) -> str | None:
    """The exception's own line: the end's, else the error file's (no escapes either way)."""
    if end is not None and end.error:
        return clean_line(end.error)
    return error_headline(traceback) if traceback else None


def read_trials(store: Store, folder: str) -> Trials:
    """Every trial of the experiment in ``folder``, relative to the store's root.

    A row holds ``trial_id``, ``status``, ``end`` (a sentence, None while it runs), ``error``
    (the exception's line), ``traceback``, ``epochs``, ``last`` and ``best`` (the first
    objective's values), ``others`` (every other objective's last value, by name),
    ``worker_time_s`` and ``config`` (its hyperparameters at its last report).
    """
    config = read_config(store, folder)
    named = objectives(config)
    metric, mode = first_objective(config)
    states = {t["trial_id"]: t for t in trial_summaries(store, folder)}
    reports, where = _reports(store, folder)
    ends = run_ends(store, folder)
    recorded = ends.trials if ends is not None else {}
    pick = min if mode == "min" else max
    rows = {}
    for trial_id in sorted(set(states) | set(reports)):
        state = states.get(trial_id, {"trial_id": trial_id, "status": "RUNNING", "config": {}})
        own = reports.get(trial_id, [])
        values = finite_values(own, metric)
        traceback = _traceback(store, folder, state)
        error = error_headline(traceback) if traceback else None
        end = trial_end(config, state, own[-1] if own else {}, recorded, error)
        rows[trial_id] = {
            "trial_id": trial_id,
            "status": end.kind if end is not None else str(state["status"]).lower(),
            "end": end.words if end is not None else None,
            "error": _error_line(end, traceback),
            "traceback": traceback,
            "epochs": own[-1]["training_iteration"] if own else 0,
            "last": values[-1] if values else None,
            "best": pick(values) if values else None,
            "others": {o.name: last_value(own, o.name) for o in named[1:]},
            "worker_time_s": number(own[-1].get("time_total_s")) if own else None,
            "config": (own[-1].get("config") if own else None) or state["config"],
        }
        if state.get("folder"):
            where[trial_id] = str(state["folder"])
    clocks = [clock(own[0]) for own in reports.values() if own]  # a trial's first is its earliest
    starts = [number(s.get("start_time")) for s in states.values()]
    origin = min((c for c in clocks + starts if c is not None), default=0.0)
    return Trials(config, metric, mode, named, rows, reports, where, origin)


def best_trial(trials: Trials, best: Any) -> str | None:
    """The best trial: ``best.json``'s once written, else the best so far (never an errored
    one)."""
    if isinstance(best, dict):
        return best.get("trial_id")
    pick = min if trials.mode == "min" else max
    candidates = [
        t for t in trials.rows.values() if t["best"] is not None and t["status"] != ERRORED
    ]
    return pick(candidates, key=lambda t: t["best"])["trial_id"] if candidates else None
