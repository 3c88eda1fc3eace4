"""Every trial's end, named once and the same in the console, ``summary``, ``best.json``, the
trial-ends file and the dashboard; an errored trial is never best, and errors make the run exit 1.

One real ``raytune-hpo run`` (a subprocess with its own Ray) of the user's
``climb_or_crash`` under ASHA: the trials of rates 3 and 4 score best at their first report,
then one raises and the other's worker dies of a segfault; ASHA stops the two weaker ones at
epoch 1. The time budget's ends (stopped by it, never started) are checked in
``test_budget_end.py``; the words themselves in ``tests/unit/test_trial_ends.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from raytune_hpo.analysis.results import load_experiment, summary_table
from raytune_hpo.dashboard.experiment_page import experiment_data
from raytune_hpo.errors import EXIT_TRIALS_FAILED
from raytune_hpo.layout import BEST_FILE, TRIAL_ENDS_FILE
from raytune_hpo.storage.stamped import LocalStore
from tests.helpers.running import run_cli
from tests.helpers.user_code import USER_MODULE, climb_config

pytestmark = pytest.mark.integration

END_LINE = re.compile(
    r"^\[\d+:\d\d\] trial (\S+) (stopped early by ASHA at epoch 1 of 3|errored at epoch 2): "
)
SEGFAULT = re.compile(
    r"errored at epoch 2: the trial's worker process \(pid \d+ on [\d.]+\) died: SIGSEGV, a "
    r"segfault; worker log: (/\S+\.err); no retries"
)


def test_errored_trials_are_never_best_and_every_end_reads_the_same_everywhere(
    tmp_path: Path, user_code_dir: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    raw = climb_config(
        tmp_path,
        "ends",
        f"{user_code_dir / USER_MODULE}.py:climb_or_crash",
        max_epochs=3,
        search_space={"lr": {"grid": [0.01, 1.0, 3.0, 4.0]}, "markers": str(markers)},
        scheduler={"name": "asha", "grace_period": 1, "reduction_factor": 3},
    )
    config = tmp_path / "ends.yaml"
    config.write_text(yaml.safe_dump(raw))
    folder = tmp_path / "results" / "ends"

    run = run_cli("run", str(config), cwd=tmp_path)

    assert run.returncode == EXIT_TRIALS_FAILED, run.stdout[-3000:] + run.stderr[-3000:]
    output = run.stdout + run.stderr
    assert "Traceback" not in output and "A worker died or was killed" not in output
    # The console: one end per trial, in the words of the trial-ends file.
    said = {}
    for line in output.splitlines():
        if match := END_LINE.match(line):
            assert match.group(1) not in said, line
            said[match.group(1)] = match.group(2)
    ends = json.loads((folder / TRIAL_ENDS_FILE).read_text())
    assert ends["complete"] is True
    words = {trial_id: end["words"] for trial_id, end in ends["trials"].items()}
    assert said == words, output
    assert (
        sorted(words.values())
        == ["errored at epoch 2"] * 2 + ["stopped early by ASHA at epoch 1 of 3"] * 2
    )
    # The worker that died: one line with its cause and its log, which exists.
    (death,) = [line for line in run.stderr.splitlines() if SEGFAULT.search(line)]
    assert Path(SEGFAULT.search(death).group(1)).is_file()
    # The last line: how many errored and the first one's own error.
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("raytune-hpo: error: 2 of 4 trials errored (max_failed_trials: 0 "), last
    assert "errored at epoch 2: ValueError: lost the gradient at step 2 (log: " in last, last
    # The best: never an errored trial, though those scored best; written despite exit 1.
    best = json.loads((folder / BEST_FILE).read_text())
    assert best["config"]["lr"] == 1.0 and best["score"] == 1.0
    assert best["end"] == words[best["trial_id"]] == "stopped early by ASHA at epoch 1 of 3"
    assert f"best trial {best['trial_id']}: score = 1.0" in run.stdout
    # summary and the dashboard use the same words.
    table = summary_table(load_experiment(folder)).set_index("trial_id")
    assert table["end"].to_dict() == words
    assert set(table.loc[table["end"] == "errored at epoch 2", "error"]) == {
        "ValueError: lost the gradient at step 2",
        death.split("errored at epoch 2: ", 1)[1].split("; no retries")[0],
    }
    assert "trials: 2 stopped early, 2 errored" in run.stdout
    page = experiment_data(LocalStore(tmp_path / "results"), "ends")
    assert page["status"] == "failed" and page["best_trial"] == best["trial_id"]  # it exited 1
    assert page["counts"] == [("stopped early", 2), ("errored", 2)]
    see_it = f"see it: raytune-hpo dashboard {(tmp_path / 'results').resolve()}"
    assert run.stdout.rstrip().splitlines()[-1] == see_it  # after the summary, failed or not
    rows = {row["trial_id"]: row for row in page["trial_rows"]}
    assert {trial_id: row["end"].split(":")[0] for trial_id, row in rows.items()} == words
    assert sorted(row["status"] for row in rows.values()) == [
        "errored",
        "errored",
        "stopped early",
        "stopped early",
    ]
