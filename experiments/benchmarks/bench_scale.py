"""Many short trials, whole command from launch: ``raytune-hpo run`` against a bare Ray Tune script.

N trials of the ``sleep`` workload (one report after 1 s) at 0.25 CPU each, so 8 run at once on
2 CPUs, for N = 100, 400 and 1,000 by default. Each run is a fresh command timed from its launch
to its exit:

- ours: ``python -m raytune_hpo.cli run FILE --quiet`` with the ``sleep`` trainable;
- bare: a script that starts Ray and fits a plain ``tune.Tuner`` over a function that sleeps 1 s
  and reports once, with actor reuse and Ray's JSON logger only (the toolkit's settings).

The two alternate for every N, the first rotating. A least-squares line through the medians,
``wall = fixed + per_trial * N``, gives each one's fixed cost and cost per added trial;
``wall / (N x 1 s / 8)`` is the time against the ideal of 8 trials always running.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from _bench import (
    REPO,
    finish,
    interleave,
    median,
    parse_args,
    print_header,
    print_samples,
    scratch_dir,
    timed,
)

CPU_PER_TRIAL = 0.25
SECONDS = 1.0
QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
BARE_SCRIPT = """
import math, sys, time
import ray
from ray import tune
from ray.tune.logger import JsonLoggerCallback

def sleep(config):
    time.sleep(config["seconds"])
    tune.report({"validation_error": math.exp(-config["learning_rate"]), "epoch": 1})

storage, name, trials, seconds, cpu = sys.argv[1:6]
ray.init(include_dashboard=False, logging_level="WARNING")
tuner = tune.Tuner(
    tune.with_resources(sleep, {"cpu": float(cpu)}),
    param_space={"learning_rate": tune.loguniform(0.01, 1.0), "seconds": float(seconds)},
    tune_config=tune.TuneConfig(
        metric="validation_error", mode="min", num_samples=int(trials), reuse_actors=True
    ),
    run_config=tune.RunConfig(
        name=name, storage_path=storage, callbacks=[JsonLoggerCallback()], verbose=0
    ),
)
print("best", tuner.fit().get_best_result().metrics["validation_error"])
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--trials", type=int, nargs="+", default=[100, 400, 1000])
    parser.add_argument("--repeats", type=int, default=1, help="rounds per N")


def variants(root: Path, trials: int) -> dict[str, Callable[[], float]]:
    """``ours`` and ``bare`` for ``trials`` trials: each runs one command, returns its seconds."""
    spec = {
        "name": "scale",
        "trainable": "sleep",
        "trainable_options": {"seconds_per_epoch": SECONDS},
        "dataset": {"name": "digits", "data_dir": str(root / "data")},
        "max_epochs": 1,
        "num_samples": trials,
        "search_space": {"learning_rate": {"loguniform": [0.01, 1.0]}},
        "searcher": {"name": "random"},
        "scheduler": {"name": "fifo"},
        "resources_per_trial": {"cpu": CPU_PER_TRIAL},
    }
    config = root / f"scale_{trials}.yaml"
    config.write_text(yaml.safe_dump(spec, sort_keys=False))
    bare = root / "bare_scale.py"
    bare.write_text(BARE_SCRIPT)
    env = {**os.environ, "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1"}
    counter = iter(range(10**6))

    def command(args: list[str]) -> float:
        return timed(lambda: subprocess.run(args, cwd=REPO, env=env, check=True, **QUIET))[0]

    def ours() -> float:
        name = f"ours_{trials}_{next(counter)}"
        return command(
            [sys.executable, "-m", "raytune_hpo.cli", "run", str(config), "--quiet"]
            + ["--name", name, "--storage-path", str(root / "results")]
        )

    def bare_run() -> float:
        name = f"bare_{trials}_{next(counter)}"
        args = [str(root / "results"), name, str(trials), str(SECONDS), str(CPU_PER_TRIAL)]
        return command([sys.executable, str(bare), *args])

    return {"ours": ours, "bare": bare_run}


def line_fit(counts: list[int], walls: list[float]) -> tuple[float, float]:
    """``(fixed, per_trial)`` of the least-squares line ``wall = fixed + per_trial * N``."""
    if len(counts) < 2:
        return walls[0], 0.0
    per_trial, fixed = np.polyfit(counts, walls, 1)
    return float(fixed), float(per_trial)


def main() -> None:
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.trials, args.repeats = [8], 1  # one N: the line's fixed cost is its wall time
    print_header("many short trials: raytune-hpo run vs a bare Ray Tune script")
    parallel = 2 / CPU_PER_TRIAL
    medians: dict[str, list[float]] = {"ours": [], "bare": []}
    figures: dict[str, float] = {}
    with scratch_dir() as root:
        for offset, trials in enumerate(args.trials):
            print(f"-- N={trials}: seconds from launch to exit", flush=True)
            samples = interleave(variants(root, trials), args.repeats, offset)
            print_samples(samples, "s")
            ideal = trials * SECONDS / parallel
            for name, values in samples.items():
                medians[name].append(median(values))
                figures[f"{name}_wall_s_n{trials}"] = median(values)
                figures[f"{name}_wall_vs_ideal_n{trials}"] = median(values) / ideal
            figures[f"ours_minus_bare_s_n{trials}"] = medians["ours"][-1] - medians["bare"][-1]
    for name, walls in medians.items():
        fixed, per_trial = line_fit(args.trials, walls)
        figures[f"{name}_fixed_s"] = fixed
        figures[f"{name}_per_trial_s"] = per_trial
        print(f"{name}: wall = {fixed:.1f} s + {per_trial:.3f} s x N")
    figures["max_ours_minus_bare_s"] = max(
        figures[f"ours_minus_bare_s_n{trials}"] for trials in args.trials
    )
    finish(figures, "max_ours_minus_bare_s")


if __name__ == "__main__":
    main()
