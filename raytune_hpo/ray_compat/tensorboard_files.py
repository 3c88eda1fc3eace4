"""Ray Tune's TensorBoard logger, flushing each trial's event file at most every few seconds.

Ray's ``TBXLoggerCallback`` flushes a trial's event file after every report, and a flush of
tensorboardX ends in ``os.fsync``: at hundreds of reports a second, a disk sync per report is
much of the driver's time per result. :func:`tensorboard_logger` gives the logger writers whose
``flush`` acts at most every :data:`FLUSH_EVERY_S` seconds: TensorBoard shows a report at most
that much later, and a trial's end still closes, and so flushes, its file.

Relies on the logger's private instance attribute ``_summary_writer_cls``, what it makes each
trial's writer with (``tests/unit/ray_compat/test_ray_internals.py`` checks that a trial's
writer is made by it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

FLUSH_EVERY_S = 2.0
"""The least time between two flushes of one trial's event file, but for its last."""


class ThrottledFlush:
    """A writer's ``flush`` that acts at most every :data:`FLUSH_EVERY_S` seconds."""

    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self._last = -math.inf

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self._last >= FLUSH_EVERY_S:
            self._last = now
            self._flush()


def throttled_summary_writer(logdir: str, **kwargs: Any) -> Any:
    """tensorboardX's ``SummaryWriter`` over ``logdir`` with a :class:`ThrottledFlush`; its
    ``close`` flushes all. A module-level function, so that a pickled logger names it."""
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(logdir, **kwargs)
    writer.flush = ThrottledFlush(writer.flush)
    return writer


def tensorboard_logger() -> Any:
    """Ray Tune's ``TBXLoggerCallback`` whose trials' writers are
    :func:`throttled_summary_writer`."""
    from ray.tune.logger import TBXLoggerCallback

    callback = TBXLoggerCallback()
    callback._summary_writer_cls = throttled_summary_writer
    return callback
