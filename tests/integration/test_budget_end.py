"""An experiment that its time budget ends before most of its trials start.

``raytune-hpo run`` in a subprocess (its own Ray, 2 CPUs) with 20 trials of ``sleep`` that take
3 s each and a budget of 8 s: at most a few trials run, the rest never start. Ray Tune marks
those TERMINATED and, unless each has a ``result.json``, warns "Failed to fetch metrics" with a
FileNotFoundError per trial. ``run``, ``summary``, the trial-ends file, the dashboard and
``compare`` show them as never started, and the trials the budget stopped as stopped by it, in
the same words.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from raytune_hpo.analysis.results import NOT_STARTED, load_experiment, summary_table
from raytune_hpo.dashboard.experiment_page import experiment_data
from raytune_hpo.layout import TRIAL_ENDS_FILE
from raytune_hpo.storage.stamped import LocalStore

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "raytune_hpo.cli"]
TRIALS = 20
FINAL_LINE = re.compile(r"^\[\d+:\d\d\] (\d+)/20 trials done.*, (\d+) never started, ")
END_LINE = re.compile(
    r"^\[\d+:\d\d\] trial (\S+) (finished after 3 epochs|stopped by the time budget .*?): "
)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=300, cwd=cwd, check=False
    )


def test_trials_the_budget_left_unstarted_show_as_not_started(tmp_path: Path) -> None:
    config = tmp_path / "budget.yaml"
    raw = {
        "name": "budget",
        "trainable": "sleep",
        "trainable_options": {"seconds_per_epoch": 1.0},
        "dataset": {"data_dir": str(tmp_path / "data")},
        "max_epochs": 3,
        "num_samples": TRIALS,
        "time_budget_s": 8,
        "search_space": {"learning_rate": {"loguniform": [0.01, 1.0]}},
        "resources_per_trial": {"cpu": 1},
        "storage_path": str(tmp_path / "results"),
    }
    config.write_text(yaml.safe_dump(raw))
    folder = tmp_path / "results" / "budget"

    run = _cli("run", str(config), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Failed to fetch metrics" not in run.stderr
    assert "FileNotFoundError" not in run.stderr

    experiment = load_experiment(folder)
    terminated = experiment.trials[experiment.trials["status"] == "TERMINATED"]
    assert terminated["start_time"].notna().all()  # only trials that ran end TERMINATED
    table = summary_table(experiment)
    unstarted = int((table["status"] == NOT_STARTED).sum())
    assert unstarted >= TRIALS - 8, table  # 2 at once, 3 s each: 8 s hold a handful
    ran = table[table["status"] != NOT_STARTED]
    assert (ran["status"] == "TERMINATED").all(), table
    assert table["epochs"].notna().all(), table  # a trial stopped before its first report: 0

    final = next(line for line in run.stdout.splitlines() if FINAL_LINE.match(line))
    never = int(FINAL_LINE.match(final).group(2))
    assert never == TRIALS - len(ran)

    # Each trial's end, in the same words: the console, the file, summary and the dashboard.
    ends = json.loads((folder / TRIAL_ENDS_FILE).read_text())
    words = {trial_id: end["words"] for trial_id, end in ends["trials"].items()}
    said = dict(m.groups() for line in run.stdout.splitlines() if (m := END_LINE.match(line)))
    assert said == {k: v for k, v in words.items() if v != "never started"}, run.stdout
    assert any(v.startswith("stopped by the time budget ") for v in said.values()), said
    assert sum(v == "never started" for v in words.values()) == unstarted
    assert table.set_index("trial_id")["end"].to_dict() == words
    page = experiment_data(LocalStore(tmp_path / "results"), "budget")
    assert {row["trial_id"]: row["end"] for row in page["trial_rows"]} == words
    assert page["status"] == "finished"
    tally = f"trials: {ends['tally']}"
    assert ends["tally"].endswith(f", {never} never started"), ends["tally"]

    summary = _cli("summary", str(folder), cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr
    for printed in (run.stdout, summary.stdout):  # the summary, after the run and on its own
        assert tally in printed.splitlines()
        assert NOT_STARTED not in printed and "TERMINATED" not in printed

    compare = _cli("compare", str(folder), "--out", str(tmp_path / "cmp"), cwd=tmp_path)
    assert compare.returncode == 0, compare.stderr
    runs = pd.read_csv(tmp_path / "cmp" / "runs.csv")
    assert runs.loc[0, "trials_not_started"] == never
    assert runs.loc[0, "trials_started"] == len(ran)
    methods = pd.read_csv(tmp_path / "cmp" / "methods.csv")
    assert methods.loc[0, "trials_not_started"] == never
