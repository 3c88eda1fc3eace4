"""Private Ray used to start or attach to Ray: the recorded address, a local instance's system
config, prestarted workers, token authentication, the cluster's config.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

AUTH_SETUP_LOGGER = "ray._private.authentication.authentication_token_setup"
"""Ray's logger that warns about token authentication of a local Ray instance."""


PRESTARTED_IDLE_MS = 10_000
"""How long a local instance keeps an idle worker it could stop (:func:`local_system_config`)."""


def recorded_local_address() -> str | None:
    """The address of the last Ray instance ``ray start`` recorded on this machine, if any.

    Relies on ``ray._private.utils.read_ray_address`` (reads ``ray_current_cluster`` in Ray's
    temp folder, ``/tmp/ray`` or ``RAY_TMPDIR``).
    """
    from ray._private.utils import read_ray_address

    return read_ray_address() or None


def forget_recorded_local_address() -> None:
    """Remove the record :func:`recorded_local_address` reads, as ``ray stop`` does.

    Relies on ``ray._common.utils.reset_ray_address``.
    """
    from ray._common.utils import reset_ray_address

    reset_ray_address()


def local_system_config(
    preload_modules: Sequence[str], *, prestart_for_first_driver: bool = True
) -> dict[str, Any]:
    """Ray's system config (``ray.init``'s private ``_system_config``, ``ray start
    --system-config``) of an instance on this machine.

    Relies on the internal settings ``preload_python_modules``, which each worker imports as it
    starts, and ``prestart_worker_first_driver``: with it (Ray's default) Ray starts one worker
    per CPU as the first driver connects, which start while Ray Tune sets up and take the first
    trials (see :func:`trial_actors_take_prestarted_workers`). Ray stops a worker that idles
    for ``idle_worker_killing_time_threshold_ms`` (1 s by default) while it holds more idle
    workers than free CPUs, and Ray Tune reserves the CPUs of its first trials (placement
    groups) a moment before it creates their actors: in 2 of 8 starts the prestarted workers
    were stopped in between and the trials waited for new ones. Here that threshold is
    :data:`PRESTARTED_IDLE_MS`.
    """
    config: dict[str, Any] = {
        "preload_python_modules": list(preload_modules),
        "idle_worker_killing_time_threshold_ms": PRESTARTED_IDLE_MS,
    }
    if not prestart_for_first_driver:
        config["prestart_worker_first_driver"] = False
    return config


def start_local_instance(system_config: Mapping[str, Any], logging_level: int) -> None:
    """Start a new Ray instance on this machine, without a dashboard, and attach to it.

    Relies on ``ray.init``'s private keyword ``_system_config`` (``system_config``: see
    :func:`local_system_config`).
    """
    import ray

    ray.init(
        address="local",  # a new instance, even where a stopped one is still recorded
        include_dashboard=False,
        logging_level=logging_level,
        _system_config=dict(system_config),
    )


def ray_temp_dir() -> str:
    """Ray's temp folder on this machine (``/tmp/ray``, or ``$RAY_TMPDIR/ray``).

    Relies on ``ray._common.utils.get_default_ray_temp_dir``; ``ray start`` records its address
    there (``ray_current_cluster``) and links its session folder as ``session_latest``.
    """
    from ray._common.utils import get_default_ray_temp_dir

    return str(get_default_ray_temp_dir())


