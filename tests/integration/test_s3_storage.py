"""Every command on an ``s3://`` storage_path, served by the test's own S3-compatible server.

Real parts throughout: moto's S3 server in a subprocess on 127.0.0.1, ``raytune-hpo`` commands in
fresh interpreters that start their own Ray, SIGKILL of the driver. The endpoint reaches the
commands either in the URI's query (``?endpoint_override=HOST:PORT&scheme=http``) or through
``AWS_ENDPOINT_URL``; a store that fails gives one line and no traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from raytune_hpo import storage
from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.storage import ray_state
from tests.helpers.netns_cluster import stop_sessions
from tests.helpers.running import write_sleep_config
from tests.helpers.s3_server import BUCKET, S3Server, s3_server, two_climbs

pytestmark = pytest.mark.integration

EPOCHS = 4
CLI = (sys.executable, "-m", "raytune_hpo.cli")


def cli_env(s3: S3Server | None, **extra: str) -> dict[str, str]:
    """The environment of a command; with ``s3`` the endpoint is in ``AWS_ENDPOINT_URL``."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "AWS_ENDPOINT_URL")}
    env |= {"RAY_USAGE_STATS_ENABLED": "0", "TUNE_GLOBAL_CHECKPOINT_S": "0.5", **extra}
    return env | ({"AWS_ENDPOINT_URL": s3.endpoint} if s3 is not None else {})


