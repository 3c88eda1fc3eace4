"""`raytune-hpo run --address` on a real two-node Ray cluster, and losing its worker mid-run.

One cluster serves the module: a head without GPUs and a worker with 2 logical GPUs, each in its
own network namespace (tests/helpers/netns_cluster.py). Drivers run in the head namespace as
a user would run them on the head node. The last test kills the worker, so it must stay last.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from raytune_hpo.analysis.results import load_experiment
from tests.helpers.netns_cluster import ClusterInfo, ray_cluster_in_namespaces, stop_sessions
from tests.helpers.placement import max_overlap, raw_epochs, trial_runs

pytestmark = [pytest.mark.cluster, pytest.mark.integration, pytest.mark.timeout(400)]

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "raytune_hpo.cli"]
NODE_CPUS = 2
WORKER_GPUS = 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """Head: 2 CPUs, no GPU. Worker: 2 CPUs, 2 logical GPUs."""
    with ray_cluster_in_namespaces(
        head_cpus=NODE_CPUS,
        worker_cpus=NODE_CPUS,
        head_gpus=0,
        worker_gpus=WORKER_GPUS,
        tmp_path=tmp_path_factory.mktemp("cluster"),
    ) as info:
        yield info


def _experiment(base: dict[str, Any], folder: Path, name: str, **changes: Any) -> Path:
    """A config file from the tiny LeNet config, with trials long enough (8 epochs of 1,000
    images) for the worker's actors to start while the head's are still busy."""
    dataset = {**base["dataset"], "train_size": 1000}
    raw = {
        **base,
        "name": name,
        "dataset": dataset,
        "max_epochs": 8,
        "num_samples": 4,
        "search_space": {**base["search_space"], "batch_size": 64},
        **changes,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _cli_in_head_ns(
    cluster: ClusterInfo,
    args: Sequence[str],
    env: dict[str, str] | None = None,
    unset: Sequence[str] = (),
) -> subprocess.Popen[str]:
    """Starts `raytune-hpo ARGS` in the head namespace without waiting for it.

    Args:
        cluster: The cluster; its driver environment (token, RAY_ADDRESS) is the base.
        args: Arguments of `raytune-hpo`.
        env: Variables laid over the base.
        unset: Variables of the base to remove.
    """
    removed = [part for name in unset for part in ("-u", name)]
    return subprocess.Popen(
        ["ip", "netns", "exec", cluster.head_ns, "env", *removed, *CLI, *args],
        env={**cluster.env, **(env or {})},
        cwd=ROOT,
        text=True,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _on(column: pd.Series, value: str) -> pd.Series:
    """Rows whose set in ``column`` is exactly ``{value}``."""
    return column.map(lambda values: values == {value})


def _finish(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str, str]:
    """Waits for a CLI process; on a timeout stops its whole session and fails."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_sessions([proc], signal.SIGKILL, grace=0.0)
        stdout, stderr = proc.communicate()
        pytest.fail(f"raytune-hpo ran past {timeout:.0f} s:\n{stderr[-3000:]}")
    return proc.returncode, stdout, stderr


def test_gpu_trials_land_only_on_the_gpu_node(
    cluster: ClusterInfo, tmp_path: Path, tiny_lenet_config: dict[str, Any]
) -> None:
    """Connects as the user who started the cluster: the token sits in ~/.ray/auth_token."""
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    shutil.copy(cluster.env["RAY_AUTH_TOKEN_PATH"], home / ".ray" / "auth_token")
    config = _experiment(
        tiny_lenet_config,
        tmp_path,
        "gpus",
        max_epochs=3,
        resources_per_trial={"cpu": 0.5, "gpu": 1},
    )
    code, _, stderr = _finish(
        _cli_in_head_ns(
            cluster,
            ["run", str(config), "--address", cluster.address],
            env={"HOME": str(home)},
            unset=["RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS"],
        ),
        timeout=240,
    )
    assert code == 0, stderr[-3000:]
    assert "warning: storage_path=" in stderr  # a local folder on a multi-node cluster
    experiment = load_experiment(tmp_path / "results" / "gpus")
    runs = trial_runs(experiment)

    assert set(experiment.trials["status"]) == {"TERMINATED"}
    assert set().union(*runs["node_ips"]) == {cluster.worker_ip}
    for gpu_ids in runs["gpu_ids"]:
        assert len(gpu_ids) == 1 and gpu_ids <= {"0", "1"}, gpu_ids
    assert set().union(*runs["gpu_ids"]) == {"0", "1"}
    assert max_overlap(runs) <= WORKER_GPUS
    for gpu_id in ("0", "1"):
        assert max_overlap(runs, _on(runs["gpu_ids"], gpu_id)) <= 1


