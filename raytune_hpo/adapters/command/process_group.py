"""A command's process group, ended as a whole with its trial, whatever ends the trial.

How the command ends with its trial. The command runs in a session and process group of its
own, and every end below signals the whole group: SIGTERM (and SIGCONT, should it be paused),
then SIGKILL after ``stop_grace_s``. Ray 2.60 ends a function trainable's thread in these ways:

- A scheduler's or the stop criterion's STOP, a PBT exploit, Ctrl-C, the end of the experiment:
  the trial's thread waits inside ``tune.report`` for the next call of ``train``, and Ray's
  ``session.finish`` (from ``Trainable.stop``, or from ``reset_config`` when the worker is reused)
  wakes it with ``SystemExit``: the ``finally`` of
  :func:`~raytune_hpo.adapters.command.command_trainable.train_command` ends the group. As
  ``reset_config`` fails the next trial if the thread outlives 2 s
  (``TUNE_FUNCTION_THREAD_TIMEOUT_S``), the thread waits for the group only half of that; a
  reaper thread finishes the rest.
- Ray caches a stopped trial's worker for reuse without telling the thread, which then waits in
  ``tune.report`` until the worker is reused or removed. The command is paused (SIGSTOP of its
  group) while the thread waits in ``tune.report``, as a Python function trainable would be, so
  it neither runs ahead of the scheduler's decision nor burns CPU meanwhile.
- Ray kills the worker process (``ray.kill`` of a trial that did not answer ``stop`` within
  10 s, ``ray.shutdown``, a crash): no Python code runs in it any more. Each worker therefore
  starts one guardian process, outside Ray's reach (its own session, not a child of the
  worker), that reads the groups to watch from a pipe; when the pipe closes because the worker
  is gone, it ends every group still watched (and removes the runs' scratch folders).
- The command exits by itself: processes it left behind in its group are ended too, so that
  none outlives the trial (and stdout, which they may hold open, reaches its end).

A command that starts its own session (``setsid``) leaves the group and cannot be followed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, cast

from raytune_hpo.errors import RaytuneHpoError
from raytune_hpo.os_processes import process_table

POLL_S = 0.02
"""Seconds between two looks at a group that is ending."""
GUARDIAN_SCRIPT = Path(__file__).with_name("guardian.py")


class CommandError(RaytuneHpoError, RuntimeError):
    """A command trial's command failed, or ended without reporting its metric."""


def group_members(pgid: int) -> list[int]:
    """The running processes of group ``pgid`` (zombies do not count: where PID 1 reaps no
    orphans, as in many containers, they stay forever); empty without ``/proc``."""
    return [p.pid for p in process_table() if p.group == pgid and p.state not in ("Z", "X")]


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return not os.path.isdir("/proc") or bool(group_members(pgid))


