"""One LeNet training epoch plus validation: the toolkit's loop against a tutorial-style loop.

Both train the same LeNet (same initial weights, SGD, batch size, torch threads) on the same
60,000 synthetic 28x28 images (54,000 train + 6,000 validation, FashionMNIST-sized):

- ours: ``torch_common.place_model``, ``lenet.train_one_epoch`` and ``evaluate``, the code
  every LeNet trial runs: arrays as tensors (zero copy), batches sliced by shuffled indices,
  validation in inference mode with large batches;
- reference: a torchvision-style data set that makes a PIL image per sample and applies
  ``ToTensor``, read through a ``DataLoader`` for training and for validation (``no_grad``).

Runs alternate (interleaved, rotating order); the headline is the median over repetitions of
the reference's time over ours.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import torch
from _bench import (
    FASHION_SIZES,
    finish,
    interleave,
    median,
    paired_ratio,
    parse_args,
    print_header,
    print_samples,
    synthetic_images,
    timed,
    to_float_images,
)
from PIL import Image
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import ToTensor

from raytune_hpo.demos import torch_common
from raytune_hpo.demos.lenet import DEFAULTS, evaluate, train_one_epoch
from raytune_hpo.demos.lenet_model import LeNet
from raytune_hpo.demos.options import LeNetOptions


class TutorialImages(Dataset):
    """Like ``torchvision.datasets.FashionMNIST``: ``uint8`` images, a PIL image per sample."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images = torch.from_numpy(images)
        self.labels = torch.from_numpy(labels)
        self.transform = ToTensor()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = Image.fromarray(self.images[index].numpy())
        return self.transform(image), int(self.labels[index])


def new_model(
    activation: str, place: Callable[[nn.Module], nn.Module] = lambda model: model
) -> tuple[nn.Module, torch.optim.Optimizer]:
    """LeNet with fixed initial weights, placed by ``place``, and the toolkit's default SGD."""
    torch.manual_seed(0)
    model = place(LeNet(10, activation))
    return model, torch.optim.SGD(model.parameters(), lr=DEFAULTS["learning_rate"])


def ours(
    images: np.ndarray, labels: np.ndarray, n_train: int, batch_size: int, activation: str
) -> Callable[[], float]:
    """One epoch + validation through the trainable's own functions; returns seconds."""
    x = to_float_images(images)
    device = torch.device("cpu")
    eval_batch = LeNetOptions().eval_batch_size

    def run() -> float:
        model, optimizer = new_model(activation, lambda m: torch_common.place_model(m, device))
        generator = torch.Generator().manual_seed(0)

        def epoch() -> None:
            x_all, y_all = torch_common.to_device(x, device), torch_common.to_device(labels, device)
            train_one_epoch(
                model, optimizer, x_all[:n_train], y_all[:n_train], batch_size, generator, device
            )
            evaluate(model, x_all[n_train:], y_all[n_train:], eval_batch)

        return timed(epoch)[0]

    return run


def reference(
    images: np.ndarray, labels: np.ndarray, n_train: int, batch_size: int, activation: str
) -> Callable[[], float]:
    """One epoch + validation as tutorials write it; returns seconds."""
    train_set = TutorialImages(images[:n_train], labels[:n_train])
    val_set = TutorialImages(images[n_train:], labels[n_train:])

    def run() -> float:
        model, optimizer = new_model(activation)
        torch.manual_seed(0)

        def epoch() -> None:
            model.train()
            for x, y in DataLoader(train_set, batch_size=batch_size, shuffle=True):
                loss = F.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            model.eval()
            correct, total_loss = 0.0, 0.0
            with torch.no_grad():
                for x, y in DataLoader(val_set, batch_size=batch_size):
                    logits = model(x)
                    total_loss += F.cross_entropy(logits, y).item()
                    correct += (logits.argmax(1) == y).type(torch.float).sum().item()

        return timed(epoch)[0]

    return run


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """Batch size, threads and activation: what both loops share (also bench_epoch_breakdown)."""
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--threads", type=int, default=2, help="torch threads of both loops")
    parser.add_argument("--activation", default=LeNetOptions().activation)


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--repeats", type=int, default=5, help="runs of each loop")
    add_training_options(parser)


def main() -> None:
    """Measure both loops side by side and print the speedup."""
    args = parse_args(__doc__, configure)
    sizes = {k: v // 30 for k, v in FASHION_SIZES.items()} if args.smoke else FASHION_SIZES
    repeats = 1 if args.smoke else args.repeats
    torch.set_num_threads(args.threads)
    print_header("LeNet epoch + validation: toolkit loop vs tutorial DataLoader loop")
    n_train, n_val = sizes["train"], sizes["val"]
    print(
        f"images: {n_train} train + {n_val} validation, batch {args.batch_size}, "
        f"{args.threads} threads, activation {args.activation}, {repeats} repeats"
    )
    images, labels = synthetic_images(n_train + n_val, seed=0)
    loops = {
        name: build(images, labels, n_train, args.batch_size, args.activation)
        for name, build in (("ours", ours), ("reference", reference))
    }
    samples = interleave(loops, repeats)
    print_samples(samples, "s")
    ours_s, reference_s = median(samples["ours"]), median(samples["reference"])
    finish(
        {
            "ours_epoch_s": ours_s,
            "reference_epoch_s": reference_s,
            "ours_images_per_s": (n_train + n_val) / ours_s,
            "reference_images_per_s": (n_train + n_val) / reference_s,
            "speedup_of_medians": reference_s / ours_s,
            "epoch_speedup_vs_reference": paired_ratio(samples, "reference", "ours"),
        },
        "epoch_speedup_vs_reference",
    )


if __name__ == "__main__":
    main()
