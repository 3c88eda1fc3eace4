"""The ``trainable_options`` models of the built-in trainables, and nothing that imports torch.

Checking a config reads these models alone; the trainables' code (and torch) is imported when a
trial or the final scoring first needs it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LeNetOptions(BaseModel):
    """``trainable_options`` of ``lenet``."""

    model_config = ConfigDict(extra="forbid")

    activation: Literal["sigmoid", "relu", "tanh"] = "sigmoid"
    eval_batch_size: int = Field(default=2048, ge=1)
    fail_at_epoch: int | None = Field(default=None, ge=1)
    """Fault injection for drills and tests: the trial raises once at this epoch."""


class DCGANOptions(BaseModel):
    """``trainable_options`` of ``dcgan``."""

    model_config = ConfigDict(extra="forbid")

    latent_size: int = Field(default=64, ge=1)
    generator_features: int = Field(default=32, ge=1)
    discriminator_features: int = Field(default=32, ge=1)
    steps_per_report: int | None = Field(default=None, ge=1)
    """Adversarial steps between reports; None: one pass over the training images."""
    inception_samples: int = Field(default=1000, ge=10)
    """Generated images scored for the inception score."""
    eval_batch_size: int = Field(default=1024, ge=1)
    fail_at_epoch: int | None = Field(default=None, ge=1)
    """Fault injection for drills and tests: the trial raises once at this epoch."""


DCGAN_SMOKE_OPTIONS: dict[str, Any] = {
    "latent_size": 16,
    "generator_features": 8,
    "discriminator_features": 8,
    "steps_per_report": 4,
    "inception_samples": 200,
}


class SleepOptions(BaseModel):
    """``trainable_options`` of ``sleep``."""

    model_config = ConfigDict(extra="forbid")

    seconds_per_epoch: float = Field(default=0.25, ge=0)