class _Guardian:
    """Cleans up after this worker process once it is gone, however it ended.

    The guardian is a tiny Python process in a session of its own and, forked once more, no
    child of the worker: Ray kills a worker's children and process group, but not it. It reads
    JSON lines from a pipe that only this process holds: ``["end", PGID, GRACE_S]``,
    ``["remove", FOLDER]``, ``["drop", PGID or FOLDER]``. When the pipe closes, it ends the
    process groups still listed (SIGTERM, then SIGKILL after the longest grace), then removes
    the folders.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pipe: IO[str] | None = None
        self._listed: dict[int | str, list[Any]] = {}

    def end_group(self, pgid: int, grace_s: float) -> None:
        """End process group ``pgid`` should this process die."""
        self._send(pgid, ["end", pgid, grace_s])

    def remove_folder(self, folder: Path) -> None:
        """Remove ``folder`` (a symbolic link: the link) should this process die."""
        self._send(str(folder), ["remove", str(folder)])

    def drop(self, key: int | Path) -> None:
        """Leave a group or folder alone: it is taken care of."""
        self._send(key if isinstance(key, int) else str(key), None)

    def _send(self, key: int | str, entry: list[Any] | None) -> None:
        with self._lock:
            if entry is None:
                if self._listed.pop(key, None) is None:
                    return
                entry = ["drop", key]
            else:
                self._listed[key] = entry
            if self._pipe is not None:
                with contextlib.suppress(BrokenPipeError):
                    self._pipe.write(json.dumps(entry) + "\n")
                    self._pipe.flush()
                    return
            # First use, or the guardian died: start one that knows everything still listed.
            starter = subprocess.Popen(
                [sys.executable, "-I", "-S", str(GUARDIAN_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
            )
            starter.wait()
            self._pipe = cast(IO[str], starter.stdin)
            self._pipe.writelines(json.dumps(listed) + "\n" for listed in self._listed.values())
            self._pipe.flush()


GUARDIAN = _Guardian()


class CommandProcess:
    """A command started in a session and process group of its own, ended as a whole.

    Attributes:
        popen: The command's process, the group's leader; stdout and stderr are pipes of text.
        pgid: The process group (the leader's pid).
    """

    def __init__(self, argv: list[str], cwd: Path, env: Mapping[str, str], grace_s: float):
        """Start ``argv`` in ``cwd``; the group is ended when the leader exits.

        Raises:
            CommandError: The program cannot be started.
        """
        try:
            self.popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        except OSError as err:
            raise CommandError(f"cannot start {argv[0]!r} in {cwd}: {err.strerror}") from None
        self.pgid = self.popen.pid
        self._grace_s = grace_s
        self._lock = threading.Lock()
        self._ended = False
        try:
            GUARDIAN.end_group(self.pgid, grace_s)
        except BaseException:
            os.killpg(self.pgid, signal.SIGKILL)
            raise
        threading.Thread(target=self._end_after_leader, daemon=True).start()

    def pause(self) -> None:
        """Stop every process of the group (SIGSTOP) until :meth:`resume`."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Continue the group after :meth:`pause`."""
        self._signal(signal.SIGCONT)

    def end(self) -> None:
        """End the group: SIGTERM, then SIGKILL ``grace_s`` later if any process is left.

        Returns once the group is gone, or at the latest after half of the time that Ray gives a
        reused worker's trial thread to end (``TUNE_FUNCTION_THREAD_TIMEOUT_S``, 2 s); a daemon
        thread then sends the SIGKILL in time. Idempotent; a second call waits for the first.
        """
        wait_s = float(os.environ.get("TUNE_FUNCTION_THREAD_TIMEOUT_S", "2")) / 2
        with self._lock:
            if self._ended:
                return
            self._ended = True
            deadline = time.monotonic() + self._grace_s
            try:
                os.killpg(self.pgid, signal.SIGTERM)
                os.killpg(self.pgid, signal.SIGCONT)  # a paused group handles its SIGTERM now
            except ProcessLookupError:
                self._gone()
                return
            if not self._wait_gone(min(deadline, time.monotonic() + wait_s)):
                threading.Thread(target=self._kill_at, args=(deadline,), daemon=True).start()

    def _signal(self, signum: int) -> None:
        with self._lock, contextlib.suppress(ProcessLookupError):
            if not self._ended:
                os.killpg(self.pgid, signum)

    def _wait_gone(self, until: float) -> bool:
        while True:
            self.popen.poll()  # reap the leader, so that only running processes count
            if not group_alive(self.pgid):
                self.popen.poll()  # the leader may have ended since the poll above
                self._gone()
                return True
            if time.monotonic() >= until:
                return False
            time.sleep(POLL_S)

    def _kill_at(self, deadline: float) -> None:
        if not self._wait_gone(deadline):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signal.SIGKILL)
            self.popen.wait()
            self._gone()

    def _gone(self) -> None:
        GUARDIAN.drop(self.pgid)

    def _end_after_leader(self) -> None:
        self.popen.wait()
        self.end()
