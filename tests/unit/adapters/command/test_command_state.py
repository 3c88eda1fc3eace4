"""A command trial's state folder: what a report may take, and what a restart should show."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from raytune_hpo.adapters.command.state import (
    ITERATION_KEY,
    RAN_AHEAD,
    STEP_KEY,
    StateFolder,
    Taken,
    checkpoint_metadata,
    open_for_writing,
    restart_warning,
    written_after,
)


def write_atomically(folder: Path, name: str, text: str) -> None:
    (folder / "tmp").write_text(text)
    (folder / "tmp").replace(folder / name)


def test_a_state_written_before_the_line_is_taken_once(tmp_path: Path) -> None:
    state = StateFolder(tmp_path)
    write_atomically(tmp_path, "state.json", '{"round": 1}')
    read_ns = time.time_ns()
    assert state.take(read_ns).changed
    assert not state.take(time.time_ns()).changed  # nothing new since


def test_an_empty_folder_is_no_state(tmp_path: Path) -> None:
    taken = StateFolder(tmp_path).take(time.time_ns())
    assert not taken.changed and taken.skipped is None


def test_a_report_that_ran_ahead_skips_only_a_state_written_since_the_last(
    tmp_path: Path,
) -> None:
    state = StateFolder(tmp_path)
    # A command that never writes its state folder: nothing to skip, nothing to warn about.
    assert state.take(time.time_ns(), ran_ahead=True) == Taken(changed=False)
    write_atomically(tmp_path, "state.json", '{"epoch": 1}')
    assert state.take(time.time_ns(), ran_ahead=True).skipped == RAN_AHEAD
    assert state.take(time.time_ns()).changed
    # Taken already: a later report that ran ahead finds nothing new.
    assert state.take(time.time_ns(), ran_ahead=True) == Taken(changed=False)


def test_a_file_rewritten_after_the_line_was_read_keeps_the_report_without_a_state(
    tmp_path: Path,
) -> None:
    state = StateFolder(tmp_path)
    (tmp_path / "booster.json").write_text("round 1")
    read_ns = time.time_ns()
    time.sleep(0.02)  # past the file system clock's granularity
    (tmp_path / "booster.json").write_text("")  # the next round truncates it in place
    taken = state.take(read_ns)
    assert taken.skipped is not None and not taken.changed
    assert taken.skipped.startswith("booster.json in $RAYTUNE_HPO_CHECKPOINT_DIR was written after")
    # The state stays untaken: the next report, read after the rewrite, takes it.
    assert state.take(time.time_ns()).changed


def test_a_file_renamed_into_place_after_the_line_is_late_even_when_written_before(
    tmp_path: Path,
) -> None:
    (tmp_path / "tmp").write_text("round 2")
    read_ns = time.time_ns()
    time.sleep(0.02)
    (tmp_path / "tmp").replace(tmp_path / "state.json")  # a rename changes the inode's ctime
    assert written_after(tmp_path, read_ns) == "state.json"


def test_files_in_subfolders_count(tmp_path: Path) -> None:
    (tmp_path / "checkpoint-2").mkdir()
    read_ns = time.time_ns()
    time.sleep(0.02)
    (tmp_path / "checkpoint-2" / "optimizer.pt").write_bytes(b"\0")
    assert written_after(tmp_path, read_ns) == os.path.join("checkpoint-2", "optimizer.pt")


def test_checkpoint_metadata_keeps_the_report_and_the_scripts_own_step() -> None:
    assert checkpoint_metadata(4, {"loss": 0.3, "epoch": 4.0}, None) == {
        ITERATION_KEY: 4,
        STEP_KEY: ["epoch", 4.0],
    }
    assert checkpoint_metadata(3, {"loss": 0.3, "global_step": 900}, "global_step")[STEP_KEY] == [
        "global_step",
        900,
    ]
    assert checkpoint_metadata(2, {"loss": 0.3}, None) == {ITERATION_KEY: 2}


def test_a_restarted_command_that_started_over_is_named_once_in_one_line() -> None:
    metadata = {ITERATION_KEY: 4, STEP_KEY: ["epoch", 4]}
    warning = restart_warning("ab_00001", metadata, {"loss": 0.9, "epoch": 1})
    assert warning is not None and "\n" not in warning
    assert "trial ab_00001" in warning and "epoch 4" in warning and "epoch 1" in warning
    assert "$RAYTUNE_HPO_CHECKPOINT_DIR" in warning


def test_a_restarted_command_that_went_on_is_not_warned() -> None:
    metadata = {ITERATION_KEY: 4, STEP_KEY: ["epoch", 4]}
    assert restart_warning("ab_00001", metadata, {"loss": 0.2, "epoch": 5}) is None
    assert restart_warning("ab_00001", {ITERATION_KEY: 4}, {"epoch": 1}) is None  # no step known
    assert restart_warning("ab_00001", metadata, {"loss": 0.2}) is None  # no step reported


def test_a_file_a_held_process_is_writing_is_named(tmp_path: Path) -> None:
    # A real writer, stopped mid-write as the toolkit stops a command's group at a report.
    state = StateFolder(tmp_path)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; f = open(sys.argv[1], 'w'); f.write('{');"
            " f.flush(); print('open', flush=True); time.sleep(60)",
            str(tmp_path / "booster.json"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "open\n"
        os.kill(writer.pid, signal.SIGSTOP)
        taken = state.take(time.time_ns(), [writer.pid])
        assert taken.skipped == "booster.json in $RAYTUNE_HPO_CHECKPOINT_DIR was being written"
        assert not taken.changed
        assert open_for_writing([os.getpid()], tmp_path) is None  # read-only here: not a writer
    finally:
        writer.kill()
        writer.wait()
    assert state.take(time.time_ns(), [writer.pid]).changed  # closed: whole (the writer's "{")
