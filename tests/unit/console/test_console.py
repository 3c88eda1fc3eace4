"""The console's pure parts: line formatting, progress, when a status line is due, set-up."""

from __future__ import annotations

import io
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from ray import tune

from raytune_hpo.config import load_config
from raytune_hpo.console import ray_output
from raytune_hpo.console.callback import ConsoleCallback, use_on_restored
from raytune_hpo.console.formatting import (
    after_failure,
    concurrency,
    ending,
    exploit_line,
    format_duration,
    format_number,
    format_params,
    pick_best,
)
from raytune_hpo.console.header import ExperimentInfo
from raytune_hpo.console.progress import Progress, StatusSchedule
from raytune_hpo.console.ray_output import WorkerOutput, is_ray_noise
from raytune_hpo.console.screen import Screen
from raytune_hpo.console.summary import shown_table
from raytune_hpo.search.schedulers import traits_of
from tests.helpers.paths import ROOT

QUICKSTART = ROOT / "configs" / "quickstart.yaml"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.013644565, "0.01364"),
        (0.02, "0.02"),
        (1e-5, "1e-05"),
        (4335.123, "4335"),
        (np.float64(0.5), "0.5"),
        (32, "32"),
        (np.int64(7), "7"),
        (True, "True"),
        ("relu", "relu"),
        (None, "None"),
    ],
)
def test_values_are_rounded_to_four_significant_digits(value: object, text: str) -> None:
    assert format_number(value) == text


def test_params_show_the_searched_keys_or_else_all() -> None:
    config = {"learning_rate": 0.0136445, "batch_size": 100, "weight_decay": 0.0}
    assert format_params(config, ("learning_rate", "batch_size")) == (
        "learning_rate=0.01364 batch_size=100"
    )
    assert format_params(config, ()) == "learning_rate=0.01364 batch_size=100 weight_decay=0"
    assert format_params(config, ("missing",)) == format_params(config)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (7.4, "0:07"), (59.6, "1:00"), (65, "1:05"), (3725, "1:02:05")],
)
def test_durations(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("epochs", "stopped", "stopper", "out_of_time", "text"),
    [
        (12, True, "ASHA", False, "finished after 12 epochs"),
        (1, False, None, False, "finished after 1 epoch"),
        (3, False, "ASHA", False, "finished after 3 epochs"),  # its code returned early
        (2, True, "ASHA", False, "stopped early by ASHA at epoch 2 of 12"),
        (2, True, None, False, "stopped early by the scheduler at epoch 2 of 12"),
        (4, False, "ASHA", True, "stopped by the time budget at epoch 4 of 12"),
    ],
)
def test_how_a_trial_ended(
    epochs: int, stopped: bool, stopper: str | None, out_of_time: bool, text: str
) -> None:
    assert ending(epochs, 12, stopped=stopped, stopper=stopper, out_of_time=out_of_time) == text


@pytest.mark.parametrize(
    ("scheduler", "label"),
    [("asha", "ASHA"), ("bohb", "BOHB's HyperBand"), ("fifo", None), ("pbt", None), ("x", None)],
)
def test_an_early_stopping_scheduler_has_a_name_in_a_sentence(
    scheduler: str, label: str | None
) -> None:
    assert traits_of(scheduler).early_stop_label == label


@pytest.mark.parametrize(
    ("failures", "max_failures", "retried", "text"),
    [
        (1, 2, True, "retry 1 of 2 from its last checkpoint"),
        (3, -1, True, "retry 3 from its last checkpoint"),
        (3, 2, False, "no retries left (2 used)"),
        (1, 0, False, "no retries (failure.max_failures is 0)"),
    ],
)
def test_what_follows_a_failure(failures: int, max_failures: int, retried: bool, text: str) -> None:
    assert after_failure(failures, max_failures, retried=retried) == text


