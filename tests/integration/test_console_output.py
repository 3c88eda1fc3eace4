"""What ``raytune-hpo run`` prints, read as a person reads it: on a terminal and in a pipe.

Each test runs the command line once, as a user does (a subprocess starting its own Ray), on a
tiny LeNet experiment, and checks that output several ways.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from raytune_hpo.search.pbt_history import read_records

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "raytune_hpo.cli"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RAY_NOISE = ("Checkpoint successfully created", "Token authentication", "Trial status", "╭")
STATUS = re.compile(r"^\[\d+:\d\d\] \d+/\d+ trials done")
EVENT = re.compile(r"^\[\d+:\d\d\] trial (\S+) ")
OWN_OUTPUT = re.compile(r"^\(trial (\S+)\) (.*)$")
DEVICE_LINE = "this worker trains on the CPU with "


def _config(tmp_path: Path, data_dir: Path, **changes: Any) -> Path:
    """A LeNet-on-digits experiment of a few seconds, written as a YAML file."""
    raw = {
        "name": "tiny",
        "trainable": "lenet",
        "trainable_options": {"activation": "relu"},
        "dataset": {"name": "digits", "data_dir": str(data_dir), "train_size": 300},
        "max_epochs": 3,
        "num_samples": 4,
        "seed": 0,
        "search_space": {
            "learning_rate": {"loguniform": [0.001, 0.3]},
            "batch_size": {"randint": [32, 64]},
            "momentum": 0.9,
        },
        "storage_path": str(tmp_path / "results"),
        **changes,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _in_a_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=300, cwd=ROOT, check=False
    )


def _on_a_terminal(*args: str, columns: int = 160) -> tuple[int, str]:
    """Run the command line with stdout and stderr on a pseudo-terminal; its raw output."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen(
        [*CLI, *args], stdin=follower, stdout=follower, stderr=follower, cwd=ROOT
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    else:
        process.kill()
    os.close(leader)
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def _screen_lines(raw: str) -> list[str]:
    """The lines a terminal keeps: what follows the last carriage return of each line."""
    lines = ANSI.sub("", raw).replace("\r\n", "\n").split("\n")
    return [line.rsplit("\r", 1)[-1].rstrip() for line in lines]


def _header_length(lines: list[str]) -> int:
    """The header's lines: those before the first trial event."""
    return next(i for i, line in enumerate(lines) if EVENT.match(line))


def _summary_length(lines: list[str]) -> int:
    start = next(i for i, line in enumerate(lines) if line.startswith("Experiment tiny ("))
    return len(lines) - start + 1  # and the blank line before it


def _check_normal_output(
    lines: list[str], folder: Path, trials: int, *, own_output: bool
) -> dict[str, list[str]]:
    """The checks shared by a terminal and a pipe; the event lines by trial id.

    ``own_output``: the run shows what the trials print (``--show-output``); else none of it.
    """
    text = "\n".join(lines)
    for noise in RAY_NOISE:
        assert noise not in text, noise
    assert lines[0].startswith(f"Experiment tiny: {trials} trials of lenet, up to ")
    assert f"  folder     {folder}" in lines
    events: dict[str, list[str]] = {}
    for line in lines:
        if match := EVENT.match(line):
            events.setdefault(match.group(1), []).append(line)
    assert len(events) == trials
    for said in events.values():
        assert " started: " in said[0] and "learning_rate=" in said[0], said
        assert sum(" finished after " in s or " stopped early by " in s for s in said) == 1, said
    # The trials' own output, each line under its trial's id: LeNet says where it trains, once
    # per worker process (a reused worker's later trials say nothing).
    own = [match for line in lines if (match := OWN_OUTPUT.match(line))]
    if own_output:
        assert own and {match.group(1) for match in own} <= set(events), own
        assert 1 <= sum(match.group(2).startswith(DEVICE_LINE) for match in own) <= trials, own
    else:
        assert not own and DEVICE_LINE not in text, own
    result, last = [line for line in lines if line.strip()][-2:]
    assert result.startswith("test split: test_error = "), result
    assert last == f"see it: raytune-hpo dashboard {folder.parent.resolve()}", last
    return events


def test_on_a_terminal_a_bar_with_the_best_and_one_line_per_event(
    tmp_path: Path, data_dir: Path
) -> None:
    config = _config(
        tmp_path,
        data_dir,
        scheduler={"name": "asha", "grace_period": 1, "reduction_factor": 2},
        # The third trial starts once the first two have reported: it trails them at epoch 1.
        points_to_evaluate=[
            {"learning_rate": 0.2},
            {"learning_rate": 0.1},
            {"learning_rate": 0.001},
        ],
    )
    code, raw = _on_a_terminal("run", str(config), "--show-output")
    lines = _screen_lines(raw)
    assert code == 0, raw[-3000:]
    events = _check_normal_output(lines, tmp_path / "results" / "tiny", trials=4, own_output=True)
    text = "\n".join(lines)
    assert "stopped early by ASHA at epoch 1 of 3" in text
    # The bar redraws in place; the line it leaves shows every trial done and the best so far.
    bar = re.compile(r"^4/4 trials \|.*\| \d\d:\d\d<\d\d:\d\d, best validation_error 0\.\d+ ")
    assert any(bar.match(line) for line in lines), text
    drawn = len(re.findall(r"\d/4 trials \|", raw))
    assert drawn > sum(bool(re.match(r"\d/4 trials \|", line)) for line in lines)
    budget = _header_length(lines) + 3 * len(events) + 2 + _summary_length(lines)
    assert len(lines) <= budget, text


