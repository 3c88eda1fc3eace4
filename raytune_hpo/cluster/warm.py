"""A local Ray kept warm between commands: ``raytune-hpo warm`` and ``raytune-hpo warm --stop``.

Every command that attaches to a running Ray is a new job, and Ray starts new worker processes
for a job's trial actors: Python, Ray, then the trainable's imports, seconds before a trial can
train. :func:`start` runs ``ray start --head`` with workers that import torch as they start,
and asks its raylet for one idle worker per CPU. Those workers belong to no job, so the trials
of the next command on this machine take them; once its trials are done each run asks for as
many as it took (:func:`keep_warm`), for the command after it. :func:`stop` ends every process
of the instance (``ray stop`` ends it too, with every other Ray of this user).

What the warm instance is (:class:`WarmRay`) is written to :data:`RECORD` in Ray's temp folder,
next to Ray's own record of the last ``ray start``; it is stale once that instance is gone.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from raytune_hpo.errors import RaytuneHpoError
from raytune_hpo.layout import PRELOAD_ENV
from raytune_hpo.os_processes import (
    child_processes,
    command_line,
    processes_naming,
    program,
    with_descendants,
)
from raytune_hpo.os_processes import end as end_processes
from raytune_hpo.ray_compat import connecting

RECORD = "raytune_hpo_warm.json"
"""The file, in Ray's temp folder, that describes the warm instance."""
PRELOAD_MODULE = "raytune_hpo.cluster.worker_preload"
KEEP_ALIVE_S = 86_400
"""Seconds the raylet keeps an idle warm worker even while it holds more idle workers than
free CPUs (as when Ray Tune has reserved the CPUs of the trials that are to take them)."""
IDLE_TITLES = ("ray::IDLE", "default_worker.py")
"""How a worker that waits for work names itself, and how one names itself while it starts."""
OWN_PORTS = (
    "--port",
    "--node-manager-port",
    "--ray-client-server-port",
    "--dashboard-agent-listen-port",
)
"""``ray start``'s fixed ports given free ones: another Ray on this machine (a cluster's head
on 6379, a test's) does not stop the warm one from starting, and the raylet's is known."""
RAY_PACKAGE = os.path.realpath(Path(importlib.util.find_spec("ray").origin or "ray").parent)  # type: ignore[union-attr]
"""Ray's package folder, where its programs (GCS server, raylet) live."""
STOP_GRACE_S = 5.0
READY_TIMEOUT_S = 60.0
START_TIMEOUT_S = 180


class WarmRayError(RaytuneHpoError, RuntimeError):
    """The warm Ray cannot be started; the message is one line that says why."""


@dataclass(frozen=True)
class WarmRay:
    """A local Ray instance started by :func:`start`."""

    address: str
    """Its GCS address, ``HOST:PORT``, what ``--address`` takes."""
    session: str
    """The name of its session folder in Ray's temp folder."""
    raylet: str
    """``HOST:PORT`` of its raylet, which starts the workers."""
    num_cpus: int
    worker_env: dict[str, str]
    """Variables its workers start with, beyond the environment of :func:`start`'s caller."""

    def processes(self) -> list[int]:
        """Ids of its live processes (GCS, raylet, agents, workers), children first.

        Those that Ray's programs or a Python run and that name its session, Ray Client's server
        for its address, and their descendants; never, say, a ``tail`` of its logs.
        """
        named = processes_naming(self.session)
        named += processes_naming(f"ray.util.client.server --address={self.address}")
        return with_descendants(pid for pid in named if _rays_program(pid))

    def raylets(self) -> list[int]:
        """Ids of its live raylet processes (one, or none once it is gone)."""
        return [pid for pid in processes_naming(self.session) if program(pid).endswith("/raylet")]

    def waiting_workers(self) -> list[int]:
        """Ids of its workers that wait for work, or are starting to."""
        children = child_processes()
        return [
            child
            for raylet in self.raylets()
            for child in children.get(raylet, [])
            if any(title in command_line(child) for title in IDLE_TITLES)
        ]


def record_path() -> Path:
    """Where :data:`RECORD` lives: Ray's temp folder (``RAY_TMPDIR`` moves it)."""
    return Path(connecting.ray_temp_dir()) / RECORD


def recorded() -> WarmRay | None:
    """The warm Ray :data:`RECORD` describes, running or not; None without a readable record."""
    try:
        return WarmRay(**json.loads(record_path().read_text()))
    except (OSError, ValueError, TypeError):
        return None


def current() -> WarmRay | None:
    """The warm Ray of this machine, if :func:`start` started the Ray that runs here now.

    A record whose session is no longer Ray's latest, or whose raylet is gone, is stale.
    """
    warm = recorded()
    if warm is None or _latest_session() != warm.session or not warm.raylets():
        return None
    return warm


def _latest_session() -> str | None:
    """The name of the session folder of the Ray instance started last on this machine."""
    latest = Path(connecting.ray_temp_dir()) / "session_latest"
    try:
        return latest.resolve(strict=True).name
    except OSError:
        return None


