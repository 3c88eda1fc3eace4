"""Ray Tune's TensorBoard logger, writing one event per report and flushing each trial's event
file at most every few seconds.

Ray's ``TBXLoggerCallback`` writes each scalar of a report as an event of its own (tensorboardX
builds one summary per scalar, with a NumPy check of each value: about 0.15 ms a scalar, six
or more a report) and flushes a trial's event file after every report, and a flush of
tensorboardX ends in ``os.fsync``: at hundreds of reports a second, these are much of the
driver's time per result. :func:`tensorboard_logger` gives the logger writers that gather a
report's scalars into one event (:class:`ScalarsOfOneReport`; TensorBoard reads the same tags,
steps and values) and whose ``flush`` syncs at most every :data:`FLUSH_EVERY_S` seconds:
TensorBoard shows a report at most that much later, and a trial's end still closes, and so
flushes, its file.

That event is appended to the file at once, in the driver's loop. tensorboardX would hand it to
a ``multiprocessing.Queue``: a feeder thread pickles it into a pipe, and each trial's own
writer thread reads it back and writes it; at hundreds of reports a second those threads take
the driver's interpreter lock from its loop. Its checksums use the ``crc32c`` package's C code
(tensorboardX's own is pure Python: about 40 us an event).

Relies on the logger's private instance attribute ``_summary_writer_cls``, what it makes each
trial's writer with (``tests/unit/ray_compat/test_ray_internals.py`` checks that a trial's
writer is made by it), and on tensorboardX's ``EventFileWriter._ev_writer``, the writer of its
file, whose ``write_event`` appends under a lock of its own.
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


class ScalarsOfOneReport:
    """A writer's ``add_scalar`` that gathers the scalars of one step and writes them as one
    event, with one summary holding a value per tag, when the step changes or at :meth:`write`.

    Ray's logger calls ``add_scalar`` for each number of a report (every value finite, at
    one step), then ``flush``.
    """

    def __init__(self, writer: Any) -> None:
        self._events = writer._get_file_writer().event_writer._ev_writer
        self._step: int | None = None
        self._values: list[Any] = []

    def __call__(
        self, tag: str, scalar_value: float, global_step: int | None = None, **_: Any
    ) -> None:
        from tensorboardX.proto.summary_pb2 import Summary

        if self._values and global_step != self._step:
            self.write()
        self._step = global_step
        self._values.append(Summary.Value(tag=tag, simple_value=float(scalar_value)))

    def write(self) -> None:
        """Append the gathered scalars, if any, to the writer's event file as one event."""
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.proto.summary_pb2 import Summary

        if self._values:
            event = Event(wall_time=time.time(), summary=Summary(value=self._values))
            if self._step is not None:
                event.step = int(self._step)
            self._values = []
            self._events.write_event(event)


def throttled_summary_writer(logdir: str, **kwargs: Any) -> Any:
    """tensorboardX's ``SummaryWriter`` over ``logdir`` that writes a report's scalars as one
    event (:class:`ScalarsOfOneReport`) at each ``flush``, which syncs the file at most every
    :data:`FLUSH_EVERY_S` (:class:`ThrottledFlush`); its ``close`` writes and flushes all. A
    module-level function, so that a pickled logger names it."""
    from tensorboardX import SummaryWriter

    writer = SummaryWriter(logdir, **kwargs)
    scalars = ScalarsOfOneReport(writer)
    throttled = ThrottledFlush(writer.flush)
    close = writer.close

    def flush() -> None:
        scalars.write()
        throttled()

    def close_all() -> None:
        scalars.write()
        close()

    writer.add_scalar = scalars
    writer.flush = flush
    writer.close = close_all
    return writer


def tensorboard_logger() -> Any:
    """Ray Tune's ``TBXLoggerCallback`` whose trials' writers are
    :func:`throttled_summary_writer`."""
    from ray.tune.logger import TBXLoggerCallback

    callback = TBXLoggerCallback()
    callback._summary_writer_cls = throttled_summary_writer
    return callback
