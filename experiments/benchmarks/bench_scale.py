"""Many short trials, whole command from launch: ``raytune-hpo run`` against a bare Ray Tune script.

N trials of the ``sleep`` workload (one report after 1 s) at 0.25 CPU each, so 8 run at once on
2 CPUs, for N = 100, 400 and 1,000 by default. Each run is a fresh command timed from its launch
to its exit:

- ours: ``python -m raytune_hpo.cli run FILE`` with the ``sleep`` trainable and the default
  console, written to a pipe as in a CI log;
- bare: a script that starts Ray and fits a plain ``tune.Tuner`` over a function that sleeps 1 s
  and reports once, with actor reuse and Ray's JSON logger only (the toolkit's settings).

The two alternate for every N, the first rotating. Per N it prints the wall ratio ours / bare,
each driver's peak RSS (the started process's own ``VmHWM``, not Ray's workers), the CPU
seconds of each driver and of the whole machine while it ran (Ray's services and workers too),
the console lines of ours, the files and bytes its experiment folder holds per trial (and Ray's
experiment state file among them), and how long ``raytune-hpo summary`` of that folder takes.
Least-squares lines through the medians give each one's fixed cost and cost per added trial, in
seconds and in driver memory; ``wall / (N x 1 s / 8)`` is the time against the ideal of 8 trials
always running.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from _bench import (
    CommandRun,
    finish,
    interleave,
    median,
    paired_ratio,
    parse_args,
    print_header,
    print_samples,
    run_command,
    scratch_dir,
)

from raytune_hpo.layout import STATE_FILE_PREFIX

CPU_PER_TRIAL = 0.25
SECONDS = 1.0
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


def folder_usage(folder: Path) -> tuple[int, int]:
    """``(files, bytes)`` below ``folder``."""
    sizes = [path.stat().st_size for path in folder.rglob("*") if path.is_file()]
    return len(sizes), sum(sizes)


def variants(
    root: Path, trials: int, runs: dict[str, list[CommandRun]], extras: dict[str, list[float]]
) -> dict[str, Callable[[], float]]:
    """``ours`` and ``bare`` for ``trials`` trials: each runs one command, returns its seconds.

    Each keeps its :class:`CommandRun` in ``runs``; ``ours`` also adds its folder's bytes per
    trial and the seconds of ``summary`` over it to ``extras``.
    """
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
    cli = [sys.executable, "-m", "raytune_hpo.cli"]
    counter = iter(range(10**6))

    def ours() -> float:
        name = f"ours_{trials}_{next(counter)}"
        storage = root / "results"
        run = run_command(
            [*cli, "run", str(config), "--name", name, "--storage-path", str(storage)], env
        )
        runs["ours"].append(run)
        files, size = folder_usage(storage / name)
        extras["files_per_trial"].append(files / trials)
        extras["bytes_per_trial"].append(size / trials)
        states = (storage / name).glob(f"{STATE_FILE_PREFIX}*.json")
        extras["state_bytes_per_trial"].append(sum(p.stat().st_size for p in states) / trials)
        extras["summary_s"].append(run_command([*cli, "summary", str(storage / name)], env).seconds)
        return run.seconds

    def bare_run() -> float:
        name = f"bare_{trials}_{next(counter)}"
        args = [str(root / "results"), name, str(trials), str(SECONDS), str(CPU_PER_TRIAL)]
        run = run_command([sys.executable, str(bare), *args], env)
        runs["bare"].append(run)
        return run.seconds

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
    memory: dict[str, list[float]] = {"ours": [], "bare": []}
    figures: dict[str, float] = {}
    with scratch_dir() as root:
        for offset, trials in enumerate(args.trials):
            print(f"-- N={trials}: seconds from launch to exit", flush=True)
            runs: dict[str, list[CommandRun]] = {"ours": [], "bare": []}
            extras: dict[str, list[float]] = {
                "files_per_trial": [],
                "bytes_per_trial": [],
                "state_bytes_per_trial": [],
                "summary_s": [],
            }
            samples = interleave(variants(root, trials, runs, extras), args.repeats, offset)
            print_samples(samples, "s")
            ideal = trials * SECONDS / parallel
            for name, values in samples.items():
                medians[name].append(median(values))
                memory[name].append(median([run.peak_rss_mb for run in runs[name]]))
                figures[f"{name}_wall_s_n{trials}"] = median(values)
                figures[f"{name}_wall_vs_ideal_n{trials}"] = median(values) / ideal
                figures[f"{name}_peak_rss_mb_n{trials}"] = memory[name][-1]
                driver_cpu = median([run.cpu_s for run in runs[name]])
                figures[f"{name}_driver_cpu_s_n{trials}"] = driver_cpu
                figures[f"{name}_machine_cpu_s_n{trials}"] = median(
                    [run.machine_cpu_s for run in runs[name]]
                )
            figures[f"wall_ratio_n{trials}"] = paired_ratio(samples, "ours", "bare")
            figures[f"peak_rss_ratio_n{trials}"] = memory["ours"][-1] / memory["bare"][-1]
            lines = median([run.stdout_lines for run in runs["ours"]])
            figures[f"ours_console_lines_n{trials}"] = lines
            figures[f"ours_console_lines_per_trial_n{trials}"] = lines / trials
            figures[f"ours_files_per_trial_n{trials}"] = median(extras["files_per_trial"])
            figures[f"ours_bytes_per_trial_n{trials}"] = median(extras["bytes_per_trial"])
            figures[f"ours_state_bytes_per_trial_n{trials}"] = median(
                extras["state_bytes_per_trial"]
            )
            figures[f"ours_summary_s_n{trials}"] = median(extras["summary_s"])
            print(
                f"ratio {figures[f'wall_ratio_n{trials}']:.3f}; driver peak RSS ours "
                f"{memory['ours'][-1]:.0f} MB, bare {memory['bare'][-1]:.0f} MB; console "
                f"{lines:.0f} lines; {figures[f'ours_bytes_per_trial_n{trials}']:.0f} bytes a "
                f"trial; summary {figures[f'ours_summary_s_n{trials}']:.2f} s; CPU seconds of"
                f" the driver ours {figures[f'ours_driver_cpu_s_n{trials}']:.0f}, bare"
                f" {figures[f'bare_driver_cpu_s_n{trials}']:.0f}, of the machine ours"
                f" {figures[f'ours_machine_cpu_s_n{trials}']:.0f}, bare"
                f" {figures[f'bare_machine_cpu_s_n{trials}']:.0f}",
                flush=True,
            )
    for name, walls in medians.items():
        fixed, per_trial = line_fit(args.trials, walls)
        rss_fixed, rss_per_trial = line_fit(args.trials, memory[name])
        figures[f"{name}_fixed_s"] = fixed
        figures[f"{name}_per_trial_s"] = per_trial
        figures[f"{name}_rss_growth_kb_per_trial"] = rss_per_trial * 1024
        print(
            f"{name}: wall = {fixed:.1f} s + {per_trial:.3f} s x N; driver peak RSS = "
            f"{rss_fixed:.0f} MB + {rss_per_trial * 1024:.1f} kB x N"
        )
    figures["max_wall_ratio"] = max(figures[f"wall_ratio_n{trials}"] for trials in args.trials)
    finish(figures, "max_wall_ratio")


if __name__ == "__main__":
    main()
