"""Seconds from launch to the first result: ``raytune-hpo run`` against a bare Ray Tune script.

The workload is the d2l task at its smallest: LeNet on the digits data set, 2 trials of 2 epochs
with fixed hyperparameters, 1 CPU each. It runs two ways, each a fresh command line:

- ours: ``python -m raytune_hpo.cli run FILE --quiet`` (config checks, data, Ray, Tuner, summary);
- bare: a script that imports Ray Tune, loads the same data, calls ``ray.init()`` and fits a plain
  ``tune.Tuner`` over the same training function (``raytune_hpo.demos.lenet.train_lenet``),
  with the same actor reuse, and exits.

Each run is timed from its launch by this script, and its phases read from what it leaves
behind: ``ray_up`` (first line of the raylet's log in the driver's session folder; cold start
only), ``worker_ready`` (the first trial's start in Ray Tune's experiment state), ``first_report``
and ``last_report`` (``report_time`` of the trials' results) and ``exit``. ``imports`` is timed
apart in a fresh interpreter: the modules each command imports before it starts Ray.

Cold start: no Ray running, each command starts its own. Warm start: a local Ray started once
with ``ray start --head`` (its workers preload ``raytune_hpo.cluster.worker_preload``); both
commands attach to it with its address. Kept warm: a local Ray started with ``raytune-hpo warm``,
whose idle workers take the next command's trials; ours is launched as a user would, without
``--address``, ``--pause`` seconds after the run before it (a person between two commands;
the workers its run took are replaced meanwhile), bare with its address (its trials get new
workers: Ray Tune's registration asks for a runtime environment). The two variants alternate,
the first rotating; figures are medians over repeats and ours / bare the median of paired
ratios. After every run, processes of its Ray session still alive are counted
(``leftover_processes``, 0 expected).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from _bench import (
    REPO,
    finish,
    interleave,
    kept_warm_ray,
    median,
    paired_ratio,
    parse_args,
    print_header,
    print_samples,
    scratch_dir,
)

from raytune_hpo import os_processes

PHASES = ("imports", "ray_up", "worker_ready", "first_report", "last_report", "exit")
RAY_TMP = Path("/tmp/ray")
LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})")
IMPORTS = {
    "ours": "import raytune_hpo.cli, raytune_hpo.config, raytune_hpo.experiment.runner",
    "bare": "import ray, ray.tune, raytune_hpo.demos.datasets, raytune_hpo.demos.lenet",
}
BARE_SCRIPT = """
import sys
import ray
from ray import tune
from raytune_hpo.demos.datasets import load_dataset
from raytune_hpo.demos.trial_settings import TrialSettings
from raytune_hpo.demos.lenet import train_lenet

storage, name, trials, epochs, train_size, address = sys.argv[1:7]
data = load_dataset("digits", storage + "/data", train_size=int(train_size) or None)
ray.init(address=address or None, include_dashboard=False, logging_level="WARNING")
settings = TrialSettings(max_epochs=int(epochs), checkpoint_frequency=int(epochs))
trainable = tune.with_resources(
    tune.with_parameters(train_lenet, data=data, settings=settings), {"cpu": 1}
)
tuner = tune.Tuner(
    trainable,
    param_space={"learning_rate": 0.05, "batch_size": 64, "momentum": 0.9},
    tune_config=tune.TuneConfig(num_samples=int(trials), reuse_actors=True),
    run_config=tune.RunConfig(
        name=name,
        storage_path=storage,
        stop={"training_iteration": int(epochs)},
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        verbose=0,
    ),
)
best = tuner.fit().get_best_result("validation_error", "min")
print("best validation_error", best.metrics["validation_error"])
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--repeats", type=int, default=3, help="rounds per start kind")
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train-size", type=int, default=0, help="0: the whole digits set")
    parser.add_argument("--no-warm", action="store_true", help="cold starts only")
    parser.add_argument(
        "--pause", type=float, default=5.0, help="s before each run on the kept-warm Ray"
    )


# --- one run ----------------------------------------------------------------------------------


