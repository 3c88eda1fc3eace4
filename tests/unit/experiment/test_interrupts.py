"""``GracefulStop``: real signals to this process, with a stand-in for Ray Tune's stop handler.

While ``Tuner.fit`` runs, Ray Tune installs a SIGUSR1 handler that ends its loop gracefully;
``stand_in_for_ray`` installs such a handler the same way, so no Ray instance is needed.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from types import FrameType

import pytest

from raytune_hpo.experiment.interrupts import ExperimentInterrupted, GracefulStop, fit


def _sigint() -> None:
    """Deliver SIGINT to this process; Python runs the handler before ``os.kill`` returns."""
    os.kill(os.getpid(), signal.SIGINT)


def stand_in_for_ray(calls: list[int]) -> Callable[[int, FrameType | None], None]:
    """Install and return a SIGUSR1 handler that records its calls, as ``Tuner.fit`` does."""

    def graceful_stop(signum: int, frame: FrameType | None) -> None:
        calls.append(signum)

    signal.signal(signal.SIGUSR1, graceful_stop)
    return graceful_stop


def test_first_ctrl_c_asks_ray_to_stop_and_handlers_come_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before_int, before_usr1 = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGUSR1)
    before_switch = os.environ.get("TUNE_DISABLE_SIGINT_HANDLER")
    calls: list[int] = []
    with GracefulStop() as stop:
        assert os.environ["TUNE_DISABLE_SIGINT_HANDLER"] == "1"  # Ray leaves SIGINT to us
        stand_in_for_ray(calls)
        _sigint()
        assert stop.requested
        assert calls == [signal.SIGUSR1]
    assert "press Ctrl-C again" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGINT) is before_int
    assert signal.getsignal(signal.SIGUSR1) is before_usr1
    assert os.environ.get("TUNE_DISABLE_SIGINT_HANDLER") == before_switch


def test_second_ctrl_c_stops_at_once() -> None:
    calls: list[int] = []
    with pytest.raises(KeyboardInterrupt), GracefulStop():
        stand_in_for_ray(calls)
        _sigint()
        _sigint()
    assert calls == [signal.SIGUSR1]


def test_ctrl_c_before_ray_tune_loop_starts_stops_at_once() -> None:
    with pytest.raises(KeyboardInterrupt), GracefulStop() as stop:
        _sigint()
    assert stop.requested


class _Tuner:
    """A tuner whose ``fit`` gets Ctrl-C while it runs, or not."""

    def __init__(self, interrupted: bool) -> None:
        self.interrupted = interrupted
        self.calls: list[int] = []

    def fit(self) -> str:
        stand_in_for_ray(self.calls)
        if self.interrupted:
            _sigint()
        return "results"


def test_fit_raises_experiment_interrupted_with_the_resume_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tuner = _Tuner(interrupted=True)
    with pytest.raises(ExperimentInterrupted) as info:
        fit(tuner, "/tmp/results/my exp")  # type: ignore[arg-type]
    assert tuner.calls == [signal.SIGUSR1]
    assert info.value.resume_command == "raytune-hpo resume '/tmp/results/my exp'"
    assert isinstance(info.value, KeyboardInterrupt)  # scripts stop as on any Ctrl-C
    capsys.readouterr()


def test_fit_without_ctrl_c_returns_the_results() -> None:
    assert fit(_Tuner(interrupted=False), "/tmp/results/x") == "results"  # type: ignore[arg-type]
