"""The Ray minor version this package's private uses were written for, and the check that every
private name they rely on still exists.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

import importlib

from raytune_hpo.errors import UserError

RAY_MINOR = "2.60"
"""The Ray minor version every use here was written for and checked against."""


PRIVATE_NAMES: tuple[tuple[str, str], ...] = (
    ("ray._private.utils", "read_ray_address"),
    ("ray._private.worker", "_global_node"),
    ("ray.train._internal.session", "get_session"),
    ("ray.train._internal.checkpoint_manager", "_delete_fs_path"),
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
    ("ray.tune.execution.tune_controller", "TuneController", "_maybe_reuse_cached_actor"),
    (
        "ray.tune.execution.experiment_state",
        "_ExperimentCheckpointManager",
        "sync_up_experiment_state",
    ),
    ("ray.train._internal.storage", "StorageContext", "persist_artifacts"),
    ("ray.tune.schedulers.pbt", "PopulationBasedTraining", "_exploit"),
    ("ray.train._internal.checkpoint_manager", "_CheckpointManager", "register_checkpoint"),
)
"""``(module, class, member)`` of the private class members this package overrides or calls:
``ResultJsonLogger`` (result_json_logger), the W&B trial-run callback (tracking) and Ray Tune's
registration of trial actors (:func:`trial_actors_take_prestarted_workers`) and its loop's
saving of reported checkpoints (:func:`checkpoints_registered_from_reports`), reuse of
cached trial actors (:func:`started_actors_kept`) and check of the experiment state's save
(:func:`experiment_state_checks_clock_first`), and a trial's look at its artifacts
(:func:`~raytune_hpo.ray_compat.trial_storage.artifact_sync_checks_clock_first`)."""


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
            f"raytune_hpo.ray_compat was written for Ray {RAY_MINOR}.x, "
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
