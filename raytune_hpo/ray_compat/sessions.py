"""Private Ray Train used inside a function trainable's session: the checkpoint it started with and
the reads of it.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

SESSION_CHECKPOINT = "loaded_checkpoint"
"""The attribute of a function trainable's session that holds the checkpoint the function may
start from: Ray Tune's ``FunctionTrainable.load_checkpoint`` sets it as it restores a trial,
before the function starts; ``ray.tune.get_checkpoint()`` returns it (so does Ray Train v1's
``ray.train.get_checkpoint()``; Ray Train v2's raises in a Ray Tune function)."""


def session_checkpoint() -> Any | None:
    """The checkpoint this process's Ray Tune session holds now, None outside a session; not a
    read that :func:`checkpoint_reads_watched` counts.

    In a function trainable before its first report: the checkpoint its trial was restored from
    (a PBT exploit, a pause, a retry after a failure, a resumed experiment), None for a fresh
    start. Relies on ``ray.train._internal.session.get_session()`` and :data:`SESSION_CHECKPOINT`.
    """
    from ray.train._internal.session import get_session

    session = get_session()
    return None if session is None else vars(session).get(SESSION_CHECKPOINT)


@contextlib.contextmanager
def checkpoint_reads_watched(before_first_report: Callable[[bool], None]) -> Iterator[None]:
    """While open, call ``before_first_report(read)`` once, as the function trainable running in
    this process reports for the first time; ``read``: whether anything read its session's
    checkpoint before (``ray.tune.get_checkpoint()``).

    Does nothing outside a Ray Tune session. Relies on ``ray.train._internal.session``: its
    ``get_session()`` returns the session (a ``_TrainSession``); every report of the function
    goes through the session's ``report`` (``ray.tune.report``, results a function yields);
    ``get_checkpoint`` reads its :data:`SESSION_CHECKPOINT` attribute. The session's class is
    swapped for a subclass that makes that attribute a property over the instance's own value
    and watches ``report``; the session gets its class back at its first report or as this
    closes.
    """
    from ray.train._internal.session import get_session

    session = get_session()
    if session is None:
        yield
        return
    original = type(session)
    reads: list[bool] = []

    def get(self: Any) -> Any:
        reads.append(True)
        return vars(self).get(SESSION_CHECKPOINT)

    def put(self: Any, checkpoint: Any) -> None:
        vars(self)[SESSION_CHECKPOINT] = checkpoint

    def report(self: Any, *args: Any, **kwargs: Any) -> Any:
        if type(self) is watched:
            self.__class__ = original
            before_first_report(bool(reads))
        return original.report(self, *args, **kwargs)

    members = {SESSION_CHECKPOINT: property(get, put), "report": report}
    watched = type(f"Watched{original.__name__}", (original,), members)
    session.__class__ = watched
    try:
        yield
    finally:
        if type(session) is watched:
            session.__class__ = original
