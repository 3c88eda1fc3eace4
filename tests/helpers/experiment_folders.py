"""Experiment folders as ``raytune-hpo run`` leaves them, with made-up reports at chosen times,
so that what is read back from them can be computed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

T0 = 1_000_000.0
"""When every experiment's first trial starts (seconds since the epoch)."""
METRIC = "validation_error"
"""The metric a plain number in :data:`Trials` reports."""

Trials = dict[str, tuple[str, list[tuple[float, float | dict[str, float], float]]]]
"""Trial id -> (Ray's status, [(elapsed_s, value, time_this_iter_s), ...]): ``value`` is
:data:`METRIC`'s, or a dict of every metric the report holds."""


def write_experiment(root: Path, config: dict[str, Any], trials: Trials) -> Path:
    """An experiment folder as ``raytune-hpo run`` leaves it, with the given reports."""
    path = root / config["name"]
    path.mkdir(parents=True)
    (path / "raytune_hpo.yaml").write_text(yaml.safe_dump(config))
    state = []
    for trial_id, (status, reports) in trials.items():
        trial_dir = path / f"trial_{trial_id}"
        trial_dir.mkdir()
        lines = [
            json.dumps(
                {
                    "trial_id": trial_id,
                    "training_iteration": epoch,
                    **(value if isinstance(value, dict) else {METRIC: value}),
                    "report_time": T0 + elapsed,
                    "time_this_iter_s": duration,
                    "time_total_s": sum(r[2] for r in reports[:epoch]),
                    "config": {"learning_rate": 0.1},
                }
            )
            for epoch, (elapsed, value, duration) in enumerate(reports, 1)
        ]
        (trial_dir / "result.json").write_text("\n".join(lines) + "\n")
        trial = {"trial_id": trial_id, "status": status, "relative_logdir": trial_dir.name}
        runtime = {"num_failures": 0, "start_time": T0 if reports else None}
        state.append([json.dumps(trial), json.dumps(runtime)])
    (path / "experiment_state-2026-01-01_00-00-00.json").write_text(
        json.dumps({"trial_data": state})
    )
    return path
