"""Every use of Ray's private API, in one place, each written for one Ray minor version.

Ray keeps no promise about what this module touches: names under ``ray._private``, attributes
and methods whose names start with ``_``, the ``ray.init`` keyword ``_system_config``, the
lines of Ray's own files and the attributes of Ray Tune's ``Trial`` that only its internals set.
Each use is one small function or constant here, whose docstring says what it relies on; the rest
of the package calls these and touches nothing private of Ray itself. The classes that override
Ray's private hooks (:mod:`raytune_hpo.tracking.result_json_logger`,
:mod:`raytune_hpo.tracking.wandb_runs`) are
listed in :data:`OVERRIDDEN_HOOKS`.

``tests/unit/test_ray_internals.py`` checks that the installed Ray is :data:`RAY_MINOR` and that
every name here still exists; the ``ray[tune]`` requirement in ``pyproject.toml`` is pinned to
the same minor. A new Ray minor means re-checking each function here, then moving both.

Importing this module imports nothing of Ray: each function imports what it needs when called.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import json
import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from raytune_hpo.errors import UserError

if TYPE_CHECKING:
    from ray.tune import RunConfig
    from ray.tune.experiment import Trial

RAY_MINOR = "2.60"
"""The Ray minor version every use here was written for and checked against."""

AUTH_SETUP_LOGGER = "ray._private.authentication.authentication_token_setup"
"""Ray's logger that warns about token authentication of a local Ray instance."""
UNHANDLED_ERROR_LOGGER = "ray._private.worker"
"""Ray's logger of a task's error that nobody fetched (``Unhandled error ...``)."""
ACTOR_NAME_MARKER = ":actor_name:"
"""Ray's log monitor takes a worker output line ``:actor_name:NAME`` as the name of the lines
after it and does not forward it (``ray._private.ray_constants.LOG_PREFIX_ACTOR_NAME``)."""
PBT_LOG_FILE = "pbt_global.txt"
"""What Ray's PBT appends one JSON line to per exploit, in the driver's copy of the experiment
folder (``PopulationBasedTraining._log_config_on_step``)."""
CHECKPOINT_DIR_KEY = "checkpoint_dir_name"
"""The key of a function trainable's report that names the folder its checkpoint was written to
in the trial's folder (``ray.train.constants.CHECKPOINT_DIR_NAME``), None without one."""
PERTURBED_TAG = "@perturbed["
"""What Ray's PBT appends to a trial's ``experiment_tag`` when it perturbs the trial."""

PRIVATE_NAMES: tuple[tuple[str, str], ...] = (
    ("ray._private.utils", "read_ray_address"),
    ("ray._private.worker", "_global_node"),
    ("ray.train._internal.session", "get_session"),
    ("ray._private.worker", "global_worker_stdstream_dispatcher"),
    ("ray._private.authentication.authentication_token_setup", "_enable_token_auth"),
    ("ray._private.state", "state"),
    ("ray._private.ray_constants", "LOG_PREFIX_ACTOR_NAME"),
    ("ray.air.integrations.wandb", "_WandbLoggingActor"),
    ("ray.tune.execution.class_cache", "DEFAULT_ENV_VARS"),
    ("ray.tune.execution.class_cache", "ENV_VARS_TO_PROPAGATE"),
    ("ray._common.utils", "get_default_ray_temp_dir"),
    ("ray._common.utils", "reset_ray_address"),
    ("ray._private.grpc_utils", "init_grpc_channel"),
    ("ray.core.generated.node_manager_pb2", "PrestartWorkersRequest"),
    ("ray.core.generated.node_manager_pb2", "GetWorkerPIDsRequest"),
    ("ray.core.generated.node_manager_pb2_grpc", "NodeManagerServiceStub"),
    ("ray.air._internal.usage", "_count_callbacks"),
    ("ray.train._internal.session", "_TrainingResult"),
)
"""``(module, name)`` of every private module-level name used here."""
OVERRIDDEN_HOOKS: tuple[tuple[str, str, str], ...] = (
    ("ray.tune.logger", "JsonLoggerCallback", "_restore_from_remote"),
    ("ray.air.integrations.wandb", "WandbLoggerCallback", "_logger_actor_cls"),
    ("ray.air.integrations.wandb", "WandbLoggerCallback", "_start_logging_actor"),
    ("ray.air.integrations.wandb", "WandbLoggerCallback", "_cleanup_logging_actor"),
    ("ray.air.integrations.wandb", "WandbLoggerCallback", "_signal_logging_actor_stop"),
    ("ray.tune.execution.class_cache", "_ActorClassCache", "get"),
    ("ray.train._internal.session", "_TrainSession", "report"),
    ("ray.tune.execution.tune_controller", "TuneController", "_checkpoint_trial_if_needed"),
    ("ray.tune.execution.tune_controller", "TuneController", "_on_saving_result"),
    ("ray.tune.schedulers.pbt", "PopulationBasedTraining", "_exploit"),
    ("ray.train._internal.checkpoint_manager", "_CheckpointManager", "register_checkpoint"),
)
"""``(module, class, member)`` of the private class members this package overrides or calls:
``ResultJsonLogger`` (result_json_logger), the W&B trial-run callback (tracking) and Ray Tune's
registration of trial actors (:func:`trial_actors_take_prestarted_workers`) and its loop's
saving of reported checkpoints (:func:`checkpoints_registered_from_reports`)."""


