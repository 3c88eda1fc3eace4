"""Shared fixtures: one real local Ray instance per test session, tiny digits configs, ports, and
the user's code copied out of the repository. Functions and constants are in ``tests/helpers/``."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.s3_server import BUCKET, CREDENTIALS, S3Server, s3_server
from tests.helpers.user_code import TUNABLE_FILE, USER_MODULE

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# Ray runs its workers at niceness 15: on a machine busy with other processes the tests' trials
# got a few percent of a core (a 9 s test ran out of its 300 s beside two busy loops), so their
# time limits measured the neighbours. At 0 they share the cores as equals.
os.environ.setdefault("RAY_worker_niceness", "0")
# TensorBoard's own writer and readers (torch's SummaryWriter, EventAccumulator) import
# TensorFlow where it is installed (the frameworks extra installs it for Keras), and TensorFlow
# beside torch can crash the test process: its module "notf" makes them use their TensorFlow-free
# stub, as TensorBoard's own no_tensorflow build does.
sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


@pytest.fixture
def closed_port() -> int:
    """A loopback port that nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def listening_port() -> Iterator[int]:
    """The loopback port of a socket that accepts connections for the whole test."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield int(server.getsockname()[1])


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """A real local Ray instance on 2 CPUs shared by the integration tests."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield
    ray.shutdown()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory shared by the session (digits needs no download)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def tiny_lenet_config(tmp_path: Path, data_dir: Path) -> dict[str, Any]:
    """A raw LeNet-on-digits config that finishes in seconds (3 epochs, 4 trials)."""
    return {
        "name": "tiny",
        "trainable": "lenet",
        "trainable_options": {"activation": "relu"},
        "dataset": {
            "name": "digits",
            "data_dir": str(data_dir),
            "train_size": 400,
            "test_size": 100,
        },
        "max_epochs": 3,
        "num_samples": 4,
        "seed": 0,
        "search_space": {
            "learning_rate": {"loguniform": [0.005, 0.3]},
            "batch_size": {"randint": [32, 128]},
            "momentum": 0.9,
        },
        "storage_path": str(tmp_path / "results"),
    }


@pytest.fixture(scope="session")
def user_code_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the package holding the user's module, ``USER_MODULE``.py."""
    folder = tmp_path_factory.mktemp("user_code")
    shutil.copy(TUNABLE_FILE, folder / f"{USER_MODULE}.py")
    return folder


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    """A real S3-compatible server (moto) per test module, its bucket ``BUCKET``, and dummy
    credentials in the environment."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CREDENTIALS.items():
            patch.setenv(key, value)
        with s3_server(buckets=(BUCKET,)) as server:
            yield server
