"""Where and when the trials of a finished experiment ran, read back from its folder.

Each report carries ``node_ip`` and ``gpu_ids`` (``trainables.trial.placement``). A trial holds
its resources from Ray Tune's ``start_time`` (set when the trial is first RUNNING) until after
its last report, so ``[start_time, last report_time]`` lies inside the time it held them: the
largest overlap of these spans is a lower bound of real concurrency and can never exceed what
fits on the cluster.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from raytune_hpo.analysis.results import Experiment, newest_state_file


def trial_runs(experiment: Experiment) -> pd.DataFrame:
    """One row per trial: ``trial_id``, ``start``, ``end``, ``node_ips``, ``gpu_ids`` (sets)."""
    reports = experiment.reports
    rows = []
    for trial in experiment.trials.itertuples(index=False):
        own = reports[reports["trial_id"] == trial.trial_id]
        rows.append(
            {
                "trial_id": trial.trial_id,
                "start": trial.start_time,
                "end": float(own["report_time"].max()),
                "node_ips": set(own["node_ip"]),
                "gpu_ids": set(own["gpu_ids"]),
            }
        )
    return pd.DataFrame(rows)


def max_overlap(runs: pd.DataFrame, rows: pd.Series | None = None) -> int:
    """The largest number of ``[start, end]`` spans that share one instant."""
    chosen = runs if rows is None else runs[rows]
    events = sorted(
        [(start, 1) for start in chosen["start"]] + [(end, -1) for end in chosen["end"]],
        key=lambda event: (event[0], event[1]),
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def raw_epochs(trial_dir: str | Path) -> list[int]:
    """The ``epoch`` of every line of a trial's ``result.json``, duplicates included."""
    lines = (Path(trial_dir) / "result.json").read_text().splitlines()
    return [json.loads(line)["epoch"] for line in lines if line.strip()]


def newest_state(path: Path) -> dict[str, Any] | None:
    """Trial status, last reported epoch and epoch of the latest checkpoint by trial id, from
    the newest experiment state.

    The two epochs can differ: Ray may record a report in the state before the checkpoint that
    came with it, and a resumed trial starts from the recorded checkpoint (``saved``).

    Returns None while no complete state file is there (Ray rewrites it as the run goes).
    """
    state = newest_state_file(path)
    if state is None:
        return None
    try:
        data = json.loads(state.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    trials = {}
    for trial_json, runtime_json in data["trial_data"]:
        trial, runtime = json.loads(trial_json), json.loads(runtime_json)
        last = runtime.get("last_result") or {}
        trials[trial["trial_id"]] = {
            "status": trial["status"],
            "epoch": last.get("epoch", 0),
            "saved": _saved_epoch(runtime.get("checkpoint_manager")),
        }
    return trials


def _saved_epoch(manager: dict[str, Any] | None) -> int:
    """The epoch of the latest checkpoint in Ray's pickled checkpoint manager; 0 for none."""
    import ray.cloudpickle

    if not manager or "value" not in manager:
        return 0
    latest = ray.cloudpickle.loads(bytes.fromhex(manager["value"])).latest_checkpoint_result
    return 0 if latest is None else int(latest.metrics.get("epoch", 0))
