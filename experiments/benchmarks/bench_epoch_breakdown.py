"""Where a LeNet training step's time goes, and the most any data path could gain over a tutorial.

``bench_epoch.py`` compares whole epochs. This script splits a training step (batch 128, same
model, threads and initial weights) into its parts, measured interleaved:

- ours: a step of ``lenet.train_one_epoch`` (channels-last model, batches sliced from tensors);
- ours, model only: every layer's forward + backward on its real input, measured layer by layer
  and summed, plus the loss and the SGD update: what the step costs with no loop around it;
- reference: a step of the tutorial loop, split into fetching the batch from the ``DataLoader``
  (PIL image + ``ToTensor`` per sample, then collation) and the model's step in torch's default
  (NCHW) memory format.

The headline, ``epoch_speedup_bound``, is the reference step over ours-model-only: the speedup a
loop with no cost at all around the same fp32 model would reach. Ours over the bound says how
much of the step is loop overhead (1.0 = none left).
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
    parse_args,
    print_header,
    print_samples,
    synthetic_images,
    timed,
    to_float_images,
)
from bench_epoch import TutorialImages, add_training_options, new_model
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from raytune_hpo.demos import torch_common
from raytune_hpo.demos.lenet import DEFAULTS, train_one_epoch

CPU = torch.device("cpu")


def channels_last(model: nn.Module) -> nn.Module:
    """The model placed as every CPU trial places it."""
    return torch_common.place_model(model, CPU)


def layer_seconds(model: nn.Module, x: torch.Tensor, repeats: int) -> list[tuple[str, float]]:
    """Seconds of each layer's forward + backward on the input it gets in ``model(x)``.

    The first layer's input needs no gradient (as in training); every later one does.
    """
    inputs = [x]
    with torch.no_grad():
        for layer in model.net:
            inputs.append(layer(inputs[-1]))
    timings = []
    for index, layer in enumerate(model.net):
        layer_input = inputs[index].detach().requires_grad_(index > 0)

        def step(layer: nn.Module = layer, layer_input: torch.Tensor = layer_input) -> None:
            out = layer(layer_input)
            out.backward(torch.ones_like(out))

        step()  # warm-up: oneDNN builds its kernels on first use
        seconds, _ = timed(lambda step=step: [step() for _ in range(repeats)])
        timings.append((f"{index}:{type(layer).__name__}", seconds / repeats))
    return timings


def head_seconds(model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int) -> float:
    """Seconds of the loss (forward + backward from the logits) and one SGD update."""
    optimizer = torch.optim.SGD(model.parameters(), lr=DEFAULTS["learning_rate"])
    logits = model(x).detach().requires_grad_(True)
    for parameter in model.parameters():
        parameter.grad = torch.zeros_like(parameter)

    def step() -> None:
        F.cross_entropy(logits, y).backward()
        optimizer.step()

    step()
    seconds, _ = timed(lambda: [step() for _ in range(repeats)])
    return seconds / repeats


def model_only(
    images: np.ndarray, labels: np.ndarray, batch_size: int, repeats: int, activation: str
) -> tuple[Callable[[], float], dict[str, list[float]]]:
    """Ours, model only: the summed layer and head seconds; per-layer seconds land in the dict."""
    x = torch.from_numpy(to_float_images(images[:batch_size]))
    y = torch.from_numpy(labels[:batch_size])
    per_layer: dict[str, list[float]] = {}

    def run() -> float:
        model, _ = new_model(activation, channels_last)
        timings = layer_seconds(model, x, repeats)
        for name, seconds in timings:
            per_layer.setdefault(name, []).append(seconds)
        return sum(s for _, s in timings) + head_seconds(model, x, y, repeats)

    return run, per_layer


def ours_step(
    images: np.ndarray, labels: np.ndarray, batch_size: int, activation: str
) -> Callable[[], float]:
    """Seconds per step of the trainable's own epoch loop."""
    x, y = torch.from_numpy(to_float_images(images)), torch.from_numpy(labels)
    steps = -(-len(x) // batch_size)

    def run() -> float:
        model, optimizer = new_model(activation, channels_last)
        generator = torch.Generator().manual_seed(0)

        def epoch(size: int) -> None:
            train_one_epoch(model, optimizer, x[:size], y[:size], batch_size, generator, CPU)

        epoch(batch_size)  # warm-up
        return timed(lambda: epoch(len(x)))[0] / steps

    return run


def reference_fetch(images: np.ndarray, labels: np.ndarray, batch_size: int) -> Callable[[], float]:
    """Seconds per batch of the tutorial ``DataLoader`` alone."""
    loader = DataLoader(TutorialImages(images, labels), batch_size=batch_size, shuffle=True)

    def run() -> float:
        seconds, batches = timed(lambda: sum(1 for _ in loader))
        return seconds / batches

    return run


def reference_model_step(
    images: np.ndarray, labels: np.ndarray, batch_size: int, activation: str
) -> Callable[[], float]:
    """Seconds per step of the tutorial's model step (default memory format), batches ready."""
    x, y = torch.from_numpy(to_float_images(images)), torch.from_numpy(labels)
    batches = list(zip(x.split(batch_size), y.split(batch_size), strict=True))

    def run() -> float:
        model, optimizer = new_model(activation)

        def epoch() -> None:
            for xb, yb in batches:
                loss = F.cross_entropy(model(xb), yb)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        return timed(epoch)[0] / len(batches)

    return run


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--repeats", type=int, default=5, help="rounds of every measurement")
    parser.add_argument("--images", type=int, default=FASHION_SIZES["train"] // 5)
    parser.add_argument("--layer-steps", type=int, default=100, help="steps per layer timing")
    add_training_options(parser)


def main() -> None:
    """Measure the parts side by side and print the bound."""
    args = parse_args(__doc__, configure)
    count = 1_000 if args.smoke else args.images
    repeats, layer_steps = (1, 5) if args.smoke else (args.repeats, args.layer_steps)
    torch.set_num_threads(args.threads)
    print_header("LeNet training step: where the time goes")
    print(
        f"images: {count}, batch {args.batch_size}, {args.threads} threads, "
        f"activation {args.activation}, {repeats} repeats, {layer_steps} steps per layer"
    )
    images, labels = synthetic_images(count, seed=0)
    model_run, per_layer = model_only(images, labels, args.batch_size, layer_steps, args.activation)
    parts = {
        "ours_step": ours_step(images, labels, args.batch_size, args.activation),
        "ours_model_only": model_run,
        "reference_fetch": reference_fetch(images, labels, args.batch_size),
        "reference_model_step": reference_model_step(
            images, labels, args.batch_size, args.activation
        ),
    }
    seconds = interleave(parts, repeats)
    samples = {name: [s * 1e3 for s in values] for name, values in seconds.items()}
    print_samples(samples, "ms per step")
    print("-- layers of ours, forward + backward (median ms)")
    for name, values in per_layer.items():
        print(f"  {name}: {median(values) * 1e3:.3f}")
    ms = {name: median(values) for name, values in samples.items()}
    reference_ms = ms["reference_fetch"] + ms["reference_model_step"]
    finish(
        {
            "ours_step_ms": ms["ours_step"],
            "ours_model_only_ms": ms["ours_model_only"],
            "reference_step_ms": reference_ms,
            "reference_fetch_share": ms["reference_fetch"] / reference_ms,
            "ours_loop_overhead_share": 1 - ms["ours_model_only"] / ms["ours_step"],
            "step_speedup_vs_reference": reference_ms / ms["ours_step"],
            "epoch_speedup_bound": reference_ms / ms["ours_model_only"],
        },
        "epoch_speedup_bound",
    )


if __name__ == "__main__":
    main()
