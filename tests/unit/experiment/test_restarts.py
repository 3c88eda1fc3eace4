"""Trials that start over from scratch: the driver's one warning, and the count the summary reads
from the reports Ray keeps."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from raytune_hpo.analysis.restart_counts import count_restarts, restarts_line
from raytune_hpo.config import validate_config
from raytune_hpo.experiment.restarts import ScratchRestarts, keep_state_hint


def write_reports(folder: Path, trial_id: str, iterations: list[int]) -> None:
    folder.mkdir(parents=True)
    rows = [{"trial_id": trial_id, "training_iteration": i, "loss": 1 / i} for i in iterations]
    (folder / "result.json").write_text("".join(json.dumps(row) + "\n" for row in rows))


def test_only_reports_that_count_from_1_again_are_restarts(tmp_path: Path) -> None:
    write_reports(tmp_path / "a", "a", [1, 2, 1, 2, 3, 1, 2, 3, 4])  # twice from scratch
    write_reports(tmp_path / "b", "b", [1, 2, 3, 2, 3, 4])  # continued from a checkpoint
    write_reports(tmp_path / "c", "c", [])  # never reported
    (tmp_path / "pbt_history.jsonl").write_text("{}\n")
    counts = count_restarts(tmp_path)
    assert counts == {"a": 2}
    assert restarts_line(counts) == (
        "restarts from scratch (no checkpoint to continue from): 2 in 1 trial (a 2x)"
    )
    assert restarts_line({}) is None


def result(iteration: int) -> dict[str, Any]:
    return {"training_iteration": iteration}


def test_the_first_restart_of_a_run_is_named_once(capsys: pytest.CaptureFixture[str]) -> None:
    watch = ScratchRestarts("HINT")
    first = SimpleNamespace(trial_id="t1", last_result={})
    second = SimpleNamespace(trial_id="t2", last_result=result(3))
    watch.on_trial_result(0, [], first, result(1))  # its first report: no restart
    first.last_result = result(2)
    watch.on_trial_result(0, [], first, result(3))
    watch.on_trial_result(0, [], second, result(4))  # continued from a checkpoint
    assert capsys.readouterr().err == ""
    watch.on_trial_result(0, [], second, result(1))
    first.last_result = result(3)
    watch.on_trial_result(0, [], first, result(1))
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("raytune-hpo: warning: trial t2 started over from scratch after 3 ")
    assert line.endswith("HINT. Shown once; the summary counts the restarts")


@pytest.mark.parametrize(
    ("trainable", "said"),
    [
        ({"command": "python train.py ${args}"}, "$RAYTUNE_HPO_CHECKPOINT_DIR"),
        ("my_module:train", "tune.report(metrics, checkpoint=...)"),
        ("lenet", "checkpoint.frequency: 1"),
    ],
)
def test_the_hint_fits_the_trainable(trainable: Any, said: str) -> None:
    metric = "validation_loss" if trainable == "lenet" else "loss"
    raw = {"name": "x", "trainable": trainable, "metric": metric, "search_space": {"lr": 0.1}}
    cfg = validate_config(raw)
    assert said in keep_state_hint(cfg)
