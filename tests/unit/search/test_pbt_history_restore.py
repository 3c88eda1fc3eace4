"""The PBT history of an experiment resumed in a new driver session: kept, continued, no twins.

No Ray run: two driver folders stand for Ray's staging folders of the first and the resumed
session, and a copy of the first into the experiment folder stands for Ray's sync (what Ray
really does is run in ``tests/integration/test_pbt_resume.py``). The callback's state goes
through ``get_state`` and ``set_state``, as Ray saves and restores it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from raytune_hpo.layout import PBT_HISTORY_FILE, PBT_LOG_FILE
from raytune_hpo.search.pbt_history import PbtHistoryCallback, read_records
from tests.helpers.pbt import TAGS, stand_in_trial

PERTURBED = {trial_id: f"{tag}@perturbed[lr=2.0000]" for trial_id, tag in TAGS.items()}
"""The trials' tags after the first session's exploits, as the resumed session logs them."""


def _line(target: str, donor: str, iteration: int, new_lr: float) -> str:
    """One line of Ray's ``pbt_global.txt``: ``target`` exploits ``donor`` at ``iteration``."""
    return json.dumps([target, donor, iteration, iteration, {"lr": 3.0}, {"lr": new_lr}]) + "\n"


def _report(callback: PbtHistoryCallback, folder: Path, experiment: Path, tags: dict) -> None:
    """Trial a_0's result in driver folder ``folder``, as Ray hands it to the callback."""
    trials = [
        stand_in_trial(i, tags[i], folder, lr, experiment) for i, lr in [("a_0", 0.5), ("a_1", 3.0)]
    ]
    result = {"config": {"lr": 0.5}, "training_iteration": 3}
    callback.on_trial_result(0, trials, trials[0], result)


def _first_session(tmp_path: Path) -> tuple[Path, str, dict[str, Any]]:
    """A session that recorded two exploits, synced: experiment folder, Ray's log, state."""
    driver, experiment = tmp_path / "session_1", tmp_path / "experiment"
    driver.mkdir()
    ray_log = _line(TAGS["a_0"], TAGS["a_1"], 2, 2.0) + _line(TAGS["a_1"], TAGS["a_0"], 2, 1.0)
    (driver / PBT_LOG_FILE).write_text(ray_log)
    callback = PbtHistoryCallback(["lr"])
    _report(callback, driver, experiment, TAGS)
    shutil.copytree(driver, experiment)  # Ray's sync of the driver folder
    return experiment, ray_log, callback.get_state()


def _changes(records: list[dict[str, Any]]) -> list[tuple[str, str, float]]:
    return [(r["trial_id"], r["donor_id"], r["new"]["lr"]) for r in records]


@pytest.mark.parametrize(
    "keeps_log",
    [pytest.param(False, id="Ray-starts-its-log-anew"), pytest.param(True, id="Ray-keeps-its-log")],
)
def test_a_resumed_session_keeps_the_records_and_adds_each_new_one_once(
    tmp_path: Path, keeps_log: bool
) -> None:
    experiment, first_log, state = _first_session(tmp_path)
    assert _changes(read_records(experiment)) == [("a_0", "a_1", 2.0), ("a_1", "a_0", 1.0)]
    driver = tmp_path / "session_2"
    driver.mkdir()
    # Longer than the first session's log: the saved offset would fall inside the new lines.
    new_lines = _line(PERTURBED["a_0"], PERTURBED["a_1"], 5, 1.0) + _line(
        PERTURBED["a_0"], PERTURBED["a_1"], 6, 3.0
    )
    (driver / PBT_LOG_FILE).write_text((first_log if keeps_log else "") + new_lines)
    callback = PbtHistoryCallback(["lr"])
    callback.set_state(state)
    _report(callback, driver, experiment, PERTURBED)
    assert _changes(read_records(driver)) == [
        ("a_0", "a_1", 2.0),
        ("a_1", "a_0", 1.0),
        ("a_0", "a_1", 1.0),
        ("a_0", "a_1", 3.0),
    ]


def test_the_sessions_own_history_file_is_not_replaced(tmp_path: Path) -> None:
    experiment, _, state = _first_session(tmp_path)
    driver = tmp_path / "session_1"  # the same driver folder, restored in the same session
    callback = PbtHistoryCallback(["lr"])
    callback.set_state(state)
    (driver / PBT_HISTORY_FILE).write_text("")  # what this session recorded: nothing yet
    (driver / PBT_LOG_FILE).write_text("")
    _report(callback, driver, experiment, PERTURBED)
    assert read_records(driver) == []
