"""An experiment folder -> tidy DataFrames: reports, trials, summary table, incumbent.

Reads only the folder's files, local or behind a URI, in place (Ray's ``experiment_state-*.json``
and each trial's ``result.json``, plus the toolkit's ``raytune_hpo.yaml`` and ``best.json``);
needs no Ray instance and no W&B.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import yaml

from raytune_hpo import storage
from raytune_hpo.config.objectives import objectives_of
from raytune_hpo.gc_pause import gc_paused
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE, CONFIG_PREFIX, RESULT_FILE, TRIAL_ENDS_FILE
from raytune_hpo.output_lines import error_headline
from raytune_hpo.search.schedulers import traits_of
from raytune_hpo.search.search_space import grid_size
from raytune_hpo.storage import json_text, ray_state
from raytune_hpo.storage.ray_state import NOT_STARTED
from raytune_hpo.trial_ends import RunEnds, TrialEnd, derive_end

LocationT = TypeVar("LocationT", Path, storage.Uri)


@dataclass(frozen=True)
class Experiment:
    """One experiment folder, read back.

    Attributes:
        path: The folder: a local ``Path`` or a :class:`~raytune_hpo.storage.Uri`.
        config: The resolved experiment config (as a plain dict).
        trials: One row per trial: ``trial_id``, ``status`` (Ray's, or ``NOT_STARTED``),
            ``trial_dir``, ``num_failures``, ``error_file``, ``start_time``, ``config``.
        reports: One row per ``tune.report``: ``trial_id``, ``training_iteration``,
            ``elapsed_s`` (since the experiment's first trial started), metrics and
            ``config/<name>`` columns.
        best: Contents of ``best.json`` (best trial, config, test metrics), if written.
        ends: Contents of ``trial_ends.json`` (how every trial ended), if written.
    """

    path: storage.Location
    config: dict[str, Any]
    trials: pd.DataFrame
    reports: pd.DataFrame
    best: dict[str, Any] | None
    ends: RunEnds | None = None

    @property
    def metric(self) -> str:
        """The (first) objective's metric."""
        return objectives_of(self.config)[0].name

    @property
    def mode(self) -> str:
        """The (first) objective's mode."""
        return objectives_of(self.config)[0].mode

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
    with gc_paused():
        trials = read_trials(location)
        reports = read_reports(location, trials)
    best_text = (
        storage.read_text(location, BEST_FILE) if storage.exists(location, BEST_FILE) else None
    )
    best = json.loads(best_text) if best_text is not None else None
    return Experiment(location, config, trials, reports, best, read_run_ends(location))


def read_run_ends(path: storage.Location) -> RunEnds | None:
    """The experiment's ``trial_ends.json``, if written (and readable)."""
    if not storage.exists(path, TRIAL_ENDS_FILE):
        return None
    return RunEnds.from_text(storage.read_text(path, TRIAL_ENDS_FILE))


def trial_ends(experiment: Experiment) -> dict[str, TrialEnd]:
    """How every trial of the experiment ended, by trial id: as the run recorded it, else (an
    experiment written before runs recorded it, or a trial missing from the record) as Ray's
    state file and the trial's reports tell it (:func:`derived_end`)."""
    recorded = experiment.ends.trials if experiment.ends is not None else {}
    ends = {}
    missing = experiment.trials[~experiment.trials["trial_id"].isin(list(recorded))]
    last_of = last_reports(experiment.reports) if len(missing) else {}
    for trial in experiment.trials.itertuples(index=False):
        if trial.trial_id in recorded:
            ends[trial.trial_id] = recorded[trial.trial_id]
            continue
        last = last_of.get(trial.trial_id, {})
        error = None
        if trial.status == "ERROR" and trial.error_file:
            error = _error_line(experiment.path, str(trial.error_file))
        ends[trial.trial_id] = derived_end(
            experiment.config,
            "TERMINATED" if trial.status == NOT_STARTED else str(trial.status),
            started=trial.status != NOT_STARTED and not pd.isna(trial.start_time),
            last_report=last,
            error=error,
            log=str(trial.error_file) if trial.error_file else None,
        )
    return ends


def figures_by_trial(reports: pd.DataFrame, metric: str, mode: str) -> dict[str, dict[str, Any]]:
    """Each trial's ``epochs`` (highest iteration), ``best`` value of ``metric`` (``mode``),
    ``worker_time_s`` and ``diverged`` (the ``diverged`` flag the built-in trainables report,
    else a ``metric`` that was not finite), by trial id, from one grouping of the frame (a trial
    without reports is absent)."""
    if reports.empty:
        return {}
    values = reports[metric].astype(float)
    if "diverged" in reports:
        diverged = reports["diverged"].eq(True)
    else:
        diverged = ~pd.Series(np.isfinite(values.to_numpy()), index=reports.index)
    frame = pd.DataFrame(
        {
            "trial_id": reports["trial_id"].astype(str),
            "epochs": reports["training_iteration"],
            "best": values,
            "worker_time_s": reports["time_total_s"].astype(float),
            "diverged": diverged,
        }
    )
    figures = frame.groupby("trial_id", sort=False).agg(
        epochs=("epochs", "max"),
        best=("best", "min" if mode == "min" else "max"),
        worker_time_s=("worker_time_s", "max"),
        diverged=("diverged", "any"),
    )
    return figures.to_dict("index")


def last_reports(reports: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each trial's last report (its highest ``training_iteration``), by trial id."""
    if reports.empty:
        return {}
    last = reports.sort_values(["trial_id", "training_iteration"], kind="stable")
    last = last.drop_duplicates("trial_id", keep="last")
    return {str(row["trial_id"]): row for row in last.to_dict("records")}


def derived_end(
    config: dict[str, Any],
    status: str,
    *,
    started: bool,
    last_report: dict[str, Any],
    error: str | None = None,
    log: str | None = None,
) -> TrialEnd:
    """A trial's end from Ray's state and its last report, for a run that recorded none
    (:func:`raytune_hpo.trial_ends.derive_end` with the experiment's config).

    Args:
        config: The experiment's config (a plain dict).
        status: Ray Tune's status of the trial.
        started: Ray gave it a start time.
        last_report: Its last report (empty when it made none).
        error: Its exception's own line, for ``ERROR``.
        log: Its error file, for ``ERROR``.
    """
    value = last_report.get(objectives_of(config)[0].name)
    diverged = last_report.get("diverged") is True or (
        isinstance(value, int | float) and not isinstance(value, bool) and not np.isfinite(value)
    )
    scheduler = (config.get("scheduler") or {}).get("name", "")
    epochs = last_report.get("training_iteration")
    return derive_end(
        status,
        started=started,
        epochs=int(epochs) if isinstance(epochs, int | float) and np.isfinite(epochs) else 0,
        max_epochs=config.get("max_epochs"),
        stopper=traits_of(scheduler).early_stop_label,
        budget=config.get("time_budget_s") is not None,
        diverged=diverged,
        error=error,
        log=log,
    )


def _error_line(path: storage.Location, error_file: str) -> str | None:
    """The exception's own line of a trial's error file (a path below ``path``)."""
    relative = error_file.removeprefix(str(path)).lstrip("/")
    folder, _, name = relative.rpartition("/")
    try:
        return error_headline(storage.read_text(path / folder if folder else path, name))
    except (FileNotFoundError, OSError, storage.StorageError):
        return None


def ends_tally(experiment: Experiment) -> str:
    """``4 finished, 2 stopped early, 1 errored``: the trials by their end, with the trials
    the run never created among ``never started``."""
    never_created = max(0, planned_trials(experiment.config) - len(experiment.trials))
    return RunEnds(trial_ends(experiment), never_created=never_created).tally()


def newest_state_file(path: LocationT) -> LocationT | None:
    """The newest ``experiment_state-*.json`` of an experiment folder, if any.

    Newest by the session time in the name: Ray's end-of-run sync rewrites older state files
    of a resumed experiment too, so their modification times say nothing.
    """
    name = ray_state.newest_state_file(path)
    return path / name if name is not None else None


def read_trials(path: storage.Location) -> pd.DataFrame:
    """One row per trial from the newest ``experiment_state-*.json`` of the folder
    (:func:`raytune_hpo.storage.ray_state.read_state`).

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
    _, states = ray_state.read_state(path)
    rows = [
        {
            "trial_id": trial.trial_id,
            "status": trial.status,
            "trial_dir": str(path / str(trial.folder)),
            "num_failures": trial.num_failures,
            "error_file": (
                str(path / str(trial.folder) / trial.error_file) if trial.error_file else None
            ),
            "start_time": trial.start_time,
            "config": trial.config,
        }
        for trial in states
    ]
    return pd.DataFrame(rows, columns=columns)


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
    """Every report of every trial, one row each, with ``elapsed_s`` on one wall clock; a line
    still being written is left out."""
    rows: list[dict[str, Any]] = []
    for name, is_folder in storage.entries(path):
        try:
            data = storage.read_bytes(path / name, RESULT_FILE) if is_folder else b""
        except FileNotFoundError:
            continue
        rows += [_flatten(row) for row in json_text.object_lines(data)]
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
    """One row per trial: its end, status, config, epochs run, last and best metric, worker
    time.

    ``end`` names how the trial ended in the words the console used
    (:func:`trial_ends`: ``stopped early by ASHA at epoch 1 of 3``), ``status`` is Ray Tune's
    (``NOT_STARTED`` for a trial the experiment ended before it ran). A trial without reports
    shows its end, config and 0 epochs, below the others. A trial whose training diverged (NaN
    or infinite loss) has ``diverged`` True: the flag the built-in trainables report, or a
    metric that was not finite; a trial that errored names its exception's line (``error``) and its
    ``error_file``.
    """
    metric, reports = experiment.metric, experiment.reports
    rows = []
    ends = trial_ends(experiment)
    figures = figures_by_trial(reports, metric, experiment.mode)
    last_of = last_reports(reports)
    configs = config_columns(reports)
    for trial in experiment.trials.itertuples(index=False):
        end = ends[trial.trial_id]
        row: dict[str, Any] = {"trial_id": trial.trial_id, "end": end.words}
        row["status"] = trial.status
        if (own := figures.get(str(trial.trial_id))) is not None:
            last = last_of[trial.trial_id]
            row.update({c.removeprefix(CONFIG_PREFIX): last[c] for c in configs})
            row.update(
                {
                    "epochs": int(own["epochs"]),
                    f"last_{metric}": last.get(metric),
                    f"best_{metric}": own["best"],
                    "worker_time_s": float(own["worker_time_s"]),
                }
            )
            if "diverged" in reports or own["diverged"]:
                row["diverged"] = bool(own["diverged"])  # NaN or infinite: the user's code
        else:
            row.update({**trial.config, "epochs": 0})
        if end.error:
            row["error"] = end.error
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


def incumbent(
    reports: pd.DataFrame, metric: str, mode: str, errored: Collection[str] = ()
) -> pd.DataFrame:
    """Best metric so far against experiment wall clock: columns ``elapsed_s``, ``incumbent``.

    The reports of the ``errored`` trials (ids) never make the incumbent: an errored trial is
    never the best.
    """
    ordered = reports.sort_values("elapsed_s", kind="stable")
    values = ordered[metric].astype(float).where(~ordered["trial_id"].isin(list(errored)))
    best = (values.cummin() if mode == "min" else values.cummax()).ffill()
    return pd.DataFrame(
        {"elapsed_s": ordered["elapsed_s"].to_numpy(), "incumbent": best.to_numpy()}
    )


def errored_trials(experiment: Experiment) -> set[str]:
    """The ids of the trials that errored."""
    return {trial_id for trial_id, end in trial_ends(experiment).items() if end.errored}
