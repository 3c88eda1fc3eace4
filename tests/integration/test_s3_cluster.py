"""A two-node Ray cluster writing to one bucket: a trial that loses its node goes on elsewhere.

Real parts throughout: head and worker in network namespaces of their own
(tests/helpers/netns_cluster.py), moto's S3 server in the head's namespace on the head's
address, which both nodes reach, and ``raytune-hpo run`` as the driver on the head. The worker
dies mid-trial; the trial retries on the head from the checkpoint it had saved to the bucket.
The bucket is out of this test's own reach (only the namespaces see it), so what it holds is
read by scripts in the head's namespace.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.netns_cluster import ClusterInfo, ray_cluster_in_namespaces, stop_sessions
from tests.helpers.s3_server import CREDENTIALS, S3Server, s3_server, two_climbs

pytestmark = [pytest.mark.cluster, pytest.mark.integration, pytest.mark.timeout(400)]

BUCKET = "cluster-results"
STEPS = 8

# Waits until the stored state shows a trial running on argv[2] past its first step; prints it.
_AWAIT_TRIAL_ON = """
import json, sys, time
from raytune_hpo import storage
from raytune_hpo.storage import ray_state
folder, node, deadline = storage.as_location(sys.argv[1]), sys.argv[2], time.monotonic() + 120
while time.monotonic() < deadline:
    state = ray_state.newest_state_file(folder)
    try:
        data = json.loads(storage.read_text(folder, state)) if state else {"trial_data": []}
    except (OSError, ValueError):  # replaced meanwhile
        data = {"trial_data": []}
    for trial_json, runtime_json in data["trial_data"]:
        trial, last = json.loads(trial_json), json.loads(runtime_json).get("last_result") or {}
        on_node = trial["status"] == "RUNNING" and last.get("node_ip") == node
        if on_node and last.get("epoch", 0) >= 2:
            print(trial["trial_id"])
            sys.exit(0)
    time.sleep(0.2)
sys.exit("no trial ran on the worker within 120 s")
"""

# Writes the experiment at argv[1], as the toolkit reads it back, to the JSON file argv[2].
_DUMP = """
import sys
from pathlib import Path
from raytune_hpo.analysis.results import load_experiment
experiment = load_experiment(sys.argv[1])
columns = ["trial_id", "training_iteration", "score", "node_ip", "restored_from", "config/lr"]
Path(sys.argv[2]).write_text(
    '{"trials": ' + experiment.trials.to_json(orient="records")
    + ', "reports": ' + experiment.reports[columns].to_json(orient="records") + "}"
)
"""


@pytest.fixture
def cluster_with_s3(tmp_path: Path) -> Iterator[tuple[ClusterInfo, S3Server]]:
    """One CPU on each node; the S3 server on the head's address. The nodes' processes take
    the dummy credentials from the environment they start in."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        with (
            ray_cluster_in_namespaces(head_cpus=1, worker_cpus=1, tmp_path=tmp_path) as cluster,
            s3_server(cluster.head_ip, buckets=(BUCKET,), netns=cluster.head_ns) as server,
        ):
            yield cluster, server


def test_a_trial_whose_node_dies_continues_from_its_checkpoint_in_the_bucket(
    cluster_with_s3: tuple[ClusterInfo, S3Server], tmp_path: Path, user_code_dir: Path
) -> None:
    cluster, s3 = cluster_with_s3
    root = s3.uri(f"{BUCKET}/hpo")
    folder = s3.uri(f"{BUCKET}/hpo/moved")
    config = two_climbs(
        tmp_path, user_code_dir, "moved", STEPS, failure={"max_failures": 3}, storage_path=root
    )
    run = subprocess.Popen(
        ["ip", "netns", "exec", cluster.head_ns, sys.executable, "-m", "raytune_hpo.cli"]
        + ["run", str(config), "--address", "auto", "--quiet"],
        env={**cluster.env, "TUNE_GLOBAL_CHECKPOINT_S": "0.5"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        found = cluster.run_in_head_ns(
            [sys.executable, "-c", _AWAIT_TRIAL_ON, folder, cluster.worker_ip], timeout=150
        )
        assert found.returncode == 0, found.stderr[-2000:]
        moved = found.stdout.split()[-1]
        cluster.kill_worker()
        cluster.wait_for_alive_nodes(1)
        _, stderr = run.communicate(timeout=240)
    finally:
        stop_sessions([run], signal.SIGKILL, grace=0.0)
    assert run.returncode == 0, stderr[-3000:]

    dump = tmp_path / "experiment.json"
    read = cluster.run_in_head_ns([sys.executable, "-c", _DUMP, folder, str(dump)])
    assert read.returncode == 0, read.stderr[-2000:]
    experiment = json.loads(dump.read_text())
    trials = {trial["trial_id"]: trial for trial in experiment["trials"]}
    assert {trial["status"] for trial in trials.values()} == {"TERMINATED"}
    assert trials[moved]["num_failures"] >= 1
    own = sorted(
        (r for r in experiment["reports"] if r["trial_id"] == moved),
        key=lambda r: r["training_iteration"],
    )
    assert own[-1]["training_iteration"] == STEPS
    # Every step's score is lr * step: the state came back from the checkpoint, whole.
    for report in own:
        assert report["score"] == pytest.approx(report["config/lr"] * report["training_iteration"])
    # The steps after the move ran on the head, from the trial's own checkpoint in the bucket.
    continued = [r for r in own if r["restored_from"] == moved]
    assert continued and {r["node_ip"] for r in continued} == {cluster.head_ip}
    assert own[-1]["node_ip"] == cluster.head_ip
