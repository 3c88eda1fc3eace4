"""An experiment folder -> tidy DataFrames: reports, trials, summary table, incumbent.

Reads only the folder's files, local or behind a URI, in place (Ray's ``experiment_state-*.json``
and each trial's ``result.json``, plus the toolkit's ``raytune_hpo.yaml`` and ``best.json``);
needs no Ray instance and no W&B.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import yaml

from raytune_hpo.analysis import storage
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE, CONFIG_PREFIX
from raytune_hpo.search.search_space import grid_size

RESULT_FILE = "result.json"
"""Ray Tune's reports of one trial, one JSON object a line, in the trial's folder."""
_STATE_FILE = re.compile(r"experiment_state-.*\.json")
LocationT = TypeVar("LocationT", Path, storage.Uri)
NOT_STARTED = "NOT_STARTED"
"""Status of a trial the experiment ended before it ran (Ray Tune marks it TERMINATED)."""


@dataclass(frozen=True)
class Experiment:
    """One experiment folder, read back.

    Attributes:
        path: The folder: a local ``Path`` or a :class:`~raytune_hpo.analysis.storage.Uri`.
        config: The resolved experiment config (as a plain dict).
        trials: One row per trial: ``trial_id``, ``status`` (Ray's, or ``NOT_STARTED``),
            ``trial_dir``, ``num_failures``, ``error_file``, ``start_time``, ``config``.
        reports: One row per ``tune.report``: ``trial_id``, ``training_iteration``,
            ``elapsed_s`` (since the experiment's first trial started), metrics and
            ``config/<name>`` columns.
        best: Contents of ``best.json`` (best trial, config, test metrics), if written.
    """

    path: storage.Location
    config: dict[str, Any]
    trials: pd.DataFrame
    reports: pd.DataFrame
    best: dict[str, Any] | None

    @property
    def metric(self) -> str:
        return self.config["metric"]

    @property
    def mode(self) -> str:
        return self.config["mode"]

    @property
    def name(self) -> str:
        return self.config["name"]


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment folder written by ``raytune-hpo run``: a local folder or a URI.

    Raises:
        FileNotFoundError: ``path`` holds no experiment of this toolkit.
        storage.StorageError: The store behind a URI failed (no such bucket, unreachable).
    """
    location = storage.as_location(path)
    storage.check_store(location)
    if not storage.exists(location, CONFIG_FILE):
        raise FileNotFoundError(
            f"{location}: no {CONFIG_FILE}; not an experiment folder of raytune-hpo"
        )
    config = yaml.safe_load(storage.read_text(location, CONFIG_FILE))
    trials = read_trials(location)
    reports = read_reports(location, trials)
    best_text = (
        storage.read_text(location, BEST_FILE) if storage.exists(location, BEST_FILE) else None
    )
    best = json.loads(best_text) if best_text is not None else None
    return Experiment(location, config, trials, reports, best)


def newest_state_file(path: LocationT) -> LocationT | None:
    """The newest ``experiment_state-*.json`` of an experiment folder, if any.

    Newest by the session time in the name: Ray's end-of-run sync rewrites older state files
    of a resumed experiment too, so their modification times say nothing.
    """
    name = newest_state_name(path)
    return path / name if name is not None else None


def newest_state_name(path: storage.Location) -> str | None:
    """The name of :func:`newest_state_file`, if any."""
    states = [name for name, _ in storage.entries(path) if _STATE_FILE.fullmatch(name)]
    return max(states) if states else None


def read_trials(path: storage.Location) -> pd.DataFrame:
    """One row per trial from the newest ``experiment_state-*.json`` of the folder.

    When the time budget (or any stop of all trials) ends an experiment, Ray Tune marks the
    trials still waiting TERMINATED; only the missing start time tells that they never ran:
    their status here is ``NOT_STARTED``. ``config`` holds the trial's hyperparameters as Ray
    stored them (values it could not write as JSON left out).
    """
    columns = [
        "trial_id",
        "status",
        "trial_dir",
        "num_failures",
        "error_file",
        "start_time",
        "config",
    ]
    state = newest_state_name(path)
    if state is None:
        return pd.DataFrame(columns=columns)
    rows = []
    text = storage.read_text(path, state)
    for trial_json, runtime_json in json.loads(text)["trial_data"]:
        trial, runtime = json.loads(trial_json), json.loads(runtime_json)
        error = runtime.get("error_filename")
        started = runtime.get("start_time") is not None
        rows.append(
            {
                "trial_id": trial["trial_id"],
                "status": NOT_STARTED
                if trial["status"] == "TERMINATED" and not started
                else trial["status"],
                "trial_dir": str(path / trial["relative_logdir"]),
                "num_failures": runtime.get("num_failures", 0),
                "error_file": str(path / trial["relative_logdir"] / error) if error else None,
                "start_time": runtime.get("start_time"),
                "config": _plain_config(trial.get("config")),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _plain_config(config: Any) -> dict[str, Any]:
    """A trial's config from the state file, without Ray's pickled stand-ins (``_type``)."""
    if not isinstance(config, dict):
        return {}
    return {k: v for k, v in config.items() if not (isinstance(v, dict) and "_type" in v)}


def planned_trials(config: dict[str, Any]) -> int:
    """Trials an experiment config asks for: ``num_samples`` times every grid combination."""
    return int(config.get("num_samples") or 1) * grid_size(config.get("search_space") or {})


def not_started(experiment: Experiment) -> int:
    """Trials that never ran: ``NOT_STARTED`` or PENDING ones, and those never created.

    Ray Tune creates trials only a few ahead of the free workers, so a time budget often ends
    an experiment before it created the rest; a trial that failed to start counts as failed.
    """
    trials = experiment.trials
    reported = set(experiment.reports["trial_id"]) if not experiment.reports.empty else set()
    waiting = trials["start_time"].isna() & ~trials["trial_id"].isin(reported)
    waiting &= trials["status"] != "ERROR"
    return int(waiting.sum()) + max(0, planned_trials(experiment.config) - len(trials))


def read_reports(path: storage.Location, trials: pd.DataFrame) -> pd.DataFrame:
    """Every report of every trial, one row each, with ``elapsed_s`` on one wall clock."""
    rows: list[dict[str, Any]] = []
    for name, is_folder in storage.entries(path):
        try:
            text = storage.read_text(path / name, RESULT_FILE) if is_folder else ""
        except FileNotFoundError:
            continue
        for line in text.splitlines():
            if line.strip():
                rows.append(_flatten(json.loads(line)))
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame = frame.drop_duplicates(["trial_id", "training_iteration"], keep="last")
    clock = frame["report_time"] if "report_time" in frame else frame["timestamp"]
    starts = trials["start_time"].dropna() if not trials.empty else pd.Series(dtype=float)
    origin = min(starts.min(), clock.min()) if not starts.empty else clock.min()
    frame["elapsed_s"] = clock - origin
    return frame.sort_values(["elapsed_s", "trial_id"]).reset_index(drop=True)


def _flatten(result: dict[str, Any]) -> dict[str, Any]:
    config = result.pop("config", {}) or {}
    return {**result, **{f"{CONFIG_PREFIX}{k}": v for k, v in config.items()}}


def config_columns(frame: pd.DataFrame) -> list[str]:
    """The ``config/<name>`` columns of a reports frame."""
    return [c for c in frame.columns if c.startswith(CONFIG_PREFIX)]


def summary_table(experiment: Experiment) -> pd.DataFrame:
    """One row per trial: status, config, epochs run, last and best metric, worker time.

    A trial without reports (``NOT_STARTED``: the experiment ended before it ran) shows its
    status, config and 0 epochs, below the others. A trial whose training diverged (NaN or infinite
    loss) has ``diverged`` True: the flag the built-in trainables report, or a metric that was
    not finite; a trial that ended in ERROR names its ``error_file``.
    """
    metric, reports = experiment.metric, experiment.reports
    best = "min" if experiment.mode == "min" else "max"
    rows = []
    for trial in experiment.trials.itertuples(index=False):
        own = reports[reports["trial_id"] == trial.trial_id] if not reports.empty else reports
        row: dict[str, Any] = {"trial_id": trial.trial_id, "status": trial.status}
        if not own.empty:
            last = own.sort_values("training_iteration").iloc[-1]
            row.update({c.removeprefix(CONFIG_PREFIX): last[c] for c in config_columns(own)})
            row.update(
                {
                    "epochs": int(own["training_iteration"].max()),
                    f"last_{metric}": last.get(metric),
                    f"best_{metric}": getattr(own[metric], best)(),
                    "worker_time_s": float(own["time_total_s"].max()),
                }
            )
            if "diverged" in own:
                row["diverged"] = bool(own["diverged"].eq(True).any())
            elif not np.isfinite(own[metric].astype(float)).all():
                row["diverged"] = True  # the user's code reported a NaN or infinite metric
        else:
            row.update({**trial.config, "epochs": 0})
        if trial.error_file:
            row["error_file"] = trial.error_file
        rows.append(row)
    table = pd.DataFrame(rows)
    if "diverged" in table:
        table["diverged"] = table["diverged"].eq(True)
    if table.empty:
        return table
    table = table.sort_values("trial_id", kind="stable")
    if f"best_{metric}" in table:  # trials without reports go last
        ascending = experiment.mode == "min"
        table = table.sort_values(f"best_{metric}", ascending=ascending, kind="stable")
    return table.reset_index(drop=True)


def incumbent(reports: pd.DataFrame, metric: str, mode: str) -> pd.DataFrame:
    """Best metric so far against experiment wall clock: columns ``elapsed_s``, ``incumbent``."""
    ordered = reports.sort_values("elapsed_s", kind="stable")
    values = ordered[metric].astype(float)
    best = values.cummin() if mode == "min" else values.cummax()
    return pd.DataFrame(
        {"elapsed_s": ordered["elapsed_s"].to_numpy(), "incumbent": best.to_numpy()}
    )
