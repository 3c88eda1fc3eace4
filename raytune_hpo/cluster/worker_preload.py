"""What every Ray worker imports before it takes work (Ray's ``preload_python_modules``).

Torch and its compiler front end (which the first optimizer imports), most of what starting a
built-in trainable costs, are imported in a background thread from the moment the worker starts:
a trial of a built-in trainable finds them imported, or waits only for the rest of that import
(Python's import lock), instead of starting it. The worker
itself is ready for work at once, so Ray does not start further workers while the first ones
import (which put four torch imports on two cores when each worker imported before taking
work). Only torch's modules are imported there, never the rest of this package (``layout`` imports
nothing): two threads importing a package and its submodules at once can meet half-initialised
modules. A worker that will run the user's own code, a command or a trainable without torch
needs none of it: a driver that starts its own Ray instance sets
``RAYTUNE_HPO_PRELOAD_TRAINABLES=0`` for those. Only Ray workers import this module: a driver
that did would start the same import. :func:`quiet_worker_termination` keeps the
worker from printing a traceback when Ray stops it.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from raytune_hpo.layout import PRELOAD_ENV

HEAVY_MODULES = ("torch", "torch._dynamo")
"""What the built-in trainables import that takes seconds, with nothing of this package, in
order: torch, then its compiler front end, which torch imports when a process makes its first
optimizer (``torch.optim.Optimizer.__init__`` is wrapped to keep torch.compile out of it):
otherwise a trial's first epoch pays for both imports."""


def preload_trainables() -> threading.Thread | None:
    """Start importing :data:`HEAVY_MODULES`, for the built-in trainables, in a background thread.

    Returns:
        The importing thread; None with ``RAYTUNE_HPO_PRELOAD_TRAINABLES=0``.
    """
    if os.environ.get(PRELOAD_ENV, "1") == "0":
        return None
    thread = threading.Thread(
        target=_import_quietly, args=HEAVY_MODULES, name="preload", daemon=True
    )
    thread.start()
    return thread


def _import_quietly(*names: str) -> None:
    """Import ``names`` in order; an import cut short (Ray stopping the worker midway) prints
    nothing and ends the preload.

    A real import error is not lost: the trainable imports the module again where it needs it,
    and that import fails with its own traceback in the trial's error file.
    """
    try:
        for name in names:
            importlib.import_module(name)
    except BaseException:  # see the docstring
        return


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
PRELOADING = preload_trainables()
"""The thread importing torch, if any (``join`` it to wait for the import)."""
