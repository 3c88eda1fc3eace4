"""A built-in trainable's scoring code, imported while the trials run.

The driver hands a built-in trainable to Ray by name and imports none of its code (torch, for
LeNet and DCGAN) before the trials start; scoring the best trial on the test split needs it at
the end. :class:`ImportScoringCode` starts that import in a background thread once the first
trial has ended: it then competes neither with the first trials' start nor with their early
epochs for the cores (the import takes about as much CPU as an epoch; started at the first
result, it delayed the first good result: BENCHMARKS.md), and in all but the shortest
experiments it is done before the last result.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from ray import tune

from raytune_hpo.demos.trainables import DemoTrainable


class ImportScoringCode(tune.Callback):
    """Imports ``trainable.evaluate`` in a background thread when the first trial ends."""

    def __init__(self, trainable: DemoTrainable) -> None:
        self.trainable = trainable
        self.started = False

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._start()

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        self._start()

    def _start(self) -> None:
        if not self.started:
            self.started = True
            threading.Thread(target=self._import, name="import-scoring", daemon=True).start()

    def _import(self) -> None:
        # An import error is left for the scoring itself to raise, where it is reported.
        with contextlib.suppress(Exception):
            _ = self.trainable.evaluate
