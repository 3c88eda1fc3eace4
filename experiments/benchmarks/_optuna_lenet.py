"""One Optuna study of the LeNet task of ``bench_vs_optuna.py``, run as a command of its own.

``python experiments/benchmarks/_optuna_lenet.py SPEC.json`` reads the study's settings from SPEC
(written by the benchmark from the same experiment config that raytune_hpo runs), loads the data
set with ``raytune_hpo.demos.datasets.load_dataset``, and runs ``study.optimize(objective, n_jobs=2,
timeout=budget)``. The objective trains the toolkit's LeNet with its own epoch functions
(``raytune_hpo.demos.lenet.LeNetEpochs``: ``train_one_epoch``, then ``evaluate``), reports
the validation error after every epoch (``trial.report``, ``trial.should_prune``) and appends each
report, with its wall-clock time, as one JSON line to SPEC's ``out`` file.

SPEC keys: ``seed``, ``budget_s``, ``num_samples``, ``max_epochs``, ``jobs``, ``search_space`` and
``points_to_evaluate`` (the config's own), ``pruner`` (``null``, or ``min_resource`` and
``reduction_factor`` of successive halving), ``dataset`` (``load_dataset``'s arguments),
``options`` (LeNet's ``trainable_options``) and ``out``.
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import optuna
import torch

from raytune_hpo.demos.datasets import DatasetArrays, load_dataset
from raytune_hpo.demos.lenet import LeNetEpochs
from raytune_hpo.demos.trial_settings import TrialSettings


def suggest(trial: optuna.Trial, name: str, spec: Any) -> Any:
    """One hyperparameter from a YAML spec of the toolkit (a constant or one distribution)."""
    if not isinstance(spec, dict):
        return spec
    [(kind, args)] = spec.items()
    if kind in ("uniform", "loguniform"):
        return trial.suggest_float(name, args[0], args[1], log=kind == "loguniform")
    if kind == "randint":  # both ends inclusive, as in the toolkit's specs
        return trial.suggest_int(name, args[0], args[1])
    if kind == "choice":
        return trial.suggest_categorical(name, args)
    raise ValueError(f"{name}: no Optuna counterpart for {kind!r} here")


def pruner(spec: dict[str, Any] | None) -> optuna.pruners.BasePruner:
    """Successive halving with the spec's rungs, or no pruning."""
    if spec is None:
        return optuna.pruners.NopPruner()
    return optuna.pruners.SuccessiveHalvingPruner(
        min_resource=spec["min_resource"], reduction_factor=spec["reduction_factor"]
    )


class Objective:
    """Train one LeNet per trial, epoch by epoch, until ``max_epochs``, pruning or the deadline.

    Args:
        spec: The study's settings (module docstring).
        data: The arrays, shared by the trials running at once.
        deadline: Epoch seconds after which no trial starts another epoch (``timeout`` only
            stops Optuna from starting trials; the toolkit's budget stops running ones too).
        out: The JSONL file of the reports.
    """

    def __init__(
        self, spec: dict[str, Any], data: DatasetArrays, deadline: float, out: TextIO
    ) -> None:
        self.spec = spec
        self.data = data
        self.deadline = deadline
        self.settings = TrialSettings(
            max_epochs=spec["max_epochs"], seed=spec["seed"], options=spec["options"]
        )
        self.out = out
        self.lock = threading.Lock()

    def __call__(self, trial: optuna.Trial) -> float:
        config = {k: suggest(trial, k, v) for k, v in self.spec["search_space"].items()}
        with self.lock:  # the network's initial weights come from torch's global RNG
            torch.manual_seed(self.settings.seed)
            steps = LeNetEpochs(config, self.data, self.settings, torch.device("cpu"))
        steps.apply_config()
        error = math.nan
        for epoch in range(1, self.settings.max_epochs + 1):
            if time.time() >= self.deadline:
                if epoch == 1:  # the budget ran out before this trial trained
                    raise optuna.TrialPruned()
                break
            report = steps.evaluate_epoch(epoch, steps.train_epoch())
            error = report.metrics["validation_error"]
            self.record(trial.number, epoch, error)
            trial.report(error, epoch)
            if report.diverged:
                break
            if trial.should_prune():
                raise optuna.TrialPruned()
        return error

    def record(self, trial: int, epoch: int, error: float) -> None:
        """Append one report, with its wall-clock time, to the JSONL file."""
        line = {
            "trial": trial,
            "epoch": epoch,
            "validation_error": error,
            "report_time": time.time(),
        }
        with self.lock:
            self.out.write(json.dumps(line) + "\n")
            self.out.flush()


def main(spec_file: str) -> None:
    """Run the study SPEC describes."""
    spec = json.loads(Path(spec_file).read_text())
    torch.set_num_threads(1)  # one thread per job, as a trial of 1 CPU gets in the toolkit
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = load_dataset(**spec["dataset"], seed=spec["seed"])
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.RandomSampler(seed=spec["seed"]),
        pruner=pruner(spec["pruner"]),
    )
    for point in spec["points_to_evaluate"]:
        study.enqueue_trial(point)
    with Path(spec["out"]).open("a") as out:
        objective = Objective(spec, data, time.time() + spec["budget_s"], out)
        study.optimize(
            objective, n_trials=spec["num_samples"], timeout=spec["budget_s"], n_jobs=spec["jobs"]
        )
    states = Counter(trial.state.name for trial in study.trials)
    print(f"trials: {dict(states)}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
