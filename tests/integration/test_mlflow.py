"""MLflow tracking against a real ``mlflow server`` (SQLite backend) on 127.0.0.1: one parent
run per experiment, one nested run per trial, read back through MLflow's client; a resumed
experiment continues its parent run; an unreachable URI is one line before Ray starts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from raytune_hpo.cli import main
from raytune_hpo.layout import MLFLOW_RUN_FILE
from tests.helpers.running import write_sleep_config

pytestmark = pytest.mark.integration
PARENT = "mlflow.parentRunId"


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URI of an ``mlflow server`` with a SQLite backend, up for the session."""
    folder = tmp_path_factory.mktemp("mlflow_server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("mlflow")),
            "server",
            "--backend-store-uri",
            f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("w"),
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "server.log").read_text()[-2000:])
            time.sleep(0.2)
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_one_parent_run_and_a_nested_run_per_trial(
    mlflow_uri: str, ray_session: None, tmp_path: Path
) -> None:
    config = write_sleep_config(
        tmp_path, "mlflow_runs", str(tmp_path / "results"), epochs=3, trials=2
    )
    assert main(["run", str(config), "--set", f"mlflow.tracking_uri={mlflow_uri}"]) == 0

    client = MlflowClient(mlflow_uri)
    experiment = client.get_experiment_by_name("mlflow_runs")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [run for run in runs if PARENT not in run.data.tags]
    trials = [run for run in runs if run.data.tags.get(PARENT) == parent.info.run_id]
    assert len(trials) == 2 and len(runs) == 3
    assert parent.data.params["method"] == "random" and parent.data.params["seed"] == "0"
    assert parent.data.tags["hpo.method"] == "random"
    assert parent.info.status == "FINISHED"
    best = json.loads((tmp_path / "results/mlflow_runs/best.json").read_text())
    assert parent.data.metrics["best_validation_error"] == best["validation_error"]
    artefacts = {item.path for item in client.list_artifacts(parent.info.run_id)}
    assert {"best.json", "raytune_hpo.yaml", "trial_ends.json", "importance.json"} <= artefacts
    for trial in trials:
        assert trial.info.status == "FINISHED"
        assert trial.data.tags["hpo.trial_status"] == "TERMINATED"
        assert 0.1 <= float(trial.data.params["learning_rate"]) <= 1.0
        history = client.get_metric_history(trial.info.run_id, "validation_error")
        assert [point.step for point in history] == [1, 2, 3]
    trial_ids = {trial.data.tags["hpo.trial_id"] for trial in trials}
    assert best["trial_id"] in trial_ids and len(trial_ids) == 2


def test_a_resumed_experiment_continues_its_parent_run(mlflow_uri: str, tmp_path: Path) -> None:
    from raytune_hpo.config.mlflow_section import MlflowConfig
    from raytune_hpo.tracking.mlflow_runs import build_mlflow_callbacks

    def callback() -> object:
        (made,) = build_mlflow_callbacks(
            MlflowConfig(tracking_uri=mlflow_uri),
            experiment_name="mlflow_resume",
            folder=tmp_path,
            local_root=tmp_path,
            params={"seed": 0},
            tags={},
            metric="loss",
            mode="min",
        )
        made.setup()
        return made

    first = callback()
    stored = json.loads((tmp_path / MLFLOW_RUN_FILE).read_text())
    assert stored["run_id"] == first.parent_run_id  # type: ignore[attr-defined]
    MlflowClient(mlflow_uri).set_terminated(stored["run_id"], status="KILLED")
    again = callback()
    assert again.parent_run_id == stored["run_id"]  # type: ignore[attr-defined]
    assert MlflowClient(mlflow_uri).get_run(stored["run_id"]).info.status == "RUNNING"


def test_an_unreachable_tracking_uri_is_one_line_and_exit_2(
    tmp_path: Path, closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_sleep_config(tmp_path, "mlflow_down", str(tmp_path / "r"), epochs=1, trials=1)
    uri = f"http://me@127.0.0.1:{closed_port}"
    assert main(["run", str(config), "--set", f"mlflow.tracking_uri={uri}"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "mlflow.tracking_uri" in lines[0] and "does not answer" in lines[0]
    assert f"http://***@127.0.0.1:{closed_port}" in lines[0]
    assert not (tmp_path / "r" / "mlflow_down" / "raytune_hpo.yaml").exists()
