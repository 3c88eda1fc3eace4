"""The epoch loop of the torch trainables: restore, then train, evaluate, report and checkpoint.

A trainable supplies :class:`EpochSteps` (its networks, one epoch of training, the epoch's
metrics, the state a checkpoint holds); its Ray Tune function calls :func:`train_epochs`. The
loop owns everything the trainables share: the device, the seed of torch's global RNG, resuming
from the trial's checkpoint, ``fail_at_epoch``, the ``diverged`` flag, which epochs are saved
and the one report per epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from ray import tune

from raytune_hpo.demos import torch_common
from raytune_hpo.demos.datasets import DatasetArrays
from raytune_hpo.demos.trial_settings import TrialSettings


@dataclass(frozen=True)
class EpochReport:
    """What an epoch reports.

    Attributes:
        metrics: The report's metrics, ``epoch`` among them; the loop appends ``diverged``.
        diverged: Training blew up: the report goes without a checkpoint and the trial ends.
    """

    metrics: dict[str, Any]
    diverged: bool = False


class EpochSteps(Protocol):
    """One trial of a trainable, as the loop drives it.

    It is built by the trainable's ``build(config, data, settings, device)`` (see
    :func:`train_epochs`) with fresh networks, initialised from torch's global RNG that the
    loop has seeded with ``settings.seed``, and its own generators for anything drawn later.
    """

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Take networks, optimizers and generators from a checkpoint's :meth:`state`."""

    def apply_config(self) -> None:
        """Give the optimizers the trial's hyperparameters.

        Called after :meth:`load_state`, whose optimizer state carries the hyperparameters of
        the trial that saved it (PBT's explore changed them), and on a fresh start.
        """

    def train_epoch(self) -> dict[str, float]:
        """Train one epoch; its training metrics, not finite when training diverged."""

    def evaluate_epoch(self, epoch: int, trained: dict[str, float]) -> EpochReport:
        """The report of epoch ``epoch`` (1-based) from :meth:`train_epoch`'s metrics."""

    def state(self) -> dict[str, Any]:
        """What a checkpoint saves (the loop adds ``epoch``); :meth:`load_state` reads it back."""


Build = Callable[[dict[str, Any], DatasetArrays, TrialSettings, torch.device], EpochSteps]
"""``build(config, data, settings, device)``: a trial's :class:`EpochSteps`; a class will do."""
ReportEpoch = Callable[[Mapping[str, Any], Mapping[str, Any] | None], None]
"""``report(metrics, state)``: one report, with a checkpoint of ``state`` when not None."""


def run_epochs(
    steps: EpochSteps,
    settings: TrialSettings,
    *,
    restored: Mapping[str, Any] | None,
    report: ReportEpoch,
    trial_dir: Path,
) -> None:
    """Train from the epoch after ``restored`` (or the first) to ``settings.max_epochs``.

    Each epoch: :func:`maybe_inject_failure`, train, evaluate, then one report, with the state
    of :meth:`EpochSteps.state` on checkpoint epoch (:func:`is_checkpoint_epoch`). A diverged
    epoch is reported without a checkpoint and ends the trial.

    Args:
        steps: The trial's networks and what differs between trainables.
        settings: Experiment-level settings (epochs, checkpoint frequency, options).
        restored: The state of the trial's latest checkpoint; None on a fresh start.
        report: Sends one epoch's report (:func:`torch_common.report_epoch` in a trial).
        trial_dir: The trial's folder, where ``fail_at_epoch`` leaves its marker.
    """
    start_epoch = 1
    if restored is not None:
        steps.load_state(restored)
        start_epoch = restored["epoch"] + 1
    steps.apply_config()
    for epoch in range(start_epoch, settings.max_epochs + 1):
        maybe_inject_failure(epoch, settings.options, trial_dir)
        epoch_report = steps.evaluate_epoch(epoch, steps.train_epoch())
        metrics = {**epoch_report.metrics, "diverged": epoch_report.diverged}
        if epoch_report.diverged:
            report(metrics, None)
            return
        state = None
        if is_checkpoint_epoch(epoch, settings):
            state = {**steps.state(), "epoch": epoch}
        report(metrics, state)


def train_epochs(
    build: Build, config: dict[str, Any], data: DatasetArrays, settings: TrialSettings
) -> None:
    """One trial in a Ray Tune function trainable: :func:`run_epochs` over ``build``'s steps.

    Picks the device (:func:`torch_common.select_device`), seeds torch's global RNG with
    ``settings.seed``, builds the steps and resumes from the trial's checkpoint, if any.

    Args:
        build: The trainable's :class:`EpochSteps` builder.
        config: The trial's hyperparameters.
        data: Arrays shared through Ray's object store.
        settings: Experiment-level settings.
    """
    device = torch_common.select_device(settings.cpus)
    torch.manual_seed(settings.seed)
    steps = build(config, data, settings, device)
    run_epochs(
        steps,
        settings,
        restored=restore_state(device),
        report=torch_common.report_epoch,
        trial_dir=Path(tune.get_context().get_trial_dir()),
    )


def restore_state(device: torch.device) -> dict[str, Any] | None:
    """The state saved in the trial's latest checkpoint, or None on a fresh start."""
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return None
    with checkpoint.as_directory() as directory:
        return torch_common.load_state(Path(directory), device)


def is_checkpoint_epoch(epoch: int, settings: TrialSettings) -> bool:
    """Whether epoch ``epoch`` (1-based) is saved: every ``frequency`` epochs and the last."""
    return epoch % settings.checkpoint_frequency == 0 or epoch == settings.max_epochs


def maybe_inject_failure(epoch: int, options: Mapping[str, Any], trial_dir: Path) -> None:
    """Raise at ``fail_at_epoch`` once per trial (a drill for retries; off by default).

    A marker file in the trial directory makes the retry from the checkpoint pass.
    """
    fail_at = options.get("fail_at_epoch")
    if fail_at is None or epoch != fail_at:
        return
    marker = trial_dir / f"injected_failure_epoch_{epoch}"
    if marker.exists():
        return
    marker.touch()
    raise RuntimeError(f"injected failure at epoch {epoch} (trainable_options.fail_at_epoch)")
