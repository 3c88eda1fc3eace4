"""Overhead of command trials: a training script run by ``train_command`` against the same work
done by a Python function trainable, side by side in one Ray instance.

The work: per epoch, sleep ``--seconds``, save the epoch in a checkpoint, report ``score``. The
script keeps its state in ``$RAYTUNE_HPO_CHECKPOINT_DIR`` and prints ``epoch=N score=...``; the
function reports ``tune.Checkpoint`` folders itself. Both note the time and their worker
process when they start and when each epoch ends, and run under the engine's settings (actor
reuse, JSON logger only, all trials of a run at once, a checkpoint every epoch).

From those notes, per variant (medians):

- report: time between two epoch ends, less the sleep (reporting, checkpointing; for the command
  also reading its line). The command is paused while Ray Tune takes its report, as a function
  trial waits in ``tune.report``, but here the pause passes while it sleeps: for a command that
  computes, add the function's report time;
- switch: on one reused worker, from the last epoch end of a trial to the start of the next
  trial (for the command: ending its process group, starting the next process);
- restart: under PBT (asynchronous, as the engine builds it, ``--pbt-trials`` trials perturbed
  every ``--interval`` epochs), from the last epoch end of a run to the start of the trial's
  next run (an exploit, or PBT resuming a trial it paused). Most of it is Ray's: how long the
  trial waits for a worker varies from milliseconds to a second or more with Ray's choices.

Extra wall time per trial of a command = its extra switch + ``--epochs`` x its extra report
time if positive (a command that computes gains nothing from the pause); per PBT restart = the
extra of the restarts' 10th percentile (the restarts where Ray was quick; the medians are
printed too). Whole runs are timed too (they include Ray's worker start-up, which varies by
seconds). Function and command runs alternate.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _bench import (
    finish,
    interleave,
    median,
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
from ray.tune.schedulers import PopulationBasedTraining

from raytune_hpo.adapters.command.command_trainable import train_command
from raytune_hpo.adapters.command.spec import CommandSpec

SCRIPT = """
import json, os, sys, time
from pathlib import Path

args = dict(item.lstrip("-").split("=", 1) for item in sys.argv[1:])
events = open(Path(args["events"], os.environ["RAYTUNE_HPO_TRIAL_ID"]), "a", buffering=1)
state = Path(os.environ["RAYTUNE_HPO_CHECKPOINT_DIR"]) / "state.json"
epoch = json.loads(state.read_text())["epoch"] if state.exists() else 0
events.write(f"start {time.time()} {os.getppid()}\\n")
while epoch < int(args["epochs"]):
    epoch += 1
    time.sleep(float(args["seconds"]))
    # Written whole or not at all: the checkpoint folder may be copied at any moment.
    state.with_suffix(".tmp").write_text(json.dumps({"epoch": epoch}))
    state.with_suffix(".tmp").replace(state)
    events.write(f"end {time.time()} {os.getppid()}\\n")
    print(f"epoch={epoch} score={float(args['lr']) * epoch}", flush=True)
"""


def sleep_function(config: dict[str, Any]) -> None:
    """The script's work as a function trainable, checkpointing each epoch as the script does."""
    epoch = 0
    if (checkpoint := tune.get_checkpoint()) is not None:
        with checkpoint.as_directory() as folder:
            epoch = json.loads(Path(folder, "state.json").read_text())["epoch"]
    trial = tune.get_context().get_trial_id()
    with open(Path(config["events"], trial), "a", buffering=1) as events:
        events.write(f"start {time.time()} {os.getpid()}\n")
        while epoch < config["epochs"]:
            epoch += 1
            time.sleep(config["seconds"])
            events.write(f"end {time.time()} {os.getpid()}\n")
            with tempfile.TemporaryDirectory() as folder:
                Path(folder, "state.json").write_text(json.dumps({"epoch": epoch}))
                tune.report(
                    {"epoch": epoch, "score": config["lr"] * epoch},
                    checkpoint=tune.Checkpoint.from_directory(folder),
                )


class Runs:
    """Tuner runs of the work, as a command or a function, each in a fresh experiment folder.

    Attributes:
        delays: ``{kind}_{report|switch|restart}`` -> seconds, from every run so far.
    """

    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        self.script = root / "sleep_script.py"
        self.script.write_text(SCRIPT)
        self.counter = itertools.count()
        self.delays: dict[str, list[float]] = collections.defaultdict(list)

    def variant(self, kind: str, pbt: bool) -> Callable[[], float]:
        """One run of ``kind`` (``command`` or ``function``): its seconds."""
        return lambda: self.fit(kind, pbt)

    def fit(self, kind: str, pbt: bool) -> float:
        """Seconds of one run; the delays seen in it are added to ``delays``."""
        args = self.args
        name = f"{kind}_{next(self.counter)}"
        events = self.root / name / "events"
        events.mkdir(parents=True)
        trials = args.pbt_trials if pbt else args.trials
        if kind == "command":
            spec = CommandSpec(command=[sys.executable, str(self.script), "${args}"])
            trainable = tune.with_parameters(train_command, spec=spec, metric="score")
        else:
            trainable = sleep_function
        scheduler = None
        if pbt:
            scheduler = PopulationBasedTraining(
                time_attr="training_iteration",
                perturbation_interval=args.interval,
                hyperparam_mutations={"lr": tune.uniform(0.1, 1.0)},
            )
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": args.cpus / min(trials, args.slots)}),
            param_space={
                "lr": tune.uniform(0.1, 1.0),
                "epochs": args.pbt_epochs if pbt else args.epochs,
                "seconds": args.seconds,
                "events": str(events),
            },
            tune_config=tune.TuneConfig(
                metric="score",
                mode="max",
                num_samples=trials,
                scheduler=scheduler,
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(
                name=name,
                storage_path=str(self.root / "results"),
                callbacks=[JsonLoggerCallback()],
                verbose=0,
            ),
        )
        settle_ray()
        seconds, results = timed(tuner.fit)
        if results.errors:
            raise RuntimeError(f"{name}: {results.errors[0]}")
        delays = read_delays(events, args.seconds)
        for what in ("restart",) if pbt else ("report", "switch"):
            self.delays[f"{kind}_{what}"] += delays[what]
        return seconds


