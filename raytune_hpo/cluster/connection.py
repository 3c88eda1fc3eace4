"""Attaching to Ray: a local instance, or a cluster with its token authentication.

``connect`` starts a local Ray instance, or attaches to ``auto``, ``HOST:PORT`` or
``ray://HOST:PORT``. Ray 2.60 clusters started with ``ray start`` use token authentication; a
driver that names an address must run with ``RAY_AUTH_MODE=token``, which ``connect`` sets when a
token is at hand (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``), so the
user who started the cluster needs nothing more. Connection failures become one
:class:`ConfigError` line that says what to set.

``exit_now`` ends the command once its results are written, without waiting seconds for Ray's
shutdown of the local instance it started. ``keep_warm`` replaces, on the warm Ray of
``raytune-hpo warm`` (:mod:`raytune_hpo.cluster.warm`), the workers a run's trials took.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import ray

from raytune_hpo.cluster import tcp_probe, warm
from raytune_hpo.config import ConfigError
from raytune_hpo.layout import PRELOAD_ENV
from raytune_hpo.os_processes import PROC, with_descendants
from raytune_hpo.ray_compat import connecting

ADDRESS_ENV = "RAY_ADDRESS"
AUTH_MODE_ENV = "RAY_AUTH_MODE"
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
DEFAULT_TOKEN_FILE = Path(".ray") / "auth_token"
"""Where ``ray start`` keeps the token, under the home folder of the user who started it."""
CLIENT_SCHEME = "ray://"
LOCAL_SYSTEM_CONFIG = connecting.local_system_config(["raytune_hpo.cluster.worker_preload"])
"""Ray system config of a local instance (:func:`connecting.local_system_config`): every
worker, the ones Ray prestarts for this driver included, starts importing torch for the
trainables as it starts, so a trial's worker does not begin seconds of imports when the trial
starts (which made Ray Tune hand every short trial to one reused worker; BENCHMARKS.md);
workers for a trainable without torch, the user's own code or a command skip it
(``preload_trainables=False`` of :func:`connect`). On a cluster, start each node with
``RAY_preload_python_modules=raytune_hpo.cluster.worker_preload`` for the same effect."""
REACH_TIMEOUT_S = 5.0
logger = logging.getLogger(__name__)
TOKEN_HELP = (
    f"set {TOKEN_ENV} to the cluster's token or {TOKEN_PATH_ENV} to a file holding it, or copy "
    f"it to ~/{DEFAULT_TOKEN_FILE} (`ray get-auth-token` on the head node prints it)"
)


def connect(
    address: str | None = None,
    runtime_env: dict[str, Any] | None = None,
    *,
    preload_trainables: bool = True,
) -> None:
    """Attach to the Ray cluster at ``address``, or start a local Ray instance.

    Args:
        address: ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``; None starts a local instance
            unless ``RAY_ADDRESS`` names a cluster (as in a ``ray job submit`` entrypoint) or a
            Ray instance started with ``ray start`` answers on this machine
            (:func:`local_cluster`), which it then attaches to, saying so in one line; on the
            warm Ray of ``raytune-hpo warm`` the trials take its waiting workers
            (:func:`workers_environment`, :func:`keep_warm`).
        runtime_env: Ray's runtime environment of this driver's work on a cluster (e.g. the
            user's code as ``working_dir`` / ``py_modules``); unused for a local instance.
        preload_trainables: Whether the workers of a local instance start importing torch,
            for the built-in trainables, as soon as they start (in the background: see
            :mod:`raytune_hpo.cluster.worker_preload`). Code that needs none of it (the user's own,
            a command) is better off without.

    Raises:
        ConfigError: The address is malformed, nothing answers there, or the cluster refused
            the token; the message says what to set.
    """
    if ray.is_initialized():
        return
    connecting.trial_actors_take_prestarted_workers(workers_environment)
    target = resolve_address(address, os.environ)
    if target is None and (running := local_cluster()) is not None:
        warm_ray = warm.current()
        if warm_ray is not None and warm_ray.address == running:
            logger.warning(
                "raytune-hpo: running on the warm Ray at %s (`raytune-hpo warm --stop` ends "
                "it; --address chooses another)",
                running,
            )
        else:
            logger.warning(
                "raytune-hpo: running on the Ray instance that `ray start` left at %s (`ray "
                "stop` ends it; --address chooses another)",
                running,
            )
        target = address = running
    if target is None:
        # Workers inherit the environment of the Ray instance that this driver starts.
        os.environ[PRELOAD_ENV] = "1" if preload_trainables else "0"
        for name, value in connecting.trial_env_vars(os.environ).items():
            os.environ.setdefault(name, value)
        connecting.start_local_instance(LOCAL_SYSTEM_CONFIG, logging.WARNING)
        return
    endpoint = parse_endpoint(target, "--address" if target == address else ADDRESS_ENV)
    source = token_source(os.environ, Path.home())
    if needs_token_mode(os.environ, source):
        connecting.enable_token_auth()
    if endpoint is not None:
        check_reachable(*endpoint)
    try:
        ray.init(address=address, logging_level=logging.WARNING, runtime_env=runtime_env or None)
    except Exception as err:  # Ray raises ConnectionError, RuntimeError or AuthenticationError
        raise ConfigError("--address", describe_connect_error(target, err, source)) from None


def attached_warm_ray() -> warm.WarmRay | None:
    """The warm Ray (``raytune-hpo warm``) this process is attached to, if it is one."""
    node = connecting.local_node()
    found = warm.current()
    if node is None or node.head or found is None:
        return None
    return found if connecting.gcs_address(node) == found.address else None


def workers_environment() -> Mapping[str, str] | None:
    """The environment the workers of the Ray this process uses start with; None if unknown.

    A local instance this process started: this process's own (which its workers inherit). The
    warm Ray: the variables its record says its workers were given. Any other: unknown.
    """
    node = connecting.local_node()
    if node is not None and node.head:
        return os.environ
    found = attached_warm_ray()
    return None if found is None else found.worker_env


def keep_warm() -> None:
    """On the warm Ray, have one worker per CPU wait for the next trials (:func:`warm.keep_warm`).

    Nothing anywhere else. A raylet that does not answer costs one warning line, nothing more.
    """
    found = attached_warm_ray()
    if found is None:
        return
    try:
        warm.keep_warm(found)
    except warm.WarmRayError as err:  # the run's results stand regardless
        logger.warning("raytune-hpo: no workers started for the next run: %s", err)


def local_cluster() -> str | None:
    """The address of a Ray instance started on this machine with ``ray start``, if one answers.

    Ray records the last one in its temp folder (``/tmp/ray/ray_current_cluster``, or under
    ``RAY_TMPDIR``); a plain ``ray.init()`` attaches to it, and so does ``run``: a warm start,
    with workers that may already hold what trials import.
    """
    recorded = connecting.recorded_local_address()
    host, _, port = (recorded or "").rpartition(":")
    if not host or not port.isdigit() or tcp_probe.connect_error(host, int(port), 1.0) is not None:
        return None
    return recorded


def exit_now(code: int) -> NoReturn:
    """End this process with ``code`` at once, with the local Ray instance it started.

    For the end of a command whose results are written: Ray's own shutdown of a local instance
    (graceful stops, then the interpreter's teardown) takes seconds more. The streams are
    flushed and then closed to Ray's last words, every process of the local instance (GCS,
    raylet, agents, workers: the processes Ray started and theirs) is killed, and the process
    exits without running ``atexit`` hooks. Attached to a cluster, nothing of it is stopped: the
    cluster ends this driver's job when the driver exits.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`), a closed file
            stream.flush()
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    for pid in local_ray_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:  # already gone
            continue
    os._exit(code)


def local_ray_processes() -> list[int]:
    """The ids of every process of the local Ray instance this driver started, children first.

    Empty when this driver started none (attached to a cluster, or no Ray at all), or where
    ``/proc`` cannot list processes (not Linux).
    """
    node = connecting.local_node()
    if node is None or not node.head or not PROC.is_dir():
        return []
    return with_descendants(
        info.process.pid for infos in node.all_processes.values() for info in infos
    )


def resolve_address(address: str | None, env: Mapping[str, str]) -> str | None:
    """The cluster ``ray.init(address=address)`` attaches to; None for a new local instance.

    ``RAY_ADDRESS`` replaces a missing address or ``auto``, as in ``ray.init``.
    """
    from_env = env.get(ADDRESS_ENV) or None
    if address in (None, "", "auto") and from_env:
        return from_env
    return address or None


def parse_endpoint(target: str, origin: str = "--address") -> tuple[str, int] | None:
    """``(host, port)`` of a ``HOST:PORT`` or ``ray://HOST:PORT`` address; None for ``auto``.

    Args:
        target: The address.
        origin: Where it came from (``--address`` or ``RAY_ADDRESS``), for the error.

    Raises:
        ConfigError: Any other form, such as the dashboard's ``http://`` address.
    """
    if target == "auto":
        return None
    rest = target.removeprefix(CLIENT_SCHEME)
    host, _, port = rest.rpartition(":")
    if "://" in rest or not host or not port.isdigit():
        dashboard = target.startswith(("http://", "https://"))
        hint = " (that is the dashboard's address, for `ray job submit`)" if dashboard else ""
        raise ConfigError(
            origin,
            f"expected auto, HOST:PORT (the head's GCS port, 6379 by default) or "
            f"ray://HOST:PORT (Ray Client, 10001), got {target!r}{hint}",
        )
    return host.strip("[]"), int(port)


def check_reachable(host: str, port: int, timeout: float = REACH_TIMEOUT_S) -> None:
    """Fail fast when nothing listens at ``host:port`` (``ray.init`` would retry for minutes).

    Raises:
        ConfigError: No connection within ``timeout`` seconds.
    """
    error = tcp_probe.connect_error(host, port, timeout)
    if error is not None:
        reason = error.strerror or type(error).__name__
        raise ConfigError(
            "--address",
            f"no Ray cluster answers at {host}:{port} ({reason}); start one with "
            "`ray start --head` or `ray up`, or correct the address",
        )


def token_source(env: Mapping[str, str], home: Path) -> str | None:
    """Where Ray will read the auth token from, or None when no token is at hand.

    Raises:
        ConfigError: ``RAY_AUTH_TOKEN_PATH`` names a file that does not exist.
    """
    if env.get(TOKEN_ENV):
        return TOKEN_ENV
    path = env.get(TOKEN_PATH_ENV)
    if path:
        if not Path(path).expanduser().is_file():
            raise ConfigError("--address", f"{TOKEN_PATH_ENV}={path} is not a file; {TOKEN_HELP}")
        return f"{TOKEN_PATH_ENV}={path}"
    default = home / DEFAULT_TOKEN_FILE
    return str(default) if default.is_file() else None


def needs_token_mode(env: Mapping[str, str], source: str | None) -> bool:
    """Whether ``RAY_AUTH_MODE=token`` must be set: a token is at hand and no mode is chosen."""
    return source is not None and not env.get(AUTH_MODE_ENV)


def describe_connect_error(target: str, err: BaseException, source: str | None) -> str:
    """One line for a failed ``ray.init``: what went wrong and what to set."""
    chain = _causes(err)
    text = " ".join(str(e) for e in chain)
    if any(type(e).__name__ == "AuthenticationError" for e in chain) or (
        "InvalidAuthToken" in text or "Authentication token" in text
    ):
        found = f"the token from {source} was refused" if source else "no token was found"
        return f"the Ray cluster at {target} uses token authentication and {found}; {TOKEN_HELP}"
    last = str(chain[-1]).strip().splitlines() or [type(chain[-1]).__name__]
    return f"cannot attach to the Ray cluster at {target}: {last[0]}"


def _causes(err: BaseException) -> list[BaseException]:
    chain = [err]
    while chain[-1].__cause__ is not None and len(chain) < 20:
        chain.append(chain[-1].__cause__)
    return chain
