"""The shared epoch loop, driven with made-up steps and a report function that records.

No Ray and no training: the steps log each call, the report stub logs each report, so the tests
see the exact order of train, evaluate, checkpoint and report, and where the loop stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from raytune_hpo.demos.epoch_loop import EpochReport, run_epochs
from raytune_hpo.demos.trial_settings import TrialSettings

Event = tuple[Any, ...]


class LoggedSteps:
    """Steps whose training counts epochs and which diverge at ``diverge_at``."""

    def __init__(self, log: list[Event], diverge_at: int | None = None) -> None:
        self.log = log
        self.diverge_at = diverge_at
        self.trained = 0

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.log.append(("load_state", dict(state)))
        self.trained = state["trained"]

    def apply_config(self) -> None:
        self.log.append(("apply_config",))

    def train_epoch(self) -> dict[str, float]:
        self.trained += 1
        self.log.append(("train",))
        return {"loss": 1.0 / self.trained}

    def evaluate_epoch(self, epoch: int, trained: dict[str, float]) -> EpochReport:
        self.log.append(("evaluate", epoch))
        return EpochReport({**trained, "epoch": epoch}, diverged=epoch == self.diverge_at)

    def state(self) -> dict[str, Any]:
        self.log.append(("state",))
        return {"trained": self.trained}


def run(
    log: list[Event],
    steps: LoggedSteps,
    trial_dir: Path,
    *,
    restored: Mapping[str, Any] | None = None,
    **settings: Any,
) -> None:
    """Run the loop with a report function that appends ``("report", metrics, state)``."""

    def report(metrics: Mapping[str, Any], state: Mapping[str, Any] | None) -> None:
        log.append(("report", dict(metrics), None if state is None else dict(state)))

    run_epochs(
        steps,
        TrialSettings(**{"max_epochs": 3, **settings}),
        restored=restored,
        report=report,
        trial_dir=trial_dir,
    )


def epoch_events(epoch: int, trained: int, state: bool, diverged: bool = False) -> list[Event]:
    """What the loop does in one epoch: train, evaluate, save when asked, report."""
    metrics = {"loss": 1.0 / trained, "epoch": epoch, "diverged": diverged}
    saved = {"trained": trained, "epoch": epoch} if state else None
    return [
        ("train",),
        ("evaluate", epoch),
        *([("state",)] if state else []),
        ("report", metrics, saved),
    ]


def test_each_epoch_trains_evaluates_then_reports_saving_every_frequency_and_the_last(
    tmp_path: Path,
) -> None:
    log: list[Event] = []
    run(log, LoggedSteps(log), tmp_path, max_epochs=5, checkpoint_frequency=2)

    assert log == [
        ("apply_config",),
        *epoch_events(1, 1, state=False),
        *epoch_events(2, 2, state=True),
        *epoch_events(3, 3, state=False),
        *epoch_events(4, 4, state=True),
        *epoch_events(5, 5, state=True),
    ]


def test_a_restored_trial_loads_then_applies_its_config_and_goes_on_after_the_saved_epoch(
    tmp_path: Path,
) -> None:
    log: list[Event] = []
    saved = {"trained": 2, "epoch": 2}
    run(log, LoggedSteps(log), tmp_path, restored=saved, max_epochs=4)

    assert log == [
        ("load_state", saved),
        ("apply_config",),
        *epoch_events(3, 3, state=True),
        *epoch_events(4, 4, state=True),
    ]


def test_a_diverged_epoch_is_reported_without_a_checkpoint_and_ends_the_trial(
    tmp_path: Path,
) -> None:
    log: list[Event] = []
    run(log, LoggedSteps(log, diverge_at=2), tmp_path, max_epochs=4)

    assert log == [
        ("apply_config",),
        *epoch_events(1, 1, state=True),
        *epoch_events(2, 2, state=False, diverged=True),
    ]


def test_fail_at_epoch_raises_once_before_training_and_the_retry_from_the_checkpoint_passes(
    tmp_path: Path,
) -> None:
    log: list[Event] = []
    options = {"fail_at_epoch": 2}
    with pytest.raises(RuntimeError, match=r"injected failure at epoch 2 .*fail_at_epoch"):
        run(log, LoggedSteps(log), tmp_path, options=options)
    assert log == [("apply_config",), *epoch_events(1, 1, state=True)]
    assert (tmp_path / "injected_failure_epoch_2").exists()

    retry: list[Event] = []
    last_saved = log[-1][2]
    run(retry, LoggedSteps(retry), tmp_path, restored=last_saved, options=options)

    assert retry == [
        ("load_state", last_saved),
        ("apply_config",),
        *epoch_events(2, 2, state=True),
        *epoch_events(3, 3, state=True),
    ]