def test_an_exploit_names_trial_donor_and_old_and_new_values() -> None:
    record = {
        "trial_id": "a_00002",
        "donor_id": "a_00000",
        "training_iteration": 4,
        "old": {"learning_rate": 0.012081, "batch_size": 92},
        "new": {"learning_rate": 0.08, "batch_size": 162},
    }
    assert exploit_line(record) == (
        "trial a_00002 <- a_00000 (PBT exploit at epoch 4): "
        "learning_rate 0.01208 -> 0.08, batch_size 92 -> 162"
    )
    assert exploit_line(record, "pb2").startswith("trial a_00002 <- a_00000 (PB2 exploit at")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((1, 0, 2, 0, None), 2),
        ((0.5, 0, 2, 0, None), 4),
        ((1, 0.5, 16, 2, None), 4),
        ((1, 0, 8, 0, 3), 3),
        ((4, 0, 2, 0, None), 0),
    ],
)
def test_trials_at_once(args: tuple, expected: int) -> None:
    assert concurrency(*args) == expected


def test_the_best_follows_the_mode() -> None:
    values = [("a", 0.5), ("b", 0.2), ("c", 0.9)]
    assert pick_best(values, "min") == ("b", 0.2)
    assert pick_best(values, "max") == ("c", 0.9)
    assert pick_best([], "min") is None


def test_status_line_shows_counts_best_and_time_left() -> None:
    progress = Progress(
        done=3, total=12, running=2, errored=1, best=("b06f85c4", 0.0138889), elapsed_s=42
    )
    assert progress.remaining_s() == pytest.approx(42 * 9 / 3)
    assert progress.status_line("validation_error") == (
        "[0:42] 3/12 trials done (1 errored), 2 running, "
        "best validation_error 0.01389 (trial b06f85c4), about 2:06 left"
    )
    assert progress.status_line("validation_error", final=True) == (
        "[0:42] 3/12 trials done (1 errored), best validation_error 0.01389 (trial b06f85c4)"
    )
    assert progress.postfix("validation_error").startswith("best validation_error 0.01389")


def test_status_before_any_result_and_under_a_time_budget() -> None:
    waiting = Progress(done=0, total=4, running=0, errored=0, best=None, elapsed_s=3)
    assert waiting.remaining_s() is None
    assert waiting.status_line("loss") == "[0:03] 0/4 trials done, 0 running, no loss yet"
    budget = Progress(
        done=1, total=None, running=2, errored=0, best=None, elapsed_s=50, budget_s=60
    )
    assert budget.remaining_s() == 10
    assert budget.status_line("loss").endswith("about 0:10 left")
    assert budget.postfix("loss") == "1/? trials done, no loss yet, 2 running"


def test_a_status_line_is_due_every_interval_and_not_before() -> None:
    schedule = StatusSchedule(30.0, start=100.0)
    assert not schedule.due(129.9)
    assert schedule.due(130.0)
    assert not schedule.due(159.0)
    assert schedule.due(165.0)
    assert not schedule.due(194.0)
    assert schedule.due(195.0)


def test_only_lines_of_rays_own_code_are_noise() -> None:
    assert is_ray_noise(
        "Checkpoint successfully created at: Checkpoint(filesystem=local, path=/r/checkpoint_0)"
    )
    assert is_ray_noise("Restored on 10.0.0.5 from checkpoint: Checkpoint(filesystem=local)")
    assert is_ray_noise(
        "wandb: WARNING Using a boolean value for 'reinit' is deprecated. Use 'return_previous'"
    )
    assert not is_ray_noise("this worker trains on the CPU with 1 thread")
    assert not is_ray_noise("my code: Checkpoint successfully created at: /x")


