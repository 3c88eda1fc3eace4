"""One run at a time in an experiment folder: a lock the run holds from its start to its end.

``run``, ``run --overwrite`` and ``resume`` take the lock of the experiment folder before they
touch it; a second one, while the first lives, is refused in one line naming the holder's host
and pid (:class:`FolderInUse`).

- **A local folder**: ``fcntl.flock`` on :data:`~raytune_hpo.layout.LOCK_FILE` in the folder.
  The kernel holds it for the life of the process and drops it when the process ends, however
  it ends, so a killed run (``kill -9``, a lost machine) leaves nothing stuck. The file also
  holds the holder's host, pid and start time for the message; the run removes it at its end.
- **A storage URI** (``s3://``, ``gs://``, ...): best effort, since an object store has no
  locks. The lock is an object of that name holding host, pid, start time and a heartbeat
  that the holder rewrites every :data:`HEARTBEAT_S` seconds. A lock whose heartbeat is older
  than :data:`STALE_S`, or whose holder was a process of this host that is gone, counts as
  left by a killed run and is taken over. Two runs started within a moment of each other on
  different machines can both pass: each reads its lock back after writing it, which narrows
  that window but cannot close it.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import fcntl
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from raytune_hpo import storage
from raytune_hpo.errors import UserError
from raytune_hpo.layout import LOCK_FILE

HEARTBEAT_S = 30.0
"""How often the holder of a lock at a storage URI rewrites its heartbeat."""
STALE_S = 120.0
"""A lock at a storage URI whose heartbeat is older than this was left by a run that ended."""
LOCK_TRIES = 10
"""Tries at a local lock file that runs ending at the same moment keep replacing."""
READ_TRIES = 20
"""Reads of a local lock file that its holder has locked but not yet written (50 ms apart)."""


@dataclass(frozen=True)
class Holder:
    """Who holds an experiment folder.

    Attributes:
        host: The holder's host name.
        pid: Its process id on that host.
        started: When it took the lock (seconds since the epoch).
        heartbeat: When it last said it was alive (a storage URI's lock; else ``started``).
        token: Tells one taking of the lock from another of the same process.
    """

    host: str
    pid: int
    started: float
    heartbeat: float
    token: str = ""

    @classmethod
    def of_this_process(cls) -> Holder:
        """This process, now."""
        now = time.time()
        return cls(socket.gethostname(), os.getpid(), now, now, uuid.uuid4().hex)

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """The holder written in a lock; None for text that is not one (empty, half-written)."""
        try:
            data = json.loads(text)
            return cls(
                host=str(data["host"]),
                pid=int(data["pid"]),
                started=float(data["started"]),
                heartbeat=float(data.get("heartbeat", data["started"])),
                token=str(data.get("token", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def dump(self) -> str:
        """The lock's text."""
        return json.dumps(asdict(self)) + "\n"

    def describe(self, heartbeat: bool = False) -> str:
        """``pid 1234 on HOST, since 2026-12-07 02:10:11 UTC``, with ``heartbeat`` also
        ``, last heartbeat 12 s ago`` (a storage URI's lock)."""
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started))
        beat = f", last heartbeat {max(0.0, time.time() - self.heartbeat):.0f} s ago"
        return f"pid {self.pid} on {self.host}, since {since}" + (beat if heartbeat else "")

    def is_gone(self, now: float) -> bool:
        """Whether a URI's lock was left by a run that no longer runs: its process on this host
        is gone, or its heartbeat is older than :data:`STALE_S`."""
        if self.host == socket.gethostname() and not _process_lives(self.pid):
            return True
        return now - self.heartbeat > STALE_S


class FolderInUse(UserError):
    """Another run holds the experiment folder; ``str()`` is one line naming it."""

    def __init__(self, folder: storage.Location, holder: Holder | None, hint: str) -> None:
        if holder is None:
            who = "its holder did not say who it is"
        else:
            who = holder.describe(heartbeat=not isinstance(folder, Path))
        super().__init__(f"{folder} is in use by another run ({who}); {hint}")
        self.folder = folder
        self.holder = holder


class FolderLock(abc.ABC):
    """The lock of one experiment folder, held by this process until :meth:`release`."""

    def __init__(self, folder: storage.Location, holder: Holder) -> None:
        self.folder = folder
        self.holder = holder

    @abc.abstractmethod
    def release(self) -> None:
        """Give the folder up (removing the lock); calling it twice does nothing."""

    @abc.abstractmethod
    def moved(self, target: storage.Location) -> None:
        """The folder was renamed to ``target`` (``--overwrite``): hold a new lock at the folder
        and drop the one that moved with it.

        Raises:
            FolderInUse: Another run took the folder's new lock meanwhile.
        """


