"""The ``TRAINABLES`` registry: trainable name -> a :class:`DemoTrainable`.

Adding a built-in trainable: write a module with its ``train`` and ``evaluate``, its options
model in ``options.py`` (which imports no torch), and one :class:`TrainableSpec` entry below.
An entry names its code as ``module:function``, imported when a trial or the final scoring
first needs it: checking a config imports no torch, and a trainable without it (``sleep``)
costs neither the driver nor its Ray workers torch's import. One that trains torch networks
epoch by epoch writes only its :class:`~raytune_hpo.demos.epoch_loop.EpochSteps` and lets
:func:`~raytune_hpo.demos.epoch_loop.train_epochs` restore, loop, report and checkpoint
(``lenet.py`` is the short example); ``sleep.py`` has a ``train`` of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from raytune_hpo.demos.datasets import DatasetArrays
from raytune_hpo.demos.options import (
    DCGAN_SMOKE_OPTIONS,
    DCGANOptions,
    LeNetOptions,
    SleepOptions,
)
from raytune_hpo.demos.trial_settings import TrialSettings
from raytune_hpo.ray_compat import trial_storage


class DemoTrainable(Protocol):
    """What a built-in trainable gives the toolkit; it knows nothing of the scheduler."""

    @property
    def options(self) -> type[BaseModel]:
        """Model of the experiment's ``trainable_options``; it must reject unknown keys."""

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric names it reports, any of which may be the experiment's metric."""

    @property
    def smoke_options(self) -> Mapping[str, Any]:
        """``trainable_options`` that make a ``--smoke`` run quick."""

    @property
    def needs_torch(self) -> bool:
        """Whether its trials import torch (local Ray workers then start importing it early)."""

    def train(
        self, config: dict[str, Any], *, data: DatasetArrays, settings: TrialSettings
    ) -> None:
        """A Ray Tune function trainable: one ``tune.report`` per epoch up to ``max_epochs``.

        Args:
            config: The trial's hyperparameters, from the search space (PBT changes them).
            data: The experiment's data set, shared through Ray's object store.
            settings: Experiment-level settings; ``settings.options`` as ``options`` allows.
        """

    def evaluate(
        self, directory: Path, config: dict[str, Any], data: DatasetArrays, settings: TrialSettings
    ) -> dict[str, float]:
        """Test-split metrics of a checkpoint folder that ``train`` saved (the best trial's)."""

    @property
    def train_imported_by_workers(self) -> Callable[..., None]:
        """``train`` as the driver hands it to Ray: the worker imports the code, not the driver."""


@dataclass(frozen=True)
class TrainableSpec:
    """A :class:`DemoTrainable` whose ``train`` and ``evaluate`` are imported on first use.

    Attributes:
        train_code: ``module:function`` of ``train``.
        evaluate_code: ``module:function`` of ``evaluate``.
    """

    train_code: str
    evaluate_code: str
    options: type[BaseModel]
    metrics: tuple[str, ...]
    smoke_options: Mapping[str, Any] = field(default_factory=dict)
    needs_torch: bool = True

    @property
    def train(self) -> Callable[..., None]:
        """The function trainable (its module imported now, if not yet)."""
        train: Callable[..., None] = _code(self.train_code)
        return train

    @property
    def train_imported_by_workers(self) -> Callable[..., None]:
        """``train`` as the driver hands it to Ray Tune: a small function that imports the
        code in the worker when its trial starts, so the driver imports none of it (torch,
        for LeNet and DCGAN, a second or more on 2 cores before the first trial could start)."""
        return _imported_when_called(self.train_code)

    @property
    def evaluate(self) -> Callable[..., dict[str, float]]:
        """The test-split scoring of a checkpoint (its module imported now, if not yet)."""
        evaluate: Callable[..., dict[str, float]] = _code(self.evaluate_code)
        return evaluate


def _code(path: str) -> Any:
    """The object a ``module:name`` path names, importing the module."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _imported_when_called(path: str) -> Callable[..., Any]:
    """A function named as the one ``path`` (``module:function``) names, which imports it at
    its first call and calls it (the worker's look at the trial's artifacts made a clock check
    first: :func:`~raytune_hpo.ray_compat.trial_storage.artifact_sync_checks_clock_first`).
    Ray pickles it by value: unpickling imports only this module."""

    def call(*args: Any, **kwargs: Any) -> Any:
        trial_storage.artifact_sync_checks_clock_first()
        return _code(path)(*args, **kwargs)

    call.__name__ = path.partition(":")[2]  # Ray Tune names trials after it
    return call


TRAINABLES: dict[str, DemoTrainable] = {
    "lenet": TrainableSpec(
        train_code="raytune_hpo.demos.lenet:train_lenet",
        evaluate_code="raytune_hpo.demos.lenet:evaluate_lenet_checkpoint",
        options=LeNetOptions,
        metrics=(
            "validation_error",
            "validation_loss",
            "train_loss",
            "epoch",
            "validation_accuracy",
            "epoch_time_s",
        ),
    ),
    "dcgan": TrainableSpec(
        train_code="raytune_hpo.demos.dcgan:train_dcgan",
        evaluate_code="raytune_hpo.demos.dcgan:evaluate_dcgan_checkpoint",
        options=DCGANOptions,
        metrics=("inception_score", "loss_g", "loss_d", "epoch"),
        smoke_options=DCGAN_SMOKE_OPTIONS,
    ),
    "sleep": TrainableSpec(
        train_code="raytune_hpo.demos.sleep:train_sleep",
        evaluate_code="raytune_hpo.demos.sleep:evaluate_sleep",
        options=SleepOptions,
        metrics=("validation_error", "cost", "epoch"),
        smoke_options={"seconds_per_epoch": 0.01},
        needs_torch=False,
    ),
}