def test_header_of_the_quickstart() -> None:
    cfg = load_config(QUICKSTART)
    info = ExperimentInfo.from_config(cfg, "/results/quickstart")
    assert info.params == ("learning_rate", "batch_size", "momentum")  # weight_decay is constant
    assert info.header(12, {"CPU": 2.0}, {}) == [
        "Experiment quickstart: 12 trials of lenet, up to 12 epochs each, "
        "minimising validation_error",
        "  search     hyperopt searcher, asha scheduler",
        "  folder     /results/quickstart",
        f"  data       {Path('~/.cache/raytune_hpo/data').expanduser()}",
        "  resources  1 CPU, 0 GPU per trial; 2 at once on 2 CPUs, 0 GPUs",
        "  budget     none: runs until every trial has ended",
        "  W&B        off",
    ]


def test_header_with_a_budget_and_wandb() -> None:
    cfg = load_config(
        QUICKSTART, ["time_budget_s=90", "wandb.enabled=true", "max_concurrent_trials=1"]
    )
    info = ExperimentInfo.from_config(cfg, "/results/quickstart")
    lines = info.header(
        None, {"CPU": 8.0, "GPU": 1.0}, {"WANDB_MODE": "offline", "WANDB_DIR": "/w"}
    )
    assert "1 at once on 8 CPUs, 1 GPUs" in lines[4]
    assert lines[5] == "  budget     1:30, then every trial stops"
    assert lines[6] == "  W&B        offline, runs in /w/wandb; `wandb sync /w/wandb` uploads them"
    online = info.header(None, {}, {"WANDB_MODE": "online"})[6]
    assert online == "  W&B        online, project raytune-hpo, group quickstart"


def test_the_callback_pickles_without_what_it_builds_while_running() -> None:
    info = ExperimentInfo.from_config(load_config(QUICKSTART), "/results/quickstart")
    callback = ConsoleCallback(info, "quiet")
    callback._ended.add("t1")
    copy = pickle.loads(pickle.dumps(callback))
    assert (copy.info, copy.mode, copy.stream) == (info, "quiet", None)
    assert copy._ended == set() and copy._screen is None


def test_modes_set_rays_loggers_and_the_progress_engine() -> None:
    failure = logging.LogRecord(
        "ray.tune.execution.tune_controller",
        logging.ERROR,
        "",
        0,
        "Trial task failed for trial x",
        None,
        None,
    )
    controller = logging.getLogger("ray.tune.execution.tune_controller")
    auth = logging.getLogger("ray._private.authentication.authentication_token_setup")
    try:
        ray_output.configure("quiet")
        assert logging.getLogger("ray.tune").level == logging.ERROR
        ray_output.configure("normal")
        assert os.environ[ray_output.NEW_OUTPUT_SWITCH] == "0"
        assert auth.level == logging.ERROR
        assert logging.getLogger("ray.tune").level == logging.NOTSET
        assert not controller.filter(failure)
        ray_output.configure("normal")  # idempotent: one filter, not two
        assert len(controller.filters) == 1
    finally:
        ray_output.configure("verbose")
    assert controller.filter(failure)
    assert auth.level == logging.NOTSET
    assert os.environ.get(ray_output.NEW_OUTPUT_SWITCH) == ray_output._USER_NEW_OUTPUT
    with pytest.raises(ValueError, match="normal, quiet, verbose"):
        ray_output.configure("loud")  # type: ignore[arg-type]


def test_the_console_prints_the_header_and_hands_the_progress_engine_back() -> None:
    """Ray Tune reads ``RAY_AIR_NEW_OUTPUT`` before the console starts; later tuners keep theirs."""
    info = ExperimentInfo.from_config(load_config(QUICKSTART), "/results/quickstart")
    stream = io.StringIO()
    callback = ConsoleCallback(info, "normal", stream=stream)
    ray_output.configure("normal")
    try:
        assert os.environ[ray_output.NEW_OUTPUT_SWITCH] == "0"
        callback.setup(total_num_samples=12)
        assert os.environ.get(ray_output.NEW_OUTPUT_SWITCH) == ray_output._USER_NEW_OUTPUT
        callback.on_experiment_end(trials=[])
    finally:
        ray_output.configure("verbose")
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("Experiment quickstart: 12 trials of lenet")
    # No bar (not a tty); the experiment ended before Ray Tune created any of its 12 trials.
    assert lines[-1] == "[0:00] 0/12 trials done, 12 never started, no validation_error yet"


