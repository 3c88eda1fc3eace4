"""What an experiment optimises: ``metric`` and ``mode`` as one name or a list, ``constraints``
and ``reference_point``, checked into :class:`Objective` s and :class:`Constraint` s.

``metric: [val_loss, latency_ms]`` with ``mode: [min, min]`` names several objectives; the
first is the one every single-metric code path reads (``cfg.metric``, ``cfg.mode``). A
constraint may bound an objective too. Each mistake is one :class:`InvalidKey` naming its key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from raytune_hpo.errors import InvalidKey
from raytune_hpo.registry import Constraint, Objective

__all__ = [
    "Constraint",
    "Objective",
    "check_reference_point",
    "objectives_of",
    "parse_objectives",
    "watched_metrics",
]

MODES = ("min", "max")
DEFAULT_METRIC = "validation_error"
DEFAULT_MODE = "min"


def parse_objectives(metric: Any, mode: Any) -> tuple[Objective, ...]:
    """The objectives that ``metric`` and ``mode`` name, as written in a config: a name and
    min/max, or lists of the same length.

    Raises:
        InvalidKey: At ``metric`` or ``mode`` (or one item of their lists): an empty list, a
            name that is not a string or comes twice, an unknown mode, or lists whose lengths
            differ.
    """
    names = _as_list(metric)
    modes = _as_list(mode)
    if not names:
        raise InvalidKey("metric", "needs at least one metric name")
    for index, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise InvalidKey(
                _item("metric", metric, index), f"expected a metric name, got {name!r}"
            )
    if twice := sorted({name for name in names if names.count(name) > 1}):
        raise InvalidKey("metric", f"names {twice[0]!r} twice; each objective once")
    for index, value in enumerate(modes):
        if value not in MODES:
            raise InvalidKey(
                _item("mode", mode, index), f"unknown mode {value!r}; known: {', '.join(MODES)}"
            )
    if len(modes) != len(names):
        raise InvalidKey(
            "mode",
            f"{len(modes)} mode(s) for {len(names)} metric(s); give one mode (min or max) per "
            f"metric, in the same order, e.g. [{', '.join(['min'] * len(names))}]",
        )
    return tuple(Objective(name, value) for name, value in zip(names, modes, strict=True))


def objectives_of(config: Mapping[str, Any]) -> tuple[Objective, ...]:
    """The objectives of a config as a mapping (a saved experiment's config), first first."""
    return parse_objectives(config.get("metric", DEFAULT_METRIC), config.get("mode", DEFAULT_MODE))


def check_reference_point(point: Sequence[float] | None, objectives: Sequence[Objective]) -> None:
    """A reference point holds one finite number per objective (in the objective's own units).

    Raises:
        InvalidKey: At ``reference_point``.
    """
    if point is None:
        return
    if len(point) != len(objectives):
        names = ", ".join(objective.name for objective in objectives)
        raise InvalidKey(
            "reference_point",
            f"needs one number per objective ({len(objectives)}: {names}), got {len(point)}",
        )
    if bad := [value for value in point if not math.isfinite(value)]:
        raise InvalidKey("reference_point", f"needs finite numbers, got {bad[0]}")


def watched_metrics(
    objectives: Sequence[Objective], constraints: Mapping[str, Constraint]
) -> tuple[str, ...]:
    """Every metric the trials must report: the objectives, then the constrained metrics."""
    names = [objective.name for objective in objectives] + list(constraints)
    return tuple(dict.fromkeys(names))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _item(key: str, written: Any, index: int) -> str:
    """The key of item ``index`` of ``written``: ``metric[1]``, or ``metric`` if not a list."""
    return f"{key}[{index}]" if isinstance(written, list | tuple) else key
