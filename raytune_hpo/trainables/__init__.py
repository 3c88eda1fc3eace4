"""The ``TRAINABLES`` registry: trainable name -> how to train, evaluate and configure it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

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


@dataclass(frozen=True)
class TrainableSpec:
    """A trainable and what the rest of the toolkit needs to know about it.

    Attributes:
        train: ``train(config, *, data, settings)``, reporting once per epoch.
        evaluate: ``evaluate(checkpoint_dir, config, data, settings)`` -> test-split metrics.
        options: Model of ``trainable_options`` (unknown keys rejected).
        metrics: Metric names it reports, any of which may be the experiment's metric.
        smoke_options: ``trainable_options`` that make a ``--smoke`` run quick.
    """

    train: Callable[..., None]
    evaluate: Callable[..., dict[str, float]]
    options: type[BaseModel]
    metrics: tuple[str, ...]
    smoke_options: Mapping[str, Any] = field(default_factory=dict)


TRAINABLES: dict[str, TrainableSpec] = {
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
