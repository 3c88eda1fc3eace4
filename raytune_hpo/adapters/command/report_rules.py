"""What makes a value a report, shared by the readers of lines and of event files.

Pure (the standard library only): a number (:func:`is_number`), a step grown past the last
report's (:class:`StepRule`), the names seen kept for messages (:class:`NamesSeen`) and the
watch for a misspelled metric (:class:`Misnamed`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, TypeGuard

from raytune_hpo.adapters.command.metric_names import close_names

KEYS_KEPT = 30
"""How many names of keys or tags seen a reader keeps for its error message."""


def is_number(value: Any) -> TypeGuard[int | float]:
    """Whether ``value`` is an int or float (a bool is not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class NamesSeen:
    """The first :data:`KEYS_KEPT` distinct names added."""

    def __init__(self) -> None:
        self._names: set[str] = set()

    def add(self, names: Iterable[str]) -> None:
        for name in names:
            if len(self._names) < KEYS_KEPT:
                self._names.add(name)

    def sorted(self) -> list[str]:
        return sorted(self._names)


class StepRule:
    """Lets a report through when it has no step to check, or its step grew past the last one.

    Args:
        name: The step's key (``metrics.step``); None: every report counts.
    """

    def __init__(self, name: str | None) -> None:
        self.name = name
        self._last: float | None = None

    def advanced(self, report: dict[str, Any], *, record: bool = True) -> bool:
        """Whether ``report`` counts; ``record``: its step becomes the last one if so."""
        if self.name is None:
            return True
        step = report.get(self.name)
        if not is_number(step) or math.isnan(step):
            return False
        if self._last is not None and not step > self._last:
            return False
        if record:
            self._last = step
        return True


class Misnamed:
    """Watches for a metric name misspelled in the config: a name the command writes is close
    to it (:func:`~raytune_hpo.adapters.command.metric_names.close_names`), and the metric is
    never found.

    Such a name is taken as the one meant once it is written a second time (a second epoch:
    the metric did not come with the first) or the command ends; a name written once, before
    the metric comes on a later line, ends nothing (``episode_reward_max`` printed on the line
    before ``episode_reward_mean``).
    """

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.found = False
        """Whether the metric was found: nothing is watched any more."""
        self.close_seen = False
        """Whether a name close to the metric was written."""
        self._close: dict[str, bool] = {}
        self._written: set[str] = set()

    def written_again(self, names: Iterable[str]) -> bool:
        """Record ``names`` written (once each); whether one close to the metric was written
        before."""
        if self.found:
            return False
        close = [name for name in names if self._is_close(name)]
        again = any(name in self._written for name in close)
        self._written.update(close)
        self.close_seen = self.close_seen or bool(close)
        return again

    def _is_close(self, name: str) -> bool:
        if name not in self._close:
            self._close[name] = bool(close_names(self.metric, [name]))
        return self._close[name]
