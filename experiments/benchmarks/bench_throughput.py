"""Results per second: ``raytune-hpo run`` against a bare Ray Tune script, on one function.

16 trials (``--trials``) sharing 2 CPUs, all running at once, each run the same Ray Tune function:
it reports every 10 ms for 60 s, then writes how many reports it made in how long. A report
waits until the driver has taken the one before, so the reports made per second, summed over
the trials, are the results per second the driver handles:

- ours: ``python -m raytune_hpo.cli run FILE`` on that function (the user's-function adapter),
  with every per-result callback of a default run: the console, fail-fast, the restore check,
  the JSON and TensorBoard files;
- ours, no TensorBoard: the same with ``tensorboard: false``;
- bare: a script that fits a plain ``tune.Tuner`` over the function with Ray's JSON logger only.

The three alternate, the first rotating per round; the headline is ours / bare, paired by
round. ``--smoke`` runs 2 trials for 2 s, ours and bare only. ``--profile FILE`` runs ours once
more under ``cProfile`` and prints the driver's functions that took longest, the per-result
callbacks among them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import pstats
import sys
from collections.abc import Callable
from pathlib import Path

import yaml
from _bench import (
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

CPUS = 2
INTERVAL_S = 0.01
FUNCTION = """
import time
import uuid
from pathlib import Path

from ray import tune

COUNTS = Path({counts!r})


def chatter(config):
    start = time.monotonic()
    reports = 0
    while time.monotonic() - start < config["seconds"]:
        time.sleep(config["interval"])
        reports += 1
        tune.report({{"loss": 1.0 / reports, "step": reports}})
    elapsed = time.monotonic() - start
    (COUNTS / uuid.uuid4().hex).write_text(f"{{reports}} {{elapsed}}")
"""
BARE_SCRIPT = """
import sys

import ray
from ray import tune
from ray.tune.logger import JsonLoggerCallback

from chatter import chatter

storage, name, trials, seconds, interval, cpu = sys.argv[1:7]
ray.init(include_dashboard=False, logging_level="WARNING")
tuner = tune.Tuner(
    tune.with_resources(chatter, {"cpu": float(cpu)}),
    param_space={"seconds": float(seconds), "interval": float(interval)},
    tune_config=tune.TuneConfig(
        metric="loss", mode="min", num_samples=int(trials), reuse_actors=True
    ),
    run_config=tune.RunConfig(
        name=name, storage_path=storage, callbacks=[JsonLoggerCallback()], verbose=0
    ),
)
tuner.fit()
"""
PROFILED_RUN = """
import sys

import raytune_hpo

raytune_hpo.run(sys.argv[1], overrides=sys.argv[2:])
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--trials", type=int, default=16, help="trials, all at once")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each trial reports")
    parser.add_argument("--repeats", type=int, default=1, help="rounds")
    parser.add_argument("--profile", type=Path, help="also profile ours' driver into this file")


@dataclasses.dataclass(frozen=True)
class Workload:
    """``trials`` trials sharing the CPUs, each reporting every 10 ms for ``seconds``."""

    trials: int
    seconds: float

    @property
    def cpu_per_trial(self) -> float:
        """The CPU share that lets every trial run at once."""
        return CPUS / self.trials


def results_per_second(counts: Path) -> float:
    """The reports per second of every trial that wrote its count into ``counts``, summed; the
    files are removed for the next run."""
    rate = 0.0
    for path in counts.iterdir():
        reports, elapsed = path.read_text().split()
        rate += int(reports) / float(elapsed)
        path.unlink()
    return rate


def bench_env(root: Path) -> dict[str, str]:
    """The commands' environment: Ray's default loggers off (each side names its own), and the
    function's folder importable, by the bare script and by the workers it starts."""
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1", "PYTHONPATH": path}


