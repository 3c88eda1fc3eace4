"""How hyperparameters, durations and trial events read in a console line (pure); numbers
as everywhere else (:func:`raytune_hpo.number_format.format_number`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from raytune_hpo.number_format import format_number
from raytune_hpo.trial_ends import end_of_run, epochs_text

__all__ = [
    "after_failure",
    "concurrency",
    "ending",
    "epochs_text",
    "exploit_line",
    "format_duration",
    "format_number",
    "format_params",
    "pick_best",
]


def format_params(config: Mapping[str, Any], keys: Sequence[str] = ()) -> str:
    """``key=value`` pairs of ``config``: the ``keys`` searched over, or all when none are."""
    shown = [k for k in keys if k in config] or list(config)
    return " ".join(f"{k}={format_number(config[k])}" for k in shown)


def format_duration(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def ending(
    epochs: int,
    max_epochs: int,
    *,
    stopped: bool,
    stopper: str | None,
    out_of_time: bool,
) -> str:
    """How a trial that ended without an error ended, as a phrase (the words of
    :func:`raytune_hpo.trial_ends.end_of_run`, which takes the same arguments)."""
    return end_of_run(
        epochs, max_epochs, stopped=stopped, stopper=stopper, out_of_time=out_of_time
    ).words


def after_failure(failures: int, max_failures: int, *, retried: bool) -> str:
    """What happens to a trial after its ``failures``-th failure, as a phrase.

    Args:
        failures: The trial's failures so far, this one included.
        max_failures: ``failure.max_failures`` (-1: retried without end).
        retried: Ray Tune retries the trial (else it ends: it errored).
    """
    if retried:
        of = "" if max_failures < 0 else f" of {max_failures}"
        return f"retry {failures}{of} from its last checkpoint"
    if max_failures == 0:
        return "no retries (failure.max_failures is 0)"
    return f"no retries left ({max_failures} used)"


def exploit_line(record: Mapping[str, Any], scheduler: str = "pbt") -> str:
    """One exploit of PBT or PB2 (a ``pbt_history.jsonl`` record): trial <- donor, old -> new
    values."""
    old, new = record.get("old", {}), record.get("new", {})
    changes = ", ".join(
        f"{key} {format_number(old.get(key))} -> {format_number(value)}"
        for key, value in new.items()
    )
    return (
        f"trial {record['trial_id']} <- {record['donor_id']} ({scheduler.upper()} exploit at epoch "
        f"{record.get('training_iteration')}): {changes or 'same values'}"
    )


def concurrency(
    cpu: float, gpu: float, cluster_cpu: float, cluster_gpu: float, limit: int | None
) -> int:
    """How many trials asking for ``cpu`` and ``gpu`` fit on the cluster at once."""
    fits = [int(cluster_cpu // cpu + 1e-9)]
    if gpu > 0:
        fits.append(int(cluster_gpu // gpu + 1e-9))
    if limit is not None:
        fits.append(limit)
    return max(0, min(fits))


def pick_best(
    candidates: Iterable[tuple[str, float]], mode: Literal["min", "max"]
) -> tuple[str, float] | None:
    """The ``(trial id, value)`` with the lowest (``min``) or highest (``max``) value."""
    best: tuple[str, float] | None = None
    for trial_id, value in candidates:
        if best is None or (value < best[1] if mode == "min" else value > best[1]):
            best = (trial_id, value)
    return best
