"""A trial's learning curves as the pages draw them: against epoch and wall-clock, with where it
was restarted and where PBT exploited a donor.

A trial restarts when Ray pauses and resumes it (PBT, HyperBand, a time-shared cluster),
restores it into a donor's state (PBT's exploit) or retries it after an error: its next report
counts ``iterations_since_restore`` from 1 again. The wall-clock curve breaks there (the pause
is no part of its training). An exploit shows in the reports as a change of the trial's
hyperparameters; ``pbt_history.jsonl``'s record that made it (the one whose new values the trial
reports) names the donor. Drawn among many, a curve keeps fewer points
(:mod:`~raytune_hpo.dashboard.downsample`), never its restarts and exploits.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from raytune_hpo.dashboard.downsample import kept_indices
from raytune_hpo.dashboard.trials import CLOCK_KEYS, clock, number, numbers
from raytune_hpo.layout import RAY_RESULT_KEYS


def restarts(reports: list[dict[str, Any]]) -> list[int]:
    """The indices of the reports made first after a restart (never the first report)."""
    return [
        index
        for index, report in enumerate(reports)
        if index and report.get("iterations_since_restore") == 1
    ]


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """The hyperparameters whose value differs: ``{name: [old, new]}``."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def _made_by(change: dict[str, list[Any]], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The PBT record whose new values are the change's (the latest such), or ``{}``."""
    for record in reversed(records):
        new = record.get("new") or {}
        if new and all(k in change and change[k][1] == v for k, v in new.items()):
            return record
    return {}


def exploits(reports: list[dict[str, Any]], records: Iterable[dict[str, Any]]) -> list[dict]:
    """Where the trial's hyperparameters changed: PBT's exploits, one dict each.

    Keys: ``index`` (the first report with the new values), ``change`` (``{name: [old,
    new]}``), and ``donor_id`` and ``donor_iteration`` from the record that made it, if found.

    Args:
        reports: The trial's reports, in order.
        records: ``pbt_history.jsonl``'s records of this trial, in order.
    """
    own = list(records)
    found = []
    for index in range(1, len(reports)):
        before, after = reports[index - 1].get("config") or {}, reports[index].get("config") or {}
        change = _changed(before, after) if after != before else {}
        if change:
            record = _made_by(change, own)
            found.append(
                {
                    "index": index,
                    "change": change,
                    "donor_id": record.get("donor_id"),
                    "donor_iteration": record.get("donor_iteration"),
                }
            )
    return found


def elapsed(report: dict[str, Any], origin: float) -> float | None:
    """Seconds from the experiment's start to the report."""
    at = clock(report)
    return round(at - origin, 3) if at is not None else None


def curve(
    trial_id: str,
    reports: list[dict[str, Any]],
    key: str,
    origin: float,
    records: Iterable[dict[str, Any]] = (),
    limit: int | None = None,
) -> dict[str, Any]:
    """One trial's curve of ``key``: ``trial``, ``epoch``, ``elapsed_s``, ``value`` (lists of
    the same length), ``restarts`` (:func:`restarts`), ``exploits`` (:func:`exploits`) and
    ``reports`` (how many it had).

    Args:
        limit: At most about this many points (:func:`~raytune_hpo.dashboard.downsample.
            kept_indices`), besides the reports around each restart and exploit; None: all.
    """
    values = numbers(reports, key)
    starts, changes = restarts(reports), exploits(reports, records)
    marked = [i for start in starts for i in (start - 1, start)]
    marked += [i for change in changes for i in (change["index"] - 1, change["index"])]
    kept = kept_indices(values, limit, marked) if limit is not None else range(len(reports))
    position = {index: at for at, index in enumerate(kept)}
    return {
        "trial": trial_id,
        "epoch": [reports[i]["training_iteration"] for i in kept],
        "elapsed_s": [elapsed(reports[i], origin) for i in kept],
        "value": [values[i] for i in kept],
        "restarts": [position[i] for i in starts],
        "exploits": [{**change, "index": position[change["index"]]} for change in changes],
        "reports": len(reports),
    }


def metric_names(reports: list[dict[str, Any]]) -> list[str]:
    """The metrics a trial reported: its numeric keys, without Ray's bookkeeping, the clock
    and any key that only repeats the epoch (``epoch`` alongside ``training_iteration``)."""
    names: dict[str, None] = {}
    for report in reports:
        for key, value in report.items():
            if key not in RAY_RESULT_KEYS and key not in CLOCK_KEYS and number(value) is not None:
                names[key] = None
    return [
        name
        for name in names
        if any(r.get(name) != r["training_iteration"] for r in reports if name in r)
    ]
