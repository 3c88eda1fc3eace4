"""The lock of a local experiment folder: one holder at a time, named when refused, never left
stuck by a killed holder (a real subprocess killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from raytune_hpo.experiment import folder_lock
from raytune_hpo.experiment.folder_lock import FolderInUse, Holder
from raytune_hpo.layout import LOCK_FILE

HOLD = """
import sys, time
from pathlib import Path
from raytune_hpo.experiment import folder_lock
folder_lock.acquire(Path(sys.argv[1]), hint="wait")
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_taker_is_refused_by_name_until_the_first_releases(tmp_path: Path) -> None:
    folder = tmp_path / "results" / "exp"
    first = folder_lock.acquire(folder, hint="wait until it ends")
    written = Holder.parse((folder / LOCK_FILE).read_text())
    assert written is not None and (written.host, written.pid) == (
        socket.gethostname(),
        os.getpid(),
    )

    with pytest.raises(FolderInUse) as refused:
        folder_lock.acquire(folder, hint="wait until it ends")
    line = str(refused.value)
    assert line.startswith(f"{folder} is in use by another run (pid {os.getpid()} on ")
    assert socket.gethostname() in line and line.endswith("); wait until it ends")
    assert "\n" not in line

    first.release()
    first.release()  # twice is harmless
    assert not folder.exists()  # the lock made the folder and nothing else used it
    again = folder_lock.acquire(folder, hint="wait")
    (folder / "raytune_hpo.yaml").write_text("name: exp\n")
    again.release()
    assert [p.name for p in folder.iterdir()] == ["raytune_hpo.yaml"]


def test_a_killed_holder_leaves_the_folder_free(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(FolderInUse, match=f"pid {holder.pid} on {socket.gethostname()}"):
            folder_lock.acquire(folder, hint="wait")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (folder / LOCK_FILE).exists()  # the file stays, its lock went with the process
    folder_lock.acquire(folder, hint="wait").release()


def test_a_moved_folder_leaves_its_lock_behind(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    lock = folder_lock.acquire(folder, hint="wait")
    (folder / "raytune_hpo.yaml").write_text("name: exp\n")
    moved = folder.rename(tmp_path / "exp.replaced")
    lock.moved(moved)

    assert sorted(p.name for p in moved.iterdir()) == ["raytune_hpo.yaml"]
    with pytest.raises(FolderInUse):
        folder_lock.acquire(folder, hint="wait")
    lock.release()
    folder_lock.acquire(folder, hint="wait").release()


def test_resume_of_a_folder_a_run_left_before_its_config_says_to_run_it(tmp_path: Path) -> None:
    from raytune_hpo.config import ConfigError
    from raytune_hpo.experiment.runner import resume_experiment

    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / LOCK_FILE).write_text(Holder("host", 1, 0.0, 0.0).dump())  # no process holds it
    with pytest.raises(
        ConfigError, match="ended before it saved its config .*`raytune-hpo run FILE`"
    ):
        resume_experiment(folder)
    assert folder.is_dir() and not (folder / LOCK_FILE).exists()  # resume took it, then let go
