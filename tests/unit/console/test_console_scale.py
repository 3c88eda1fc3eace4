"""The console at any number of trials: starts left out past a few dozen, the summary's table cut
to the best trials with all of them in ``trials.csv``."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from raytune_hpo.config import load_config
from raytune_hpo.console import ray_output
from raytune_hpo.console.callback import STARTS_UP_TO, ConsoleCallback
from raytune_hpo.console.header import ExperimentInfo
from raytune_hpo.console.ray_output import OutputMode
from raytune_hpo.console.summary import TABLE_ALL_UP_TO, TABLE_TOP, print_trials_table
from raytune_hpo.layout import TRIALS_CSV
from tests.unit.console.test_console import QUICKSTART, _trial


def event_lines(total: int, mode: OutputMode) -> list[str]:
    """The trial events a console in ``mode`` prints as two of ``total`` trials start and end."""
    info = ExperimentInfo.from_config(load_config(QUICKSTART, []), "/results/quickstart")
    stream = io.StringIO()
    callback = ConsoleCallback(info, mode, stream=stream)
    ray_output.configure(mode)
    try:
        callback.setup(total_num_samples=total)
        trials = [_trial("a", "RUNNING"), _trial("b", "RUNNING")]
        for trial in trials:
            callback.on_trial_start(iteration=1, trials=trials, trial=trial)
            callback.on_trial_complete(iteration=2, trials=trials, trial=trial)
    finally:
        ray_output.configure("verbose")
    return [line.split("] ", 1)[1] for line in stream.getvalue().splitlines() if "] trial " in line]


@pytest.mark.parametrize(
    ("total", "mode", "starts"),
    [
        (STARTS_UP_TO, "normal", True),
        (STARTS_UP_TO + 1, "normal", False),
        (1000, "normal", False),
        (1000, "show_output", True),
    ],
)
def test_trials_starts_are_said_only_in_a_small_experiment(
    total: int, mode: OutputMode, starts: bool
) -> None:
    lines = event_lines(total, mode)
    ends = [line for line in lines if "no validation_error reported" in line]
    assert [line.split()[1] for line in ends] == ["a", "b"]
    said = [line for line in lines if " started: " in line]
    assert len(said) == (2 if starts else 0)
    assert len(lines) == len(ends) + len(said)


def trials_table(count: int) -> pd.DataFrame:
    """A summary table of ``count`` finished trials, best first."""
    return pd.DataFrame(
        {
            "trial_id": [f"t{i:04d}" for i in range(count)],
            "end": ["finished after 1 epoch"] * count,
            "status": ["TERMINATED"] * count,
            "best_validation_error": [i / 1000 for i in range(count)],
        }
    )


def test_a_large_experiments_table_shows_the_best_and_writes_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    print_trials_table(tmp_path, trials_table(TABLE_ALL_UP_TO + 5))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == [f"t{i:04d}" for i in range(TABLE_TOP)]
    count = TABLE_ALL_UP_TO + 5
    assert lines[-1] == f"best {TABLE_TOP} of {count} trials shown; all in {tmp_path / TRIALS_CSV}"
    written = pd.read_csv(tmp_path / TRIALS_CSV)
    assert list(written["trial_id"]) == [f"t{i:04d}" for i in range(count)]
    assert "status" in written  # the file keeps what the console leaves out


def test_a_small_experiments_table_shows_every_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    print_trials_table(tmp_path, trials_table(TABLE_ALL_UP_TO))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + TABLE_ALL_UP_TO
    assert lines[-1].split()[0] == f"t{TABLE_ALL_UP_TO - 1:04d}"
    assert len(pd.read_csv(tmp_path / TRIALS_CSV)) == TABLE_ALL_UP_TO
