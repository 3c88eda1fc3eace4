"""Overhead of many short trials: the toolkit against bare Ray Tune and the theoretical minimum.

The workload (default 60 trials x 4 reports x 0.25 s of sleep, 1 CPU per trial, Ray limited to
2 CPUs) runs three ways in one Ray instance:

- toolkit: ``run_experiment`` (what ``raytune-hpo run`` does) on a config with the registered
  ``sleep`` trainable: config file written, data loaded and shared, Tuner built from the
  registries, best trial scored;
- bare: a plain ``ray.tune.Tuner`` with the same Ray settings the toolkit uses (actor reuse,
  JSON logger only), written by hand;
- bare, Ray defaults: a plain ``Tuner`` with Ray's defaults (no actor reuse, default loggers),
  measured once for context.

The theoretical minimum is ``trials * reports * seconds / parallel trials``. The toolkit and
bare runs alternate; toolkit / bare is the median of the per-repetition ratios, the other ratios
are of medians.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _bench import (
    finish,
    interleave,
    median,
    paired_ratio,
    parse_args,
    print_header,
    print_samples,
    ray_session,
    scratch_dir,
    settle_ray,
    timed,
)
from ray import tune
from ray.tune.logger import JsonLoggerCallback

from raytune_hpo.config import validate_config
from raytune_hpo.experiment.runner import run_experiment

LOGGERS_ENV = "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"
SPACE = {"learning_rate": {"loguniform": [0.01, 1.0]}}


def bare_sleep(config: dict[str, Any]) -> None:
    """The workload as a plain Ray Tune function: sleep, then report, ``epochs`` times."""
    for epoch in range(1, config["epochs"] + 1):
        time.sleep(config["seconds"])
        tune.report(
            {"validation_error": math.exp(-config["learning_rate"] * epoch), "epoch": epoch}
        )


@contextlib.contextmanager
def environment(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for the ``with`` block, then restore it."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def toolkit_run(args: argparse.Namespace, root: Path) -> Callable[[], float]:
    """Seconds of one ``run_experiment`` of the workload."""
    counter = itertools.count()

    def run() -> float:
        cfg = validate_config(
            {
                "name": f"toolkit_{next(counter)}",
                "trainable": "sleep",
                "trainable_options": {"seconds_per_epoch": args.seconds},
                "dataset": {"name": "digits", "data_dir": str(root / "data")},
                "max_epochs": args.reports,
                "num_samples": args.trials,
                "search_space": SPACE,
                "storage_path": str(root / "results"),
            }
        )
        settle_ray()
        return timed(lambda: run_experiment(cfg))[0]

    return run


def bare_run(args: argparse.Namespace, root: Path, defaults: bool) -> Callable[[], float]:
    """Seconds of one hand-written ``Tuner`` run: lean settings, or Ray's defaults."""
    counter = itertools.count()

    def fit() -> None:
        name = f"bare_{'defaults' if defaults else 'lean'}_{next(counter)}"
        tuner = tune.Tuner(
            tune.with_resources(bare_sleep, {"cpu": 1}),
            param_space={
                "learning_rate": tune.loguniform(0.01, 1.0),
                "epochs": args.reports,
                "seconds": args.seconds,
            },
            tune_config=tune.TuneConfig(
                metric="validation_error",
                mode="min",
                num_samples=args.trials,
                reuse_actors=not defaults,
            ),
            run_config=tune.RunConfig(
                name=name,
                storage_path=str(root / "results"),
                callbacks=None if defaults else [JsonLoggerCallback()],
                verbose=1,
            ),
        )
        tuner.fit()

    def run() -> float:
        settle_ray()
        with environment(LOGGERS_ENV, "0" if defaults else "1"):
            return timed(fit)[0]

    return run


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--reports", type=int, default=4, help="reports (epochs) per trial")
    parser.add_argument("--seconds", type=float, default=0.25, help="sleep before each report")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs given to Ray (1 per trial)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of toolkit and bare")
    parser.add_argument(
        "--defaults-repeats", type=int, default=1, help="runs with Ray's defaults (0: skip)"
    )


def main() -> None:
    """Measure the toolkit, bare Ray and Ray's defaults on the same workload."""
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.trials, args.reports, args.seconds = 4, 2, 0.05
        args.repeats, args.defaults_repeats = 1, 1
    minimum = args.trials * args.reports * args.seconds / args.cpus
    print_header("Overhead of short trials: toolkit vs bare ray.tune.Tuner vs minimum")
    print(
        f"workload: {args.trials} trials x {args.reports} reports x {args.seconds} s, "
        f"{args.cpus} CPUs; minimum {minimum:.2f} s"
    )
    with scratch_dir() as root, ray_session(num_cpus=args.cpus, preload_torch=False) as init_s:
        samples = interleave(
            {"toolkit": toolkit_run(args, root), "bare": bare_run(args, root, defaults=False)},
            args.repeats,
        )
        if args.defaults_repeats:
            samples |= interleave(
                {"bare_ray_defaults": bare_run(args, root, defaults=True)}, args.defaults_repeats
            )
    print_samples(samples, "s")
    toolkit, bare = median(samples["toolkit"]), median(samples["bare"])
    defaults = median(samples.get("bare_ray_defaults", []))
    finish(
        {
            "ray_init_s": init_s,
            "minimum_s": minimum,
            "toolkit_s": toolkit,
            "bare_s": bare,
            "bare_ray_defaults_s": defaults,
            "bare_vs_minimum": bare / minimum,
            "bare_ray_defaults_vs_minimum": defaults / minimum,
            "toolkit_vs_bare": paired_ratio(samples, "toolkit", "bare"),
            "toolkit_vs_minimum": toolkit / minimum,
        },
        "toolkit_vs_minimum",
    )


if __name__ == "__main__":
    main()
