"""The ``TRAINABLES`` registry: trainable name -> a :class:`Trainable`.

Adding a built-in trainable: write a module that fulfils :class:`Trainable` with a module-level
``TRAINABLE = TrainableSpec(...)`` and add its name and module to ``BUILTIN_MODULES`` below. A
module is imported only when its trainable is asked for, so neither a driver nor a Ray worker
imports torch for a trainable that needs none (``sleep``). One that trains torch networks epoch
by epoch writes only its :class:`~raytune_hpo.trainables.epoch_loop.EpochSteps` and lets
:func:`~raytune_hpo.trainables.epoch_loop.train_epochs` restore, loop, report and checkpoint
(``lenet.py`` is the short example); ``sleep.py`` has a ``train`` of its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from raytune_hpo.data import DatasetArrays
from raytune_hpo.trainables.trial import TrialSettings

BUILTIN_MODULES = {
    "lenet": "raytune_hpo.trainables.lenet",
    "dcgan": "raytune_hpo.trainables.dcgan",
    "sleep": "raytune_hpo.trainables.sleep",
}
"""Built-in trainable name -> the module whose ``TRAINABLE`` it is."""


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


@dataclass(frozen=True)
class TrainableSpec:
    """A :class:`Trainable` assembled from a module's functions, models and constants."""

    train: Callable[..., None]
    evaluate: Callable[..., dict[str, float]]
    options: type[BaseModel]
    metrics: tuple[str, ...]
    smoke_options: Mapping[str, Any] = field(default_factory=dict)
    needs_torch: bool = True


class _BuiltinTrainables(Mapping[str, Trainable]):
    """``BUILTIN_MODULES`` as a mapping; a module is imported on the first lookup of its name."""

    def __getitem__(self, name: str) -> Trainable:
        if name not in BUILTIN_MODULES:
            raise KeyError(name)
        trainable: Trainable = importlib.import_module(BUILTIN_MODULES[name]).TRAINABLE
        return trainable

    def __iter__(self) -> Iterator[str]:
        return iter(BUILTIN_MODULES)

    def __len__(self) -> int:
        return len(BUILTIN_MODULES)


TRAINABLES: Mapping[str, Trainable] = _BuiltinTrainables()
