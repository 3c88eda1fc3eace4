"""The parallel coordinates of an experiment's page: one axis per hyperparameter that varies,
then the metric; one line per trial that reported.

The page (``static/parallel.js``) draws every axis linearly: a parameter the search space draws
on a log scale (``loguniform``, ``lograndint``, in ``search_space`` or PBT's
``hyperparam_mutations``) is sent as its ``log10``, its ticks at round values written as
themselves, and a range brushed on it is in those units too. A parameter with a
single value over the trials says nothing and is left out. Errored trials are flagged, so that
the page draws them apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from raytune_hpo.dashboard.trials import Trials, number
from raytune_hpo.number_format import format_number
from raytune_hpo.search.search_space import SearchSpaceError, spec_kind
from raytune_hpo.trial_ends import ERRORED

LOG_KINDS = frozenset({"loguniform", "lograndint"})
"""Distributions drawn on a log scale."""
STEPS = (1, 2, 5)
"""Round values per decade, for ticks: 1, 2, 5, 10, 20, ..."""


def log_scaled(config: Mapping[str, Any]) -> set[str]:
    """The hyperparameters the config draws on a log scale (specs it cannot read: none)."""
    scheduler = config.get("scheduler")
    mutations = scheduler.get("hyperparam_mutations") if isinstance(scheduler, dict) else None
    found = set()
    for space in (config.get("search_space"), mutations):
        for key, spec in (space if isinstance(space, dict) else {}).items():
            try:
                if spec_kind(key, spec) in LOG_KINDS:
                    found.add(key)
            except SearchSpaceError:
                continue
    return found


def log_ticks(low: float, high: float) -> list[float]:
    """Round values from ``low`` to ``high`` (both > 0) for a log axis: the powers of ten when
    there are three or more, else 1-2-5 steps, with the ends when fewer than two are inside."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = [m * 10.0**e for e in range(first, last + 1) for m in STEPS]
    inside = [t for t in steps if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
    decades = [t for t in inside if math.isclose(math.log10(t), round(math.log10(t)))]
    if len(decades) >= 3:
        return decades
    return inside if len(inside) >= 2 else sorted({low, *inside, high})


def _log_dimension(label: str, values: list[float]) -> dict[str, Any]:
    ticks = log_ticks(min(values), max(values))
    return {
        "label": f"{label} (log)",
        "values": [math.log10(v) for v in values],
        "range": [math.log10(min(values)), math.log10(max(values))],
        "tickvals": [math.log10(t) for t in ticks],
        "ticktext": [format_number(t) for t in ticks],
    }


def dimension(label: str, values: list[Any], log: bool = False) -> dict[str, Any]:
    """One axis: numbers as they are (their ``log10`` when ``log`` and all are positive),
    anything else by category."""
    numbers = [number(v) for v in values]
    if all(n is not None for n in numbers):
        known = [n for n in numbers if n is not None]
        if log and known and min(known) > 0 and min(known) < max(known):
            return _log_dimension(label, known)
        return {"label": label, "values": known}
    categories = sorted({str(v) for v in values})
    return {
        "label": label,
        "values": [categories.index(str(v)) for v in values],
        "tickvals": list(range(len(categories))),
        "ticktext": categories,
    }


def parallel_axes(trials: Trials) -> dict[str, Any]:
    """The axes and lines: ``dimensions`` (the parameters that vary, then the metric, each
    with the values of the trials drawn), ``trials`` (their ids, in line order), ``errored``
    (whether each errored) and ``left_out`` (trials without a metric value, not drawn)."""
    drawn = [t for t in trials.rows.values() if t["best"] is not None]
    log = log_scaled(trials.config)
    params = sorted({p for t in drawn for p in t["config"]})
    dimensions = [
        dimension(p, [t["config"].get(p) for t in drawn], log=p in log)
        for p in params
        if len({repr(t["config"].get(p)) for t in drawn}) > 1
    ]
    if drawn:
        dimensions.append({"label": trials.metric, "values": [t["best"] for t in drawn]})
    return {
        "dimensions": dimensions,
        "trials": [t["trial_id"] for t in drawn],
        "errored": [t["status"] == ERRORED for t in drawn],
        "left_out": len(trials.rows) - len(drawn),
    }
