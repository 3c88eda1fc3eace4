"""Framework scripts (Lightning, Hugging Face ``Trainer``, XGBoost) tuned with ASHA and PBT.

Each test runs one config of ``configs/frameworks/`` through the command line, made tiny with
``--set``: four trials of four epochs (rounds), two at a time, on a grid of learning rates whose
first two values learn and last two barely move. A third trial starts only when one of the first
two ends, after it recorded its epoch 1 at ASHA's first rung, so the two poor trials are always
stopped there, whatever the timing.

The frameworks are required (``make test`` installs them): a missing one fails its test.

PBT's exploit, at the command's level, is a start of the script with
``$RAYTUNE_HPO_CHECKPOINT_DIR`` holding another run's state and a new learning rate among its
arguments. The resume tests do exactly that with each script alone (no Ray): a first run with
rate A, its state folder copied as PBT copies a donor's, a second run with rate B. Each asserts
that the second run went on from the saved epoch (round) and trained at rate B (for Lightning
and the HF ``Trainer``, although the optimizer state it loaded holds rate A). One more test
runs the XGBoost script under PBT on a real Ray.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import torch
import xgboost as xgb

from raytune_hpo import api
from raytune_hpo.adapters.command.reporting import STDOUT_LOG
from raytune_hpo.adapters.command.spec import CHECKPOINT_DIR_ENV
from raytune_hpo.analysis.results import Experiment, load_experiment
from raytune_hpo.search.pbt_history import read_records
from tests.helpers.event_files import scalar_points
from tests.helpers.running import run_cli

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs" / "frameworks"
CODE = ROOT / "experiments" / "examples" / "frameworks"
EPOCHS = 4
RUNGS = (1, 2)
"""ASHA's milestones for grace period 1, reduction factor 2 and ``max_t`` of ``EPOCHS``."""
TRIALS = 4
LINES_PER_TRIAL = 6
"""Console lines a trial may cost (started, stopped or finished, progress), beside the
header and the final summary (``CONSOLE_ALLOWANCE``)."""
CONSOLE_ALLOWANCE = 25
COMMON = (
    "num_samples=1",
    f"max_epochs={EPOCHS}",
    "max_concurrent_trials=2",
    "seed=0",
)


@dataclass(frozen=True)
class Case:
    """One framework's config and its overrides for a tiny run.

    Attributes:
        config: The YAML file under ``configs/frameworks/``.
        metric: The experiment's metric.
        rate: The learning-rate hyperparameter, set to a grid of two good and two poor values.
        grid: Its values, good ones first.
        overrides: Constants that make the run tiny.
    """

    config: str
    metric: str
    rate: str
    grid: tuple[float, ...]
    overrides: tuple[str, ...]


CASES = {
    "lightning": Case(
        config="lightning_asha.yaml",
        metric="val_loss",
        rate="lr",
        grid=(0.01, 0.003, 1.0e-5, 1.0e-6),
        overrides=(
            "search_space.hidden_size=32",
            "search_space.dropout=0.0",
            "search_space.batch_size=64",
            f"search_space.max_epochs={EPOCHS}",
        ),
    ),
    "hf_trainer": Case(
        config="hf_trainer_asha.yaml",
        metric="eval_loss",
        rate="learning_rate",
        grid=(0.003, 0.003, 1.0e-6, 1.0e-6),
        overrides=(
            "search_space.per_device_train_batch_size=16",
            "search_space.weight_decay=0.0",
            f"search_space.num_train_epochs={EPOCHS}",
            "search_space.train_size=1000",
        ),
    ),
    "xgboost": Case(
        config="xgboost_asha.yaml",
        metric="val-logloss",
        rate="eta",
        grid=(0.3, 0.2, 0.001, 0.0005),
        overrides=(
            "search_space.max_depth=3",
            "search_space.min_child_weight=1.0",
            "search_space.subsample=1.0",
            f"search_space.num_boost_round={EPOCHS}",
        ),
    ),
}


def code_folder_entries() -> set[str]:
    """What the scripts' folder holds, less Python's byte-code cache."""
    return {entry.name for entry in CODE.iterdir() if entry.name != "__pycache__"}


