"""A training script that has never heard of Ray: argparse in, metric lines out.

Softmax regression on scikit-learn's digits with plain NumPy. It prints one line per epoch,
``epoch=3 train_loss=0.41 val_loss=0.52 val_accuracy=0.93``, which raytune_hpo reads as one
report. If ``$RAYTUNE_HPO_CHECKPOINT_DIR`` is set it saves its state there before each line and
starts from what it finds there, which is all PBT, retries and ``resume`` need.

Run it alone: ``python train_script.py --lr=0.5 --epochs=5``. Tuned by
``configs/user_code/script_asha.yaml`` and ``script_pbt.yaml``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def cross_entropy(weights: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a linear softmax classifier."""
    logits = x @ weights
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(y)), y].mean()
    return float(loss), float((logits.argmax(axis=1) == y).mean())


def gradient(weights: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    logits = x @ weights
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1
    return x.T @ probs / len(y) + l2 * weights


def main() -> None:
    args = parse_args()
    images, labels = load_digits(return_X_y=True)
    x = np.hstack([images / 16.0, np.ones((len(images), 1))])
    x_train, x_val, y_train, y_val = train_test_split(x, labels, test_size=0.25, random_state=0)
    rng = np.random.default_rng(args.seed)
    weights = np.zeros((x.shape[1], 10))
    start = 0
    state_dir = os.environ.get("RAYTUNE_HPO_CHECKPOINT_DIR")
    state_file = Path(state_dir) / "state.npz" if state_dir else None
    if state_file is not None and state_file.exists():
        saved = np.load(state_file)
        weights, start = saved["weights"], int(saved["epoch"])
    for epoch in range(start + 1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        for first in range(0, len(order), args.batch_size):
            batch = order[first : first + args.batch_size]
            weights -= args.lr * gradient(weights, x_train[batch], y_train[batch], args.l2)
        train_loss, _ = cross_entropy(weights, x_train, y_train)
        val_loss, val_accuracy = cross_entropy(weights, x_val, y_val)
        if state_file is not None:
            np.savez(state_file, weights=weights, epoch=epoch)
        print(
            f"epoch={epoch} train_loss={train_loss:.4f} val_loss={val_loss:.4f} "
            f"val_accuracy={val_accuracy:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