PRESTARTED_IDLE_MS = 10_000
"""How long a local instance keeps an idle worker it could stop (:func:`local_system_config`)."""


class RayVersionError(UserError, RuntimeError):
    """The installed Ray is not the minor version this module was written for."""


def check_ray_version(version: str | None = None) -> None:
    """Raise unless ``version`` (default: the installed Ray's) is of :data:`RAY_MINOR`.

    Raises:
        RayVersionError: One line naming the version found and the one expected.
    """
    if version is None:
        import ray

        version = ray.__version__
    if version.split(".")[:2] != RAY_MINOR.split("."):
        raise RayVersionError(
            f"raytune_hpo.ray_compat.ray_internals was written for Ray {RAY_MINOR}.x, "
            f"found Ray {version}: "
            f"re-check each use of Ray's private API there, then move RAY_MINOR and the "
            f"ray[tune] pin in pyproject.toml"
        )


def missing_internals() -> list[str]:
    """Every private name of :data:`PRIVATE_NAMES` and :data:`OVERRIDDEN_HOOKS` Ray lacks."""
    missing = []
    for module, name in PRIVATE_NAMES:
        if not hasattr(importlib.import_module(module), name):
            missing.append(f"{module}.{name}")
    for module, cls, member in OVERRIDDEN_HOOKS:
        if not hasattr(getattr(importlib.import_module(module), cls), member):
            missing.append(f"{module}.{cls}.{member}")
    return missing


# --- connecting ------------------------------------------------------------------------------


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


# --- Ray Tune's loop --------------------------------------------------------------------------


INTEGRATION_CALLBACKS = (
    "WandbLoggerCallback",
    "MLflowLoggerCallback",
    "CometLoggerCallback",
    "AimLoggerCallback",
)
"""The class names of Ray's logger integrations that Ray Tune's usage tag counts by name."""


def count_callbacks_by_name() -> None:
    """Ray Tune's usage tag of the run's callbacks, counted without importing W&B.

    ``ray.tune.run`` records which callbacks a run has (``ray.air._internal.usage.
    tag_callbacks``); its ``_count_callbacks`` imports Ray's W&B, MLflow, Comet and Aim
    integrations only to read their class names, and Ray's W&B integration imports ``wandb``,
    a heavy import before the first trial starts, in every run with W&B off. This
    replaces ``_count_callbacks`` with one that counts the same names (:data:`INTEGRATION_CALLBACKS`
    and Ray Tune's default callbacks), so the tag stays as Ray records it; Ray's own stays at
    its ``rays_own``.
    """
    from ray.air._internal import usage

    rays_own = getattr(usage._count_callbacks, "rays_own", usage._count_callbacks)

    def count(callbacks: Sequence[Any] | None) -> dict[str, int]:
        from ray.tune import Callback
        from ray.tune.logger import LoggerCallback
        from ray.tune.utils.callback import DEFAULT_CALLBACK_CLASSES

        named = {*INTEGRATION_CALLBACKS, *(cls.__name__ for cls in DEFAULT_CALLBACK_CLASSES)}
        counts: dict[str, int] = collections.defaultdict(int)
        for callback in callbacks or []:
            if not isinstance(callback, Callback):
                continue
            name = type(callback).__name__
            if name in named:
                counts[name] += 1
            elif isinstance(callback, LoggerCallback):
                counts["CustomLoggerCallback"] += 1
            else:
                counts["CustomCallback"] += 1
        return counts

    count.rays_own = rays_own  # type: ignore[attr-defined]
    usage._count_callbacks = count


