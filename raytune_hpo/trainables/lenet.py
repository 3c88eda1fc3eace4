"""LeNet trainable: one epoch of SGD, validation, checkpoint and ``tune.report`` per epoch."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn
from torch.nn import functional as F

from raytune_hpo.data import DatasetArrays
from raytune_hpo.models.lenet import LeNet
from raytune_hpo.trainables import common

DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.1,
    "batch_size": 128,
    "momentum": 0.0,
    "weight_decay": 0.0,
}
"""Hyperparameters a config may leave out of its search space."""

METRICS = ("validation_error", "validation_loss", "train_loss", "epoch", "validation_accuracy")


class LeNetOptions(BaseModel):
    """``trainable_options`` of ``lenet``."""

    model_config = ConfigDict(extra="forbid")

    activation: Literal["sigmoid", "relu", "tanh"] = "sigmoid"
    eval_batch_size: int = Field(default=2048, ge=1)
    fail_at_epoch: int | None = Field(default=None, ge=1)
    """Fault injection for drills and tests: the trial raises once at this epoch."""


def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    """Mean cross-entropy and error rate of ``model`` on ``(x, y)``, in inference mode."""
    model.eval()
    total_loss, wrong = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(x), batch_size):
            logits = model(x[start : start + batch_size])
            target = y[start : start + batch_size]
            total_loss += F.cross_entropy(logits, target, reduction="sum").item()
            wrong += (logits.argmax(dim=1) != target).sum().item()
    return total_loss / len(x), wrong / len(x)


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
) -> float:
    """One shuffled pass of SGD over ``(x, y)``, batches sliced from the resident tensors.

    Returns:
        The mean training loss of the pass (not finite when training diverged).
    """
    model.train()
    loss_sum = torch.zeros((), device=device)
    for index in common.batch_indices(len(x), batch_size, generator, device):
        loss = F.cross_entropy(model(x[index]), y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss_sum += loss.detach() * len(index)
    return loss_sum.item() / len(x)


def _optimizer(model: nn.Module, hp: dict[str, Any]) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        model.parameters(),
        lr=hp["learning_rate"],
        momentum=hp["momentum"],
        weight_decay=hp["weight_decay"],
    )


def _optimizer_values(hp: dict[str, Any]) -> dict[str, Any]:
    return {
        "lr": hp["learning_rate"],
        "momentum": hp["momentum"],
        "weight_decay": hp["weight_decay"],
    }


def train_lenet(
    config: dict[str, Any], *, data: DatasetArrays, settings: common.TrialSettings
) -> None:
    """Train LeNet for ``settings.max_epochs``, reporting once per epoch.

    Args:
        config: The trial's hyperparameters (``learning_rate``, ``batch_size``, ``momentum``,
            ``weight_decay``); missing ones take ``DEFAULTS``.
        data: Arrays shared through Ray's object store.
        settings: Experiment-level settings (epochs, checkpoint frequency, options).
    """
    hp = {**DEFAULTS, **config}
    options = LeNetOptions.model_validate(dict(settings.options))
    device = common.select_device(settings.cpus)
    torch.manual_seed(settings.seed)
    model = common.place_model(LeNet(data.num_classes, options.activation), device)
    optimizer = _optimizer(model, hp)
    x_train, y_train = (
        common.to_device(data.x_train, device),
        common.to_device(data.y_train, device),
    )
    x_val, y_val = common.to_device(data.x_val, device), common.to_device(data.y_val, device)
    generator = torch.Generator().manual_seed(settings.seed)

    start_epoch = 1
    state = common.restore_state(device)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        start_epoch = state["epoch"] + 1
    common.apply_hyperparameters(optimizer, _optimizer_values(hp))
    batch_size = int(hp["batch_size"])

    for epoch in range(start_epoch, settings.max_epochs + 1):
        common.maybe_inject_failure(epoch, settings.options)
        train_loss = train_one_epoch(
            model, optimizer, x_train, y_train, batch_size, generator, device
        )
        if not math.isfinite(train_loss):
            common.report_epoch(
                {
                    "validation_error": 1.0,
                    "validation_loss": float("inf"),
                    "validation_accuracy": 0.0,
                    "train_loss": float("inf"),
                    "epoch": epoch,
                    "diverged": True,
                },
                None,
            )
            return
        val_loss, val_error = evaluate(model, x_val, y_val, options.eval_batch_size)
        metrics = {
            "validation_error": val_error,
            "validation_accuracy": 1.0 - val_error,
            "validation_loss": val_loss,
            "train_loss": train_loss,
            "epoch": epoch,
            "diverged": False,
        }
        state = None
        if common.is_checkpoint_epoch(epoch, settings):
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "generator": generator.get_state(),
                "epoch": epoch,
            }
        common.report_epoch(metrics, state)


def evaluate_lenet_checkpoint(
    directory: Path, config: dict[str, Any], data: DatasetArrays, settings: common.TrialSettings
) -> dict[str, float]:
    """Test-split metrics of the model saved in a checkpoint directory."""
    options = LeNetOptions.model_validate(dict(settings.options))
    device = torch.device("cpu")
    model = common.place_model(LeNet(data.num_classes, options.activation), device)
    model.load_state_dict(common.load_state(directory, device)["model"])
    loss, error = evaluate(
        model,
        common.to_device(data.x_test, device),
        common.to_device(data.y_test, device),
        options.eval_batch_size,
    )
    return {"test_error": error, "test_loss": loss}