def test_a_restored_tuner_takes_this_sessions_mode(tmp_path: Path) -> None:
    """Ray Tune restores the original run's RunConfig; ``use_on_restored`` resets its output."""
    info = ExperimentInfo.from_config(load_config(QUICKSTART), tmp_path / "x")

    def train(config: dict) -> None:
        tune.report({"validation_error": 1.0})

    tune.Tuner(
        train,
        run_config=tune.RunConfig(
            name="x", storage_path=str(tmp_path), verbose=1, callbacks=[ConsoleCallback(info)]
        ),
    )
    restored = tune.Tuner.restore(str(tmp_path / "x"), train)
    use_on_restored(restored, "quiet")
    run_config = restored._local_tuner.get_run_config()
    assert run_config.verbose == ray_output.ray_verbosity("quiet") == 0
    assert [c.mode for c in run_config.callbacks if isinstance(c, ConsoleCallback)] == ["quiet"]


def _trial(trial_id: str, status: str, *, epochs: int = 0) -> SimpleNamespace:
    """What the console reads of a Ray ``Trial`` (a real one runs only inside a Tune loop)."""
    return SimpleNamespace(
        trial_id=trial_id,
        status=status,
        run_metadata=SimpleNamespace(start_time=None if status == "PENDING" else 1.0),
        metric_analysis={},
        config={"learning_rate": 0.02, "batch_size": 32, "momentum": 0.9},
        last_result={"training_iteration": epochs} if epochs else {},
        temporary_state=SimpleNamespace(ray_actor=None),
    )


def _console_lines(drive: Callable[[ConsoleCallback], None], overrides: list[str]) -> list[str]:
    """What a ``normal`` console prints (no tty) while ``drive`` calls its Ray Tune hooks."""
    info = ExperimentInfo.from_config(load_config(QUICKSTART, overrides), "/results/quickstart")
    stream = io.StringIO()
    callback = ConsoleCallback(info, "normal", stream=stream)
    ray_output.configure("normal")
    try:
        callback.setup(total_num_samples=3)
        drive(callback)
    finally:
        ray_output.configure("verbose")
    return stream.getvalue().splitlines()


def test_a_resumed_trial_says_how_many_epochs_it_ran_before() -> None:
    trials = [_trial("a", "RUNNING", epochs=1), _trial("b", "RUNNING", epochs=3)]

    def drive(callback: ConsoleCallback) -> None:
        for trial in trials:
            callback.on_trial_start(iteration=1, trials=trials, trial=trial)

    params = "learning_rate=0.02 batch_size=32 momentum=0.9"
    assert _console_lines(drive, [])[-2:] == [
        f"[0:00] trial a resumed (1 epoch before): {params}",
        f"[0:00] trial b resumed (3 epochs before): {params}",
    ]


@pytest.mark.parametrize(
    ("budget_ran_out", "cut_off", "ends"),
    [
        # Ctrl-C: Ray Tune leaves its loop, then stops the trials that have a worker.
        pytest.param(
            False,
            "2 interrupted (state saved)",
            ["trial a interrupted before its first report", "trial b interrupted before its"],
            id="ctrl-c",
        ),
        # The time budget: Ray Tune stops every unfinished trial inside its last step.
        pytest.param(
            True,
            "1 stopped by the time budget, 1 paused when the time budget ended",
            [
                "trial a stopped by the time budget before its first report",
                "trial b paused when the time budget ended, before its first report",
            ],
            id="time-budget",
        ),
    ],
)
def test_the_last_line_tells_ctrl_c_from_the_time_budget(
    budget_ran_out: bool, cut_off: str, ends: list[str]
) -> None:
    # Running; paused by PBT or HyperBand; waiting for a worker.
    trials = [_trial("a", "RUNNING"), _trial("b", "PAUSED"), _trial("c", "PENDING")]

    def drive(callback: ConsoleCallback) -> None:
        callback.on_step_end(iteration=1, trials=trials)
        if budget_ran_out:
            for trial in trials:
                trial.status = "TERMINATED"
        callback.on_step_end(iteration=2, trials=trials)  # the last step
        trials[0].status = "TERMINATED"
        callback.on_experiment_end(trials=trials)

    lines = _console_lines(drive, ["time_budget_s=90"])
    assert lines[-1] == (
        f"[0:00] 0/3 trials done, {cut_off}, 1 never started, no validation_error yet"
    )
    for line, end in zip(lines[-3:-1], ends, strict=True):  # the end of each, named once
        assert line.startswith(f"[0:00] {end}"), lines


