"""One run at a time in an experiment folder, a resume of a run killed before its first trial,
and relative paths of a YAML file resolved against its folder.

Real parts: ``raytune-hpo`` in fresh interpreters that start their own Ray, SIGKILL of a driver
and the Ray it started, the test's own S3-compatible server, the session's Ray for the resume.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from raytune_hpo import storage
from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.config import validate_config
from raytune_hpo.experiment import folder_lock
from raytune_hpo.experiment.folder_lock import FolderInUse, Holder
from raytune_hpo.experiment.runner import experiment_path, resume_experiment, save_config
from raytune_hpo.layout import CONFIG_FILE, LOCK_FILE
from tests.helpers.netns_cluster import stop_sessions
from tests.helpers.running import run_cli, wait_for, write_sleep_config
from tests.helpers.s3_server import BUCKET, S3Server

pytestmark = pytest.mark.integration

CLI = (sys.executable, "-m", "raytune_hpo.cli")


def _holder(folder: storage.Location) -> Holder | None:
    try:
        return Holder.parse(storage.read_text(folder, LOCK_FILE))
    except FileNotFoundError:
        return None


def _refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The one line of a command refused with exit 2."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_folder_in_use_is_refused_and_a_killed_run_leaves_it_free(tmp_path: Path) -> None:
    # The YAML sits in conf/ and names its folders relative to itself; every command runs
    # from another folder.
    conf, elsewhere = tmp_path / "conf", tmp_path / "elsewhere"
    conf.mkdir(), elsewhere.mkdir()
    config = write_sleep_config(
        conf,
        "shared",
        "../results",
        epochs=2,
        trials=1,
        trainable_options={"seconds_per_epoch": 60},
        dataset={"name": "digits", "data_dir": "data"},
    )
    folder = tmp_path / "results" / "shared"
    first = subprocess.Popen(
        [*CLI, "run", str(config), "--quiet"],
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: (h := _holder(folder)) is not None and h.pid == first.pid, 60), (
            first.poll()
        )
        holder = f"(pid {first.pid} on {socket.gethostname()}, since "
        for args in (("run", str(config)), ("run", str(config), "--overwrite")):
            line = _refusal(run_cli(*args, cwd=elsewhere, timeout=120))
            assert line.startswith(f"raytune-hpo: error: {folder} is in use by another run "), line
            assert holder in line and line.endswith("wait until it ends, or choose another --name")
        line = _refusal(run_cli("resume", str(folder), cwd=elsewhere, timeout=120))
        assert holder in line and line.endswith("; wait until it ends"), line
        assert sorted(p.name for p in folder.parent.iterdir()) == ["shared"]  # nothing moved
        # Its config is written once its Ray has started (the refusals above came meanwhile).
        assert wait_for(lambda: (folder / CONFIG_FILE).exists(), 120), first.poll()
    finally:
        os.kill(first.pid, signal.SIGKILL)  # the driver, as when its machine dies ...
        stop_sessions([first], signal.SIGKILL, grace=0.0)  # ... with the Ray it started

    again = run_cli(
        "run",
        str(config),
        "--overwrite",
        "--set",
        "trainable_options.seconds_per_epoch=0.05",
        cwd=elsewhere,
        timeout=240,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"  folder     {folder}\n" in again.stdout
    assert f"  data       {conf / 'data'}\n" in again.stdout
    assert not (folder / LOCK_FILE).exists()
    assert set(load_experiment(folder).trials["status"]) == {"TERMINATED"}
    # The killed run's folder was set aside whole, without the lock that moved with it.
    (replaced,) = [p for p in folder.parent.iterdir() if p.name.startswith("shared.replaced-")]
    assert (replaced / CONFIG_FILE).exists() and not (replaced / LOCK_FILE).exists()


def test_resume_of_a_run_killed_before_its_first_trial_starts_it(
    ray_session: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_sleep_config(tmp_path, "early", str(tmp_path / "results"), epochs=2, trials=2)
    cfg = validate_config(yaml.safe_load(config.read_text()))
    folder = experiment_path(cfg)
    save_config(cfg, folder)  # what a run has written when it is killed before the Tuner starts
    assert sorted(p.name for p in folder.iterdir()) == [CONFIG_FILE]

    outcome = resume_experiment(folder, output="quiet")

    assert f"no trial of {folder} had started; starting the experiment from its saved" in (
        capsys.readouterr().out
    )
    trials = load_experiment(folder).trials
    assert len(trials) == 2 and set(trials["status"]) == {"TERMINATED"}
    assert outcome.best is not None and outcome.path == folder
    assert not (folder / LOCK_FILE).exists()


def test_a_lock_at_a_storage_uri_is_best_effort_and_named(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = s3.uri(f"{BUCKET}/locks")
    config = write_sleep_config(tmp_path, "held", root, epochs=1, trials=1)
    folder = storage.as_location(root) / "held"
    lock = folder_lock.acquire(folder, hint="wait")
    try:
        line = _refusal(run_cli("run", str(config), timeout=120))
        assert line.startswith(
            f"raytune-hpo: error: {folder} is in use by another run ({lock.holder.describe()}, "
            "last heartbeat "
        )
        assert line.endswith(" s ago); wait until it ends, or choose another --name"), line
    finally:
        lock.release()
    assert _holder(folder) is None

    # Another host's lock holds while its heartbeat is fresh; a stale one, or a dead process
    # of this host, is taken over.
    now = time.time()
    others = {
        "fresh": Holder("elsewhere", 1, now - 600, now - 5),
        "stale": Holder("elsewhere", 1, now - 600, now - folder_lock.STALE_S - 5),
        "dead": Holder(socket.gethostname(), _dead_pid(), now, now),
    }
    storage.write_text(folder, LOCK_FILE, others["fresh"].dump())
    with pytest.raises(
        FolderInUse, match=r"\(pid 1 on elsewhere, since .*, last heartbeat \d+ s ago"
    ):
        folder_lock.acquire(folder, hint="wait")
    for name in ("stale", "dead"):
        storage.write_text(folder, LOCK_FILE, others[name].dump())
        folder_lock.acquire(folder, hint="wait").release()

    # The holder's heartbeat keeps its lock fresh.
    monkeypatch.setattr(folder_lock, "HEARTBEAT_S", 0.2)
    lock = folder_lock.acquire(folder, hint="wait")
    first = lock.holder.heartbeat
    assert wait_for(lambda: (h := _holder(folder)) is not None and h.heartbeat > first, 30)
    lock.release()
    assert _holder(folder) is None


def _dead_pid() -> int:
    """The pid of a process of this host that has ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    return int(done.stdout)
