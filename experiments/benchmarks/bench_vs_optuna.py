"""Time to a validation-error target: raytune_hpo against Optuna, on the same task and budget.

The task: ReLU LeNet on scikit-learn's ``digits`` (the toolkit's ``digits`` data set, loaded by
``raytune_hpo.demos.datasets.load_dataset`` on both sides, so both train on identical arrays) over
the search space of the seed-study configs (learning rate log-uniform in [0.01, 1], batch 32..256,
momentum 0; first point lr 0.1 / batch 128): 16 trials of up to 10 epochs, 2 at once with 1 CPU
(one torch thread) each, within a wall-clock budget (``--budget-s``). Two methods per tool
(``--methods``; ``--smoke`` runs asha alone), each from one resolved config (the YAML file with
this script's overrides):

- random (``configs/lenet/random.yaml``): Optuna's ``RandomSampler(seed)`` without a pruner;
- asha (``configs/lenet/asha.yaml``: grace 2, reduction factor 2): ``RandomSampler(seed)`` with
  ``SuccessiveHalvingPruner(min_resource=2, reduction_factor=2)``.

Each run is a fresh command, timed from its launch by this script:

- ours: ``python -m raytune_hpo.cli run FILE --quiet --set ...``, its reports read back with
  ``raytune_hpo.analysis.results.load_experiment`` (``report_time`` of each report); it starts a Ray
  of its own, or with ``--warm`` attaches to one that ``raytune-hpo warm`` started before the
  runs, whose idle workers take its first trials;
- optuna: ``python experiments/benchmarks/_optuna_lenet.py SPEC``: ``study.optimize(objective,
  n_jobs=2, timeout=budget)``, the objective training with the toolkit's own LeNet epoch functions
  and writing each report's wall-clock time to a JSONL file.

Ours saves a checkpoint every epoch, as the configs say (``--checkpoint-frequency N``: every N
epochs and the last); the Optuna side saves none.

The budget starts inside each command (Ray Tune's ``time_budget_s``; Optuna's ``timeout``, and no
epoch starts after it); times from launch include each command's start-up: imports, data, and
Ray's start for ours (the Optuna command imports Ray Tune too, about 1 s, as the LeNet module
does). Per run: seconds from launch to the first report and to the first report at or below
``--target`` (infinite if never), the final incumbent (best validation error of all reports),
the epochs trained and the median time between two reports of one trial. The four runs of a
seed alternate, the first rotating with the seed. The tables give medians per tool and method
(with the seeds that reached the target), then ours / optuna as ratios of medians. A median
time to target is infinite when fewer than half the seeds reach it, so the headline pairs the
runs instead: per method, the median over the seeds where both tools reached the target of
ours / optuna; then the median over the methods.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _bench import (
    REPO,
    finish,
    interleave,
    kept_warm_ray,
    load_config_file,
    median,
    parse_args,
    print_header,
    scratch_dir,
)

from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.search.schedulers import AshaSchedulerConfig, FifoSchedulerConfig

METHODS = {"random": "configs/lenet/random.yaml", "asha": "configs/lenet/asha.yaml"}
OPTUNA_SCRIPT = Path(__file__).resolve().parent / "_optuna_lenet.py"
WORKERS = 2
HEADLINE = "time_to_target_ours_vs_optuna"


Report = tuple[float, float, str]
"""``(report_time, validation_error, trial)`` of one report."""


@dataclass(frozen=True)
class Outcome:
    """One run, seconds from its launch; ``epoch_interval_s``: the median time between two
    reports of one trial (an epoch and what each tool does around it)."""

    first_report_s: float
    time_to_target_s: float
    final: float
    epochs: int
    epoch_interval_s: float

    @classmethod
    def of(cls, launch: float, reports: Sequence[Report], target: float) -> Outcome:
        """From the run's reports; infinite times when none qualify."""
        ordered = sorted(reports)
        reached = [clock for clock, error, _ in ordered if error <= target]
        return cls(
            first_report_s=ordered[0][0] - launch if ordered else math.inf,
            time_to_target_s=reached[0] - launch if reached else math.inf,
            final=min((error for _, error, _ in ordered), default=math.nan),
            epochs=len(ordered),
            epoch_interval_s=median(epoch_intervals(ordered)),
        )


def epoch_intervals(ordered: Sequence[Report]) -> list[float]:
    """Seconds between consecutive reports of the same trial, over all trials."""
    last: dict[str, float] = {}
    intervals = []
    for clock, _, trial in ordered:
        if trial in last:
            intervals.append(clock - last[trial])
        last[trial] = clock
    return intervals


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=60.0, help="wall clock of each search")
    parser.add_argument("--target", type=float, default=0.03, help="validation error to reach")
    parser.add_argument("--samples", type=int, default=None, help="override num_samples")
    parser.add_argument("--epochs", type=int, default=None, help="override max_epochs")
    parser.add_argument("--train-size", type=int, default=None, help="override train_size")
    parser.add_argument(
        "--checkpoint-frequency",
        type=int,
        default=None,
        help="ours: save every N epochs and the last (the configs: every epoch)",
    )
    parser.add_argument(
        "--methods", nargs="+", choices=list(METHODS), default=list(METHODS), help="of both tools"
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="ours on a Ray kept warm by `raytune-hpo warm` (started once, before the runs)",
    )