def test_in_a_pipe_plain_lines_pbt_exploits_and_output_in_the_trial_folder(
    tmp_path: Path, data_dir: Path
) -> None:
    config = _config(
        tmp_path,
        data_dir,
        num_samples=1,  # of the grid of two
        max_epochs=4,
        searcher={"name": "grid"},
        search_space={"learning_rate": {"grid": [0.002, 0.2]}, "batch_size": 32, "momentum": 0.9},
        scheduler={
            "name": "pbt",
            "perturbation_interval": 1,
            "quantile_fraction": 0.5,
            "hyperparam_mutations": {"learning_rate": {"loguniform": [0.001, 0.3]}},
        },
        checkpoint={"frequency": 1, "num_to_keep": 4},
        # One trial at a time: the two take turns, and every report meets the other's score.
        resources_per_trial={"cpu": 2},
    )
    run = _in_a_pipe("run", str(config))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "\r" not in run.stdout  # no bar in a pipe
    lines = run.stdout.splitlines()
    folder = tmp_path / "results" / "tiny"
    _check_normal_output(lines, folder, trials=2, own_output=False)
    assert "Traceback" not in run.stderr
    records = read_records(folder)
    exploits = [line for line in lines if "(PBT exploit at epoch " in line]
    assert records and len(exploits) == len(records)
    first = records[0]
    assert f"trial {first['trial_id']} <- {first['donor_id']} " in exploits[0]
    assert re.search(r"learning_rate [\d.e-]+ -> [\d.e-]+$", exploits[0])
    final = re.compile(r"^\[\d+:\d\d\] 2/2 trials done, best validation_error 0\.\d+ \(trial ")
    assert any(final.match(line) for line in lines), run.stdout
    statuses = sum(bool(STATUS.match(line)) for line in lines)  # every 30 s, and the last
    budget = _header_length(lines) + 2 * 2 + len(exploits) + statuses + _summary_length(lines)
    assert len(lines) <= budget, run.stdout
    best = json.loads((folder / "best.json").read_text())
    trial_output = [(d / "stdout").read_text() for d in folder.glob("train_lenet_*")]
    assert len(trial_output) == 2 and any(DEVICE_LINE in text for text in trial_output)
    assert best["trial_id"] in run.stdout


def test_verbose_gives_rays_output_and_quiet_only_errors_and_the_result(
    tmp_path: Path, data_dir: Path
) -> None:
    config = _config(
        tmp_path,
        data_dir,
        num_samples=2,
        max_epochs=2,
        trainable_options={"activation": "relu", "fail_at_epoch": 2},
        # The drill fails each trial at epoch 2, and at times its retry once more: a trial
        # whose retries all fail errors, which the run tolerates.
        failure={"max_failures": 2},
        max_failed_trials=2,
    )
    verbose = _in_a_pipe(
        "run",
        str(config),
        "--name",
        "loud",
        "--verbose",
        "--set",
        "trainable_options.fail_at_epoch=null",
    )
    assert verbose.returncode == 0, verbose.stderr[-3000:]
    assert "╭" in verbose.stdout and "Trial status" in verbose.stdout
    assert "Checkpoint successfully created" in verbose.stdout + verbose.stderr

    quiet = _in_a_pipe("run", str(config), "--name", "hushed", "--quiet")
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert quiet.stdout.lstrip().startswith("Experiment hushed (")
    *_, test_split, see_it = quiet.stdout.rstrip().splitlines()
    assert test_split.startswith("test split: ")
    assert see_it == f"see it: raytune-hpo dashboard {(tmp_path / 'results').resolve()}", see_it
    assert "Traceback" not in quiet.stderr
    failures = [line for line in quiet.stderr.splitlines() if EVENT.match(line)]
    assert len({EVENT.match(line).group(1) for line in failures}) == 2, quiet.stderr
    retry = re.compile(
        r"^\[\d+:\d\d\] trial \S+ (failed|errored) at epoch 2: RuntimeError: injected failure "
        r"at epoch 2 \(trainable_options\.fail_at_epoch\); (retry [12] of 2 from its last "
        r"checkpoint|no retries left \(2 used\)); log: /\S+/error\.txt$"
    )
    for line in failures:
        match = retry.match(line)
        assert match, line
        assert (match.group(1) == "failed") == match.group(2).startswith("retry"), line
    assert any("; retry 1 of 2 from its last checkpoint; " in line for line in failures)


def test_many_trials_print_one_line_each_and_the_best_of_the_table(tmp_path: Path) -> None:
    trials = 30
    raw = {
        "name": "many",
        "trainable": "sleep",
        "trainable_options": {"seconds_per_epoch": 0.01},
        "max_epochs": 1,
        "num_samples": trials,
        "seed": 0,
        "search_space": {"learning_rate": {"loguniform": [0.001, 0.3]}},
        "resources_per_trial": {"cpu": 0.5, "gpu": 0},
        "storage_path": str(tmp_path / "results"),
    }
    config = tmp_path / "many.yaml"
    config.write_text(yaml.safe_dump(raw))
    done = _in_a_pipe("run", str(config))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    events = [line for line in lines if EVENT.match(line)]
    assert len(events) == len({EVENT.match(line).group(1) for line in events}) == trials
    assert all(" finished after 1 epoch: validation_error " in line for line in events)
    assert len(lines) <= 1.2 * trials + 60
    table = lines.index(next(line for line in lines if line.startswith("Experiment many (")))
    rows = [line.split()[0] for line in lines[table + 2 : table + 12]]
    written = (tmp_path / "results" / "many" / "trials.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in written[1:11]] == rows
    assert len(written) == 1 + trials
    assert lines[table + 12] == (
        f"best 10 of {trials} trials shown; all in {tmp_path / 'results' / 'many' / 'trials.csv'}"
    )
    assert lines[table + 13] == f"trials: {trials} finished"