@contextlib.contextmanager
def checkpoints_registered_from_reports() -> Iterator[None]:
    """While open, a function trainable's reported checkpoint is registered from its report.

    For each report with a checkpoint, Ray Tune's loop asks the trial's actor to ``save`` and
    holds the trial until that answer comes back; a function trainable's ``save`` only returns
    the checkpoint it reported, which its session has already written to the trial's folder.
    That second call holds the trial for one more round trip per report. Here
    ``TuneController._checkpoint_trial_if_needed`` builds the same ``_TrainingResult`` on the
    driver from the report (the checkpoint at ``checkpoint_dir_name`` in the trial's folder, the
    report's metrics) and hands it to ``TuneController._on_saving_result`` at once, so the
    trial goes on as soon as its report is processed. Open it only around runs whose trainable
    is a function reporting plain ``ray.tune.Checkpoint`` objects (the built-in trainables and
    command trials) and whose scheduler neither pauses trials nor saves them itself (not PBT
    nor HyperBand). Other saves (a pause, PBT's) still go to the actor.
    """
    from ray.train._internal.session import _TrainingResult
    from ray.tune import Checkpoint
    from ray.tune.execution.tune_controller import TuneController

    rays_own = TuneController._checkpoint_trial_if_needed

    def checkpoint_if_needed(self: Any, trial: Trial, force: bool = False) -> None:
        directory = trial.last_result.get(CHECKPOINT_DIR_KEY)
        storage = trial.storage
        if not (force and directory and storage and trial.temporary_state.ray_actor):
            rays_own(self, trial, force)
            return
        checkpoint = Checkpoint(
            path=f"{storage.trial_fs_path}/{directory}", filesystem=storage.storage_filesystem
        )
        self._on_saving_result(trial, _TrainingResult(checkpoint, dict(trial.last_result)))

    TuneController._checkpoint_trial_if_needed = checkpoint_if_needed  # type: ignore[method-assign]
    try:
        yield
    finally:
        TuneController._checkpoint_trial_if_needed = rays_own  # type: ignore[method-assign]


# --- function trainables --------------------------------------------------------------------


SESSION_CHECKPOINT = "loaded_checkpoint"
"""The attribute of a function trainable's session that holds the checkpoint the function may
start from: Ray Tune's ``FunctionTrainable.load_checkpoint`` sets it as it restores a trial,
before the function starts; ``ray.tune.get_checkpoint()`` returns it (so does Ray Train v1's
``ray.train.get_checkpoint()``; Ray Train v2's raises in a Ray Tune function)."""


def session_checkpoint() -> Any | None:
    """The checkpoint this process's Ray Tune session holds now, None outside a session; not a
    read that :func:`checkpoint_reads_watched` counts.

    In a function trainable before its first report: the checkpoint its trial was restored from
    (a PBT exploit, a pause, a retry after a failure, a resumed experiment), None for a fresh
    start. Relies on ``ray.train._internal.session.get_session()`` and :data:`SESSION_CHECKPOINT`.
    """
    from ray.train._internal.session import get_session

    session = get_session()
    return None if session is None else vars(session).get(SESSION_CHECKPOINT)