def tune_framework(name: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run ``name``'s config through the command line, tiny; the result and experiment folder."""
    case = CASES[name]
    storage = tmp_path / "results"
    grid = ", ".join(f"{value:.1e}" for value in case.grid)  # 1.0e-05: a float to YAML
    overrides = (*COMMON, f"search_space.{case.rate}={{grid: [{grid}]}}", *case.overrides)
    args = ["run", str(CONFIGS / case.config), "--storage-path", str(storage), "--name", name]
    for override in overrides:
        args += ["--set", override]
    return run_cli(*args, timeout=240, cwd=tmp_path), storage / name


def trial_reports(experiment: Experiment, trial_id: str) -> pd.DataFrame:
    """A trial's reports in order."""
    reports = experiment.reports
    return reports[reports["trial_id"] == trial_id].sort_values("training_iteration")


def tensorboard_points(trial_dir: Path, tag: str) -> list[tuple[int, float]]:
    """The steps and values of ``tag`` in the event files below a trial folder, by step."""
    return scalar_points(trial_dir, tag, below=True)


def tensorboard_values(trial_dir: Path, tag: str) -> list[float]:
    """The values of ``tag`` in the event files below a trial folder, by step."""
    return [number for _, number in tensorboard_points(trial_dir, tag)]


def printed_dicts(trial_dir: Path, key: str) -> list[float]:
    """The values of ``key`` in the Python dicts a trial printed (Hugging Face's log lines)."""
    values = []
    for line in (trial_dir / "stdout.log").read_text().splitlines():
        if line.startswith("{") and f"'{key}'" in line:
            values.append(float(ast.literal_eval(line)[key]))
    return values


def printed_rounds(trial_dir: Path, name: str) -> list[float]:
    """The values of ``name`` in XGBoost's per-round lines, ``[3]\\tval-logloss:0.21618``."""
    pattern = re.compile(rf"^\[\d+\].*\t{re.escape(name)}:([-+.\de]+)")
    lines = (trial_dir / "stdout.log").read_text().splitlines()
    return [float(match[1]) for line in lines if (match := pattern.match(line))]


OWN_RECORD = {
    "lightning": lambda trial_dir: tensorboard_values(trial_dir, "val_loss"),
    "hf_trainer": lambda trial_dir: printed_dicts(trial_dir, "eval_loss"),
    "xgboost": lambda trial_dir: printed_rounds(trial_dir, "val-logloss"),
}
"""Each framework's own per-epoch record of the metric, read from a trial folder."""


def check_asha_run(name: str, tmp_path: Path) -> Experiment:
    """Run ``name`` and check what every framework must give; the experiment, for more checks."""
    case = CASES[name]
    before = code_folder_entries()
    result, folder = tune_framework(name, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    experiment = load_experiment(folder)
    trials = experiment.trials
    assert len(trials) == TRIALS, trials
    assert (trials["status"] == "TERMINATED").all(), trials[["trial_id", "status"]]
    assert (trials["num_failures"] == 0).all() and trials["error_file"].isna().all(), trials

    epochs: dict[float, list[int]] = {}
    for trial in trials.itertuples():
        reports = trial_reports(experiment, trial.trial_id)
        ran = len(reports)
        assert reports["training_iteration"].tolist() == list(range(1, ran + 1)), trial
        # ASHA stops a trial only at a milestone; a trial it never stops reports every epoch.
        assert ran == EPOCHS or ran in RUNGS, (trial.trial_id, ran)
        # Every report is the epoch the framework recorded, in order, none skipped or repeated.
        own = OWN_RECORD[name](Path(trial.trial_dir))
        assert len(own) >= ran, (trial.trial_id, own, reports[case.metric].tolist())
        if ran == EPOCHS:
            assert len(own) == EPOCHS, (trial.trial_id, own)
        assert reports[case.metric].tolist() == pytest.approx(own[:ran], rel=1e-6)
        epochs.setdefault(trial.config[case.rate], []).append(ran)

    # A poor rate reaches the first rung after a good one recorded a better value there.
    for rate in case.grid[2:]:
        assert epochs[rate] == [RUNGS[0]] * case.grid.count(rate), epochs
    assert any(ran == EPOCHS for runs in epochs.values() for ran in runs), epochs

    console = result.stdout.splitlines()
    assert len(console) <= LINES_PER_TRIAL * TRIALS + CONSOLE_ALLOWANCE, result.stdout
    assert code_folder_entries() == before, "trials wrote into the scripts' folder"
    # A trial folder keeps what its command wrote, not links into the scripts' folder.
    links = [path for path in folder.rglob("*") if path.is_symlink()]
    assert not links, links
    return experiment


def test_lightning_script_reports_every_epoch_from_tensorboard(tmp_path: Path) -> None:
    experiment = check_asha_run("lightning", tmp_path)
    for trial_dir in experiment.trials["trial_dir"]:
        assert list(Path(trial_dir).rglob("lightning_logs/version_*/events.out.tfevents.*"))


def test_hf_trainer_script_reports_its_printed_evaluations(tmp_path: Path) -> None:
    check_asha_run("hf_trainer", tmp_path)


def test_xgboost_script_reports_rounds_and_keeps_each_model(tmp_path: Path) -> None:
    experiment = check_asha_run("xgboost", tmp_path)
    for trial in experiment.trials.itertuples():
        if len(trial_reports(experiment, trial.trial_id)) < EPOCHS:
            continue  # stopped by ASHA: its script was ended before it saved
        # A script that ran to its end saved its whole model in its trial's own folder.
        models = list(Path(trial.trial_dir).rglob("model.json"))
        assert len(models) == 1, (trial.trial_id, models)
        assert xgb.Booster(model_file=str(models[0])).num_boosted_rounds() == EPOCHS


# --- resuming from a state folder with a new learning rate (PBT's exploit, without Ray) -------


def run_script(script: str, state: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` of ``experiments/examples/frameworks/`` in ``cwd`` with ``state`` as its state
    folder, as a command trial runs it; it must succeed."""
    cwd.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, CHECKPOINT_DIR_ENV: str(state), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, str(CODE / script), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def first_run_and_donor(
    tmp_path: Path, script: str, *args: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """A first run in ``tmp_path/first`` with state folder ``tmp_path/state``, and a copy of
    that folder (the donor's checkpoint an exploit restores)."""
    state = tmp_path / "state"
    state.mkdir()
    first = run_script(script, state, tmp_path / "first", *args)
    donor = tmp_path / "donor"
    shutil.copytree(state, donor)
    return first, donor


def validated_epochs(run_dir: Path) -> list[float]:
    """The ``epoch`` Lightning logged with each ``val_loss``, from the event files."""
    epochs = dict(tensorboard_points(run_dir, "epoch"))
    return [epochs[step] for step, _ in tensorboard_points(run_dir, "val_loss")]


def test_lightning_script_resumes_its_epoch_with_the_new_lr(tmp_path: Path) -> None:
    tiny = ("--hidden_size=32", "--batch_size=64", "--dropout=0.0")
    first, donor = first_run_and_donor(
        tmp_path, "lightning_digits.py", "--lr=0.01", "--max_epochs=2", *tiny
    )
    saved = torch.load(donor / "last.ckpt", map_location="cpu", weights_only=False)
    # What a plain ckpt_path= restore would put in force again: the first run's rate.
    assert [g["lr"] for g in saved["optimizer_states"][0]["param_groups"]] == [0.01]

    run_script(
        "lightning_digits.py", donor, tmp_path / "second", "--lr=0.002", "--max_epochs=4", *tiny
    )
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    assert validated_epochs(first_dir) == [0, 1]
    assert tensorboard_values(first_dir, "lr-Adam") == pytest.approx([0.01, 0.01])
    # Epochs 3 and 4 only (0-based 2, 3), at the new rate from the first one.
    assert validated_epochs(second_dir) == [2, 3]
    assert tensorboard_values(second_dir, "lr-Adam") == pytest.approx([0.002, 0.002])
    # From the trained weights: its first epoch beats the first run's first (1.2 vs 0.46).
    val_first, val_second = (tensorboard_values(d, "val_loss") for d in (first_dir, second_dir))
    assert len(val_second) == 2 and val_second[0] < 0.7 * val_first[0], (val_first, val_second)
    # Its own state went on too: last.ckpt now holds the fourth epoch, saved at the new rate.
    resumed = torch.load(donor / "last.ckpt", map_location="cpu", weights_only=False)
    assert resumed["epoch"] == 3 and resumed["global_step"] == 2 * saved["global_step"]
    assert [g["lr"] for g in resumed["optimizer_states"][0]["param_groups"]] == [0.002]


HF_STEPS_PER_EPOCH = 4
"""``--train_size=64`` at the default batch size of 16."""


def test_hf_trainer_script_resumes_its_epoch_with_the_new_learning_rate(tmp_path: Path) -> None:
    tiny = ("--train_size=64", "--sentence_length=6")
    first, donor = first_run_and_donor(
        tmp_path, "hf_trainer_bert.py", "--learning_rate=0.003", "--num_train_epochs=2", *tiny
    )
    (checkpoint,) = donor.glob("checkpoint-*")  # save_total_limit=1: the last epoch's
    assert checkpoint.name == f"checkpoint-{2 * HF_STEPS_PER_EPOCH}"
    scheduler = torch.load(checkpoint / "scheduler.pt", weights_only=False)
    # What a plain resume_from_checkpoint would put in force again: the first run's rate.
    assert set(scheduler["base_lrs"]) == {0.003}

    second = run_script(
        "hf_trainer_bert.py",
        donor,
        tmp_path / "second",
        "--learning_rate=0.001",
        "--num_train_epochs=4",
        *tiny,
    )
    logs = [ast.literal_eval(line) for line in second.stdout.splitlines() if line.startswith("{")]
    evaluations = [float(log["epoch"]) for log in logs if "eval_loss" in log]
    assert evaluations == [3, 4]  # epochs 3 and 4 only: it went on from the saved one
    rates = [float(log["learning_rate"]) for log in logs if "learning_rate" in log]
    # The rate of each epoch's last step on the linear decay of the 4-epoch run, from 0.001:
    # step s (1-based) trains at rate * (1 - (s - 1) / total steps).
    total = 4 * HF_STEPS_PER_EPOCH
    expected = [0.001 * (1 - (epoch * HF_STEPS_PER_EPOCH - 1) / total) for epoch in (3, 4)]
    assert rates == pytest.approx(expected, rel=1e-3), (rates, expected)
    (last,) = donor.glob("checkpoint-*")
    assert last.name == f"checkpoint-{total}"


def printed_eta(stdout: str) -> list[tuple[int, float]]:
    """The ``round=N eta=X`` lines the XGBoost script printed."""
    found = re.findall(r"^round=(\d+) eta=(\S+)$", stdout, flags=re.MULTILINE)
    return [(int(number), float(eta)) for number, eta in found]


def test_xgboost_script_continues_its_booster_with_the_new_eta(tmp_path: Path) -> None:
    tiny = ("--max_depth=3", "--subsample=1.0")
    first, donor = first_run_and_donor(
        tmp_path, "xgboost_breast_cancer.py", "--eta=0.3", "--num_boost_round=3", *tiny
    )
    assert printed_eta(first.stdout) == [(1, 0.3), (2, 0.3), (3, 0.3)]
    saved = xgb.Booster(model_file=donor / "booster.json")
    assert saved.num_boosted_rounds() == 3
    trees = saved.get_dump()

    second = run_script(
        "xgboost_breast_cancer.py",
        donor,
        tmp_path / "second",
        "--eta=0.05",
        "--num_boost_round=6",
        *tiny,
    )
    assert f"continuing {donor / 'booster.json'} after round 3" in second.stdout
    # The three rounds left, at the new eta.
    assert printed_eta(second.stdout) == [(4, 0.05), (5, 0.05), (6, 0.05)]
    assert len(re.findall(r"^\[\d+\]\tval-logloss:", second.stdout, flags=re.MULTILINE)) == 3
    continued = xgb.Booster(model_file=donor / "booster.json")
    assert continued.num_boosted_rounds() == 6
    assert continued.get_dump()[:3] == trees  # the saved trees, and three more after them
    assert not list(donor.glob("*.tmp*"))


# --- the XGBoost script under PBT on a real Ray ------------------------------------------------

PBT_ROUNDS = 8


def script_runs(log: str) -> list[tuple[int, list[tuple[int, float]]]]:
    """Each start of the XGBoost script in a trial's ``stdout.log``: the rounds of the booster
    it found in its state folder (0: none) and the ``(round, eta)`` lines it printed."""
    runs: list[tuple[int, list[tuple[int, float]]]] = []
    for line in log.splitlines():
        if match := re.fullmatch(r"continuing \S+ after round (\d+)", line):
            runs.append((int(match[1]), []))
        elif match := re.fullmatch(r"round=(\d+) eta=(\S+)", line):
            if match[1] == "1":  # a start without a state
                runs.append((0, []))
            runs[-1][1].append((int(match[1]), float(match[2])))
    return runs


def test_xgboost_script_under_pbt_continues_every_restored_trial(
    ray_session: None, tmp_path: Path
) -> None:
    # One trial at a time (2 CPUs each): at each perturbation PBT pauses the running trial for
    # one that is behind, so the four take turns and the poor rates meet the good ones' scores.
    # Every restart (a turn's resume or an exploit) starts the script on a restored state
    # folder; one checkpoint kept per trial, so exploits rely on the donor's being kept.
    config = {
        "name": "xgboost_pbt",
        "trainable": {
            "command": "python xgboost_breast_cancer.py ${args}",
            "workdir": str(CODE),
        },
        "metric": "val-logloss",
        "mode": "min",
        "max_epochs": PBT_ROUNDS,
        "num_samples": 1,
        "seed": 0,
        "search_space": {
            "eta": {"grid": [0.3, 0.2, 0.001, 0.0005]},
            "max_depth": 3,
            "subsample": 1.0,
            "num_boost_round": PBT_ROUNDS,
        },
        "scheduler": {
            "name": "pbt",
            "perturbation_interval": 2,
            "quantile_fraction": 0.25,
            "resample_probability": 0.0,
            "hyperparam_mutations": {"eta": {"loguniform": [0.01, 0.5]}},
        },
        "checkpoint": {"num_to_keep": 1},
        "resources_per_trial": {"cpu": 2},
        "storage_path": str(tmp_path / "results"),
    }
    outcome = api.run(config, output="quiet")
    experiment = load_experiment(Path(outcome.path))
    trials = experiment.trials.set_index("trial_id")
    assert len(trials) == 4
    assert (trials["status"] == "TERMINATED").all(), trials["status"]
    assert (trials["num_failures"] == 0).all() and trials["error_file"].isna().all(), trials

    runs: dict[str, list[tuple[int, list[tuple[int, float]]]]] = {}
    models: dict[str, xgb.Booster] = {}
    for trial_id, trial in trials.iterrows():
        runs[trial_id] = script_runs((Path(trial.trial_dir) / STDOUT_LOG).read_text())
        # The first start had no state; a restart went on from the rounds of the state it found
        # (none where the trial had no checkpoint yet: a loop of milliseconds runs ahead of the
        # reading, and such reports carry none rather than a later state).
        assert runs[trial_id][0][0] == 0, (trial_id, runs[trial_id])
        for found, printed in runs[trial_id]:
            rounds = [number for number, _ in printed]
            assert rounds == list(range(found + 1, found + 1 + len(rounds))), (trial_id, found)
        # Its last start saved the whole model: each start added only the rounds its state lacked.
        (model,) = Path(trial.trial_dir).rglob("model.json")
        models[trial_id] = xgb.Booster(model_file=model)
        assert models[trial_id].num_boosted_rounds() == PBT_ROUNDS, trial_id
    # PBT paused each of the first three trials at its first perturbation for one not started.
    assert sum(len(started) - 1 for started in runs.values()) >= 3, runs

    records = read_records(Path(outcome.path))  # exploits, where a donor had a checkpoint
    for record in records:
        trial_id, donor_id = record["trial_id"], record["donor_id"]
        # A restart that trained at the new eta from its first round, on the donor's booster.
        new_eta = pytest.approx(record["new"]["eta"], rel=1e-5)
        exploited = [
            found for found, printed in runs[trial_id][1:] if printed[:1] == [(found + 1, new_eta)]
        ]
        assert exploited, (record, runs[trial_id])
        # The trial's model begins with its donor's trees (both kept them since).
        if record == [r for r in records if r["trial_id"] == trial_id][-1] and not any(
            other["trial_id"] == donor_id for other in records
        ):
            found = exploited[0]
            assert models[trial_id].get_dump()[:found] == models[donor_id].get_dump()[:found]
