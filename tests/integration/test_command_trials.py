"""Command trials on a real Ray: every way a trial ends leaves no process of its command behind.

The trials run a small Python script written by each test. It records its pid (and those of
the children it spawns) as files in a folder, reports ``epoch=N loss=...`` per epoch, and keeps
its state in ``$RAYTUNE_HPO_CHECKPOINT_DIR``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from raytune_hpo.adapters.command.command_trainable import STDERR_LOG, train_command
from raytune_hpo.adapters.command.process_group import CommandProcess
from raytune_hpo.adapters.command.reporting import STDOUT_LOG
from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.output_lines import error_headline
from raytune_hpo.search.pbt_donors import DonorKeepingPBT

pytestmark = pytest.mark.integration

SCRIPT = r"""
import argparse, json, os, signal, subprocess, sys, time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--pids", required=True)
parser.add_argument("--epochs", type=int, default=10**6)
parser.add_argument("--sleep", type=float, default=0.05)
parser.add_argument("--child", default="False")
parser.add_argument("--ignore_term", default="False")
parser.add_argument("--fail_at", type=int, default=0)
parser.add_argument("--marks", default="")  # a folder: "lr<lr>_epoch<N>" after each epoch
parser.add_argument("--save_after", default="False")  # print the epoch, then save it
parser.add_argument("--hold", default="")  # "N:MARK,...": before epoch N, wait (<= 60 s) for MARK
args = parser.parse_args()

pids = Path(args.pids)
pids.mkdir(exist_ok=True)
if args.ignore_term == "True":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if args.child == "True":  # a child in the same group that inherits stdout and outlives us
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", str(pids)])
    (pids / f"{child.pid}.child").write_text("")
(pids / f"{os.getpid()}.script").write_text(str(os.getppid()))

state_file = Path(os.environ["RAYTUNE_HPO_CHECKPOINT_DIR"]) / "state.json"
state = json.loads(state_file.read_text()) if state_file.exists() else None
marks = Path(args.marks) if args.marks else None
if state:
    print(f"restored epoch={state['epoch']} trial={state['trial']} lr={state['lr']} "
          f"new_lr={args.lr}")
    if marks and state["trial"] != os.environ["RAYTUNE_HPO_TRIAL_ID"]:
        (marks / "exploited").write_text("")
restored = state is not None
holds = dict(hold.split(":") for hold in args.hold.split(",") if hold)
for epoch in range((state["epoch"] if restored else 0) + 1, args.epochs + 1):
    time.sleep(args.sleep)
    if marks and str(epoch) in holds:
        waited = 0.0
        while not (marks / holds[str(epoch)]).exists() and waited < 60:
            time.sleep(0.05)
            waited += 0.05
    if epoch == args.fail_at and not restored:
        print("simulated crash: CUDA out of memory", file=sys.stderr)
        sys.exit(3)
    state = {"epoch": epoch, "trial": os.environ["RAYTUNE_HPO_TRIAL_ID"], "lr": args.lr}
    if args.save_after == "True":
        print(f"epoch {epoch}: loss={abs(args.lr - 0.5) + 1 / epoch} epoch={epoch}", flush=True)
    (state_file.parent / "tmp").write_text(json.dumps(state))
    (state_file.parent / "tmp").replace(state_file)
    if args.save_after != "True":
        print(f"epoch {epoch}: loss={abs(args.lr - 0.5) + 1 / epoch} epoch={epoch}", flush=True)
    if marks:
        (marks / f"lr{args.lr}_epoch{epoch}").write_text("")
print("training done", flush=True)
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    return path


@pytest.fixture(autouse=True)
def lean_loggers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")


def fit(
    tmp_path: Path,
    script: Path,
    space: dict[str, Any],
    *,
    metric: str = "loss",
    grace_s: float = 2.0,
    max_epochs: int | None = None,
    state_saved: str = "before_report",
    **options: Any,
) -> tune.ResultGrid:
    """Run command trials of ``space`` (and ``pids``) with a Tuner built as the engine does."""
    spec = CommandSpec(
        command=[sys.executable, str(script), "${args}"],
        workdir=str(tmp_path),
        stop_grace_s=grace_s,
        state_saved=state_saved,
    )
    trainable = tune.with_parameters(train_command, spec=spec, metric=metric, max_epochs=max_epochs)
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 0.5}),
        param_space={**space, "pids": str(tmp_path / "pids")},
        tune_config=tune.TuneConfig(
            metric=metric,
            mode="min",
            reuse_actors=True,
            scheduler=options.pop("scheduler", None),
        ),
        run_config=tune.RunConfig(
            name="exp", storage_path=str(tmp_path / "results"), verbose=0, **options
        ),
    )
    return tuner.fit()