@contextlib.contextmanager
def checkpoint_reads_watched(before_first_report: Callable[[bool], None]) -> Iterator[None]:
    """While open, call ``before_first_report(read)`` once, as the function trainable running in
    this process reports for the first time; ``read``: whether anything read its session's
    checkpoint before (``ray.tune.get_checkpoint()``).

    Does nothing outside a Ray Tune session. Relies on ``ray.train._internal.session``: its
    ``get_session()`` returns the session (a ``_TrainSession``); every report of the function
    goes through the session's ``report`` (``ray.tune.report``, results a function yields);
    ``get_checkpoint`` reads its :data:`SESSION_CHECKPOINT` attribute. The session's class is
    swapped for a subclass that makes that attribute a property over the instance's own value
    and watches ``report``; the session gets its class back at its first report or as this
    closes.
    """
    from ray.train._internal.session import get_session

    session = get_session()
    if session is None:
        yield
        return
    original = type(session)
    reads: list[bool] = []

    def get(self: Any) -> Any:
        reads.append(True)
        return vars(self).get(SESSION_CHECKPOINT)

    def put(self: Any, checkpoint: Any) -> None:
        vars(self)[SESSION_CHECKPOINT] = checkpoint

    def report(self: Any, *args: Any, **kwargs: Any) -> Any:
        if type(self) is watched:
            self.__class__ = original
            before_first_report(bool(reads))
        return original.report(self, *args, **kwargs)

    members = {SESSION_CHECKPOINT: property(get, put), "report": report}
    watched = type(f"Watched{original.__name__}", (original,), members)
    session.__class__ = watched
    try:
        yield
    finally:
        if type(session) is watched:
            session.__class__ = original


def kept_checkpoint_result(trial: Trial, checkpoint: Any) -> Any | None:
    """The ``_TrainingResult`` (checkpoint and the report it came with) of ``checkpoint`` among
    ``trial``'s kept checkpoints, if it is still on storage; else the trial's latest checkpoint's
    (which its checkpoint manager never deletes); None when the trial has none.

    Relies on ``trial.run_metadata.checkpoint_manager``: ``_checkpoint_results`` (the kept
    results) and ``latest_checkpoint_result``.
    """
    from pyarrow.fs import FileType

    manager: Any = trial.run_metadata.checkpoint_manager
    path = getattr(checkpoint, "path", None)  # None, or a save not yet resolved
    candidates: list[Any] = [r for r in manager._checkpoint_results if r.checkpoint.path == path]
    candidates.append(manager.latest_checkpoint_result)
    for result in candidates:
        if result is None:
            continue
        stored = result.checkpoint
        if stored.filesystem.get_file_info(stored.path).type != FileType.NotFound:
            return result
    return None


def register_checkpoints_once() -> None:
    """From now on, a checkpoint registered again replaces its entry in its trial's list.

    Ray's ``_CheckpointManager.register_checkpoint`` appends every registration. PBT's save of a
    function trainable returns the checkpoint the trial reported last, which is registered a
    second time; with ``num_to_keep`` 1 (or once enough newer ones came) the older of the two
    entries is deleted, and with it the files of the trial's latest checkpoint. Idempotent.
    """
    from ray.train._internal.checkpoint_manager import _CheckpointManager

    rays_own = _CheckpointManager.register_checkpoint
    if getattr(rays_own, "registers_once", False):
        return

    def register_once(self: Any, checkpoint_result: Any) -> None:
        path = checkpoint_result.checkpoint.path
        self._checkpoint_results = [
            kept for kept in self._checkpoint_results if kept.checkpoint.path != path
        ]
        rays_own(self, checkpoint_result)

    register_once.registers_once = True  # type: ignore[attr-defined]
    _CheckpointManager.register_checkpoint = register_once  # type: ignore[method-assign]


def register_exploited_checkpoint(trial: Trial, checkpoint: Any, metrics: dict[str, Any]) -> None:
    """Make ``checkpoint``, reported with ``metrics``, ``trial``'s latest checkpoint, kept and
    deleted by its own ``num_to_keep`` like the ones it reported.

    Relies on ``_CheckpointManager.register_checkpoint`` and ``_TrainingResult``.
    """
    from ray.train._internal.session import _TrainingResult

    manager: Any = trial.run_metadata.checkpoint_manager
    manager.register_checkpoint(_TrainingResult(checkpoint=checkpoint, metrics=dict(metrics)))


# --- console ---------------------------------------------------------------------------------


def worker_output_dispatcher() -> Any:
    """Where Ray's driver sends the lines its workers print.

    Relies on ``ray._private.worker.global_worker_stdstream_dispatcher``: ``handlers`` (name ->
    printer), ``add_handler(name, printer)``, ``remove_handler(name)``; Ray's own printer is the
    handler ``ray_print_logs``.
    """
    from ray._private.worker import global_worker_stdstream_dispatcher

    return global_worker_stdstream_dispatcher