def start(num_cpus: int | None = None, num_gpus: int | None = None) -> WarmRay:
    """Start a local Ray with ``ray start --head`` and fill it with waiting workers.

    Args:
        num_cpus: CPUs it offers; default: the CPUs this process may use.
        num_gpus: GPUs it offers; default: Ray's detection.

    Raises:
        WarmRayError: ``ray start`` failed (its last line says why), or its raylet did not
            answer (the Ray then runs: :func:`stop` ends it).
    """
    cpus = num_cpus or len(os.sched_getaffinity(0))
    worker_env = {**connecting.trial_env_vars(os.environ), PRELOAD_ENV: "1"}
    ports = {flag: _free_port() for flag in OWN_PORTS}
    system_config = connecting.local_system_config(
        [PRELOAD_MODULE], prestart_for_first_driver=False
    )
    command = [_ray_cli(), "start", "--head", f"--num-cpus={cpus}"]
    command += [f"{flag}={port}" for flag, port in ports.items()]
    command += [f"--num-gpus={num_gpus}"] if num_gpus is not None else []
    command += ["--include-dashboard=false", "--disable-usage-stats"]
    command += [f"--system-config={json.dumps(system_config)}"]
    try:
        done = subprocess.run(
            command,
            env={**os.environ, **worker_env},
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        end_processes(_started_by(ports), STOP_GRACE_S)
        raise WarmRayError(f"`ray start` did not finish within {START_TIMEOUT_S} s") from None
    if done.returncode != 0:
        end_processes(_started_by(ports), STOP_GRACE_S)
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        lines = lines or [line for line in done.stdout.splitlines() if line.strip()]
        raise WarmRayError(f"`ray start` failed: {lines[-1] if lines else done.returncode}")
    address = connecting.recorded_local_address()
    session = _latest_session()
    if address is None or session is None:
        raise WarmRayError(f"`ray start` left no record in {connecting.ray_temp_dir()}")
    host = address.rpartition(":")[0]
    warm = WarmRay(address, session, f"{host}:{ports['--node-manager-port']}", cpus, worker_env)
    record_path().write_text(json.dumps(asdict(warm), indent=1))
    keep_warm(warm)
    return warm


def keep_warm(warm: WarmRay) -> int:
    """Ask ``warm``'s raylet for workers until one per CPU waits for work; how many it asked for."""
    missing = warm.num_cpus - len(warm.waiting_workers())
    if missing > 0:
        with _raylet_errors(warm):
            connecting.prestart_workers(warm.raylet, missing, KEEP_ALIVE_S)
    return max(missing, 0)


@contextlib.contextmanager
def _raylet_errors(warm: WarmRay) -> Iterator[None]:
    """Call ``warm``'s raylet (with the token ``ray start`` made, unless ``RAY_AUTH_MODE`` says
    otherwise); its errors become one :class:`WarmRayError` line."""
    if not os.environ.get("RAY_AUTH_MODE"):
        connecting.enable_token_auth()
    try:
        yield
    except Exception as err:  # gRPC's RpcError and its channel's errors
        raise WarmRayError(
            f"the raylet of the warm Ray at {warm.address} ({warm.raylet}) did not answer: "
            f"{_rpc_error_line(err)}; `raytune-hpo warm --stop` ends that Ray"
        ) from None


def _rpc_error_line(err: Exception) -> str:
    """``CODE: details`` of a gRPC error (whose text spans lines); else its first line."""
    code, details = getattr(err, "code", None), getattr(err, "details", None)
    if callable(code) and callable(details):
        return f"{getattr(code(), 'name', code())}: {details()}"
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


def wait_ready(warm: WarmRay, timeout_s: float = READY_TIMEOUT_S) -> int:
    """Wait until one worker per CPU has registered with the raylet and waits for work.

    Returns how many wait then. A worker imports torch in the background after that
    (:mod:`raytune_hpo.cluster.worker_preload`).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with _raylet_errors(warm):
            registered = connecting.registered_worker_pids(warm.raylet)
        ready = sum(
            pid in registered and command_line(pid).startswith(IDLE_TITLES[0])
            for pid in warm.waiting_workers()
        )
        if ready >= warm.num_cpus or time.monotonic() >= deadline:
            return ready
        time.sleep(0.2)


def stop(warm: WarmRay) -> int:
    """End every process of ``warm`` (SIGTERM, then SIGKILL after a grace); how many there were.

    Its record goes, and Ray's record of the last ``ray start`` too when it names ``warm``.
    """
    found = warm.processes()
    end_processes(found, STOP_GRACE_S)
    with contextlib.suppress(OSError):
        record_path().unlink()
    if connecting.recorded_local_address() == warm.address:
        connecting.forget_recorded_local_address()
    return len(found)


def _started_by(ports: dict[str, int]) -> list[int]:
    """The processes a ``ray start`` with these ports left (its GCS, its raylet, theirs)."""
    named = processes_naming(f"--gcs_server_port={ports['--port']} ")
    named += processes_naming(f"--node_manager_port={ports['--node-manager-port']} ")
    return with_descendants(named)


def _rays_program(pid: int) -> bool:
    """Whether process ``pid`` runs one of Ray's own programs, or a Python."""
    path = program(pid)
    # Real paths: Ray starts its programs by their resolved path, a venv may be a link.
    return os.path.realpath(path).startswith(RAY_PACKAGE) or Path(path).name.startswith("python")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("", 0))
        return int(probe.getsockname()[1])


def _ray_cli() -> str:
    """The ``ray`` command of the Python that runs this: the same Ray as this package's."""
    beside = Path(sys.executable).with_name("ray")
    return str(beside) if beside.exists() else "ray"
