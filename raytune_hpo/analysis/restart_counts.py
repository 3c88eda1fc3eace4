"""How often each trial of an experiment folder started over from scratch.

A trial that Ray Tune continued without a checkpoint (a pause, a retry, a resume) reports from
iteration 1 again (:mod:`raytune_hpo.experiment.restarts` warns at the first one). Ray keeps
every report in the trial's ``result.json``, restarts included, so the count is read from there:
each report of iteration 1 after the first. Reads files only (local or a URI).
"""

from __future__ import annotations

import json

from raytune_hpo import storage
from raytune_hpo.layout import RESULT_FILE


def count_restarts(path: storage.Location) -> dict[str, int]:
    """Trial id -> restarts from scratch, for each trial of ``path`` that started over."""
    counts: dict[str, int] = {}
    for name, is_folder in storage.entries(path):
        if not is_folder:
            continue
        try:
            text = storage.read_text(path / name, RESULT_FILE)
        except FileNotFoundError:
            continue
        starts, trial_id = 0, None
        for line in text.splitlines():
            if not line.strip():
                continue
            report = json.loads(line)
            trial_id = report.get("trial_id", trial_id)
            starts += report.get("training_iteration") == 1
        if trial_id is not None and starts > 1:
            counts[str(trial_id)] = starts - 1
    return counts


def restarts_line(counts: dict[str, int]) -> str | None:
    """One line for the summary: how many trials started over, how often; None if none did."""
    if not counts:
        return None
    total = sum(counts.values())
    trials = ", ".join(f"{trial} {count}x" for trial, count in sorted(counts.items()))
    return (
        f"restarts from scratch (no checkpoint to continue from): {total} in "
        f"{len(counts)} trial{'s' if len(counts) != 1 else ''} ({trials})"
    )
