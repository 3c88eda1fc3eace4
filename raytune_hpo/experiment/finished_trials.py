"""What the driver keeps of a trial that finished: less than Ray Tune keeps.

Ray Tune holds every ``Trial`` of an experiment in the driver until it ends, and its memory
grows with each (BENCHMARKS.md section 9: 116 kB per trial at 10,000 trials, bare Ray 134 kB).
Of what a trial's Python objects hold, the largest part is what it needs only while it
reports: the last 5 and 10 values of each numeric key
(:func:`~raytune_hpo.ray_compat.tune_loop.drop_metric_windows`). :class:`FinishedTrialsSlimmed`
drops them as a trial finishes (``on_trial_complete``: terminated, or stopped early by a
scheduler). A trial that errored keeps them, as ``resume`` may start it again.
"""

from __future__ import annotations

from typing import Any

from ray import tune

from raytune_hpo.ray_compat import tune_loop


class FinishedTrialsSlimmed(tune.Callback):
    """Drops each finished trial's metric windows (its min, max, last and averages stay)."""

    def on_trial_complete(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        tune_loop.drop_metric_windows(trial)
