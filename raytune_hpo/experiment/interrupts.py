"""Ctrl-C during an experiment: stop the trials, keep the saved state, say how to resume.

Ray Tune's ``Tuner.fit`` reacts to SIGINT (and SIGUSR1) by leaving its loop, saving the
experiment state one last time and *returning* as if the experiment had ended; a second SIGINT
skips the save. Nothing in the returned results says that it was interrupted, so :func:`fit`
owns SIGINT while the tuner runs: the first Ctrl-C hands over to Ray Tune's own graceful stop
(the SIGUSR1 handler it installs while it runs), and once ``fit`` returns,
:class:`ExperimentInterrupted` is raised instead of results that look final. A second Ctrl-C
raises ``KeyboardInterrupt`` at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any

from ray import tune

from raytune_hpo import storage
from raytune_hpo.errors import ExperimentInterrupted
from raytune_hpo.ray_compat import tune_loop

_RAY_SIGINT_SWITCH = "TUNE_DISABLE_SIGINT_HANDLER"


class GracefulStop:
    """A context in which the first SIGINT asks the running ``Tuner.fit`` to stop gracefully.

    Attributes:
        requested: Whether a SIGINT arrived inside the context.
    """

    def __init__(self) -> None:
        self.requested = False
        self._active = False
        self._previous_sigint: Any = None
        self._previous_sigusr1: Any = None
        self._previous_switch: str | None = None

    def __enter__(self) -> GracefulStop:
        # Signal handlers can only be set from the main thread; elsewhere Ray Tune does not
        # install its own either, and Ctrl-C is the caller's business.
        if threading.current_thread() is not threading.main_thread():
            return self
        self._active = True
        self._previous_sigint = signal.getsignal(signal.SIGINT)
        self._previous_sigusr1 = signal.getsignal(signal.SIGUSR1)
        self._previous_switch = os.environ.get(_RAY_SIGINT_SWITCH)
        os.environ[_RAY_SIGINT_SWITCH] = "1"
        signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._active:
            return
        signal.signal(signal.SIGINT, self._previous_sigint)
        signal.signal(signal.SIGUSR1, self._previous_sigusr1)
        if self._previous_switch is None:
            os.environ.pop(_RAY_SIGINT_SWITCH, None)
        else:
            os.environ[_RAY_SIGINT_SWITCH] = self._previous_switch
        self._active = False

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        ray_stop = tune_loop.tune_stop_handler(self._previous_sigusr1)
        if ray_stop is None:
            # Ray Tune's loop has not started yet: there is no state to save.
            raise KeyboardInterrupt
        print(
            "raytune-hpo: Ctrl-C: stopping the trials and saving the experiment state "
            "(press Ctrl-C again to stop at once, without saving)",
            file=sys.stderr,
            flush=True,
        )
        ray_stop(signal.SIGUSR1, frame)


def fit(tuner: tune.Tuner, path: storage.Location) -> tune.ResultGrid:
    """``tuner.fit()``, with Ctrl-C turned into a graceful stop and :class:`ExperimentInterrupted`.

    Args:
        tuner: The tuner of a new or restored experiment.
        path: Its experiment folder, named in the resume hint.

    Raises:
        ExperimentInterrupted: Ctrl-C stopped the experiment; its state is saved in ``path``.
        KeyboardInterrupt: A second Ctrl-C, or one before Ray Tune's loop started.
    """
    with GracefulStop() as stop:
        results = tuner.fit()
    if stop.requested:
        raise ExperimentInterrupted(path)
    return results
