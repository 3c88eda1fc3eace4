"""One row per experiment and study under the root, from cheap files only.

An experiment's row reads its config, its ``best.json`` and the trials' summaries that Ray keeps
in the newest ``experiment_state-*.json`` (status, last result and per-metric min and max of
every trial), and the modification times of its trials' ``result.json``: never a trial's
reports. Status: ``finished`` once the run recorded its trials' ends (``trial_ends.json``, for
the session of the newest state file; ``best.json`` for experiments written before), ``failed``
instead when its errored trials made it exit 1 (more than ``max_failed_trials``, or no trial
ended well), ``running`` while files change (Ray copies its state and results into the folder
every few seconds), ``interrupted`` otherwise (or when the run recorded that Ctrl-C stopped it).
A row counts the trials by how they ended (:func:`end_counts`). A study is finished once its
``study.json`` records every run it plans as finished.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

import yaml

from raytune_hpo.analysis.results import derived_end
from raytune_hpo.config import method_name
from raytune_hpo.dashboard import files, folders
from raytune_hpo.dashboard.page_objectives import first_objective
from raytune_hpo.layout import (
    BEST_FILE,
    CONFIG_FILE,
    RESULT_FILE,
    STATE_FILES,
    STUDY_FILE,
    TRIAL_ENDS_FILE,
)
from raytune_hpo.storage import ray_state
from raytune_hpo.storage.stamped import Stamp, Store, join
from raytune_hpo.trial_ends import ERRORED, KINDS, NEVER_STARTED, WELL, RunEnds, TrialEnd

URLS = {"experiment": "experiments", "study": "studies"}
"""The first part of a page's URL by the kind of folder."""
RUNNING_WINDOW_S = 120.0
"""An experiment without ``best.json`` whose files changed this recently is running."""
RESULTS = f"*/{RESULT_FILE}"
"""Each trial's reports, in its folder."""
NOT_ENDED = ("RUNNING", "PENDING", "PAUSED")
"""Ray's statuses of a trial that has not ended while its run goes on."""


def read_config(store: Store, folder: str) -> dict[str, Any]:
    """The experiment's resolved config as a dict (empty when it cannot be read)."""
    try:
        text = files.text(store, join(folder, CONFIG_FILE)) or ""
        config = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return {}
    return config if isinstance(config, dict) else {}


def state_files(store: Store, folder: str) -> dict[str, Stamp]:
    """Ray's ``experiment_state-*.json`` files of ``folder``, by name, with their stamps."""
    return store.glob(folder, STATE_FILES)


def method_of(config: dict[str, Any]) -> str:
    """The method label of a config (``?`` when it names no searcher or scheduler)."""
    sections = [config.get(section) or {} for section in ("searcher", "scheduler")]
    if not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in sections):
        return "?"
    return method_name(*sections)


def trial_summaries(store: Store, folder: str) -> list[dict[str, Any]]:
    """One dict per trial from the newest state file (``[]`` before Ray wrote one).

    The fields of :class:`~raytune_hpo.storage.ray_state.TrialState` (``status``
    ``NOT_STARTED`` for a trial the experiment ended before it ran; ``folder`` relative,
    ``error_file`` relative to the trial folder, ``analysis`` Ray's ``metric_analysis``), with
    only the plain values of ``config`` (no nested ones, which the page cannot draw).
    """
    newest = ray_state.newest_state_name(state_files(store, folder))
    if newest is None:
        return []
    return [
        {
            **vars(trial),
            "config": {k: v for k, v in trial.config.items() if not isinstance(v, dict)},
        }
        for trial in files.trial_states(store, join(folder, newest))
    ]


def run_ends(store: Store, folder: str) -> RunEnds | None:
    """The run's record of its trials' ends, if it wrote one for its newest session (a run
    resumed since is not over)."""
    text = files.text(store, join(folder, TRIAL_ENDS_FILE))
    ends = RunEnds.from_text(text) if text is not None else None
    if ends is None or ends.state_file != ray_state.newest_state_name(state_files(store, folder)):
        return None
    return ends


def trial_end(
    config: dict[str, Any],
    state: dict[str, Any],
    last_report: dict[str, Any],
    recorded: dict[str, TrialEnd],
    error: str | None = None,
) -> TrialEnd | None:
    """How a trial ended: as its run recorded it, else as Ray's state tells it (with its last
    report and its exception's ``error`` line); None while it has not ended."""
    if state.get("trial_id") in recorded:
        return recorded[state["trial_id"]]
    status = str(state.get("status"))
    if status in NOT_ENDED:
        return None
    return derived_end(
        config,
        "TERMINATED" if status == ray_state.NOT_STARTED else status,
        started=status != ray_state.NOT_STARTED and state.get("start_time") is not None,
        last_report=last_report,
        error=error,
        log=state.get("error_file"),
    )


def ordered_counts(statuses: Iterable[str]) -> list[tuple[str, int]]:
    """How many of each status: the ends in :data:`~raytune_hpo.trial_ends.KINDS` order, then
    the others (``running``, ``pending``, ``paused``) by name."""
    tally = Counter(statuses)
    order = [*KINDS, *sorted(set(tally) - set(KINDS))]
    return [(status, tally[status]) for status in order if tally[status]]