def run_command(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Launch ``command``; its launch time (epoch seconds), process id and output."""
    launch = time.time()
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output, _ = process.communicate(timeout=900)
    ended = time.time()
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited {process.returncode}:\n{output[-3000:]}")
    return launch, process.pid, output + f"\n@exit {ended}"


def phases(launch: float, pid: int, output: str, folder: Path, imports: float) -> dict[str, float]:
    """Seconds from launch to each phase of one run (``nan`` where not observable)."""
    ended = float(output.rsplit("@exit ", 1)[1])
    states = sorted(folder.glob("experiment_state-*.json"))
    starts = [
        json.loads(runtime).get("start_time")
        for _, runtime in json.loads(states[-1].read_text())["trial_data"]
    ]
    reports = [
        json.loads(line)["report_time"]
        for result in folder.glob("*/result.json")
        for line in result.read_text().splitlines()
        if line.strip()
    ]
    if not reports:
        raise RuntimeError(f"no report in {folder}; the run printed:\n{output[-3000:]}")
    return {
        "imports": imports,
        "ray_up": raylet_start(pid, launch) - launch,
        "worker_ready": min(s for s in starts if s) - launch,
        "first_report": min(reports) - launch,
        "last_report": max(reports) - launch,
        "exit": ended - launch,
    }


def session_dir(pid: int, launch: float) -> Path | None:
    """The Ray session folder that the driver with process id ``pid``, launched at ``launch``,
    started, if any (not one that an earlier process with the same id left)."""
    found = [p for p in sorted(RAY_TMP.glob(f"session_*_{pid}")) if p.stat().st_mtime >= launch]
    return found[-1] if found else None


def raylet_start(pid: int, launch: float) -> float:
    """Epoch seconds of the first line of the raylet's log of ``pid``'s session; nan if none."""
    session = session_dir(pid, launch)
    log = session / "logs" / "raylet.out" if session else None
    if log is None or not log.exists():
        return math.nan
    for line in log.read_text(errors="replace").splitlines():
        if match := LOG_TIME.match(line):
            return dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return math.nan


def leftover_processes(pid: int, launch: float) -> int:
    """Processes still alive a second after ``pid`` ended that name its Ray session (0 expected);
    asked every 0.1 s, so that a session whose processes all ended costs no wait."""
    session = session_dir(pid, launch)
    if session is None:
        return 0
    deadline = time.monotonic() + 1.0
    while (left := len(os_processes.processes_naming(session.name))) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    return left


def import_seconds(variant: str) -> float:
    """Seconds a fresh interpreter takes for what ``variant`` imports before Ray starts."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS[variant]], cwd=REPO, check=True)
    return time.perf_counter() - start


# --- the two commands -------------------------------------------------------------------------


def experiment_file(root: Path, args: argparse.Namespace) -> Path:
    """The workload as an experiment YAML for ``raytune-hpo run``."""
    spec = {
        "name": "latency",
        "trainable": "lenet",
        "dataset": {"name": "digits", "data_dir": str(root / "data")},
        "max_epochs": args.epochs,
        "num_samples": args.trials,
        "search_space": {"learning_rate": 0.05, "batch_size": 64, "momentum": 0.9},
        "searcher": {"name": "random"},
        "scheduler": {"name": "fifo"},
        "checkpoint": {"frequency": args.epochs, "num_to_keep": 1},
    }
    if args.train_size:
        spec["dataset"]["train_size"] = args.train_size
    path = root / "latency.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def variants(
    kind: str,
    root: Path,
    args: argparse.Namespace,
    address: str,
    leftovers: list[int],
    ray_tmpdir: str = "",
) -> dict[str, Callable[[], dict[str, float]]]:
    """``ours`` and ``bare``: each launches one run and returns its phases.

    With ``ray_tmpdir`` (the kept-warm Ray's temp folder) ours is launched as a user would,
    without ``--address``, after a pause of ``--pause`` seconds, as between two commands.
    """
    config = experiment_file(root, args)
    bare = root / "bare_latency.py"
    bare.write_text(BARE_SCRIPT)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if ray_tmpdir:
        env["RAY_TMPDIR"] = ray_tmpdir
    # Ray's own loggers (its result.json) for the bare script, even when the caller (a test
    # session that ran experiments) switched them off in its environment.
    env.pop("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", None)
    counter = iter(range(10**6))

    def ours() -> dict[str, float]:
        name = f"ours_{kind}_{next(counter)}"
        command = [sys.executable, "-m", "raytune_hpo.cli", "run", str(config), "--quiet"]
        command += ["--name", name, "--storage-path", str(root / "results")]
        command += ["--address", address] if address and not ray_tmpdir else []
        imports = import_seconds("ours")
        time.sleep(args.pause if ray_tmpdir else 0.0)
        launch, pid, output = run_command(command, env)
        leftovers.append(leftover_processes(pid, launch))
        return phases(launch, pid, output, root / "results" / name, imports)

    def bare_run() -> dict[str, float]:
        name = f"bare_{kind}_{next(counter)}"
        command = [sys.executable, str(bare), str(root / "results"), name, str(args.trials)]
        command += [str(args.epochs), str(args.train_size), address]
        bare_env = {**env, "RAY_AUTH_MODE": "token"} if address else env
        imports = import_seconds("bare")
        launch, pid, output = run_command(command, bare_env)
        leftovers.append(leftover_processes(pid, launch))
        return phases(launch, pid, output, root / "results" / name, imports)

    return {"ours": ours, "bare": bare_run}


