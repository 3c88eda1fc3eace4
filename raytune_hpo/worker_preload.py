"""What every Ray worker imports before it takes work (Ray's ``preload_python_modules``).

Importing the trainables package (and torch with it) here lets a trial start at once instead of
after seconds of imports, and :func:`quiet_worker_termination` keeps the worker from printing a
traceback when Ray stops it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import raytune_hpo.trainables  # noqa: F401  (imports every trainable, and torch)


def quiet_worker_termination() -> None:
    """Keep Ray's stop of this worker process from printing a traceback to the user's terminal.

    At shutdown (after Ctrl-C, say) Ray sends its workers SIGTERM, and its handler raises
    ``SystemExit`` wherever the worker is. Inside a weakref or finalizer callback Python cannot
    raise it and prints it as "Exception ignored" with a traceback, which Ray forwards to the
    driver's stderr. Such a ``SystemExit`` is dropped without a word; every other unraisable
    exception is printed as before. Idempotent.
    """
    if getattr(sys.unraisablehook, "_skips_worker_exit", False):
        return
    sys.unraisablehook = _skip_exit_notice(sys.unraisablehook)


def _skip_exit_notice(
    previous: Callable[[sys.UnraisableHookArgs], Any],
) -> Callable[[sys.UnraisableHookArgs], Any]:
    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, SystemExit):
            previous(unraisable)

    hook._skips_worker_exit = True  # type: ignore[attr-defined]
    return hook


quiet_worker_termination()
