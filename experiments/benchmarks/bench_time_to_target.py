"""Wall-clock time to a validation-error target: random search, HyperOpt, ASHA, HyperOpt+ASHA.

Each method runs its seed-study config (``configs/lenet/*.yaml``) on the bundled ``digits``
images with ReLU LeNet, 2 trials side by side (1 CPU each, Ray limited to 2 CPUs), for several
seeds; methods alternate within each seed. Time to target is measured by the toolkit's own
analysis (``raytune_hpo.analysis.compare.run_summary``): seconds from the first trial's start to the
first report at or below the target. A run that never reaches it counts as infinitely slow
(so a method's median is finite while most of its seeds reach the target). The headline is
ASHA's median over random search's.
"""

from __future__ import annotations

import argparse
import math
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
)

from raytune_hpo.analysis.compare import run_summary
from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.experiment.runner import run_experiment

METHODS = {
    "random": "configs/lenet/random.yaml",
    "hyperopt": "configs/lenet/hyperopt.yaml",
    "asha": "configs/lenet/asha.yaml",
    "hyperopt+asha": "configs/lenet/hyperopt_asha.yaml",
}


def time_to_target(
    method: str, args: argparse.Namespace, root: Path, seed: int
) -> Callable[[], float]:
    """Seconds until ``method`` first reports ``args.target`` (infinity if never)."""

    def run() -> float:
        name = f"{method.replace('+', '_')}_seed{seed}"
        overrides = [
            f"name={name}",
            f"seed={seed}",
            f"storage_path={root / 'results'}",
            "dataset.name=digits",
            f"dataset.data_dir={root / 'data'}",
            "trainable_options.activation=relu",
            *(
                f"{k}={v}"
                for k, v in (("num_samples", args.samples), ("max_epochs", args.epochs))
                if v is not None
            ),
        ]
        cfg = load_config_file(METHODS[method], overrides, args.smoke)
        settle_ray()
        outcome = run_experiment(cfg)
        row = run_summary(load_experiment(outcome.path), method, args.target)
        if math.isnan(row["time_to_target_s"]):
            print(
                f"  {method} seed {seed}: target {args.target} not reached in "
                f"{row['wall_time_s']:.1f} s (best {row['final']:.4f})"
            )
            return math.inf
        return row["time_to_target_s"]

    return run


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--target", type=float, default=0.03, help="validation error to reach")
    parser.add_argument("--samples", type=int, default=None, help="override num_samples")
    parser.add_argument("--epochs", type=int, default=None, help="override max_epochs")


def main() -> None:
    """Run every method for every seed and compare median times to target."""
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.seeds, args.target = 1, 1.0
    print_header("Time to a validation-error target on digits: 4 methods, 2 workers")
    print(f"target validation error {args.target}, seeds 0..{args.seeds - 1}")
    samples: dict[str, list[float]] = {method: [] for method in METHODS}
    with scratch_dir() as root, ray_session(num_cpus=2):
        for seed in range(args.seeds):
            runs = {m: time_to_target(m, args, root, seed) for m in METHODS}
            for method, values in interleave(runs, 1, offset=seed).items():
                samples[method] += values
    print_samples(samples, "s to target")
    medians = {f"{m}_median_s": median(v) for m, v in samples.items()}
    reached = {f"{m}_seeds_reached": sum(map(math.isfinite, v)) for m, v in samples.items()}
    random_s = medians["random_median_s"]
    finish(
        {
            **medians,
            **reached,
            "hyperopt_vs_random": medians["hyperopt_median_s"] / random_s,
            "hyperopt+asha_vs_random": medians["hyperopt+asha_median_s"] / random_s,
            "asha_time_to_target_vs_random": medians["asha_median_s"] / random_s,
        },
        "asha_time_to_target_vs_random",
    )


if __name__ == "__main__":
    main()
