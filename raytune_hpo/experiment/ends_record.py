"""Every trial's end, recorded in the experiment folder when a run ends, and the run's verdict
on its errored trials.

The console callback names each trial's end as it happens (:mod:`raytune_hpo.trial_ends`);
:func:`record_trial_ends` writes them into ``trial_ends.json`` (also when Ctrl-C stops the run),
where ``summary`` and the dashboard read them. Trials that ended before a resumed session keep
the end the earlier session recorded. :func:`errored_trials_failure` applies
``max_failed_trials``.
"""

from __future__ import annotations

from typing import Any

from raytune_hpo import storage
from raytune_hpo.analysis.results import read_run_ends
from raytune_hpo.console.callback import ConsoleCallback
from raytune_hpo.experiment.trial_checks import TrialsFailed
from raytune_hpo.layout import TRIAL_ENDS_FILE
from raytune_hpo.ray_compat import tune_loop
from raytune_hpo.storage import ray_state
from raytune_hpo.trial_ends import RunEnds, errors_line


def console_of(tuner: Any) -> ConsoleCallback | None:
    """The console callback of a tuner (new or restored); None for one without it."""
    run_config = tune_loop.tuner_run_config(tuner)
    for callback in (run_config.callbacks or []) if run_config is not None else []:
        if isinstance(callback, ConsoleCallback):
            return callback
    return None


def record_trial_ends(tuner: Any, path: storage.Location, *, complete: bool) -> RunEnds | None:
    """Write how every trial of the tuner's run ended into ``path``; what was written.

    Args:
        tuner: The tuner, after ``fit`` returned (or Ctrl-C stopped it).
        path: The experiment folder, local or a URI.
        complete: The run ended (False: it was interrupted).
    """
    console = console_of(tuner)
    if console is None:
        return None
    earlier = read_run_ends(path)
    ends = console.trials_ended_before()
    if earlier is not None:
        ends.update({k: v for k, v in earlier.trials.items() if k in ends})
    ends.update(console.ends)
    run = RunEnds(
        ends,
        complete=complete,
        state_file=ray_state.newest_state_file(path),
        never_created=console.never_created(),
    )
    storage.write_text(path, TRIAL_ENDS_FILE, run.to_text())
    return run


def errored_trials_failure(run: RunEnds | None, tolerated: int) -> TrialsFailed | None:
    """:class:`TrialsFailed` when more trials errored than ``max_failed_trials`` (``tolerated``)
    allows, or every trial did; its line says how many and the first one's error."""
    if run is None:
        return None
    errored = sum(end.errored for end in run.trials.values())
    if errored == 0 or (errored <= tolerated and errored < len(run.trials)):
        return None
    line = errors_line(run.trials, tolerated)
    return TrialsFailed(line) if line is not None else None