def recorded(tmp_path: Path, kind: str = "*") -> list[int]:
    return [int(path.name.split(".")[0]) for path in (tmp_path / "pids").glob(f"*.{kind}")]


def running(pid: int, marker: Path) -> bool:
    """Whether ``pid`` runs (zombies do not) and is ours (its command line names ``marker``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in "ZX" and str(marker).encode() in cmdline


def assert_all_ended(tmp_path: Path, within_s: float) -> None:
    pids = recorded(tmp_path)
    assert pids, "the script recorded no pid"
    deadline = time.monotonic() + within_s
    while (
        alive := [pid for pid in pids if running(pid, tmp_path)]
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, f"still running: {alive} of {pids}"


def assert_no_scratch_left(results: tune.ResultGrid, within_s: float) -> None:
    """No trial run's scratch folder (config file, checkpoint folder) is left in the temp dir."""
    ids = [result.metrics["trial_id"] for result in results]
    deadline = time.monotonic() + within_s
    while (
        left := [p for i in ids for p in Path(tempfile.gettempdir()).glob(f"raytune_hpo_{i}_*")]
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left


class Reports(tune.Callback):
    """Every result the driver sees: ``(trial id, training_iteration, the script's epoch)``."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, int]] = []

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any):
        self.rows.append((trial.trial_id, result["training_iteration"], int(result["epoch"])))


def epochs_logged(result: tune.Result) -> list[int]:
    log = Path(result.path, STDOUT_LOG).read_text()
    return [int(epoch) for epoch in re.findall(r"^epoch (\d+):", log, re.MULTILINE)]


def test_asha_stops_trials_early_and_no_process_outlives_its_trial(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    asha = ASHAScheduler(time_attr="training_iteration", max_t=8, grace_period=1)
    results = fit(
        tmp_path,
        script,
        {
            "lr": tune.grid_search([0.5, 0.4, 0.1, 0.9]),
            "sleep": tune.sample_from(lambda spec: 0.05 + 0.5 * abs(spec.config.lr - 0.5)),
            "epochs": 8,
            "child": True,
        },
        scheduler=asha,
        max_epochs=8,
    )
    iterations = sorted(r.metrics["training_iteration"] for r in results)
    assert not results.errors
    assert iterations[0] < 8 and iterations[-1] == 8, iterations
    assert len(recorded(tmp_path, "child")) == 4
    assert_all_ended(tmp_path, within_s=5)
    assert_no_scratch_left(results, within_s=5)
    for result in results:  # stopped trials were paused at their last report
        assert epochs_logged(result)[-1] == result.metrics["training_iteration"]
        # At max_epochs the script ends by itself; ASHA's stop ends it at once.
        finished = "training done" in Path(result.path, STDOUT_LOG).read_text()
        assert finished is (result.metrics["training_iteration"] == 8)


def test_stop_criterion_kills_a_script_that_ignores_sigterm_after_the_grace(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    results = fit(
        tmp_path,
        script,
        {"lr": tune.grid_search([0.5, 0.45]), "ignore_term": True, "child": True},
        grace_s=0.5,
        stop={"training_iteration": 3},
    )
    assert [r.metrics["training_iteration"] for r in results] == [3, 3]
    assert_all_ended(tmp_path, within_s=3)
    for result in results:
        # What it printed while its SIGTERM was ignored is logged too, after the reports.
        assert epochs_logged(result)[:3] == [1, 2, 3]
        checkpoint = json.loads(Path(result.checkpoint.path, "state.json").read_text())
        assert checkpoint["epoch"] == 3


def restores(result: Any) -> list[dict[str, str]]:
    """What the trial's script printed each time it started from a state: ``epoch``, ``trial``
    (whose state it was: another trial's after an exploit), ``lr`` (the state's) and
    ``new_lr`` (the one it was started with)."""
    return [
        dict(pair.split("=") for pair in line.split()[1:])
        for line in Path(result.path, STDOUT_LOG).read_text().splitlines()
        if line.startswith("restored ")
    ]


def pbt_of_two(lr: Any) -> DonorKeepingPBT:
    """The toolkit's PBT perturbing ``lr`` every 2 reports, half the population a quantile."""
    return DonorKeepingPBT(
        time_attr="training_iteration",
        perturbation_interval=2,
        quantile_fraction=0.5,
        hyperparam_mutations={"lr": lr},
    )


def test_pbt_exploit_restarts_from_the_donors_checkpoint_with_a_new_lr(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    # Asynchronous PBT, one checkpoint kept per trial, 0.1 s per epoch. The scripts fix the
    # order of the reports that matter (each waits for a mark that the other writes after Ray
    # Tune has taken the report before it), so the run is the same on a loaded machine:
    # the worse trial (lr 0.2) gets a score at its epoch 2; then the better one (lr 0.5) is the
    # top trial at its epoch 4; then the worse one, at its epoch 4, exploits it; the better one
    # waits before its epoch 5 until that has happened.
    pbt = pbt_of_two(tune.uniform(0.4, 0.6))
    marks = tmp_path / "marks"
    marks.mkdir()
    reports = Reports()
    results = fit(
        tmp_path,
        script,
        {
            "lr": tune.grid_search([0.5, 0.2]),
            "sleep": 0.1,
            "marks": str(marks),
            "hold": tune.sample_from(
                lambda spec: (
                    "4:lr0.2_epoch2,5:exploited" if spec.config.lr == 0.5 else "4:lr0.5_epoch4"
                )
            ),
        },
        scheduler=pbt,
        stop={"training_iteration": 6},
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
        callbacks=[reports],
    )
    assert not results.errors
    exploits = []
    for result in results:
        restarts = restores(result)
        exploits += [r for r in restarts if r["trial"] != result.metrics["trial_id"]]
        if restarts:  # the command got the trial's hyperparameters as they are now
            assert float(restarts[-1]["new_lr"]) == pytest.approx(result.config["lr"])
    assert len(exploits) == 1, exploits
    (restored,) = exploits
    assert float(restored["lr"]) == 0.5  # the donor's state, as its script saved it
    assert int(restored["epoch"]) == 4  # at the donor's perturbation
    assert float(restored["new_lr"]) != 0.5  # explored
    # Every report is the script's own epoch, before and after the restore.
    assert reports.rows and all(iteration == epoch for _, iteration, epoch in reports.rows)
    assert_all_ended(tmp_path, within_s=5)


def test_pbt_with_one_checkpoint_kept_never_loses_a_donor_of_a_fast_loop(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    # Four trials writing their state atomically every ~2 ms: donors report (and their one
    # kept checkpoint is replaced) many times between an exploit and its restore, which each
    # exploit puts to the test (a command restarts in about a second).
    pbt = pbt_of_two(tune.uniform(0.1, 0.9))
    results = fit(
        tmp_path,
        script,
        {"lr": tune.grid_search([0.5, 0.3, 0.2, 0.9]), "sleep": 0.002},
        scheduler=pbt,
        stop={"training_iteration": 20},  # 10 perturbations each
        checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
    )
    assert not results.errors, [str(r.error).splitlines()[0] for r in results if r.error]
    assert [r.metrics["training_iteration"] for r in results] == [20] * 4
    exploits = [
        restore
        for result in results
        for restore in restores(result)
        if restore["trial"] != result.metrics["trial_id"]
    ]
    assert len(exploits) >= 4, exploits  # the bottom half copies the top half at each round
    for result in results:  # each trial's latest checkpoint (a donor's copy or its own) is whole
        if result.checkpoint is not None:
            json.loads(Path(result.checkpoint.path, "state.json").read_text())


def test_a_failing_command_errors_with_its_exit_code_and_stderr(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    results = fit(tmp_path, script, {"lr": 0.5, "fail_at": 3})
    (result,) = results
    assert result.error is not None
    error_file = Path(result.path, "error.txt").read_text()
    assert "command exited with code 3" in error_file
    assert "simulated crash: CUDA out of memory" in error_file
    assert "simulated crash" in Path(result.path, STDERR_LOG).read_text()
    assert result.metrics["training_iteration"] == 2
    assert_all_ended(tmp_path, within_s=3)


def test_a_retry_restarts_the_command_from_its_last_checkpoint(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    results = fit(
        tmp_path,
        script,
        {"lr": 0.5, "fail_at": 3, "epochs": 5},
        failure_config=tune.FailureConfig(max_failures=1),
    )
    (result,) = results
    assert result.error is None
    assert result.metrics["epoch"] == 5
    log = Path(result.path, STDOUT_LOG).read_text()
    assert "restored epoch=2 " in log
    assert epochs_logged(result) == [1, 2, 3, 4, 5]


def test_a_script_that_prints_before_it_saves_is_paired_right_with_after_report(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    # The Hugging Face Trainer's order: the epoch's line, then its state. Each report waits
    # for the next line (or the script's end, here its crash at epoch 3) and takes the state
    # then, so the retry restarts from epoch 2's state at iteration 2.
    reports = Reports()
    results = fit(
        tmp_path,
        script,
        {"lr": 0.5, "fail_at": 3, "epochs": 5, "save_after": True},
        state_saved="after_report",
        failure_config=tune.FailureConfig(max_failures=1),
        callbacks=[reports],
    )
    (result,) = results
    assert result.error is None
    assert "restored epoch=2 " in Path(result.path, STDOUT_LOG).read_text()
    assert [(iteration, epoch) for _, iteration, epoch in reports.rows] == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
        (5, 5),
    ]
    assert json.loads(Path(result.checkpoint.path, "state.json").read_text())["epoch"] == 5


def test_a_command_that_never_prints_the_metric_gets_one_clear_error(
    ray_session: None, tmp_path: Path, script: Path
) -> None:
    results = fit(tmp_path, script, {"lr": 0.5, "epochs": 2}, metric="val_loss")
    (result,) = results
    message = str(result.error)
    headline = error_headline(message)
    assert "no report of the metric 'val_loss'" in headline
    assert "'val_loss=0.123'" in headline
    assert "numeric keys seen: epoch, loss" in headline
    assert "epoch 2: loss=" in message  # the last lines of stdout


def when_started(
    tmp_path: Path, count: int, action: Callable[[list[Path]], None]
) -> threading.Thread:
    """A thread that calls ``action`` with the pid files once ``count`` scripts have started."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + 60
        while len(scripts := list((tmp_path / "pids").glob("*.script"))) < count:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
        time.sleep(0.3)
        action(scripts)

    thread = threading.Thread(target=wait_then_act)
    thread.start()
    return thread


def test_ctrl_c_ends_every_command(ray_session: None, tmp_path: Path, script: Path) -> None:
    """Ray Tune's graceful stop on SIGINT stops each trial inside its ``tune.report``."""
    interrupt = when_started(tmp_path, 2, lambda _: os.kill(os.getpid(), signal.SIGINT))
    results = fit(tmp_path, script, {"lr": tune.grid_search([0.5, 0.4]), "child": True})
    interrupt.join()
    assert all(result.metrics["training_iteration"] >= 1 for result in results)
    assert_all_ended(tmp_path, within_s=3)


def test_a_killed_worker_leaves_no_process(ray_session: None, tmp_path: Path, script: Path) -> None:
    """Ray kills workers that hang or at shutdown: the guardian ends the command then."""
    kill = when_started(tmp_path, 1, lambda s: os.kill(int(s[0].read_text()), signal.SIGKILL))
    results = fit(tmp_path, script, {"lr": 0.5, "child": True, "ignore_term": True}, grace_s=0.5)
    kill.join()
    assert results[0].error is not None
    assert_all_ended(tmp_path, within_s=5)
    assert_no_scratch_left(results, within_s=5)  # the guardian removed it


GRACE_S = 6.0
"""The sleeper's SIGTERM grace: ending within half of it shows that SIGTERM did the work."""


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[CommandProcess]:
    argv = [sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)", str(tmp_path)]
    process = CommandProcess(argv, tmp_path, os.environ, grace_s=GRACE_S)
    yield process
    process.end()


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def await_state(pid: int, states: str, timeout_s: float = 10.0) -> str:
    """The process's state once it is one of ``states`` (a loaded machine takes its time)."""
    deadline = time.monotonic() + timeout_s
    while (now := state(pid)) not in states and time.monotonic() < deadline:
        time.sleep(0.05)
    return now


def test_a_paused_command_is_stopped_and_ends_at_once(sleeper: CommandProcess) -> None:
    sleeper.pause()
    assert await_state(sleeper.pgid, "T") == "T"
    sleeper.resume()
    assert await_state(sleeper.pgid, "SR") in "SR"
    sleeper.pause()
    started = time.monotonic()
    sleeper.end()  # returns once the group is gone, or after 1 s with a thread finishing it
    # SIGTERM reached the paused process: it did not wait out the grace for the SIGKILL.
    assert sleeper.popen.wait(timeout=GRACE_S / 2) == -signal.SIGTERM
    assert time.monotonic() - started < GRACE_S / 2
