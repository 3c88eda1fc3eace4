"""What a trial's page draws, as one JSON-ready dict: every metric's curve, its config, its end
and error, its PBT lineage, its command and the end of its output, its checkpoints.

Read from the files the experiment page reads, and from the trial's own folder: a command
trial's ``command.sh``, ``stdout.log`` and ``stderr.log``, and the checkpoint folders its
reports name (those Ray still keeps). The trial is one the experiment's files name; its folder
comes from them, never from the URL.
"""

from __future__ import annotations

from typing import Any

from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.curves import curve, metric_names
from raytune_hpo.dashboard.experiment_page import perturbations
from raytune_hpo.dashboard.trials import Trials, number, plain_text, read_trials
from raytune_hpo.layout import COMMAND_FILE, STDERR_LOG, STDOUT_LOG
from raytune_hpo.output_lines import meaningful_lines
from raytune_hpo.ray_compat.tune_loop import CHECKPOINT_DIR_KEY
from raytune_hpo.storage.stamped import Store, join

LOG_TAIL = 200
"""Lines shown of the end of a command's output (blank lines and progress bars left out)."""
RUN_LINE = "exec "
"""Starts the line of ``command.sh`` that runs the command."""


def _tail(store: Store, path: str) -> list[str] | None:
    """The last :data:`LOG_TAIL` lines that say something; None when the file is missing."""
    text = files.text(store, path)
    return meaningful_lines(text.splitlines(), LOG_TAIL) if text is not None else None


def _command(store: Store, path: str) -> dict[str, str] | None:
    """``line`` (the command with its arguments) and ``script`` (all of ``command.sh``)."""
    text = files.text(store, path)
    if text is None:
        return None
    script = plain_text(text)
    runs = [line for line in script.splitlines() if line.startswith(RUN_LINE)]
    return {"line": runs[-1].removeprefix(RUN_LINE) if runs else "", "script": script}


def _checkpoints(store: Store, folder: str, reports: list[dict[str, Any]], metric: str) -> list:
    """The checkpoints the trial's reports name that its folder still holds: ``name``,
    ``epoch`` and the metric's ``value`` at the last report that names it (a restored trial
    may write a folder of the same name again)."""
    kept = set(store.folders(folder))
    named = {
        report[CHECKPOINT_DIR_KEY]: {
            "name": report[CHECKPOINT_DIR_KEY],
            "epoch": report["training_iteration"],
            "value": number(report.get(metric)),
        }
        for report in reports
        if report.get(CHECKPOINT_DIR_KEY) in kept
    }
    return sorted(named.values(), key=lambda checkpoint: checkpoint["epoch"])


def _neighbours(trials: Trials, trial_id: str) -> dict[str, str | None]:
    """The trials before and after this one, by id (for the page's links)."""
    ids = sorted(trials.rows)
    at = ids.index(trial_id)
    return {
        "previous": ids[at - 1] if at else None,
        "next": ids[at + 1] if at + 1 < len(ids) else None,
    }


def trial_data(store: Store, folder: str, trial_id: str) -> dict[str, Any] | None:
    """Everything the trial's page shows; None when the experiment has no such trial.

    Args:
        store: The dashboard's files; no file outside its root is read.
        folder: The experiment folder, relative to the root.
        trial_id: Ray's id of the trial.
    """
    trials = read_trials(store, folder)
    row = trials.rows.get(trial_id)
    if row is None:
        return None
    reports = trials.reports.get(trial_id, [])
    records = perturbations(store, folder)
    received = [r for r in records if r.get("trial_id") == trial_id]
    names = metric_names(reports)
    ordered = [trials.metric, *(n for n in names if n != trials.metric)] if reports else []
    trial_folder = join(folder, trials.folders.get(trial_id, ""))
    own = trial_folder != folder
    location = store.location(trial_folder) if own else None
    return {
        **row,
        "experiment": folder,
        "metric": trials.metric,
        "mode": trials.mode,
        "folder": str(location) if location is not None else None,
        "curves": [
            {"metric": name, **curve(trial_id, reports, name, trials.origin, received)}
            for name in ordered
        ],
        "received": received,
        "donated": [r for r in records if r.get("donor_id") == trial_id],
        "command": _command(store, join(trial_folder, COMMAND_FILE)) if own else None,
        "stdout": _tail(store, join(trial_folder, STDOUT_LOG)) if own else None,
        "stderr": _tail(store, join(trial_folder, STDERR_LOG)) if own else None,
        "checkpoints": _checkpoints(store, trial_folder, reports, trials.metric) if own else [],
        **_neighbours(trials, trial_id),
    }