def read_delays(events: Path, seconds: float) -> dict[str, list[float]]:
    """Report, switch and restart delays of one run from its notes (see the module's doc)."""
    delays: dict[str, list[float]] = {"report": [], "switch": [], "restart": []}
    notes = []  # (time, kind, trial, worker)
    for trial in events.iterdir():
        previous_end = None
        for line in trial.read_text().splitlines():
            kind, stamp, worker = line.split()
            notes.append((float(stamp), kind, trial.name, worker))
            if previous_end is not None and kind == "end":
                delays["report"].append(float(stamp) - previous_end - seconds)
            elif previous_end is not None:
                delays["restart"].append(float(stamp) - previous_end)
            previous_end = float(stamp) if kind == "end" else None
    last_trial: dict[str, str] = {}
    last_end: dict[str, float] = {}
    for stamp, kind, trial, worker in sorted(notes):
        if kind == "start" and last_trial.get(worker, trial) != trial:
            delays["switch"].append(stamp - last_end[worker])
        last_trial[worker] = trial
        if kind == "end":
            last_end[worker] = stamp
    return delays


def tenth(values: list[float]) -> float:
    """The 10th percentile (``nan`` for fewer than two values)."""
    return statistics.quantiles(values, n=10)[0] if len(values) > 1 else math.nan


def python_start_s(script: Path, root: Path, repeats: int) -> float:
    """Median seconds of the script alone doing no work: the cost of starting Python."""
    env = {**os.environ, "RAYTUNE_HPO_CHECKPOINT_DIR": str(root), "RAYTUNE_HPO_TRIAL_ID": "x"}
    argv = [sys.executable, str(script), "--epochs=0", "--seconds=0", f"--events={root}", "--lr=1"]
    runs = range(repeats)
    return median([timed(lambda: subprocess.run(argv, env=env, check=True))[0] for _ in runs])


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--trials", type=int, default=24, help="FIFO trials")
    parser.add_argument("--epochs", type=int, default=4, help="epochs of a FIFO trial")
    parser.add_argument("--seconds", type=float, default=0.25, help="sleep per epoch")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs given to Ray")
    parser.add_argument("--slots", type=int, default=4, help="FIFO trials at once")
    parser.add_argument("--pbt-trials", type=int, default=4, help="PBT trials, all at once")
    parser.add_argument("--pbt-epochs", type=int, default=16, help="epochs of a PBT trial")
    parser.add_argument("--interval", type=int, default=2, help="PBT perturbation interval")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each variant")


def main() -> None:
    """Measure command and function trials on the same work, FIFO and PBT."""
    args = parse_args(__doc__, configure)
    if args.smoke:
        # Two at once, so that each worker takes a second trial: a switch to measure.
        args.trials, args.slots, args.epochs, args.seconds, args.repeats = 4, 2, 2, 0.05, 1
        args.pbt_trials, args.pbt_epochs = 2, 6
    print_header("Command trials vs function trials: extra wall time per trial and per restart")
    print(
        f"fifo: {args.trials} trials x {args.epochs} epochs x {args.seconds} s, {args.slots} "
        f"at once on {args.cpus} CPUs. pbt: {args.pbt_trials} trials x {args.pbt_epochs} "
        f"epochs at once, perturbation every {args.interval} epochs"
    )
    with scratch_dir() as root, ray_session(num_cpus=args.cpus, preload_torch=False) as init_s:
        runs = Runs(args, root)
        start_s = python_start_s(runs.script, root, 1 if args.smoke else 5)
        samples: dict[str, list[float]] = {}
        for scheduler in ("fifo", "pbt"):
            variants = {f"{scheduler}_{kind}": kind for kind in ("function", "command")}
            samples |= interleave(
                {name: runs.variant(kind, scheduler == "pbt") for name, kind in variants.items()},
                args.repeats,
            )
    print_samples(samples, "s")
    print_samples({name: delays for name, delays in runs.delays.items() if delays}, "s")
    extra = {
        what: median(runs.delays[f"command_{what}"]) - median(runs.delays[f"function_{what}"])
        for what in ("report", "switch", "restart")
    }
    restart_p10 = {kind: tenth(runs.delays[f"{kind}_restart"]) for kind in ("function", "command")}
    finish(
        {
            "ray_init_s": init_s,
            "python_start_s": start_s,
            **{f"{name}_s": median(values) for name, values in samples.items()},
            **{f"{name}_s": median(values) for name, values in runs.delays.items()},
            **{f"{name}_count": len(values) for name, values in runs.delays.items()},
            "command_extra_s_per_report": extra["report"],
            "command_extra_s_per_switch": extra["switch"],
            "function_restart_p10_s": restart_p10["function"],
            "command_restart_p10_s": restart_p10["command"],
            "command_extra_s_per_restart_median": extra["restart"],
            "command_extra_s_per_restart": restart_p10["command"] - restart_p10["function"],
            "command_extra_s_per_trial": extra["switch"] + args.epochs * max(extra["report"], 0),
        },
        "command_extra_s_per_trial",
    )


if __name__ == "__main__":
    main()
