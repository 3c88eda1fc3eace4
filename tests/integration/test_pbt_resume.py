"""PBT's history across Ctrl-C and ``resume``: the records of the interrupted and resumed runs.

The run is the real ``raytune-hpo run`` command, interrupted as a terminal does once PBT has
exploited; ``resume`` then continues it in this process on the session's Ray. The trainable is
the user's ``climb`` (``tests/user_code/tunable.py``), a few tenths of a second per step.

Ray's driver writes ``pbt_global.txt`` and ``pbt_history.jsonl`` in a staging folder of its
session and syncs them to the experiment folder; a resumed run starts with an empty staging
folder, so Ray's own log then holds only the exploits of the resumed run, while the history goes
on from the experiment folder's. The resumed run logs perturbed trials by their perturbed tags
(``tests/unit/search/test_pbt_history_tags.py``): its records still name trial ids.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from raytune_hpo import cli
from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.errors import EXIT_INTERRUPTED
from raytune_hpo.layout import PBT_LOG_FILE
from raytune_hpo.search.pbt_history import read_records
from tests.helpers.user_code import LRS, USER_MODULE, climb_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STATUS_LINE = re.compile(r"^\[\d+:\d\d\] \d+/4 trials done")


def _ray_exploits(folder: Path) -> list[list[Any]]:
    """The lines of Ray's own PBT log: ``[trial, donor, iteration, donor iteration, ...]``."""
    log = folder / PBT_LOG_FILE
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _interrupt_after_an_exploit(
    config_file: Path, folder: Path, stdout_file: Path, stderr_file: Path
) -> int:
    """Run ``raytune-hpo run``, Ctrl-C it once a perturbation is recorded; its exit status."""
    with stdout_file.open("w") as stdout, stderr_file.open("w") as stderr:
        run = subprocess.Popen(
            [sys.executable, "-m", "raytune_hpo.cli", "run", str(config_file)],
            stdout=stdout,
            stderr=stderr,
            cwd=ROOT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while not read_records(folder) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert run.poll() is None, stderr_file.read_text()[-3000:]
        assert read_records(folder), "PBT recorded no exploit within 120 s"
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        return run.wait(timeout=120)


@dataclass
class ResumedRun:
    """A PBT experiment interrupted once it had exploited, then resumed to its end."""

    folder: Path
    before: list[dict[str, Any]]
    """The history records in the experiment folder after the interrupt."""
    resumed_at: float
    """When ``resume`` started (seconds since the epoch)."""
    last_status: str
    """The last status line the interrupted run printed."""


@pytest.fixture(scope="module")
def resumed_run(
    ray_session: None, user_code_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> ResumedRun:
    """``raytune-hpo run`` of four climbers under PBT, Ctrl-C after an exploit, ``resume``."""
    tmp_path = tmp_path_factory.mktemp("pbt_resume")
    pbt = {
        "name": "pbt",
        "perturbation_interval": 1,
        "quantile_fraction": 0.5,
        "resample_probability": 0.0,
        "hyperparam_mutations": {"lr": {"choice": LRS}},
    }
    trainable = f"{user_code_dir / USER_MODULE}.py:climb"
    raw = climb_config(tmp_path, "pbt_resumed", trainable, scheduler=pbt, max_epochs=8)
    raw["search_space"]["seconds_per_step"] = 0.25
    config_file = tmp_path / "pbt_resumed.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    folder = tmp_path / "results" / "pbt_resumed"

    out = tmp_path / "run.out"
    status = _interrupt_after_an_exploit(config_file, folder, out, tmp_path / "run.err")
    assert status == EXIT_INTERRUPTED, (tmp_path / "run.err").read_text()[-3000:]
    statuses = [line for line in out.read_text().splitlines() if STATUS_LINE.match(line)]
    assert statuses, out.read_text()[-3000:]
    before = read_records(folder)
    assert len(before) == len(_ray_exploits(folder)), "an exploit went unrecorded before Ctrl-C"
    resumed_at = time.time()
    assert cli.main(["resume", str(folder), "--quiet"]) == 0
    return ResumedRun(folder, before, resumed_at, statuses[-1])


def test_the_interrupted_run_says_its_trials_were_interrupted(resumed_run: ResumedRun) -> None:
    assert re.search(r", \d interrupted \(state saved\)", resumed_run.last_status)
    assert "stopped" not in resumed_run.last_status


def test_the_resumed_run_records_each_exploit_ray_logs(resumed_run: ResumedRun) -> None:
    resumed = [r for r in read_records(resumed_run.folder) if r["time"] > resumed_run.resumed_at]
    assert resumed, "the resumed run recorded no exploit"
    # They are the last exploits of Ray's log, one record per line, in its order.
    exploits = _ray_exploits(resumed_run.folder)[-len(resumed) :]
    assert len(exploits) == len(resumed)
    for record, (_, _, _, donor_iteration, donor, new) in zip(resumed, exploits, strict=True):
        assert record["donor_iteration"] == donor_iteration
        assert (record["donor"]["lr"], record["new"]["lr"]) == (donor["lr"], new["lr"])


def test_records_from_before_the_interrupt_are_kept(resumed_run: ResumedRun) -> None:
    after = read_records(resumed_run.folder)
    assert after[: len(resumed_run.before)] == resumed_run.before
    resumed = [r for r in after if r["time"] > resumed_run.resumed_at]
    assert len(after) == len(resumed_run.before) + len(resumed), "a record appeared twice"


def test_every_record_names_trial_ids(resumed_run: ResumedRun) -> None:
    trial_ids = set(load_experiment(resumed_run.folder).trials["trial_id"])
    for record in read_records(resumed_run.folder):
        assert {record["trial_id"], record["donor_id"]} <= trial_ids, record
        assert record["old"]["lr"] is not None, record