@contextmanager
def warm_ray(root: Path) -> Iterator[str]:
    """A local Ray started with ``ray start --head`` for the block; yields its address.

    Its own temp folder keeps ``ray.init()`` of other programs on this machine from finding it.
    """
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    temp = root / "ray_warm"
    started = subprocess.run(
        [str(Path(sys.executable).with_name("ray")), "start", "--head", f"--port={port}"]
        + ["--num-cpus=2", "--include-dashboard=false", f"--temp-dir={temp}"],
        env={**os.environ, "RAY_preload_python_modules": "raytune_hpo.cluster.worker_preload"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    match = re.search(r"--address='([^']+)'", started.stdout)
    try:
        if started.returncode != 0 or match is None:
            raise RuntimeError(
                f"ray start failed:\n{started.stdout[-2000:]}{started.stderr[-2000:]}"
            )
        yield match[1]
    finally:
        os_processes.end(
            os_processes.with_descendants(os_processes.processes_naming(str(temp))), 30.0
        )


# --- report -----------------------------------------------------------------------------------


def measure(
    kind: str, runs: dict[str, Callable[[], dict[str, float]]], repeats: int
) -> dict[str, dict[str, list[float]]]:
    """Interleaved rounds of ``runs``: variant -> phase -> seconds per round."""
    seen: dict[str, dict[str, list[float]]] = {name: {p: [] for p in PHASES} for name in runs}

    def one(name: str) -> Callable[[], float]:
        def run() -> float:
            result = runs[name]()
            for phase in PHASES:
                seen[name][phase].append(result[phase])
            return result["first_report"]

        return run

    print(f"-- {kind} start: seconds from launch to the first report", flush=True)
    interleave({name: one(name) for name in runs}, repeats)
    return seen


def print_phases(kind: str, seen: dict[str, dict[str, list[float]]]) -> dict[str, float]:
    """A table of median phases for ``ours`` and ``bare``; the figures to report."""
    print(f"-- {kind} start: median seconds from launch (n={len(seen['ours']['exit'])})")
    print(f"{'phase':<14}{'ours':>9}{'bare':>9}{'ours/bare':>11}")
    figures: dict[str, float] = {}
    for phase in PHASES:
        ours, bare = median(seen["ours"][phase]), median(seen["bare"][phase])
        ratio = paired_ratio({"o": seen["ours"][phase], "b": seen["bare"][phase]}, "o", "b")
        print(f"{phase:<14}{ours:>9.2f}{bare:>9.2f}{ratio:>11.2f}")
        figures[f"{kind}_{phase}_ours_s"] = ours
        figures[f"{kind}_{phase}_bare_s"] = bare
    ends = zip(seen["ours"]["exit"], seen["ours"]["last_report"], strict=True)
    exit_after = [end - last for end, last in ends]
    figures[f"{kind}_exit_after_last_report_ours_s"] = median(exit_after)
    figures[f"{kind}_first_report_ours_vs_bare"] = paired_ratio(
        {"o": seen["ours"]["first_report"], "b": seen["bare"]["first_report"]}, "o", "b"
    )
    print_samples({f"{kind} {n}": seen[n]["first_report"] for n in seen}, "s to first report")
    return figures


def main() -> None:
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.repeats, args.trials, args.epochs, args.train_size = 1, 1, 1, 200
    print_header("launch -> first report: raytune-hpo run vs a bare Ray Tune script")
    figures: dict[str, float] = {}
    leftovers: list[int] = []
    with scratch_dir() as root:
        cold = measure("cold", variants("cold", root, args, "", leftovers), args.repeats)
        figures.update(print_phases("cold", cold))
        if not (args.no_warm or args.smoke):
            with warm_ray(root) as address:
                print(f"warm: a local Ray at {address}, started with `ray start --head`")
                runs = variants("warm", root, args, address, leftovers)
                warm = measure("warm", runs, args.repeats)
            figures.update(print_phases("warm", warm))
            with kept_warm_ray() as (temp, address):
                runs = variants("kept_warm", root, args, address, leftovers, temp)
                kept = measure("kept_warm", runs, args.repeats)
            figures.update(print_phases("kept_warm", kept))
    figures["leftover_processes"] = float(max(leftovers, default=0))
    finish(figures, "cold_first_report_ours_vs_bare")


if __name__ == "__main__":
    main()