def output_name_line(name: str) -> bytes:
    """The line that has Ray's log monitor name the worker output after it ``name``."""
    return f"{ACTOR_NAME_MARKER}{name}\n".encode()


def tuner_run_config(tuner: Any) -> RunConfig | None:
    """The ``RunConfig`` a tuner (also one from ``Tuner.restore``) runs with; None for Ray
    Client's tuner.

    Relies on ``Tuner._local_tuner`` (a ``TunerInternal``) and its ``get_run_config()``, which
    returns the object the tuner runs with (changes to it take effect).
    """
    local = getattr(tuner, "_local_tuner", None)
    return None if local is None else local.get_run_config()


def trial_started(trial: Trial) -> bool:
    """Whether Ray Tune ever started ``trial``: relies on ``trial.run_metadata.start_time``."""
    return trial.run_metadata.start_time is not None


def trial_actor(trial: Trial) -> Any | None:
    """The Ray actor that runs ``trial`` now, if any: relies on ``trial.temporary_state``."""
    return trial.temporary_state.ray_actor


def tune_stop_handler(before: Any) -> Callable[..., Any] | None:
    """Ray Tune's graceful-stop handler, installed while ``Tuner.fit`` runs; None before it.

    Relies on Ray Tune's loop installing a SIGUSR1 handler that saves the experiment state and
    leaves the loop (``ray.tune.tune.run``).

    Args:
        before: The SIGUSR1 handler before ``Tuner.fit`` started.
    """
    handler = signal.getsignal(signal.SIGUSR1)
    return handler if handler is not before and callable(handler) else None


# --- W&B -------------------------------------------------------------------------------------


def wandb_logging_actor_base() -> type:
    """Ray's per-trial W&B logging actor class, to subclass.

    Relies on ``ray.air.integrations.wandb._WandbLoggingActor``: ``run()`` logs until its queue
    says stop; the instance keeps the ``wandb`` module as ``_wandb``.
    """
    from ray.air.integrations.wandb import _WandbLoggingActor

    return _WandbLoggingActor


def actor_wandb(actor: Any) -> Any:
    """The ``wandb`` module a logging actor of :func:`wandb_logging_actor_base` uses."""
    return actor._wandb


def wandb_open_trials(callback: Any) -> list[Trial]:
    """The trials whose W&B logging actor a ``WandbLoggerCallback`` has not stopped yet.

    Relies on its ``_trial_queues`` (trial -> queue of the trial's logging actor).
    """
    return list(callback._trial_queues)


def wandb_logs_trial(callback: Any, trial: Trial) -> bool:
    """Whether a ``WandbLoggerCallback`` holds a logging actor for ``trial`` (``_trial_queues``)."""
    return trial in callback._trial_queues


def wandb_logging_future(callback: Any, trial: Trial) -> Any:
    """The object ref that ends with ``trial``'s logging actor (``_trial_logging_futures``)."""
    return callback._trial_logging_futures[trial]


def stop_wandb_logging(callback: Any, trial: Trial) -> None:
    """Tell ``trial``'s logging actor to finish: ``_signal_logging_actor_stop``."""
    callback._signal_logging_actor_stop(trial=trial)


# --- PBT's log -------------------------------------------------------------------------------


class PbtLogLine(NamedTuple):
    """One exploit as Ray's PBT logs it in :data:`PBT_LOG_FILE`."""

    target_tag: str
    donor_tag: str
    target_iteration: Any
    donor_iteration: Any
    donor_config: dict[str, Any]
    new_config: dict[str, Any]


def parse_pbt_log_line(line: str) -> PbtLogLine:
    """One line of :data:`PBT_LOG_FILE`.

    Relies on Ray's format: a JSON list ``[trial tag, donor tag, trial iteration, donor
    iteration, donor config, new config]``.
    """
    return PbtLogLine(*json.loads(line))


def original_tag(tag: str) -> str:
    """A trial's tag as PBT first saw it, before Ray appended ``@perturbed[...]`` to it."""
    return tag.split(PERTURBED_TAG, 1)[0]
