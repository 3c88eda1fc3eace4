"""A worker stopped by Ray prints no traceback; other unraisable errors still show."""

from __future__ import annotations

import gc
import sys

import pytest

from raytune_hpo.cluster.worker_preload import quiet_worker_termination


class _RaisesWhenCollected:
    """Raises ``error`` from ``__del__``, where Python calls the unraisable hook instead."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __del__(self) -> None:
        raise self.error


def _collect(error: BaseException) -> None:
    _RaisesWhenCollected(error)  # dropped at once: __del__ runs here
    gc.collect()


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """The exceptions that reach the hook in place before ``quiet_worker_termination``."""
    received: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda args: received.append(args.exc_value))
    quiet_worker_termination()
    return received


def test_system_exit_in_a_finalizer_is_dropped(seen: list[BaseException]) -> None:
    _collect(SystemExit(1))  # what Ray's SIGTERM handler raises inside a weakref callback
    assert seen == []


def test_other_unraisable_errors_still_reach_the_previous_hook(seen: list[BaseException]) -> None:
    error = ValueError("a real bug in a finalizer")
    _collect(error)
    assert seen == [error]


def test_installing_twice_wraps_once(seen: list[BaseException]) -> None:
    hook = sys.unraisablehook
    quiet_worker_termination()
    assert sys.unraisablehook is hook
    error = RuntimeError("shown once")
    _collect(error)
    assert seen == [error]
