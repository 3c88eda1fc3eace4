"""LeNet on one GPU: epoch time with the data resident on the GPU, and 4 trials sharing it.

1. One training epoch plus validation on 60,000 synthetic 28x28 images (54,000 + 6,000),
   through the trainable's own functions, tensors on the GPU, batches sliced on the GPU.
2. Through Ray: 4 trials at ``gpu: 0.25`` each side by side against 1 trial alone; the
   aggregate throughput (epochs per second over the window from the first to the last report)
   of the 4 against the 1. Runs alternate; the headline is the ratio of the medians.

Without a GPU that torch can use, it prints one line saying so and ends with
``gpu_available: 0``.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable
from pathlib import Path

import torch
from _bench import (
    FASHION_SIZES,
    finish,
    fit_on_arrays,
    interleave,
    median,
    parse_args,
    print_header,
    print_samples,
    ray_session,
    scratch_dir,
    synthetic_dataset,
    synthetic_lenet_config,
    timed,
)

from raytune_hpo.demos import torch_common
from raytune_hpo.demos.datasets import DatasetArrays
from raytune_hpo.demos.lenet import DEFAULTS, evaluate, train_one_epoch
from raytune_hpo.demos.lenet_model import LeNet
from raytune_hpo.demos.options import LeNetOptions


def epoch_seconds(data: DatasetArrays, repeats: int) -> list[float]:
    """Seconds of an epoch plus validation on the GPU, after one warm-up epoch."""
    device = torch.device("cuda", 0)
    torch.manual_seed(0)
    model = torch_common.place_model(LeNet(data.num_classes, LeNetOptions().activation), device)
    optimizer = torch.optim.SGD(model.parameters(), lr=DEFAULTS["learning_rate"])
    generator = torch.Generator().manual_seed(0)
    x, y = (
        torch_common.to_device(data.x_train, device),
        torch_common.to_device(data.y_train, device),
    )
    x_val, y_val = (
        torch_common.to_device(data.x_val, device),
        torch_common.to_device(data.y_val, device),
    )

    def epoch() -> None:
        train_one_epoch(model, optimizer, x, y, DEFAULTS["batch_size"], generator, device)
        evaluate(model, x_val, y_val, LeNetOptions().eval_batch_size)
        torch.cuda.synchronize()

    epoch()
    return [timed(epoch)[0] for _ in range(repeats)]


def shared_throughput(
    data: DatasetArrays, root: Path, trials: int, epochs: int
) -> Callable[[], float]:
    """Aggregate epochs per second of ``trials`` LeNet trials at 0.25 GPU each."""
    counter = itertools.count()

    def run() -> float:
        cfg = synthetic_lenet_config(
            f"gpu_{trials}x_{next(counter)}", root, trials, epochs, {"cpu": 1, "gpu": 0.25}
        )
        results = fit_on_arrays(cfg, data)
        times = [result.metrics_dataframe["report_time"] for result in results]
        window = max(t.max() for t in times) - min(t.min() for t in times)
        return sum(len(t) - 1 for t in times) / window

    return run


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per trial through Ray")


def main() -> None:
    """Measure the GPU epoch and shared-GPU throughput, or skip without a GPU."""
    args = parse_args(__doc__, configure)
    print_header("LeNet on one GPU: resident-data epoch and 4 trials at 0.25 GPU")
    if not torch.cuda.is_available():
        print("bench_gpu: skipped: torch sees no CUDA GPU (torch.cuda.is_available() is False)")
        finish({"gpu_available": 0}, "gpu_available")
        return
    sizes = {k: v // 30 for k, v in FASHION_SIZES.items()} if args.smoke else FASHION_SIZES
    repeats, epochs = (1, 2) if args.smoke else (args.repeats, args.epochs)
    data = synthetic_dataset(sizes["train"], sizes["val"], sizes["test"])
    images = sizes["train"] + sizes["val"]
    print(
        f"images: {sizes['train']} train + {sizes['val']} validation, batch "
        f"{DEFAULTS['batch_size']}; {epochs} epochs per trial through Ray"
    )
    epochs_s = epoch_seconds(data, max(3, repeats))
    print_samples({"gpu_epoch": epochs_s}, "s")
    with scratch_dir() as root, ray_session():
        samples = interleave(
            {
                "1_trial": shared_throughput(data, root, 1, epochs),
                "4_trials": shared_throughput(data, root, 4, epochs),
            },
            repeats,
        )
    print_samples(samples, "epochs/s")
    one, four = median(samples["1_trial"]), median(samples["4_trials"])
    finish(
        {
            "gpu_available": 1,
            "gpu_epoch_s": median(epochs_s),
            "gpu_images_per_s": images / median(epochs_s),
            "one_trial_epochs_per_s": one,
            "four_trials_epochs_per_s": four,
            "gpu_shared_throughput_ratio": four / one,
        },
        "gpu_shared_throughput_ratio",
    )


if __name__ == "__main__":
    main()