def ours_config(root: Path, work: Workload, tensorboard: bool) -> Path:
    """The experiment file of ours, beside the function's file."""
    spec = {
        "name": "throughput",
        "trainable": "chatter.py:chatter",
        "metric": "loss",
        "mode": "min",
        "max_epochs": 10**7,
        "num_samples": work.trials,
        "search_space": {"seconds": work.seconds, "interval": INTERVAL_S},
        "searcher": {"name": "random"},
        "scheduler": {"name": "fifo"},
        "resources_per_trial": {"cpu": work.cpu_per_trial},
        "tensorboard": tensorboard,
    }
    path = root / f"throughput_tensorboard_{tensorboard}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def ours_command(config: Path, name: str, root: Path) -> list[str]:
    """``raytune-hpo run`` of ``config`` as experiment ``name`` below ``root``."""
    return [
        *["-m", "raytune_hpo.cli", "run", str(config)],
        *["--name", name, "--storage-path", str(root)],
    ]


def variants(root: Path, work: Workload, smoke: bool) -> dict[str, Callable[[], float]]:
    """ours, ours without TensorBoard (not in a smoke run), and bare: each runs one command,
    returns results/s."""
    counts = root / "counts"
    counts.mkdir()
    (root / "chatter.py").write_text(FUNCTION.format(counts=str(counts)))
    (root / "bare_throughput.py").write_text(BARE_SCRIPT)
    env = bench_env(root)
    results = root / "results"
    counter = iter(range(10**6))

    def ours(tensorboard: bool) -> Callable[[], float]:
        config = ours_config(root, work, tensorboard)

        def run() -> float:
            name = f"ours_{tensorboard}_{next(counter)}"
            run_command([sys.executable, *ours_command(config, name, results)], env)
            return results_per_second(counts)

        return run

    def bare() -> float:
        args = [str(results), f"bare_{next(counter)}", str(work.trials), str(work.seconds)]
        script = root / "bare_throughput.py"
        run_command(
            [sys.executable, str(script), *args, str(INTERVAL_S), str(work.cpu_per_trial)], env
        )
        return results_per_second(counts)

    chosen = {"ours": ours(True), "ours_no_tensorboard": ours(False), "bare": bare}
    if smoke:
        del chosen["ours_no_tensorboard"]
    return chosen


def profile_ours(root: Path, work: Workload, output: Path) -> None:
    """Run ours once under ``cProfile`` into ``output``; print its slowest driver functions.

    The run goes through the Python API (``raytune_hpo.run``), as the command's fast exit
    would leave ``cProfile`` no time to write its file.
    """
    script = root / "profiled_run.py"
    script.write_text(PROFILED_RUN)
    config = ours_config(root, work, True)
    overrides = ["name=profiled", f"storage_path={root / 'results'}"]
    command = ["-m", "cProfile", "-o", str(output), str(script), str(config), *overrides]
    run_command([sys.executable, *command], bench_env(root))
    print(f"-- profile of ours' driver: {output} (cumulative seconds, this package and Ray Tune)")
    stats = pstats.Stats(str(output))
    stats.sort_stats("cumulative").print_stats(r"raytune_hpo|ray/tune|ray/train|tensorboardX", 40)


def main() -> None:
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.trials, args.seconds, args.repeats = 2, 2.0, 1
    work = Workload(args.trials, args.seconds)
    print_header(
        f"results per second: {work.trials} trials reporting every 10 ms for {work.seconds:g} s"
    )
    with scratch_dir() as root:
        samples = interleave(variants(root, work, args.smoke), args.repeats)
        print_samples(samples, "results/s")
        if args.profile is not None:
            profile_ours(root, work, args.profile.resolve())
    figures = {f"{name}_results_per_s": median(values) for name, values in samples.items()}
    figures["ideal_results_per_s"] = work.trials / INTERVAL_S
    if "ours_no_tensorboard" in samples:
        figures["ours_no_tensorboard_vs_bare"] = paired_ratio(
            samples, "ours_no_tensorboard", "bare"
        )
    figures["ours_vs_bare"] = paired_ratio(samples, "ours", "bare")
    finish(figures, "ours_vs_bare")


if __name__ == "__main__":
    main()
