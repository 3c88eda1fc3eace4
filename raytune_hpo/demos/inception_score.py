"""Inception score of images under a classifier trained locally on the same data set.

No weights are downloaded: the first caller trains a LeNet (ReLU) classifier on the data set's
whole training split (the test split is never trained on) and saves it under
``data_dir/inception_classifier/<data set>.pt``; later callers, in any process, load that file.
A file lock makes trials that start at once train it only once.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from filelock import FileLock
from torch import nn

from raytune_hpo.demos.datasets import load_dataset
from raytune_hpo.demos.lenet_model import LeNet

CLASSIFIER_DIR = "inception_classifier"
CLASSIFIER_VERSION = 1
"""Bumped when the classifier or its training changes, so older cache files are retrained."""
CLASSIFIER_STEPS = 600
CLASSIFIER_BATCH_SIZE = 64
CLASSIFIER_LR = 1e-3
_EPS = 1e-12


def inception_score(probabilities: torch.Tensor) -> float:
    """``exp(E_x KL(p(y|x) || p(y)))`` of class probabilities ``(N, C)``.

    It lies between 1 (every image gets the same prediction) and ``C`` (confident predictions,
    spread evenly over the classes).

    Raises:
        ValueError: ``probabilities`` is not a non-empty 2-D tensor.
    """
    if probabilities.ndim != 2 or len(probabilities) == 0:
        shape = tuple(probabilities.shape)
        raise ValueError(f"expected class probabilities of shape (N, C), got {shape}")
    p = probabilities.double().clamp_min(_EPS)
    marginal = p.mean(dim=0, keepdim=True)
    kl = (p * (p.log() - marginal.log())).sum(dim=1).mean()
    return float(math.exp(kl.item()))


def class_probabilities(
    classifier: nn.Module, images: torch.Tensor, batch_size: int = 1024
) -> torch.Tensor:
    """Softmax outputs of ``classifier`` for images ``(N, 1, 28, 28)`` in ``[0, 1]``."""
    classifier.eval()
    device = next(classifier.parameters()).device
    with torch.inference_mode():
        parts = [
            torch.softmax(classifier(images[start : start + batch_size].to(device)), dim=1)
            for start in range(0, len(images), batch_size)
        ]
    return torch.cat(parts).cpu()


def score_images(classifier: nn.Module, images: torch.Tensor, batch_size: int = 1024) -> float:
    """Inception score of images ``(N, 1, 28, 28)`` in ``[0, 1]``."""
    return inception_score(class_probabilities(classifier, images, batch_size))


@dataclass(frozen=True)
class CachedClassifier:
    """The classifier behind the inception score of one data set.

    Attributes:
        model: LeNet in eval mode.
        path: The cache file it was loaded from (or just written to).
        trained: Whether this call trained it (False: loaded from the cache).
        test_accuracy: Its accuracy on the data set's test split.
    """

    model: nn.Module
    path: Path
    trained: bool
    test_accuracy: float


def classifier_path(dataset: str, data_dir: str | Path) -> Path:
    """Where the classifier of ``dataset`` is cached."""
    return Path(data_dir).expanduser() / CLASSIFIER_DIR / f"{dataset}-v{CLASSIFIER_VERSION}.pt"


def load_classifier(
    dataset: str,
    data_dir: str | Path,
    *,
    download: bool = True,
    device: torch.device | None = None,
) -> CachedClassifier:
    """The cached classifier of ``dataset``, trained and saved first if absent.

    Args:
        dataset: A name in ``raytune_hpo.demos.datasets.DATASETS``.
        data_dir: The data directory (the cache lives in a sub-folder).
        download: Whether torchvision may download the data set to train the classifier.
        device: Where the returned model lives (default: CPU).
    """
    device = device or torch.device("cpu")
    path = classifier_path(dataset, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_suffix(".lock"))):
        trained = not path.exists()
        if trained:
            _save_atomically(_train_classifier(dataset, data_dir, download), path)
        saved = torch.load(path, map_location=device, weights_only=False)
    model = LeNet(saved["num_classes"], "relu").to(device)
    model.load_state_dict(saved["model"])
    model.eval()
    return CachedClassifier(model, path, trained, float(saved["test_accuracy"]))


def _train_classifier(dataset: str, data_dir: str | Path, download: bool) -> dict[str, object]:
    """Train LeNet (ReLU, Adam) for about ``CLASSIFIER_STEPS`` steps on the training split."""
    from raytune_hpo.demos.lenet import evaluate, train_one_epoch

    data = load_dataset(dataset, data_dir, download=download, seed=0)
    x = torch.from_numpy(np.concatenate([data.x_train, data.x_val]))
    y = torch.from_numpy(np.concatenate([data.y_train, data.y_val]))
    steps_per_epoch = math.ceil(len(x) / CLASSIFIER_BATCH_SIZE)
    epochs = max(1, math.ceil(CLASSIFIER_STEPS / steps_per_epoch))
    device = torch.device("cpu")
    threads = torch.get_num_threads()
    # One thread: the net is small, and it is often trained beside running trials.
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = LeNet(data.num_classes, "relu")
            optimizer = torch.optim.Adam(model.parameters(), lr=CLASSIFIER_LR)
            generator = torch.Generator().manual_seed(0)
            for _ in range(epochs):
                train_one_epoch(model, optimizer, x, y, CLASSIFIER_BATCH_SIZE, generator, device)
    finally:
        torch.set_num_threads(threads)
    _, test_error = evaluate(
        model, torch.from_numpy(data.x_test), torch.from_numpy(data.y_test), 1024
    )
    return {
        "model": model.state_dict(),
        "num_classes": data.num_classes,
        "test_accuracy": 1.0 - test_error,
        "version": CLASSIFIER_VERSION,
    }


def _save_atomically(state: dict[str, object], path: Path) -> None:
    """Write to a temporary file beside ``path`` and rename it, so readers never see half."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save(state, partial)
    os.replace(partial, path)
