"""One row per experiment and study under the root, from cheap files only.

An experiment's row reads its config, its ``best.json`` and the trials' summaries that Ray keeps
in the newest ``experiment_state-*.json`` (status, last result and per-metric min and max of
every trial), and the modification times of its trials' ``result.json``: never a trial's
reports. Status: ``finished`` once ``best.json`` is written (the run's last step), ``running``
while files change (Ray copies its state and results into the folder every few seconds),
``interrupted`` otherwise.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import yaml

from raytune_hpo.analysis.results import NOT_STARTED, newest_state_file
from raytune_hpo.config import method_name
from raytune_hpo.dashboard import files, folders
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE, STUDY_FILE

URLS = {"experiment": "experiments", "study": "studies"}
"""The first part of a page's URL by the kind of folder."""
RUNNING_WINDOW_S = 120.0
"""An experiment without ``best.json`` whose files changed this recently is running."""


def read_config(folder: Path) -> dict[str, Any]:
    """The experiment's resolved config as a dict (empty when it cannot be read)."""
    try:
        config = yaml.load((folder / CONFIG_FILE).read_text(), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError):
        return {}
    return config if isinstance(config, dict) else {}


def method_of(config: dict[str, Any]) -> str:
    """The method label of a config (``?`` when it names no searcher or scheduler)."""
    sections = [config.get(section) or {} for section in ("searcher", "scheduler")]
    if not all(isinstance(s, dict) and isinstance(s.get("name"), str) for s in sections):
        return "?"
    return method_name(*sections)


def trial_summaries(folder: Path) -> list[dict[str, Any]]:
    """One dict per trial from the newest state file (``[]`` before Ray wrote one).

    Keys: ``trial_id``, ``status`` (``NOT_STARTED`` for a trial the experiment ended before
    it ran, as in :func:`~raytune_hpo.analysis.results.read_trials`), ``folder`` (relative),
    ``start_time``, ``error_file`` (relative to the trial folder), ``config`` and ``analysis``
    (Ray's ``metric_analysis``: ``min``, ``max``, ``last`` per metric).
    """
    state_file = newest_state_file(folder)
    state = files.json_document(state_file) if state_file is not None else None
    if not isinstance(state, dict):
        return []
    rows = []
    for trial_json, runtime_json in state.get("trial_data", []):
        trial, runtime = json.loads(trial_json), json.loads(runtime_json)
        started = runtime.get("start_time") is not None
        status = trial.get("status")
        config = trial.get("config")
        rows.append(
            {
                "trial_id": trial.get("trial_id"),
                "status": NOT_STARTED if status == "TERMINATED" and not started else status,
                "folder": trial.get("relative_logdir"),
                "start_time": runtime.get("start_time"),
                "error_file": runtime.get("error_filename"),
                "config": {
                    k: v
                    for k, v in (config if isinstance(config, dict) else {}).items()
                    if not isinstance(v, dict)
                },
                "analysis": runtime.get("metric_analysis") or {},
            }
        )
    return rows


def last_update(folder: Path) -> float:
    """The newest modification time of the folder's state, best and result files."""
    paths = [folder / BEST_FILE, folder / CONFIG_FILE, *folder.glob("experiment_state-*.json")]
    paths += folder.glob("*/result.json")
    times = []
    for path in paths:
        try:
            times.append(path.stat().st_mtime)
        except OSError:
            continue
    return max(times, default=0.0)


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


def _naming(kind: str, folder: Path, root: Path) -> dict[str, str]:
    """``kind``, ``name`` (the folder relative to the root) and the page's ``url``."""
    name = folders.name_of(folder, root)
    return {"kind": kind, "name": name, "url": f"/{URLS[kind]}/{name}"}


def experiment_row(folder: Path, root: Path, now: float | None = None) -> dict[str, Any]:
    """The index row of one experiment folder."""
    config = read_config(folder)
    metric, mode = str(config.get("metric", "")), str(config.get("mode", "min"))
    best = files.json_document(folder / BEST_FILE)
    trials = trial_summaries(folder)
    updated = last_update(folder)
    if isinstance(best, dict):
        status = "finished"
    elif (now if now is not None else time.time()) - updated < RUNNING_WINDOW_S:
        status = "running"
    else:
        status = "interrupted"
    return {
        **_naming("experiment", folder, root),
        "status": status,
        "method": method_of(config),
        "trials": len(trials),
        "metric": metric,
        "mode": mode,
        "best": best_value(best if isinstance(best, dict) else None, trials, metric, mode),
        "updated": updated,
    }


def study_row(folder: Path, root: Path, now: float | None = None) -> dict[str, Any]:
    """The index row of one study folder: its runs' rows summed up."""
    runs = [experiment_row(run, root, now) for run in folders.experiments_in(folder, root)]
    record = files.json_document(folder / STUDY_FILE)
    settings = record.get("settings", {}) if isinstance(record, dict) else {}
    planned = len(settings.get("configs", [])) * int(settings.get("seeds", 0) or 0)
    statuses = {run["status"] for run in runs}
    if runs and statuses == {"finished"} and len(runs) >= planned:
        status = "finished"
    else:
        status = "running" if "running" in statuses else "interrupted"
    mode = runs[0]["mode"] if runs else "min"
    values = [run["best"] for run in runs if run["best"] is not None]
    return {
        **_naming("study", folder, root),
        "status": status,
        "method": ", ".join(sorted({run["method"] for run in runs})),
        "trials": sum(run["trials"] for run in runs),
        "runs": len(runs),
        "metric": runs[0]["metric"] if runs else "",
        "mode": mode,
        "best": (min(values) if mode == "min" else max(values)) if values else None,
        "updated": max((run["updated"] for run in runs), default=0.0),
    }


def index_rows(root: Path) -> list[dict[str, Any]]:
    """Every experiment and study directly under ``root``, newest first."""
    now = time.time()
    rows = []
    for folder in folders.subfolders(root, root):
        if folders.is_study(folder):
            rows.append(study_row(folder, root, now))
        elif folders.is_experiment(folder):
            rows.append(experiment_row(folder, root, now))
    return sorted(rows, key=lambda row: row["updated"], reverse=True)
