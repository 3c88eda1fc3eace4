"""What a saved experiment config optimises, as the pages name it.

``metric`` and ``mode`` may each be one name or a list (several objectives,
:func:`~raytune_hpo.config.objectives.objectives_of`); the first objective is the one every
single-metric view draws. A config the page cannot read (missing, half written, invalid) names
no objective: the page shows what it can instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raytune_hpo.config.objectives import Objective, objectives_of
from raytune_hpo.errors import InvalidKey


def objectives(config: Mapping[str, Any]) -> tuple[Objective, ...]:
    """The config's objectives, the first one first; none when it names no valid metric."""
    if "metric" not in config:
        return ()
    try:
        return objectives_of(config)
    except InvalidKey:
        return ()


def first_objective(config: Mapping[str, Any]) -> tuple[str, str]:
    """The first objective's metric and mode; ``("", "min")`` when the config names none."""
    found = objectives(config)
    return (found[0].name, found[0].mode) if found else ("", "min")
