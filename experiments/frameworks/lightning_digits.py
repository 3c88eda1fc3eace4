"""A PyTorch Lightning script as Lightning's docs write one: an MLP on scikit-learn's digits.

Nothing in it knows of Ray or raytune_hpo. ``self.log("val_loss", ...)`` in ``validation_step``
goes to Lightning's default logger, which writes TensorBoard event files under
``lightning_logs/version_N/`` of the working directory, once per epoch for the validation
metrics; ``configs/frameworks/lightning_asha.yaml`` reads them from there.

Run it alone: ``python lightning_digits.py --lr 0.01 --max_epochs 3``.
"""

from __future__ import annotations

import argparse

import lightning as L
import torch
import torch.nn.functional as F
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
    trainer = L.Trainer(max_epochs=args.max_epochs, accelerator="cpu")
    trainer.fit(model, train_loader, val_loader)


if __name__ == "__main__":
    main()
