"""A Ray instance that ``ray start`` left on this machine: found when it answers, else ignored.

Ray records the address of the last ``ray start`` in ``ray_current_cluster`` under its temp
folder; ``RAY_TMPDIR`` points these tests at a folder of their own.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from raytune_hpo import cluster


@pytest.fixture
def ray_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Ray temp folder, as ``RAY_TMPDIR`` names it for this test."""
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    (tmp_path / "ray").mkdir()
    return tmp_path / "ray"


def test_nothing_recorded_is_no_cluster(ray_tmp: Path) -> None:
    assert cluster.local_cluster() is None


def test_a_recorded_cluster_that_answers_is_found(ray_tmp: Path, listening_port: int) -> None:
    (ray_tmp / "ray_current_cluster").write_text(f"127.0.0.1:{listening_port}\n")
    assert cluster.local_cluster() == f"127.0.0.1:{listening_port}"


def test_a_recorded_cluster_that_is_gone_is_ignored(ray_tmp: Path, closed_port: int) -> None:
    (ray_tmp / "ray_current_cluster").write_text(f"127.0.0.1:{closed_port}\n")
    assert cluster.local_cluster() is None


@pytest.mark.parametrize("text", ["", "garbage", "host:port"])
def test_an_unreadable_record_is_ignored(ray_tmp: Path, text: str) -> None:
    (ray_tmp / "ray_current_cluster").write_text(text)
    assert cluster.local_cluster() is None


def test_no_local_processes_without_a_started_instance() -> None:
    # A fresh interpreter: the test session may hold a Ray instance of its own.
    probe = "from raytune_hpo import cluster; print(cluster.local_ray_processes())"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