def end_counts(
    config: dict[str, Any], trials: list[dict[str, Any]], ends: RunEnds | None
) -> list[tuple[str, int]]:
    """The trials by how they ended (:func:`ordered_counts`): as the run recorded them, else
    from Ray's state alone (each trial's last values of its ``metric_analysis``)."""
    if ends is not None:
        kinds = [end.kind for end in ends.trials.values()]
        return ordered_counts(kinds + [NEVER_STARTED] * ends.never_created)
    statuses = []
    for trial in trials:
        last = {k: v["last"] for k, v in trial["analysis"].items() if "last" in v}
        end = trial_end(config, trial, last, {})
        statuses.append(end.kind if end is not None else str(trial["status"]).lower())
    return ordered_counts(statuses)


def failed(counts: list[tuple[str, int]], tolerated: int) -> bool:
    """Whether errored trials failed the run (it exits 1): more than ``max_failed_trials``
    (``tolerated``), or no trial ended well."""
    by_kind = dict(counts)
    errored = by_kind.get(ERRORED, 0)
    return errored > tolerated or (errored > 0 and not any(by_kind.get(k) for k in WELL))


def last_update(store: Store, folder: str) -> float:
    """The newest modification time of the folder's state, best and result files."""
    names = (BEST_FILE, CONFIG_FILE, TRIAL_ENDS_FILE)
    stamps = [store.stamp(join(folder, name)) for name in names]
    stamps += [*state_files(store, folder).values(), *store.glob(folder, RESULTS).values()]
    return max((stamp[0] / 1e9 for stamp in stamps if stamp is not None), default=0.0)


def best_value(
    best: dict[str, Any] | None, trials: list[dict[str, Any]], metric: str, mode: str
) -> float | None:
    """The best metric: from ``best.json`` once written, else the best of the trials so far."""
    if best is not None and isinstance(best.get(metric), int | float):
        return float(best[metric])
    values = [
        float(t["analysis"][metric][mode])
        for t in trials
        if isinstance(t["analysis"].get(metric), dict) and mode in t["analysis"][metric]
    ]
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return None
    return min(values) if mode == "min" else max(values)


def _naming(kind: str, folder: str) -> dict[str, str]:
    """``kind``, ``name`` (the folder relative to the root) and the page's ``url``."""
    return {"kind": kind, "name": folder, "url": f"/{URLS[kind]}/{folder}"}


def experiment_row(store: Store, folder: str, now: float | None = None) -> dict[str, Any]:
    """The index row of one experiment folder."""
    config = read_config(store, folder)
    metric, mode = first_objective(config)
    best = files.json_document(store, join(folder, BEST_FILE))
    trials = trial_summaries(store, folder)
    updated = last_update(store, folder)
    ends = run_ends(store, folder)
    recorded = ends is not None or files.text(store, join(folder, TRIAL_ENDS_FILE)) is not None
    counts = end_counts(config, trials, ends)
    tolerated = config.get("max_failed_trials")
    # best.json without trial_ends.json: written before runs recorded their ends
    if (ends is not None and ends.complete) or (isinstance(best, dict) and not recorded):
        ended_badly = failed(counts, tolerated if isinstance(tolerated, int) else 0)
        status = "failed" if ended_badly else "finished"
    elif ends is None and (now if now is not None else time.time()) - updated < RUNNING_WINDOW_S:
        status = "running"
    else:
        status = "interrupted"
    return {
        **_naming("experiment", folder),
        "status": status,
        "method": method_of(config),
        "trials": len(trials),
        "metric": metric,
        "mode": mode,
        "best": best_value(best if isinstance(best, dict) else None, trials, metric, mode),
        "counts": counts,
        "updated": updated,
    }


def study_row(store: Store, folder: str, now: float | None = None) -> dict[str, Any]:
    """The index row of one study folder: its runs' rows summed up; ``planned``: the runs its
    ``study.json`` plans (0: not known)."""
    runs = [experiment_row(store, run, now) for run in folders.experiments_in(store, folder)]
    record = files.json_document(store, join(folder, STUDY_FILE))
    settings = record.get("settings", {}) if isinstance(record, dict) else {}
    planned = len(settings.get("configs", [])) * int(settings.get("seeds", 0) or 0)
    done = record.get("finished", {}) if isinstance(record, dict) else {}
    statuses = {run["status"] for run in runs}
    if planned and isinstance(done, dict) and len(done) >= planned:
        status = "finished"  # the study recorded each of its runs as finished
    elif runs and statuses <= {"finished", "failed"} and len(runs) >= planned:
        status = "finished"
    else:
        status = "running" if "running" in statuses else "interrupted"
    mode = runs[0]["mode"] if runs else "min"
    values = [run["best"] for run in runs if run["best"] is not None]
    counts: Counter[str] = Counter()
    for run in runs:
        counts.update(dict(run["counts"]))
    return {
        **_naming("study", folder),
        "status": status,
        "method": ", ".join(sorted({run["method"] for run in runs})),
        "trials": sum(run["trials"] for run in runs),
        "runs": len(runs),
        "planned": planned,
        "metric": runs[0]["metric"] if runs else "",
        "mode": mode,
        "best": (min(values) if mode == "min" else max(values)) if values else None,
        "counts": ordered_counts(counts.elements()),
        "updated": max((run["updated"] for run in runs), default=0.0),
    }


def index_rows(store: Store) -> list[dict[str, Any]]:
    """Every experiment and study directly under the store's root, newest first."""
    now = time.time()
    rows = [
        study_row(store, folder, now)
        if folders.is_study(store, folder)
        else experiment_row(store, folder, now)
        for folder in folders.served(store)
    ]
    return sorted(rows, key=lambda row: row["updated"], reverse=True)
