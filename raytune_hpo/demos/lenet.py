"""LeNet trainable: one epoch of SGD and the validation error, in the shared epoch loop."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from raytune_hpo.demos import torch_common
from raytune_hpo.demos.datasets import DatasetArrays
from raytune_hpo.demos.epoch_loop import EpochReport, train_epochs
from raytune_hpo.demos.lenet_model import LeNet
from raytune_hpo.demos.options import LeNetOptions
from raytune_hpo.demos.trial_settings import TrialSettings

DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.1,
    "batch_size": 128,
    "momentum": 0.0,
    "weight_decay": 0.0,
}
"""Hyperparameters a config may leave out of its search space."""


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
    for index in torch_common.batch_indices(len(x), batch_size, generator, device):
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


class LeNetEpochs:
    """LeNet's part of the epoch loop: SGD over the training split, then the validation error.

    Args:
        config: The trial's hyperparameters (``learning_rate``, ``batch_size``, ``momentum``,
            ``weight_decay``); missing ones take ``DEFAULTS``.
        data: Arrays shared through Ray's object store.
        settings: Experiment-level settings (seed, options).
        device: Where the model and the data live.
    """

    def __init__(
        self,
        config: dict[str, Any],
        data: DatasetArrays,
        settings: TrialSettings,
        device: torch.device,
    ) -> None:
        self.hp = {**DEFAULTS, **config}
        self.options = LeNetOptions.model_validate(dict(settings.options))
        self.device = device
        self.model = torch_common.place_model(
            LeNet(data.num_classes, self.options.activation), device
        )
        self.optimizer = _optimizer(self.model, self.hp)
        self.x_train = torch_common.to_device(data.x_train, device)
        self.y_train = torch_common.to_device(data.y_train, device)
        self.x_val = torch_common.to_device(data.x_val, device)
        self.y_val = torch_common.to_device(data.y_val, device)
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.batch_size = int(self.hp["batch_size"])

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Take the model, optimizer and batch-order generator from a checkpoint."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])

    def apply_config(self) -> None:
        """Give SGD the trial's learning rate, momentum and weight decay."""
        torch_common.apply_hyperparameters(self.optimizer, _optimizer_values(self.hp))

    def train_epoch(self) -> dict[str, float]:
        """One pass of SGD: ``train_loss``, and its wall-clock seconds ``epoch_time_s`` (smaller
        batches learn more per epoch but take longer: a second objective)."""
        started = time.perf_counter()
        loss = train_one_epoch(
            self.model,
            self.optimizer,
            self.x_train,
            self.y_train,
            self.batch_size,
            self.generator,
            self.device,
        )
        return {"train_loss": loss, "epoch_time_s": time.perf_counter() - started}

    def evaluate_epoch(self, epoch: int, trained: dict[str, float]) -> EpochReport:
        """Validation error, accuracy and loss; the worst values when the training loss diverged."""
        train_loss = trained["train_loss"]
        if not math.isfinite(train_loss):
            worst = {
                "validation_error": 1.0,
                "validation_loss": float("inf"),
                "validation_accuracy": 0.0,
                "train_loss": float("inf"),
                "epoch_time_s": trained["epoch_time_s"],
                "epoch": epoch,
            }
            return EpochReport(worst, diverged=True)
        val_loss, val_error = evaluate(
            self.model, self.x_val, self.y_val, self.options.eval_batch_size
        )
        metrics = {
            "validation_error": val_error,
            "validation_accuracy": 1.0 - val_error,
            "validation_loss": val_loss,
            "train_loss": train_loss,
            "epoch_time_s": trained["epoch_time_s"],
            "epoch": epoch,
        }
        return EpochReport(metrics)

    def state(self) -> dict[str, Any]:
        """Model, optimizer and batch-order generator."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
        }


def train_lenet(config: dict[str, Any], *, data: DatasetArrays, settings: TrialSettings) -> None:
    """Train LeNet for ``settings.max_epochs``, reporting once per epoch (:class:`LeNetEpochs`)."""
    train_epochs(LeNetEpochs, config, data, settings)


def evaluate_lenet_checkpoint(
    directory: Path, config: dict[str, Any], data: DatasetArrays, settings: TrialSettings
) -> dict[str, float]:
    """Test-split metrics of the model saved in a checkpoint directory."""
    options = LeNetOptions.model_validate(dict(settings.options))
    device = torch.device("cpu")
    model = torch_common.place_model(LeNet(data.num_classes, options.activation), device)
    model.load_state_dict(torch_common.load_state(directory, device)["model"])
    loss, error = evaluate(
        model,
        torch_common.to_device(data.x_test, device),
        torch_common.to_device(data.y_test, device),
        options.eval_batch_size,
    )
    return {"test_error": error, "test_loss": loss}