def cli(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``raytune-hpo ARGS`` in a fresh interpreter."""
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def sleep_config(folder: Path, storage_path: str) -> Path:
    """Two trials of the ``sleep`` trainable, 2 epochs of 0.05 s."""
    return write_sleep_config(folder, "sleepy", storage_path, epochs=2, trials=2)


def saved_midway(location: storage.Location) -> bool:
    """Whether the stored state shows a trial running with a checkpoint before its last step."""
    state = ray_state.newest_state_file(location)
    if state is None:
        return False
    try:
        data = json.loads(storage.read_text(location, state))
    except (OSError, ValueError):
        return False
    for trial_json, runtime_json in data["trial_data"]:
        trial, runtime = json.loads(trial_json), json.loads(runtime_json)
        epoch = (runtime.get("last_result") or {}).get("epoch", 0)
        if trial["status"] == "RUNNING" and 2 <= epoch < EPOCHS:
            return True
    return False


def kill_when_saved_midway(run: subprocess.Popen[str], location: storage.Location) -> None:
    """SIGKILL the driver and the Ray it started once a trial is part-way, as a dying machine."""
    deadline = time.monotonic() + 120
    try:
        while not saved_midway(location):
            assert run.poll() is None, f"the run ended first: {run.communicate()}"
            assert time.monotonic() < deadline, "no trial was part-way within 120 s"
            time.sleep(0.2)
        os.kill(run.pid, signal.SIGKILL)
    finally:
        stop_sessions([run], signal.SIGKILL, grace=0.0)


def test_run_killed_then_resume_summary_and_compare_read_the_bucket(
    s3: S3Server, tmp_path: Path, user_code_dir: Path
) -> None:
    root = s3.uri(f"{BUCKET}/hpo")  # the endpoint in the query
    folder = storage.as_location(root) / "climb"
    config = two_climbs(tmp_path, user_code_dir, "climb", EPOCHS, storage_path=root)
    run = subprocess.Popen(
        [*CLI, "run", str(config), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(None),
        start_new_session=True,
    )
    kill_when_saved_midway(run, folder)

    resumed = cli("resume", folder, "--quiet", env=cli_env(None))
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    experiment = load_experiment(folder)
    assert set(experiment.trials["status"]) == {"TERMINATED"}
    reports = experiment.reports
    # Each step's score is lr * step: the state went on from the checkpoint, no step ran twice.
    # (Reports since Ray's last sync of result.json to the bucket died with the driver.)
    for trial_id, own in reports.groupby("trial_id"):
        assert own["training_iteration"].max() == EPOCHS, trial_id
        expected = own["config/lr"] * own["training_iteration"]
        assert own["score"].to_numpy() == pytest.approx(expected.to_numpy()), trial_id
    # A trial killed part-way continued from its own checkpoint in the bucket.
    assert (reports["restored_from"] == reports["trial_id"]).any(), reports
    assert not (tmp_path / "s3:").exists()

    summary = cli("summary", folder, env=cli_env(None))
    assert summary.returncode == 0, summary.stderr
    assert f"Experiment climb ({folder})" in summary.stdout
    assert summary.stdout.count(f"finished after {EPOCHS} epochs") == 2

    compared = cli("compare", folder, "--out", str(tmp_path / "comparison"), env=cli_env(None))
    assert compared.returncode == 0, compared.stderr
    assert str(folder) in (tmp_path / "comparison" / "runs.csv").read_text()


def test_study_of_two_runs_lives_in_the_bucket(s3: S3Server, tmp_path: Path) -> None:
    root = s3.uri(f"{BUCKET}/studies", query=False)  # the endpoint in AWS_ENDPOINT_URL
    config = sleep_config(tmp_path, str(tmp_path / "unused"))
    args = ("study", str(config), "--seeds", "2", "--budget-s", "60", "--name", "pair")
    args += ("--storage-path", root, "--quiet")
    done = cli(*args, env=cli_env(s3))
    assert done.returncode == 0, done.stderr[-3000:]
    study = storage.as_location(root) / "pair"
    assert f"report: {study / 'comparison' / 'report.md'}" in done.stdout
    seen = storage.as_location(s3.uri(f"{BUCKET}/studies/pair"))  # this test's own address
    record = json.loads(storage.read_text(seen, "study.json"))
    assert sorted(record["finished"]) == ["sleepy_seed0", "sleepy_seed1"]
    for run in ("sleepy_seed0", "sleepy_seed1"):
        assert len(load_experiment(seen / run).reports) == 4
    assert storage.exists(seen / "comparison", "anytime.png")

    summary = cli("summary", study / "sleepy_seed1", env=cli_env(s3))
    assert summary.returncode == 0, summary.stderr
    assert f"Experiment sleepy_seed1 ({study / 'sleepy_seed1'})" in summary.stdout

    again = cli(*args, env=cli_env(s3))
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.count("finished earlier, kept") == 2


@pytest.fixture(scope="module")
def s3_with_auth() -> Iterator[S3Server]:
    """A second server that checks credentials; it has no bucket."""
    with s3_server(auth=True) as server:
        yield server


def error_cases(s3: S3Server, auth: S3Server, tmp_path: Path) -> dict[str, tuple[Any, ...]]:
    """Name -> (arguments, environment, the one line expected on stderr)."""
    nobucket = s3.uri("nobucket/hpo")
    unreachable = f"s3://{BUCKET}/hpo/x?endpoint_override=127.0.0.1:9&scheme=http"
    not_experiment = s3.uri(f"{BUCKET}/hpo")
    denied = auth.uri(f"{BUCKET}/hpo")
    config = sleep_config(tmp_path, nobucket)
    no_credentials = {key: "" for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    no_credentials |= {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/none"}
    return {
        "no_bucket": (
            ("run", str(config)),
            cli_env(None),
            f"{config}: storage_path: {nobucket}: bucket 'nobucket' does not exist; create it, "
            "or correct the URI",
        ),
        "unreachable": (
            ("summary", unreachable),
            cli_env(None),
            f"{unreachable}: cannot reach the storage endpoint 127.0.0.1:9 (Connection refused)",
        ),
        "not_an_experiment": (
            ("summary", not_experiment),
            cli_env(None),
            f"{not_experiment}: no raytune_hpo.yaml; not an experiment folder of raytune-hpo",
        ),
        "no_credentials": (
            ("run", str(config), "--set", f"storage_path={json.dumps(denied)}"),
            cli_env(None, **no_credentials),
            f"{config}: storage_path: {denied}: no AWS credentials found (set AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE); the store refused the request (HTTP 500)",
        ),
    }


@pytest.mark.parametrize(
    "case", ["no_bucket", "unreachable", "not_an_experiment", "no_credentials"]
)
def test_a_failing_store_gives_one_line(
    s3: S3Server, s3_with_auth: S3Server, tmp_path: Path, case: str
) -> None:
    args, env, line = error_cases(s3, s3_with_auth, tmp_path)[case]
    done = cli(*args, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"raytune-hpo: error: {line}"]
    assert "Traceback" not in done.stdout + done.stderr
