"""A PyTorch function trainable as a user writes it for plain Ray Tune: an MLP on scikit-learn's
digits (offline), one ``tune.report`` per epoch with a checkpoint, resumed from
``tune.get_checkpoint()`` after a retry, ``resume`` or a PBT exploit.

Tuned by ``configs/user_code/function_asha.yaml`` and ``function_pbt.yaml``; nothing here knows
raytune_hpo. ``evaluate`` scores a checkpoint on the held-out test split afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch
from ray import tune
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn


def load_splits(seed: int = 0) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Train, validation and test splits of the digits (64 pixels scaled to 0..1)."""
    images, labels = load_digits(return_X_y=True)
    x = torch.tensor(images / 16.0, dtype=torch.float32)
    y = torch.tensor(labels)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.2, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.2, random_state=seed
    )
    return {"train": (x_train, y_train), "val": (x_val, y_val), "test": (x_test, y_test)}


def build_model(hidden: int) -> nn.Module:
    """A one-hidden-layer perceptron for 8x8 digits."""
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def score(model: nn.Module, split: tuple[torch.Tensor, torch.Tensor]) -> tuple[float, float]:
    """Cross-entropy loss and accuracy of ``model`` on a split."""
    x, y = split
    with torch.no_grad():
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
    return loss, accuracy


def train_digits(config: dict[str, Any]) -> None:
    """Train until stopped: the tuner's ``max_epochs`` or scheduler ends the trial."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    splits = load_splits()
    model = build_model(int(config["hidden"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=config["momentum"])
    epoch = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:  # a retry, a resume or a PBT exploit: continue from there
        with checkpoint.as_directory() as folder:
            state = torch.load(Path(folder) / "state.pt", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        epoch = state["epoch"]
        for group in optimizer.param_groups:  # PBT may have changed them
            group["lr"], group["momentum"] = config["lr"], config["momentum"]
    x_train, y_train = splits["train"]
    batch_size = int(config["batch_size"])
    while True:
        epoch += 1
        order = torch.randperm(len(x_train))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x_train[batch]), y_train[batch]).backward()
            optimizer.step()
        val_loss, val_accuracy = score(model, splits["val"])
        with tempfile.TemporaryDirectory() as folder:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict()}
            torch.save({**state, "epoch": epoch}, Path(folder) / "state.pt")
            tune.report(
                {"val_loss": val_loss, "val_accuracy": val_accuracy, "epoch": epoch},
                checkpoint=tune.Checkpoint.from_directory(folder),
            )


def evaluate(checkpoint_dir: Path, config: dict[str, Any]) -> dict[str, float]:
    """The ``evaluate`` hook: the checkpoint's loss and accuracy on the test split."""
    state = torch.load(Path(checkpoint_dir) / "state.pt", weights_only=False)
    model = build_model(int(config["hidden"]))
    model.load_state_dict(state["model"])
    loss, accuracy = score(model, load_splits()["test"])
    return {"test_loss": loss, "test_accuracy": accuracy}
