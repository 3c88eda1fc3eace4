"""``raytune-hpo run`` ends as soon as its results are written, and takes its Ray with it.

A real command in a real subprocess: the summary is printed, ``best.json`` and every trial's
results are on disk, the process exits within seconds of its last line (Ray's own shutdown took
4 to 6 s more here), and no process of the Ray instance it started outlives it. A Ray instance
that the user started with ``ray start`` is used (a warm start) and left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from raytune_hpo.cluster import tcp_probe as net
from raytune_hpo.os_processes import processes_naming
from tests.helpers.running import write_sleep_config

RAY_TMP = Path("/tmp/ray")
EXIT_LIMIT_S = 3.0
"""Seconds from the last printed line to the exit: 0.3 s seen here, 1.5 s the goal; slack for
a loaded machine."""


def session_processes(pid: int) -> list[int]:
    """Ids of live processes that name the Ray session of the driver ``pid``."""
    sessions = sorted(RAY_TMP.glob(f"session_*_{pid}"))
    assert sessions, f"no Ray session of process {pid} under {RAY_TMP}"
    return processes_naming(sessions[-1].name)


@pytest.mark.integration
def test_run_exits_once_results_are_written_and_leaves_no_ray_process(tmp_path: Path) -> None:
    config = write_sleep_config(tmp_path, "fast", str(tmp_path / "results"), epochs=2, trials=2)
    process = subprocess.Popen(
        [sys.executable, "-m", "raytune_hpo.cli", "run", str(config), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines, last_line_at = [], time.monotonic()
    for line in process.stdout:
        lines.append(line)
        last_line_at = time.monotonic()
    code = process.wait(timeout=300)
    exited_after = time.monotonic() - last_line_at
    output = "".join(lines)
    assert code == 0, output[-3000:]
    assert lines[-1].startswith("see it: raytune-hpo dashboard "), output[-3000:]
    assert any(line.startswith("best config:") for line in lines[-4:]), output[-3000:]
    assert exited_after < EXIT_LIMIT_S, (exited_after, output[-2000:])
    folder = tmp_path / "results" / "fast"
    best = json.loads((folder / "best.json").read_text())
    reports = [
        json.loads(line)
        for result in folder.glob("*/result.json")
        for line in result.read_text().splitlines()
    ]
    assert len(reports) == 4, reports
    assert best["validation_error"] == min(r["validation_error"] for r in reports)
    time.sleep(1.0)
    assert session_processes(process.pid) == []


@pytest.fixture
def started_ray(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Ray instance started with ``ray start --head``, recorded under a ``RAY_TMPDIR`` of its own.

    The temp folder is short (Ray's socket paths must fit 107 characters) and keeps every other
    ``ray.init()`` on this machine from finding the instance. Its processes are killed after.
    """
    temp = tempfile.mkdtemp(prefix="rt", dir="/tmp")
    monkeypatch.setenv("RAY_TMPDIR", temp)
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    try:
        subprocess.run(
            [str(Path(sys.executable).with_name("ray")), "start", "--head", f"--port={port}"]
            + ["--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
        yield (Path(temp) / "ray" / "ray_current_cluster").read_text().strip()
    finally:
        for pid in processes_naming(temp):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.integration
def test_run_attaches_to_the_ray_that_ray_start_left_and_leaves_it_running(
    tmp_path: Path, started_ray: str
) -> None:
    config = write_sleep_config(
        tmp_path, "warm", str(tmp_path / "results"), epochs=1, trials=1,
        search_space={"learning_rate": 0.5},
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "raytune_hpo.cli", "run", str(config), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    notes = [line for line in done.stderr.splitlines() if "`ray start` left" in line]
    assert notes == [
        f"raytune-hpo: running on the Ray instance that `ray start` left at {started_ray} "
        "(`ray stop` ends it; --address chooses another)"
    ], done.stderr
    assert (tmp_path / "results" / "warm" / "best.json").exists()
    host, _, port = started_ray.rpartition(":")
    assert net.connect_error(host, int(port), 5.0) is None, "the instance was stopped"