def test_trial_output_is_prefixed_by_its_trial_and_blank_lines_are_dropped() -> None:
    stream = io.StringIO()
    printer = WorkerOutput(Screen(stream), quiet=False)
    printer({"actor_name": "raytune-hpo trial abc_00001", "lines": ["epoch 1", "", "  ", "done"]})
    assert stream.getvalue().splitlines() == ["(trial abc_00001) epoch 1", "(trial abc_00001) done"]
    quiet = io.StringIO()
    WorkerOutput(Screen(quiet), quiet=True)(
        {"actor_name": "raytune-hpo trial abc_00001", "lines": ["epoch 1"]}
    )
    assert quiet.getvalue() == ""


OLD_CONSOLE_NAMES = (
    "OutputMode OUTPUT_MODES PROGRESS_MODES FAILURE_LINES STATUS_EVERY_S BAR_REFRESH_S "
    "RAY_WORKER_NOISE NEW_OUTPUT_SWITCH configure ray_verbosity use_on_restored "
    "is_ray_noise format_value format_params format_duration ending epochs_text after_failure "
    "exploit_line concurrency pick_best Progress StatusSchedule ExperimentInfo wandb_where "
    "ConsoleCallback"
).split()
"""The public names of the module ``raytune_hpo.console`` before it became a package."""


def test_every_name_of_the_old_console_module_is_found() -> None:
    import raytune_hpo.console as old

    for name in OLD_CONSOLE_NAMES:
        assert getattr(old, name) is not None, name
    assert old.ConsoleCallback is ConsoleCallback
    assert old.format_value is format_number
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        old.nothing  # noqa: B018


@pytest.mark.parametrize("module", ["raytune_hpo.console", "raytune_hpo.console.callback"])
def test_a_callback_pickled_under_an_earlier_module_name_loads(module: str) -> None:
    """Experiments pickled their callback as ``raytune_hpo.console.*`` (before the console was
    a package), then as ``raytune_hpo.console.callback.*`` (before it was split)."""
    info = ExperimentInfo.from_config(load_config(QUICKSTART), "/results/quickstart")
    data = pickle.dumps(ConsoleCallback(info, "quiet"), protocol=2)  # names as text lines
    for now in (b"raytune_hpo.console.callback\n", b"raytune_hpo.console.header\n"):
        assert now in data
        data = data.replace(now, module.encode() + b"\n")
    copy = pickle.loads(data)
    assert isinstance(copy, ConsoleCallback) and (copy.info, copy.mode) == (info, "quiet")


def test_the_printed_trials_table_leaves_out_status_and_error_files() -> None:
    table = pd.DataFrame(
        {
            "trial_id": ["a", "b"],
            "end": ["finished after 2 epochs", "errored at epoch 1"],
            "status": ["TERMINATED", "ERROR"],
            "error": [float("nan"), "RuntimeError: boom"],
            "error_file": [float("nan"), "/results/b/error.txt"],
        }
    )
    shown = shown_table(table)
    assert list(shown.columns) == ["trial_id", "end", "error"]
    assert list(shown["error"]) == ["", "RuntimeError: boom"]
    assert "NaN" not in shown.to_string(index=False)