def _reports(folder: Path) -> list[dict[str, Any]]:
    """Every report written so far under an experiment folder (lines being written skipped)."""
    reports = []
    for result in folder.glob("*/result.json"):
        for line in result.read_text().splitlines():
            try:
                reports.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return reports


def _await_progress_on_both_nodes(
    folder: Path, cluster: ClusterInfo, proc: subprocess.Popen[str]
) -> str:
    """Waits until both nodes have reported; returns a trial with 2 epochs done on the worker."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        reports = _reports(folder)
        on_head = any(report.get("node_ip") == cluster.head_ip for report in reports)
        for report in reports:
            if on_head and report.get("node_ip") == cluster.worker_ip and report["epoch"] >= 2:
                return report["trial_id"]
        time.sleep(0.2)
    raise AssertionError(f"no progress on both nodes; driver exit {proc.poll()}")


def test_trials_spread_over_both_nodes_and_survive_losing_the_worker(
    cluster: ClusterInfo, tmp_path: Path, tiny_lenet_config: dict[str, Any]
) -> None:
    config = _experiment(
        tiny_lenet_config,
        tmp_path,
        "lost_worker",
        resources_per_trial={"cpu": 1},
        failure={"max_failures": 3},
    )
    folder = tmp_path / "results" / "lost_worker"
    # A driver with a wrong token, started alongside (Ray retries for ~20 s before giving up).
    wrong = _cli_in_head_ns(
        cluster,
        ["run", str(config), "--name", "wrong_token", "--address", cluster.address],
        env={"RAY_AUTH_TOKEN": "0" * 64},
        unset=["RAY_AUTH_TOKEN_PATH"],
    )
    # As a `ray job submit` entrypoint runs: RAY_ADDRESS names the cluster, --address auto.
    run = _cli_in_head_ns(cluster, ["run", str(config), "--address", "auto"])
    try:
        on_worker = _await_progress_on_both_nodes(folder, cluster, run)
        cluster.kill_worker()
        killed_at = time.time()
        cluster.wait_for_alive_nodes(1)
        code, _, stderr = _finish(run, timeout=300)
        wrong_code, _, wrong_stderr = _finish(wrong, timeout=120)
    finally:
        stop_sessions([run, wrong], signal.SIGKILL, grace=0.0)
    assert code == 0, stderr[-3000:]
    experiment = load_experiment(folder)
    trials = experiment.trials.set_index("trial_id")
    reports = experiment.reports

    before = reports[reports["report_time"] < killed_at]
    assert set(before["node_ip"]) == {cluster.head_ip, cluster.worker_ip}
    assert len(trials) == 4 and set(trials["status"]) == {"TERMINATED"}
    assert trials.loc[on_worker, "num_failures"] >= 1
    for trial_id, trial in trials.iterrows():
        epochs = raw_epochs(trial["trial_dir"])
        assert set(epochs) == set(range(1, 9)), (trial_id, epochs)
    # The trial caught on the worker went on from its checkpoint on the head, not from scratch.
    assert raw_epochs(trials.loc[on_worker, "trial_dir"]).count(1) == 1
    later = reports[reports["report_time"] > killed_at + 1]
    assert not later.empty and set(later["node_ip"]) == {cluster.head_ip}

    assert wrong_code == 2, wrong_stderr[-3000:]
    errors = [line for line in wrong_stderr.splitlines() if line.startswith("raytune-hpo: error:")]
    assert len(errors) == 1, wrong_stderr[-3000:]
    assert errors[0].startswith(
        f"raytune-hpo: error: --address: the Ray cluster at {cluster.address} uses token "
        "authentication and the token from RAY_AUTH_TOKEN was refused; set RAY_AUTH_TOKEN"
    ), errors
    assert "Traceback" not in wrong_stderr
    assert not (tmp_path / "results" / "wrong_token").exists()