def trial_env_vars(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables Ray Tune gives every trial actor as its runtime environment.

    Relies on ``ray.tune.execution.class_cache``: ``DEFAULT_ENV_VARS`` (``PL_DISABLE_FORK=1``),
    and those of ``ENV_VARS_TO_PROPAGATE`` (AWS keys, a few of Ray Train's) set in ``environ``,
    the driver's environment.
    """
    from ray.tune.execution import class_cache

    wanted = dict(class_cache.DEFAULT_ENV_VARS)
    wanted.update(
        {name: environ[name] for name in class_cache.ENV_VARS_TO_PROPAGATE if name in environ}
    )
    return wanted


def trial_actors_take_prestarted_workers(
    workers_environment: Callable[[], Mapping[str, str] | None],
) -> None:
    """Let trial actors run on the workers Ray prestarted, where their environment allows.

    Ray Tune registers each trainable as an actor class with a runtime environment of a few
    variables (:func:`trial_env_vars`); Ray gives an actor with any runtime environment a new
    worker process, never one it prestarted, so the first trials waited for workers to start
    and import while the prestarted ones idled. With this, Ray Tune's ``_ActorClassCache.get``
    registers a trainable without a runtime environment when every one of those variables is
    already set, to the same value, in ``workers_environment()``: the environment the workers
    of the Ray this process uses start with (None where unknown: Ray's own registration).

    Args:
        workers_environment: Called at each registration.
    """
    from ray.tune.execution import class_cache

    cache = class_cache._ActorClassCache
    rays_own = getattr(cache.get, "rays_own", cache.get)

    def get(self: Any, trainable_cls: type) -> Any:
        environment = workers_environment()
        wanted = trial_env_vars(os.environ)
        if environment is None or any(environment.get(k) != v for k, v in wanted.items()):
            return rays_own(self, trainable_cls)
        import ray

        if trainable_cls not in self._cache:
            self._cache[trainable_cls] = ray.remote(trainable_cls)
        return self._cache[trainable_cls]

    get.rays_own = rays_own  # type: ignore[attr-defined]
    cache.get = get  # type: ignore[method-assign]


def prestart_workers(raylet_address: str, count: int, keep_alive_s: int) -> None:
    """Have the raylet at ``raylet_address`` start ``count`` Python workers that wait for work.

    Relies on the raylet's ``PrestartWorkers`` RPC (see :func:`_call_raylet`). The workers
    belong to no job and have no runtime environment: an actor of any later driver without a
    runtime environment can take one. The raylet does not stop them for being idle within
    ``keep_alive_s`` seconds, nor later while it holds no more workers than CPUs.
    """
    from ray.core.generated import common_pb2, node_manager_pb2

    request = node_manager_pb2.PrestartWorkersRequest(  # type: ignore[attr-defined]
        language=common_pb2.PYTHON,  # type: ignore[attr-defined]
        num_workers=count,
        keep_alive_duration_secs=keep_alive_s,
    )
    _call_raylet(raylet_address, "PrestartWorkers", request)


def registered_worker_pids(raylet_address: str) -> set[int]:
    """Process ids of the workers (and drivers) registered with the raylet at that address.

    A worker names itself ``ray::IDLE`` before it registers; only a registered one can take
    work. Relies on the raylet's ``GetWorkerPIDs`` RPC (see :func:`_call_raylet`).
    """
    from ray.core.generated import node_manager_pb2

    request = node_manager_pb2.GetWorkerPIDsRequest()  # type: ignore[attr-defined]
    return set(_call_raylet(raylet_address, "GetWorkerPIDs", request).pids)


def _call_raylet(raylet_address: str, method: str, request: Any) -> Any:
    """One call of the raylet's gRPC service ``NodeManagerService`` (10 s at most).

    Relies on its generated stubs in ``ray.core.generated`` and on
    ``ray._private.grpc_utils.init_grpc_channel``, which adds the token of token authentication
    (with ``RAY_AUTH_MODE=token``) and TLS as Ray's own clients do.
    """
    from ray._private.grpc_utils import init_grpc_channel
    from ray.core.generated import node_manager_pb2_grpc

    channel = init_grpc_channel(raylet_address)
    try:
        stub = node_manager_pb2_grpc.NodeManagerServiceStub(channel)
        return getattr(stub, method)(request, timeout=10)
    finally:
        channel.close()


def enable_token_auth() -> None:
    """Set ``RAY_AUTH_MODE=token`` for this process, its children and Ray's loaded settings.

    Ray reads its settings once, on import; relies on its own helper
    ``ray._private.authentication.authentication_token_setup._enable_token_auth``, which sets
    the variable and reloads them.
    """
    from ray._private.authentication.authentication_token_setup import (
        _enable_token_auth as enable,
    )

    enable()


def local_node() -> Any | None:
    """The node object of the Ray instance this process started or attached to; None without.

    Relies on ``ray._private.worker._global_node``, whose ``head`` says whether this process
    started the instance and ``all_processes`` (type -> infos with ``.process.pid``) lists the
    processes Ray started for it.
    """
    import ray

    if not ray.is_initialized():
        return None
    return getattr(ray._private.worker, "_global_node", None)


def gcs_address(node: Any) -> str:
    """``HOST:PORT`` of the GCS of the Ray a :func:`local_node` belongs to (``gcs_address``)."""
    return str(node.gcs_address)


def reported_cluster_config() -> Any | None:
    """The cluster config an autoscaler (v2, KubeRay) reported to Ray's GCS; None when none.

    Relies on ``ray._private.state.state.get_cluster_config()`` (an
    ``autoscaler_pb2.ClusterConfig`` whose ``node_group_configs`` have ``name``, ``resources``
    and ``max_count``). Any error (a client-mode Ray without the call) reads as none.
    """
    try:
        from ray._private.state import state

        return state.get_cluster_config()
    except Exception:  # an older or client-mode Ray without this call: treat as unreported
        return None