def overrides(method: str, seed: int, root: Path, args: argparse.Namespace) -> list[str]:
    """``--set`` values of one run: the shared task, this seed, the budget, 2 workers."""
    optional = {
        "num_samples": args.samples,
        "max_epochs": args.epochs,
        "dataset.train_size": args.train_size,
        "checkpoint.frequency": args.checkpoint_frequency,
    }
    return [
        f"name={method}_seed{seed}",
        f"seed={seed}",
        f"storage_path={root / 'results'}",
        "dataset.name=digits",
        f"dataset.data_dir={root / 'data'}",
        "trainable_options.activation=relu",
        f"time_budget_s={args.budget_s}",
        "resources_per_trial.cpu=1",
        "resources_per_trial.gpu=0",
        f"max_concurrent_trials={WORKERS}",
        *(f"{key}={value}" for key, value in optional.items() if value is not None),
    ]


def launch(command: list[str], budget_s: float, ray_tmpdir: str = "") -> float:
    """Run ``command`` from the repository root to its end; when it started (epoch seconds).

    ``ray_tmpdir``: the Ray temp folder where it finds a Ray to attach to.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if ray_tmpdir:
        env["RAY_TMPDIR"] = ray_tmpdir
    started = time.time()
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=budget_s + 600
    )
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(command[1:4])} exited {done.returncode}:\n{output}")
    return started


def run_ours(cfg: Any, method: str, sets: list[str], target: float, ray_tmpdir: str) -> Outcome:
    """``raytune-hpo run`` of the method's config; reports read with the toolkit's analysis."""
    command = [sys.executable, "-m", "raytune_hpo.cli", "run", str(REPO / METHODS[method])]
    command += ["--quiet", *(part for value in sets for part in ("--set", value))]
    started = launch(command, cfg.time_budget_s, ray_tmpdir)
    reports = load_experiment(Path(cfg.storage_path) / cfg.name).reports
    if reports.empty:
        return Outcome.of(started, [], target)
    rows = zip(reports["report_time"], reports[cfg.metric], reports["trial_id"], strict=True)
    return Outcome.of(started, [(float(t), float(e), str(i)) for t, e, i in rows], target)


def optuna_spec(cfg: Any, out: Path) -> dict[str, Any]:
    """The settings of ``_optuna_lenet.py`` for the same resolved config."""
    scheduler = cfg.scheduler
    if isinstance(scheduler, AshaSchedulerConfig):
        pruner = {
            "min_resource": scheduler.grace_period,
            "reduction_factor": int(scheduler.reduction_factor),
        }
    elif isinstance(scheduler, FifoSchedulerConfig):
        pruner = None
    else:
        raise ValueError(f"no Optuna pruner here for scheduler {scheduler.name!r}")
    d = cfg.dataset
    return {
        "seed": cfg.seed,
        "budget_s": cfg.time_budget_s,
        "num_samples": cfg.num_samples,
        "max_epochs": cfg.max_epochs,
        "jobs": cfg.max_concurrent_trials,
        "search_space": cfg.search_space,
        "points_to_evaluate": cfg.points_to_evaluate,
        "pruner": pruner,
        "dataset": {
            "name": d.name,
            "data_dir": d.data_dir,
            "download": d.download,
            "train_size": d.train_size,
            "val_fraction": d.val_fraction,
        },
        "options": cfg.trainable_options,
        "out": str(out),
    }


def run_optuna(cfg: Any, root: Path, target: float) -> Outcome:
    """The Optuna study of the same config, as a command; reports read from its JSONL file."""
    out = root / f"optuna_{cfg.name}.jsonl"
    spec = root / f"optuna_{cfg.name}.json"
    spec.write_text(json.dumps(optuna_spec(cfg, out)))
    started = launch([sys.executable, str(OPTUNA_SCRIPT), str(spec)], cfg.time_budget_s)
    lines = out.read_text().splitlines() if out.exists() else []
    reports = [json.loads(line) for line in lines if line.strip()]
    rows = [(r["report_time"], r["validation_error"], str(r["trial"])) for r in reports]
    return Outcome.of(started, rows, target)


def runs_of_seed(
    seed: int,
    tools: Sequence[str],
    root: Path,
    args: argparse.Namespace,
    seen: dict[str, list[Outcome]],
    ray_tmpdir: str,
) -> dict[str, Callable[[], float]]:
    """``tool/method`` -> one run that records its :class:`Outcome` and returns time to target.

    ``ray_tmpdir``: where ours finds the kept-warm Ray (``--warm``), or ``""``.
    """

    def one(tool: str, method: str) -> Callable[[], float]:
        def run() -> float:
            sets = overrides(method, seed, root / tool, args)
            cfg = load_config_file(METHODS[method], sets, smoke=False)
            if tool == "ours":
                outcome = run_ours(cfg, method, sets, args.target, ray_tmpdir)
            else:
                outcome = run_optuna(cfg, root, args.target)
            seen[f"{tool}/{method}"].append(outcome)
            print(
                f"  seed {seed} {tool}/{method}: first report {outcome.first_report_s:.1f} s, "
                f"target {outcome.time_to_target_s:.1f} s, best {outcome.final:.4f}, "
                f"{outcome.epochs} epochs, {outcome.epoch_interval_s:.3f} s apart",
                flush=True,
            )
            return outcome.time_to_target_s

        return run

    return {f"{t}/{m}": one(t, m) for m in args.methods for t in tools}


def medians(seen: dict[str, list[Outcome]]) -> dict[str, dict[str, float]]:
    """``tool/method`` -> median of each measure, and the seeds that reached the target."""
    table = {}
    for key, outcomes in seen.items():
        table[key] = {
            "first_report_s": median([o.first_report_s for o in outcomes]),
            "time_to_target_s": median([o.time_to_target_s for o in outcomes]),
            "final": median([o.final for o in outcomes]),
            "epochs": median([o.epochs for o in outcomes]),
            "epoch_interval_s": median([o.epoch_interval_s for o in outcomes]),
            "reached": sum(math.isfinite(o.time_to_target_s) for o in outcomes),
        }
    return table


def report(seen: dict[str, list[Outcome]], seeds: int, methods: Sequence[str]) -> dict[str, float]:
    """Print the medians and the ratios ours / optuna; the figures."""
    table = medians(seen)
    measures = ("first_report_s", "time_to_target_s", "final", "epochs", "epoch_interval_s")
    print(f"-- medians over {seeds} seed(s); seconds from launch")
    print(f"{'tool/method':<16}" + "".join(f"{m:>18}" for m in (*measures, "reached")))
    figures: dict[str, float] = {}
    for key, row in table.items():
        cells = "".join(f"{row[m]:>18.4g}" for m in measures)
        print(f"{key:<16}{cells}{row['reached']:>16}/{seeds}")
        figures.update({f"{key.replace('/', '_')}_{m}": row[m] for m in (*measures, "reached")})
    print("-- ours / optuna, ratio of medians")
    print(f"{'method':<16}" + "".join(f"{m:>18}" for m in measures))
    for method in methods:
        ours, theirs = table[f"ours/{method}"], table[f"optuna/{method}"]
        ratios = {m: ours[m] / theirs[m] if theirs[m] else math.nan for m in measures}
        print(f"{method:<16}" + "".join(f"{ratios[m]:>18.4g}" for m in measures))
        figures.update({f"{method}_{m}_ours_vs_optuna": ratios[m] for m in measures})
    print("-- ours / optuna time to target, seeds where both reached it")
    for method in methods:
        ratios = paired_ratios(seen[f"ours/{method}"], seen[f"optuna/{method}"])
        figures[f"{method}_paired_time_to_target_ours_vs_optuna"] = median(ratios)
        shown = ", ".join(f"{ratio:.2f}" for ratio in ratios) or "none"
        print(f"{method:<16}median {median(ratios):.4g} over {len(ratios)} seed(s): {shown}")
    figures[HEADLINE] = median(
        [figures[f"{method}_paired_time_to_target_ours_vs_optuna"] for method in methods]
    )
    return figures


def paired_ratios(ours: Sequence[Outcome], theirs: Sequence[Outcome]) -> list[float]:
    """Ours / optuna time to target, seed by seed, where both reached the target."""
    return [
        mine.time_to_target_s / other.time_to_target_s
        for mine, other in zip(ours, theirs, strict=True)
        if math.isfinite(mine.time_to_target_s) and math.isfinite(other.time_to_target_s)
    ]


def main() -> None:
    """Run both tools with each method for every seed; compare the medians."""
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.seeds, args.target = 1, 1.0
        args.samples, args.epochs, args.train_size = 2, 2, 256
        args.methods = ["asha"]  # random runs the same code, without the pruner
        # A ceiling: the two tiny trials end long before it, but Ray Tune's budget starts
        # before its first trial does, which takes seconds on a loaded machine.
        args.budget_s = 30.0
    print_header("Time to a validation-error target on digits: raytune_hpo vs Optuna")
    tools = ("ours", "optuna")
    print(
        f"target validation error {args.target}, budget {args.budget_s:g} s, "
        f"{WORKERS} workers, seeds 0..{args.seeds - 1}, methods {', '.join(args.methods)}"
    )
    seen: dict[str, list[Outcome]] = {f"{t}/{m}": [] for m in args.methods for t in tools}
    with scratch_dir() as root, contextlib.ExitStack() as stack:
        ray_tmpdir = stack.enter_context(kept_warm_ray())[0] if args.warm else ""
        for seed in range(args.seeds):
            runs = runs_of_seed(seed, tools, root, args, seen, ray_tmpdir)
            interleave(runs, 1, offset=seed)
    finish(report(seen, args.seeds, args.methods), HEADLINE)


if __name__ == "__main__":
    main()
