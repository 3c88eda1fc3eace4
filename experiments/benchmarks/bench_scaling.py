"""Scaling of asynchronous random search: 1 worker against 2 on the same budget.

The seed-study random-search config (``configs/lenet/random.yaml``: random searcher, FIFO, no
synchronisation between trials) runs on ``digits`` with ReLU LeNet and the same number of
trials and epochs, once with ``max_concurrent_trials: 1`` and once with 2 (1 CPU per trial, Ray
limited to 2 CPUs). Throughput is trials finished per second, of the whole ``run_experiment``
and of the trials' own window (first epoch start to last report: the search itself, without the
experiment's fixed start and finish); runs alternate, and the headline is the ratio of the
medians of the latter (2.0 would be linear).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Callable
from pathlib import Path

from _bench import (
    finish,
    interleave,
    load_config_file,
    median,
    parse_args,
    print_header,
    print_samples,
    ray_session,
    scratch_dir,
    settle_ray,
    timed,
)
from ray.tune import ResultGrid

from raytune_hpo.experiment.runner import run_experiment

CONFIG = "configs/lenet/random.yaml"


def trial_window_s(results: ResultGrid) -> float:
    """Seconds from the first trial's first epoch start to the last trial's last report."""
    frames = [result.metrics_dataframe for result in results]
    starts = [frame["report_time"].iloc[0] - frame["time_this_iter_s"].iloc[0] for frame in frames]
    return max(frame["report_time"].iloc[-1] for frame in frames) - min(starts)


def throughput(
    args: argparse.Namespace, root: Path, workers: int, steady: list[float]
) -> Callable[[], float]:
    """Trials finished per second of the whole run with ``workers`` trials side by side.

    Also appends to ``steady`` the trials finished per second of :func:`trial_window_s`, which
    leaves out the experiment's fixed start and finish.
    """
    counter = itertools.count()

    def run() -> float:
        cfg = load_config_file(
            CONFIG,
            [
                f"name=scaling_{workers}w_{next(counter)}",
                f"storage_path={root / 'results'}",
                "dataset.name=digits",
                f"dataset.data_dir={root / 'data'}",
                "trainable_options.activation=relu",
                f"num_samples={args.trials}",
                f"max_epochs={args.epochs}",
                f"max_concurrent_trials={workers}",
            ],
            args.smoke,
        )
        settle_ray()
        seconds, outcome = timed(lambda: run_experiment(cfg))
        finished = sum(result.error is None for result in outcome.results)
        steady.append(finished / trial_window_s(outcome.results))
        return finished / seconds

    return run


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)


def main() -> None:
    """Measure 1 and 2 workers side by side and print the speedup."""
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.repeats, args.trials, args.epochs = 1, 2, 1
    print_header("Asynchronous random search: 1 vs 2 workers, same budget")
    print(f"budget: {args.trials} trials x {args.epochs} epochs, {args.repeats} repeats")
    steady: dict[str, list[float]] = {"1_worker_steady": [], "2_workers_steady": []}
    with scratch_dir() as root, ray_session(num_cpus=2):
        samples = interleave(
            {
                "1_worker": throughput(args, root, 1, steady["1_worker_steady"]),
                "2_workers": throughput(args, root, 2, steady["2_workers_steady"]),
            },
            args.repeats,
        )
    print_samples(samples | steady, "trials/s")
    one, two = median(samples["1_worker"]), median(samples["2_workers"])
    one_steady, two_steady = (median(v) for v in steady.values())
    finish(
        {
            "one_worker_trials_per_s": one,
            "two_workers_trials_per_s": two,
            "whole_run_speedup_2_workers": two / one,
            "one_worker_steady_trials_per_s": one_steady,
            "two_workers_steady_trials_per_s": two_steady,
            "scaling_speedup_2_workers": two_steady / one_steady,
        },
        "scaling_speedup_2_workers",
    )


if __name__ == "__main__":
    main()
