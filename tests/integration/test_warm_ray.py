"""``raytune-hpo warm``: a local Ray whose idle workers take the next command's trials.

Real commands in real subprocesses, under a ``RAY_TMPDIR`` of the test's own (so no other
``ray.init()`` on this machine finds the instance): ``warm`` starts ``ray start --head`` and
two idle workers; a ``run`` of the user's own code attaches to it, and each of its two trials
reports the process it runs in, which must be one of those workers; once the run is done two
new workers wait; ``warm --stop`` leaves no process of the instance behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from raytune_hpo import os_processes
from raytune_hpo.cluster import warm
from tests.helpers.running import run_cli, wait_for

pytestmark = pytest.mark.integration

USER_CODE = """
import os, time
from ray import tune

def report_pid(config):
    time.sleep(1.0)  # both trials at once: none waits to reuse the other's worker
    tune.report({"score": 1.0, "worker_pid": os.getpid()})
"""


@pytest.fixture
def ray_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A short Ray temp folder of this test's own; every process naming it is killed after."""
    temp = tempfile.mkdtemp(prefix="rw", dir="/tmp")  # Ray's socket paths are limited
    monkeypatch.setenv("RAY_TMPDIR", temp)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    try:
        yield temp
    finally:
        for pid in os_processes.processes_naming(temp):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def test_the_next_run_takes_the_waiting_workers_and_leaves_new_ones(
    tmp_path: Path, ray_tmp: str
) -> None:
    started = run_cli("warm", "--num-cpus", "2")
    assert started.returncode == 0, started.stdout + started.stderr
    found = warm.current()
    assert found is not None, started.stdout
    assert found.num_cpus == 2
    assert f"warm Ray at {found.address}: 2 of 2 workers wait" in started.stdout
    waiting = set(found.waiting_workers())
    assert len(waiting) == 2, waiting

    (tmp_path / "pidcode.py").write_text(USER_CODE)
    config = tmp_path / "pids.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "pids",
                "trainable": "pidcode.py:report_pid",
                "metric": "score",
                "mode": "max",
                "max_epochs": 1,
                "search_space": {"x": {"grid": [0, 1]}},
                "searcher": {"name": "grid"},
                "resources_per_trial": {"cpu": 1},
                "storage_path": str(tmp_path / "results"),
            }
        )
    )
    done = run_cli("run", str(config), "--quiet")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert f"running on the warm Ray at {found.address}" in done.stderr, done.stderr
    trial_pids = {
        json.loads(line)["worker_pid"]
        for result in (tmp_path / "results" / "pids").glob("*/result.json")
        for line in result.read_text().splitlines()
    }
    assert len(trial_pids) == 2 and trial_pids <= waiting, (trial_pids, waiting)

    assert wait_for(lambda: len(set(found.waiting_workers()) - waiting) == 2, 60.0), (
        "no new workers after the run",
        found.waiting_workers(),
    )

    replenished = set(found.waiting_workers())

    alive = warm.current()  # what `--stop` finds, for the message below
    stopped = run_cli("warm", "--stop")
    assert stopped.returncode == 0, stopped.stderr
    assert f"stopped the warm Ray at {found.address}" in stopped.stdout, (alive, found.raylets())
    assert wait_for(lambda: not os_processes.processes_naming(ray_tmp), 10.0), [
        os_processes.command_line(pid) for pid in os_processes.processes_naming(ray_tmp)
    ]
    assert warm.current() is None
    assert not warm.record_path().exists()
    left = [pid for pid in waiting | replenished if os_processes.command_line(pid)]
    assert not left, [os_processes.command_line(pid) for pid in left]