class LocalLock(FolderLock):
    """``fcntl.flock`` on the lock file of a local folder, held through an open descriptor."""

    def __init__(self, folder: Path, holder: Holder, fd: int, hint: str, created: bool) -> None:
        super().__init__(folder, holder)
        self._fd: int | None = fd
        self._hint = hint
        self._created = created

    def release(self) -> None:
        """Remove the lock file while holding it, then close it; a folder the lock created and
        nothing else used is removed too."""
        if self._fd is None:
            return
        folder = Path(self.folder)
        with contextlib.suppress(OSError):
            if _same_file(self._fd, folder / LOCK_FILE):
                (folder / LOCK_FILE).unlink()
        os.close(self._fd)
        self._fd = None
        if self._created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty

    def moved(self, target: storage.Location) -> None:
        """Lock the new folder first, then drop the lock file that moved into ``target``."""
        fresh = _acquire_local(Path(self.folder), self._hint)
        old = self._fd
        self._fd, fresh._fd = fresh._fd, None
        self.holder, self._created = fresh.holder, fresh._created
        if old is not None:
            with contextlib.suppress(OSError):
                if isinstance(target, Path) and _same_file(old, target / LOCK_FILE):
                    (target / LOCK_FILE).unlink()
            os.close(old)


class ObjectLock(FolderLock):
    """A lock object at a storage URI, kept alive by a heartbeat thread (best effort)."""

    def __init__(self, folder: storage.Uri, holder: Holder, hint: str) -> None:
        super().__init__(folder, holder)
        self._hint = hint
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name="raytune-hpo-lock-heartbeat", daemon=True
        )
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(storage.StorageError, OSError):
                if _read_object(self.folder) in (None, self.holder.token):
                    self.holder = dataclasses.replace(self.holder, heartbeat=time.time())
                    storage.write_text(self.folder, LOCK_FILE, self.holder.dump())

    def release(self) -> None:
        """Stop the heartbeat and delete the lock object if it is still this run's."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=10)
        with contextlib.suppress(storage.StorageError, OSError):
            if _read_object(self.folder) == self.holder.token:
                storage.remove(self.folder, LOCK_FILE)

    def moved(self, target: storage.Location) -> None:
        """Write the lock again at the folder; the copy that moved into ``target`` goes."""
        with contextlib.suppress(storage.StorageError, OSError):
            storage.remove(target, LOCK_FILE)
        _take_object(storage.Uri(str(self.folder)), self.holder, self._hint)


def acquire(folder: storage.Location, *, hint: str) -> FolderLock:
    """Take the lock of the experiment folder ``folder`` (created if missing when local).

    The store of a URI is checked first by the caller (:func:`storage.check_store`), whose
    error names the config key.

    Args:
        folder: The experiment folder, a local ``Path`` or a :class:`~storage.Uri`.
        hint: What the refused user may do, ending the refusal's line.

    Raises:
        FolderInUse: Another living run holds the folder.
        OSError: A local folder cannot be created or its lock file written.
        storage.StorageError: The store of a URI fails.
    """
    if isinstance(folder, Path):
        return _acquire_local(folder, hint)
    holder = Holder.of_this_process()
    _take_object(folder, holder, hint)
    return ObjectLock(folder, holder, hint)


def _acquire_local(folder: Path, hint: str) -> LocalLock:
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / LOCK_FILE
    for _ in range(LOCK_TRIES):
        fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_locked(fd)
            os.close(fd)
            raise FolderInUse(folder, holder, hint) from None
        except BaseException:
            os.close(fd)
            raise
        # A holder that just ended removed the file this descriptor opened: lock the new one.
        if _same_file(fd, file):
            holder = Holder.of_this_process()
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.dump().encode(), 0)
            return LocalLock(folder, holder, fd, hint, created)
        os.close(fd)
    raise FolderInUse(folder, None, hint)


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _read_locked(fd: int) -> Holder | None:
    """The holder written in a local lock file; its holder writes it just after locking."""
    for _ in range(READ_TRIES):
        if (holder := Holder.parse(os.pread(fd, 4096, 0).decode(errors="replace"))) is not None:
            return holder
        time.sleep(0.05)
    return None


def _read_object(folder: storage.Location) -> str | None:
    """The token of the lock object at ``folder``; None when there is none."""
    try:
        holder = Holder.parse(storage.read_text(folder, LOCK_FILE))
    except FileNotFoundError:
        return None
    return holder.token if holder is not None else ""


def _take_object(folder: storage.Uri, holder: Holder, hint: str) -> None:
    """Write this run's lock object unless a living run's is there, then read it back.

    Raises:
        FolderInUse: A lock object of a living run is there, or another run's write replaced
            this one's.
    """
    try:
        found = Holder.parse(storage.read_text(folder, LOCK_FILE))
    except FileNotFoundError:
        found = None
    ours = (socket.gethostname(), os.getpid())
    if found is not None and (found.host, found.pid) != ours and not found.is_gone(time.time()):
        raise FolderInUse(folder, found, hint)
    storage.write_text(folder, LOCK_FILE, holder.dump())
    try:
        back = Holder.parse(storage.read_text(folder, LOCK_FILE))
    except FileNotFoundError:
        back = None
    if back is not None and back.token != holder.token:
        raise FolderInUse(folder, back, hint)


def _process_lives(pid: int) -> bool:
    """Whether process ``pid`` of this host exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
