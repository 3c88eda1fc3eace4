"""One warning line when a restored function trainable starts from scratch all the same.

Ray Tune restores a trial of a function trainable (a PBT exploit, a pause, a retry after a
failure, ``raytune-hpo resume``) by starting the function again with the checkpoint available
through ``ray.tune.get_checkpoint()``. A function that reports before it reads it has started
over, and the restore was void: PBT's exploit, the epochs before a failure.
:func:`warn_unread_restore` wraps the user's function so that such a trial says so once, by
trial (:func:`~raytune_hpo.output_lines.warn_from_trial`), and goes on. The private Ray API
this takes (the session's checkpoint and reports) comes from
:mod:`raytune_hpo.ray_compat`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

from raytune_hpo.output_lines import warn_from_trial
from raytune_hpo.ray_compat import sessions, trial_storage


def unread_restore_message(trial_id: str, checkpoint: str) -> str:
    """What a trial restored from ``checkpoint`` (a folder name) says when it ignored it."""
    return (
        f"trial {trial_id} was restored from a checkpoint ({checkpoint}) but reported before it "
        "called tune.get_checkpoint(): it started from scratch. Load the state at the start of "
        "the function: checkpoint = tune.get_checkpoint()"
    )


def warn_unread_restore(train_fn: Callable[..., Any]) -> Callable[..., Any]:
    """``train_fn``, a function trainable, warning when a restored trial ignores its checkpoint.

    The wrapper keeps what Ray Tune reads of the function: its signature and name (and
    attributes such as ``tune.with_resources``'s), through :func:`functools.wraps`; a generator
    function stays one. It pickles by value with cloudpickle, the user's function inside it.
    """
    if inspect.isgeneratorfunction(train_fn):

        @functools.wraps(train_fn)
        def checked_steps(config: Any) -> Iterator[Any]:
            with _watched():
                return (yield from train_fn(config))

        return checked_steps

    @functools.wraps(train_fn)
    def checked(config: Any) -> Any:
        with _watched():
            return train_fn(config)

    return checked


@contextlib.contextmanager
def _watched() -> Iterator[None]:
    """Around one start of the function: warn at its first report if the trial was restored
    from a checkpoint that nothing read before. The worker's look at the trial's artifacts
    after each report checks the clock first
    (:func:`~raytune_hpo.ray_compat.trial_storage.artifact_sync_checks_clock_first`)."""
    trial_storage.artifact_sync_checks_clock_first()
    restored = sessions.session_checkpoint()
    if restored is None:
        yield
        return
    from ray import tune

    trial_id = tune.get_context().get_trial_id()
    name = PurePosixPath(str(restored.path)).name

    def before_first_report(read: bool) -> None:
        if not read:
            warn_from_trial(unread_restore_message(trial_id, name))

    with sessions.checkpoint_reads_watched(before_first_report):
        yield
