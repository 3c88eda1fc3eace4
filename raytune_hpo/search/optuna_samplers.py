"""Optuna's genetic samplers, made picklable: Ray Tune pickles the search algorithm with the
Tuner's state (and into every experiment checkpoint, for ``resume``), and Optuna's NSGA-II and
NSGA-III samplers hold a ``threading.Lock``, which pickle refuses. The lock is left out of the
pickle and made anew when it is read back."""

from __future__ import annotations

import threading
from typing import Any

from optuna.samplers import NSGAIIISampler, NSGAIISampler


class _LockMadeAnew:
    """Pickles the sampler without its ``_thread_lock`` and gives it a fresh one on load."""

    _thread_lock: Any

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_thread_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()


class PicklableNSGAIISampler(_LockMadeAnew, NSGAIISampler):
    """Optuna's :class:`~optuna.samplers.NSGAIISampler`, picklable."""


class PicklableNSGAIIISampler(_LockMadeAnew, NSGAIIISampler):
    """Optuna's :class:`~optuna.samplers.NSGAIIISampler`, picklable."""
