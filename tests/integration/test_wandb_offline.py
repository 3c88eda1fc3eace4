"""W&B logging of a real Tune run, offline, with no API key anywhere."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
import ray
import wandb
from ray import cloudpickle, tune

from raytune_hpo.console.header import wandb_where
from raytune_hpo.tracking.wandb_runs import (
    SERVER_TIMEOUT_S,
    WandbConfig,
    build_wandb_callbacks,
    resolve_mode,
)
from tests.helpers.wandb_records import find_offline_runs, read_offline_run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

_NAME = "wandb-smoke"
_METHOD = "random+fifo"
_METADATA = {
    "experiment": _NAME,
    "trainable": "toy",
    "dataset": "none",
    "searcher": "random",
    "scheduler": "fifo",
    "seed": 7,
}
_XS = [0.3, 0.1, 0.2]
_REPORTS = 3


def _toy(config: dict) -> None:
    for step in range(_REPORTS):
        tune.report({"loss": config["x"] + 1.0 / (step + 1)})


# Ray workers cannot import this test module by name: ship _toy by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture
def no_credentials(tmp_path: Path) -> Iterator[Path]:
    """No API key, no netrc, no W&B settings; the environment is restored afterwards."""
    home = tmp_path / "home"
    home.mkdir()
    with mock.patch.dict(os.environ):
        for name in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_BASE_URL", "NETRC"):
            os.environ.pop(name, None)
        os.environ["HOME"] = str(home)
        yield home


@pytest.fixture
def local_ray(no_credentials: Path) -> Iterator[None]:
    """A local Ray instance started after the credentials are gone (workers inherit env)."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    yield
    wandb.teardown()
    if started:
        ray.shutdown()


@pytest.fixture
def answering_server(no_credentials: Path, listening_port: int) -> str:
    """A local TCP listener as ``WANDB_BASE_URL``: a W&B server that accepts connections."""
    url = f"http://127.0.0.1:{listening_port}"
    os.environ["WANDB_BASE_URL"] = url
    return url


def test_resolve_mode(
    no_credentials: Path, answering_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_mode("auto") == "offline"
    assert resolve_mode("online") == "offline"
    host = answering_server.removeprefix("http://")  # wandb looks the netrc up by host:port
    (no_credentials / ".netrc").write_text(f"machine {host} login user password {'a' * 40}\n")
    assert resolve_mode("auto") == "online"
    (no_credentials / ".netrc").unlink()
    monkeypatch.setenv("WANDB_API_KEY", "b" * 40)
    assert resolve_mode("auto") == "online"
    assert resolve_mode("online") == "online"
    assert resolve_mode("offline") == "offline"


def test_a_server_that_does_not_answer_means_offline_at_once(
    no_credentials: Path,
    closed_port: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a key but no server, wandb would wait 90 s per run; the toolkit goes offline."""
    url = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("WANDB_BASE_URL", url)
    monkeypatch.setenv("WANDB_API_KEY", "b" * 40)
    start = time.monotonic()
    assert resolve_mode("auto") == "offline"
    assert resolve_mode("online") == "offline"
    # Each call waits SERVER_TIMEOUT_S at most (wandb alone: 90 s); slack for a loaded machine.
    assert time.monotonic() - start < 2 * SERVER_TIMEOUT_S + 20
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 2
    assert all(f"W&B server {url} (" in w and "logging offline" in w for w in warnings)


def test_disabled_builds_nothing(tmp_path: Path) -> None:
    cfg = WandbConfig()
    assert (
        build_wandb_callbacks(
            cfg,
            experiment_name=_NAME,
            experiment_dir=tmp_path,
            method=_METHOD,
            metadata=_METADATA,
            metric="loss",
            mode="min",
        )
        == []
    )


def test_offline_runs_per_trial_and_incumbent(local_ray: None, tmp_path: Path) -> None:
    experiment_dir = tmp_path / "results" / _NAME
    callbacks = build_wandb_callbacks(
        WandbConfig(enabled=True, mode="auto"),
        experiment_name=_NAME,
        experiment_dir=experiment_dir,
        method=_METHOD,
        metadata=_METADATA,
        metric="loss",
        mode="min",
        tables=lambda: {
            "summary": pd.DataFrame({"x": _XS}),
            "pareto_front": pd.DataFrame({"trial_id": ["a", "b"], "loss": [0.1, 0.2]}),
            "hypervolume": pd.DataFrame(columns=["elapsed_s", "hypervolume"]),  # empty: left out
        },
    )
    # What the console's header says: offline, the runs and the command that uploads them.
    where = wandb_where(os.environ, "raytune-hpo", _NAME)
    assert where.startswith("offline, runs in ")
    assert f"`wandb sync {experiment_dir.resolve() / 'wandb'}` uploads them" in where

    results = tune.Tuner(
        _toy,
        param_space={"x": tune.grid_search(_XS)},
        tune_config=tune.TuneConfig(metric="loss", mode="min"),
        run_config=tune.RunConfig(
            name=_NAME, storage_path=str(tmp_path / "results"), callbacks=callbacks
        ),
    ).fit()
    assert not results.errors

    runs = [read_offline_run(p) for p in find_offline_runs(experiment_dir / "wandb")]
    incumbents = [r for r in runs if r.name == f"{_NAME}-incumbent"]
    trial_runs = [r for r in runs if r.name != f"{_NAME}-incumbent"]
    found = [(r.path.name, r.name, len(r.history)) for r in runs]
    assert len(incumbents) == 1, found
    assert len(trial_runs) == len(_XS), found

    for run in [*trial_runs, *incumbents]:
        assert (run.project, run.group, run.job_type) == ("raytune-hpo", _NAME, _METHOD)
        assert _METADATA.items() <= run.config.items()

    assert sorted(r.config["x"] for r in trial_runs) == sorted(_XS)
    for run in trial_runs:
        losses = [row["loss"] for row in run.history if "loss" in row]
        assert losses == pytest.approx([run.config["x"] + 1.0 / (i + 1) for i in range(_REPORTS)])

    (incumbent,) = incumbents
    assert incumbent.config["metric"] == "loss" and incumbent.config["mode"] == "min"
    rows = [row for row in incumbent.history if "best_loss" in row]
    assert len(rows) == len(_XS) * _REPORTS
    best = [row["best_loss"] for row in rows]
    assert best == sorted(best, reverse=True)
    assert best[-1] == pytest.approx(min(_XS) + 1.0 / _REPORTS)
    elapsed = [row["elapsed_s"] for row in rows]
    assert elapsed == sorted(elapsed) and elapsed[0] >= 0
    (logged,) = [row for row in incumbent.history if "summary" in row]
    assert logged["summary"]["_type"] == "table-file" and logged["summary"]["nrows"] == len(_XS)
    assert logged["pareto_front"]["nrows"] == 2 and "hypervolume" not in logged
