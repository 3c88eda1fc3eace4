"""A PyTorch Lightning script as Lightning's docs write one: an MLP on scikit-learn's digits.

Nothing in it knows of Ray or raytune_hpo. ``self.log("val_loss", ...)`` in ``validation_step``
goes to Lightning's default logger, which writes TensorBoard event files under
``lightning_logs/version_N/`` of the working directory, once per epoch for the validation
metrics; ``configs/frameworks/lightning_asha.yaml`` reads them from there. A
``LearningRateMonitor`` logs the learning rate in force at the start of each epoch (``lr-Adam``).

When ``$RAYTUNE_HPO_CHECKPOINT_DIR`` names a folder (a tuner's state folder for this run), a
``ModelCheckpoint`` saves ``last.ckpt`` there after every epoch's validation, and a run that
finds one there resumes from it (``trainer.fit(..., ckpt_path=...)``): at the next epoch, with
the weights and the Adam moments, but with this run's ``--lr`` (``on_load_checkpoint``), so that
a new learning rate, such as a PBT exploit's, is in force. Lightning writes the epoch's
validation metrics to TensorBoard before ``ModelCheckpoint`` saves the epoch.

Run it alone: ``python lightning_digits.py --lr 0.01 --max_epochs 3``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback, LearningRateMonitor, ModelCheckpoint
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class DigitsClassifier(L.LightningModule):
    """A two-layer perceptron over the 64 pixels of an 8x8 digit."""

    def __init__(self, hidden_size: int = 64, lr: float = 1e-3, dropout: float = 0.1) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = nn.Sequential(
            nn.Linear(64, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(dim=1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Resuming restores the optimizer as saved, its learning rate too: this run's lr wins.
        for optimizer_state in checkpoint.get("optimizer_states", []):
            for group in optimizer_state["param_groups"]:
                group["lr"] = self.hparams.lr


def digits_loaders(batch_size: int) -> tuple[DataLoader, DataLoader]:
    """Training and validation loaders over 75% / 25% of the digits, pixels scaled to [0, 1]."""
    images, labels = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        images / 16.0, labels, test_size=0.25, random_state=0
    )
    train = TensorDataset(torch.tensor(x_train, dtype=torch.float32), torch.tensor(y_train))
    val = TensorDataset(torch.tensor(x_val, dtype=torch.float32), torch.tensor(y_val))
    return DataLoader(train, batch_size=batch_size, shuffle=True), DataLoader(val, batch_size=256)


def main() -> None:
    parser = argparse.ArgumentParser(description="Train an MLP on digits with Lightning.")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden_size", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--max_epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    L.seed_everything(args.seed)
    train_loader, val_loader = digits_loaders(args.batch_size)
    model = DigitsClassifier(hidden_size=args.hidden_size, lr=args.lr, dropout=args.dropout)
    callbacks: list[Callback] = [LearningRateMonitor(logging_interval="epoch")]
    last_checkpoint = None
    state_dir = os.environ.get("RAYTUNE_HPO_CHECKPOINT_DIR")  # set when a tuner runs the script
    if state_dir:
        # One file, last.ckpt, replaced after every epoch (Lightning writes a temporary file,
        # then moves it into place); resume from it when an earlier run left one.
        callbacks.append(
            ModelCheckpoint(dirpath=state_dir, filename="last", enable_version_counter=False)
        )
        if (Path(state_dir) / "last.ckpt").is_file():
            last_checkpoint = str(Path(state_dir) / "last.ckpt")
    trainer = L.Trainer(max_epochs=args.max_epochs, accelerator="cpu", callbacks=callbacks)
    trainer.fit(model, train_loader, val_loader, ckpt_path=last_checkpoint)


if __name__ == "__main__":
    main()
