"""The first trials of a Ray instance the toolkit starts run on the workers Ray prestarted.

Ray starts one worker per CPU as the first driver connects. Ray Tune registers trainables with
a runtime environment of their own, and Ray never gives such an actor a prestarted worker: the
trials waited for new workers while those idled (see
``connecting.trial_actors_take_prestarted_workers``). A fresh interpreter starts its own Ray
with :func:`raytune_hpo.cluster.connect`, as ``run`` does, waits for the idle prestarted workers
and runs two one-CPU trials that report their process id.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = """
import json, os, subprocess, sys, time
import ray
from ray import tune
from raytune_hpo import cluster
from raytune_hpo.ray_compat import connecting

cluster.connect(None, preload_trainables=False)
node = ray.nodes()[0]
raylet = f"{node['NodeManagerAddress']}:{node['NodeManagerPort']}"

def idle_workers():
    # Workers of this instance that wait for work and are registered (a worker names itself
    # ray::IDLE before it registers; another Ray's, a test's before, may still be ending).
    found = subprocess.run(["pgrep", "-f", "^ray::IDLE"], capture_output=True, text=True)
    named = {int(pid) for pid in found.stdout.split()}
    return named & set(cluster.local_ray_processes()) & connecting.registered_worker_pids(raylet)

deadline = time.monotonic() + 60
while len(idle_workers()) < 2 and time.monotonic() < deadline:
    time.sleep(0.1)
prestarted = idle_workers()

def report_pid(config):
    tune.report({"pid": os.getpid()})

results = tune.Tuner(
    tune.with_resources(report_pid, {"cpu": 1}),
    param_space={"i": tune.grid_search([0, 1])},
    run_config=tune.RunConfig(storage_path=sys.argv[1], verbose=0),
).fit()
print(json.dumps({"prestarted": sorted(prestarted), "trials": [r.metrics["pid"] for r in results]}))
"""


def test_the_first_trials_run_on_the_workers_ray_prestarted(tmp_path: Path) -> None:
    ray_tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths are limited
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(tmp_path / "results")],
            capture_output=True,
            text=True,
            timeout=240,
            env={**os.environ, "RAY_TMPDIR": ray_tmp, "RAY_ADDRESS": ""},
        )
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(seen["prestarted"]) >= 2, seen
    assert len(set(seen["trials"])) == 2, seen
    assert set(seen["trials"]) <= set(seen["prestarted"]), seen
