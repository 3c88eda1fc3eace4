"""The ``TRAINABLES`` registry: trainable name -> a :class:`Trainable`.

Adding a built-in trainable: write a module that fulfils :class:`Trainable` and add one entry
below. One that trains torch networks epoch by epoch writes only its
:class:`~raytune_hpo.trainables.epoch_loop.EpochSteps` and lets
:func:`~raytune_hpo.trainables.epoch_loop.train_epochs` restore, loop, report and checkpoint
(``lenet.py`` is the short example); ``sleep.py`` has a ``train`` of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from raytune_hpo.data import DatasetArrays
from raytune_hpo.trainables.common import TrialSettings
from raytune_hpo.trainables.dcgan import METRICS as DCGAN_METRICS
from raytune_hpo.trainables.dcgan import SMOKE_OPTIONS as DCGAN_SMOKE_OPTIONS
from raytune_hpo.trainables.dcgan import DCGANOptions, evaluate_dcgan_checkpoint, train_dcgan
from raytune_hpo.trainables.lenet import (
    METRICS as LENET_METRICS,
)
from raytune_hpo.trainables.lenet import (
    LeNetOptions,
    evaluate_lenet_checkpoint,
    train_lenet,
)
from raytune_hpo.trainables.sleep import METRICS as SLEEP_METRICS
from raytune_hpo.trainables.sleep import SleepOptions, evaluate_sleep, train_sleep


class Trainable(Protocol):
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


@dataclass(frozen=True)
class TrainableSpec:
    """A :class:`Trainable` assembled from a module's functions, models and constants."""

    train: Callable[..., None]
    evaluate: Callable[..., dict[str, float]]
    options: type[BaseModel]
    metrics: tuple[str, ...]
    smoke_options: Mapping[str, Any] = field(default_factory=dict)


TRAINABLES: dict[str, Trainable] = {
    "lenet": TrainableSpec(
        train=train_lenet,
        evaluate=evaluate_lenet_checkpoint,
        options=LeNetOptions,
        metrics=LENET_METRICS,
    ),
    "dcgan": TrainableSpec(
        train=train_dcgan,
        evaluate=evaluate_dcgan_checkpoint,
        options=DCGANOptions,
        metrics=DCGAN_METRICS,
        smoke_options=DCGAN_SMOKE_OPTIONS,
    ),
    "sleep": TrainableSpec(
        train=train_sleep,
        evaluate=evaluate_sleep,
        options=SleepOptions,
        metrics=SLEEP_METRICS,
        smoke_options={"seconds_per_epoch": 0.01},
    ),
}
