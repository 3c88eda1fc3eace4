"""``run_experiment``: the one place that assembles and runs a ``ray.tune.Tuner``."""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ray import tune
from ray.tune.search import Searcher

from raytune_hpo import storage
from raytune_hpo.adapters import import_paths
from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.cluster import check_resources, connect, keep_warm
from raytune_hpo.config import ConfigError, ExperimentConfig, validate_config
from raytune_hpo.console import ray_output
from raytune_hpo.console.callback import ConsoleCallback, use_on_restored
from raytune_hpo.console.header import ExperimentInfo
from raytune_hpo.demos.datasets import DatasetArrays, load_dataset
from raytune_hpo.demos.trial_settings import TrialSettings
from raytune_hpo.experiment import ends_record, folder_lock, interrupts, preflight, scoring
from raytune_hpo.experiment.finished_trials import FinishedTrialsSlimmed
from raytune_hpo.experiment.restarts import restart_callbacks
from raytune_hpo.experiment.scoring_import import ImportScoringCode
from raytune_hpo.experiment.trial_checks import (
    STRICT_CHECK_SWITCH,
    FailFast,
    MissingMetric,
    TrialsFailed,
    stop_criteria,
    trial_check_callbacks,
)
from raytune_hpo.layout import CONFIG_FILE, LOCK_FILE
from raytune_hpo.ray_compat import checkpoints, tune_loop
from raytune_hpo.search import search_space
from raytune_hpo.search.pbt_history import history_callbacks
from raytune_hpo.search.schedulers import SCHEDULERS, build_scheduler, perturbation
from raytune_hpo.search.searchers import build_searcher
from raytune_hpo.tracking.result_json_logger import ResultJsonLogger
from raytune_hpo.tracking.tensorboard import tensorboard_callbacks


@dataclass(frozen=True)
class ExperimentOutcome:
    """What a finished experiment gives back.

    Attributes:
        path: The experiment folder (``storage_path/name``): a local ``Path`` or a URI.
        results: Ray Tune's ``ResultGrid`` of the run.
        best: What ``best.json`` holds (the best trial, its config and metrics, the test
            metrics), or None when no trial reported.
        config: The experiment's validated config.
        failure: The run's trials failed (more errored than ``max_failed_trials`` allows,
            every one of them, or the first ones before reporting): the command exits 1
            after the summary.
    """

    path: storage.Location
    results: tune.ResultGrid
    best: dict[str, Any] | None
    config: ExperimentConfig
    failure: TrialsFailed | None = None


def experiment_path(cfg: ExperimentConfig) -> storage.Location:
    """The folder of an experiment: ``storage_path/name``, a local ``Path`` or a URI string."""
    return storage.experiment_location(cfg.storage_path, cfg.name)


def trial_settings(cfg: ExperimentConfig) -> TrialSettings:
    """The experiment-level settings handed to every trial."""
    return TrialSettings(
        max_epochs=cfg.max_epochs,
        checkpoint_frequency=cfg.checkpoint.frequency,
        seed=cfg.seed,
        cpus=cfg.resources_per_trial.cpu,
        options=dict(cfg.trainable_options),
        dataset=cfg.dataset.name,
        data_dir=cfg.dataset.data_dir,
        download=cfg.dataset.download,
    )


def load_data(cfg: ExperimentConfig) -> DatasetArrays | None:
    """The data set of a built-in trainable, loaded once in the driver; None for user code.

    Raises:
        ConfigError: The data set is not on disk and cannot be downloaded, or a size or
            folder of the ``dataset`` section does not fit it.
    """
    if cfg.builtin is None:
        return None
    d = cfg.dataset
    with preflight.dataset_errors():
        return load_dataset(
            d.name,
            d.data_dir,
            download=d.download,
            train_size=d.train_size,
            val_fraction=d.val_fraction,
            test_size=d.test_size,
            seed=cfg.seed,
        )


def start_ray(address: str | None = None, cfg: ExperimentConfig | None = None) -> None:
    """Connect to ``address`` (``auto``, ``HOST:PORT``, ``ray://...``) or start a local Ray.

    On a cluster named by ``address``, the user's code of ``cfg`` travels to every node with
    Ray's runtime environment; the workers of a local instance import torch ahead only for a
    built-in trainable that needs it. See :func:`raytune_hpo.cluster.connect` (token
    authentication, one-line errors).
    """
    connect(
        address,
        runtime_env=code_runtime_env(cfg) if address and cfg else None,
        preload_trainables=cfg is None or (cfg.builtin is not None and cfg.builtin.needs_torch),
    )


def start_ray_loading_data(address: str | None, cfg: ExperimentConfig) -> DatasetArrays | None:
    """:func:`start_ray` while a background thread reads the data set (:func:`load_data`).

    Ray's start is mostly waiting for its processes, time the read fills; a data set that
    cannot be read still ends the command with one line before any trial starts.

    Raises:
        ConfigError: As :func:`load_data` (first: the data set is the user's to fix whatever
            the cluster says) and :func:`start_ray`.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-data") as pool:
        loading = pool.submit(load_data, cfg)
        try:
            start_ray(address, cfg)
        finally:
            if (error := loading.exception()) is not None:
                raise error
        return loading.result()


JOB_CONFIG_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"
"""Set by ``ray job submit`` for its entrypoint, whose runtime environment already ships code."""


def code_runtime_env(cfg: ExperimentConfig) -> dict[str, Any]:
    """What a cluster's nodes need shipped to run ``cfg``'s trainable.

    Nothing for a built-in trainable, nor inside a ``ray job submit`` entrypoint (its
    ``--working-dir`` is on every node already).
    """
    if JOB_CONFIG_ENV in os.environ:
        return {}
    if isinstance(cfg.trainable, CommandSpec):
        return {"working_dir": cfg.trainable.workdir} if cfg.trainable.workdir else {}
    if cfg.builtin is not None:
        return {}
    return import_paths.runtime_env(cfg.trainable)


def resolve_trainable(
    cfg: ExperimentConfig, trainable: Any = None, search_paths: tuple[Path, ...] = ()
) -> Any:
    """The user's function or Trainable class (``trainable`` if given, else imported).

    Returns None for a built-in trainable or a command, which :func:`build_trainable` wraps.

    Raises:
        ConfigError: ``trainable`` names code that cannot be imported or is neither a
            function trainable nor a ``ray.tune.Trainable`` subclass; a command's
            ``workdir``, program or script is not there (:func:`preflight.check_command`).
    """
    if trainable is None:
        preflight.check_command(cfg)
    if trainable is None and (cfg.builtin is not None or isinstance(cfg.trainable, CommandSpec)):
        return None
    try:
        if trainable is not None:
            import_paths.trainable_kind(trainable)
            return trainable
        return import_paths.load_trainable(str(cfg.trainable), (*search_paths, Path.cwd()))
    except import_paths.UserCodeError as err:
        raise ConfigError("trainable", f"{cfg.trainable_label}: {err}") from None


def check_loads_on_workers(cfg: ExperimentConfig, code: Any) -> None:
    """Check that Ray's workers can load the user's code
    (:func:`~raytune_hpo.adapters.import_paths.check_loads_elsewhere`).

    Raises:
        ConfigError: ``trainable``: a fresh process cannot load it (the missing module named).
    """
    try:
        import_paths.check_loads_elsewhere(code)
    except import_paths.UserCodeError as err:
        raise ConfigError("trainable", f"{cfg.trainable_label}: {err}") from None


def build_trainable(cfg: ExperimentConfig, data: DatasetArrays | None, code: Any = None) -> Any:
    """The trainable with per-trial resources attached.

    Args:
        cfg: The experiment config.
        data: The data set of a built-in trainable, put into the object store once.
        code: The user's function or Trainable class (from :func:`resolve_trainable`).
    """
    if (spec := cfg.builtin) is not None:
        trainable = tune.with_parameters(
            spec.train_imported_by_workers, data=data, settings=trial_settings(cfg)
        )
    elif isinstance(cfg.trainable, CommandSpec):
        from raytune_hpo.adapters.command.command_trainable import train_command

        trainable = tune.with_parameters(
            train_command, spec=cfg.trainable, metric=cfg.metric, max_epochs=cfg.max_epochs
        )
    elif inspect.isclass(code):
        trainable = code  # Ray restores a class through its load_checkpoint
    else:
        from raytune_hpo.adapters.restore_check import warn_unread_restore

        trainable = warn_unread_restore(code)
    resources = {"cpu": cfg.resources_per_trial.cpu, "gpu": cfg.resources_per_trial.gpu}
    return tune.with_resources(trainable, resources)


def tracking_root(cfg: ExperimentConfig, path: storage.Location) -> Path:
    """Where W&B files and the local MLflow store go by default: the experiment folder, or
    ``./<name>`` for a URI."""
    return path if isinstance(path, Path) else Path.cwd() / cfg.name


def tracking_callbacks(cfg: ExperimentConfig) -> list[tune.Callback]:
    """The W&B and MLflow callbacks (none when both are off); they never change results."""
    return [*wandb_callbacks(cfg), *mlflow_callbacks(cfg)]


def tracking_metadata(cfg: ExperimentConfig) -> dict[str, Any]:
    """What every W&B run's config and the MLflow parent run's params hold."""
    return {
        "experiment": cfg.name,
        "trainable": cfg.trainable_label,
        "dataset": cfg.dataset.name,
        "searcher": cfg.searcher.name,
        "scheduler": cfg.scheduler.name,
        "seed": cfg.seed,
        "method": cfg.method,
    }


def mlflow_callbacks(cfg: ExperimentConfig) -> list[tune.Callback]:
    """The MLflow callback of ``cfg.mlflow`` (none when off): a parent run, a nested run per
    trial (:mod:`raytune_hpo.tracking.mlflow_runs`). MLflow is imported only when on."""
    if not cfg.mlflow.active:
        return []
    from raytune_hpo.tracking.mlflow_runs import build_mlflow_callbacks

    path = experiment_path(cfg)
    return build_mlflow_callbacks(
        cfg.mlflow,
        experiment_name=cfg.name,
        folder=path,
        local_root=tracking_root(cfg, path),
        params={
            **tracking_metadata(cfg),
            "metric": cfg.metric,
            "mode": cfg.mode,
            "num_samples": cfg.num_samples,
            "max_epochs": cfg.max_epochs,
            "search_space": cfg.search_space,
        },
        tags={"hpo.method": cfg.method, "hpo.seed": str(cfg.seed)},
        metric=cfg.metric,
        mode=cfg.mode,
    )


def finish_tracking(cfg: ExperimentConfig, path: storage.Location) -> None:
    """Adds ``best.json``, the best metric and the folder's result files to the MLflow parent
    run (:func:`raytune_hpo.tracking.mlflow_runs.finish`); nothing when MLflow is off. Called at
    the end of a run, and again after the summary has written its plots."""
    if not cfg.mlflow.active:
        return
    from raytune_hpo.tracking.mlflow_runs import finish, store

    finish(store(cfg.mlflow, tracking_root(cfg, path))[0], path, cfg.metric)


def wandb_callbacks(cfg: ExperimentConfig) -> list[tune.Callback]:
    """The W&B callbacks of ``cfg.wandb`` (none when disabled); they never change results.

    W&B writes its files under the experiment folder, or under ``./<name>`` when the
    experiment lives at a URI (``wandb.dir`` overrides both). W&B and Ray's integration of it
    are imported only when enabled (over a second on 2 cores).
    """
    if not cfg.wandb.enabled:
        return []
    from raytune_hpo.tracking.wandb_runs import build_wandb_callbacks

    path = experiment_path(cfg)
    local = tracking_root(cfg, path)

    def tables() -> dict[str, Any]:
        """The trials' summary and, with several objectives, the front and hypervolume."""
        from raytune_hpo.analysis.fronts import front_tables
        from raytune_hpo.analysis.results import load_experiment, summary_table

        if not isinstance(path, Path):
            return {}
        experiment = load_experiment(path)
        return {"summary": summary_table(experiment), **front_tables(experiment)}

    return build_wandb_callbacks(
        cfg.wandb,
        experiment_name=cfg.name,
        experiment_dir=local,
        method=cfg.method,
        metadata=tracking_metadata(cfg),
        metric=cfg.metric,
        mode=cfg.mode,
        tables=tables,
    )


def tune_environment() -> None:
    """Ray Tune settings of this toolkit: no default loggers, no sync-time warnings, a trial
    keeps the actor Ray is already starting for it (:func:`tune_loop.started_actors_kept`), the
    loop looks at the clock before it builds paths to save the experiment's state
    (:func:`tune_loop.experiment_state_checks_clock_first`), a checkpoint already gone counts as
    deleted (:func:`checkpoints.gone_checkpoints_count_as_deleted`).

    Ray's check that every result holds the metric gives way to :class:`MetricCheck`'s line;
    the run's usage tag counts its callbacks without importing W&B.
    """
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ[STRICT_CHECK_SWITCH] = "1"
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    tune_loop.count_callbacks_by_name()
    tune_loop.started_actors_kept()
    tune_loop.experiment_state_checks_clock_first()
    checkpoints.gone_checkpoints_count_as_deleted()


def checkpoint_config(cfg: ExperimentConfig, trainable: Any) -> tune.CheckpointConfig:
    """How many checkpoints to keep; a class trainable is also saved every ``frequency``.

    A function trainable saves when it reports a checkpoint; Ray refuses a frequency for it.
    Under PBT, ``num_to_keep`` holds as given: each exploit copies its donor's checkpoint
    (:class:`~raytune_hpo.search.pbt_donors.DonorKeepingPBT`).
    """
    keep = cfg.checkpoint.num_to_keep
    if cfg.builtin is None and inspect.isclass(trainable):
        return tune.CheckpointConfig(
            num_to_keep=keep, checkpoint_frequency=cfg.checkpoint.frequency, checkpoint_at_end=True
        )
    return tune.CheckpointConfig(num_to_keep=keep)


def scoring_import_callbacks(cfg: ExperimentConfig) -> list[tune.Callback]:
    """A built-in trainable's scoring code imported once the trials report (its torch import
    then neither delays the first trial nor follows the last one)."""
    if cfg.builtin is None:
        return []
    return [ImportScoringCode(cfg.builtin)]


def build_tuner(
    cfg: ExperimentConfig, trainable: Any, output: ray_output.OutputMode = "normal"
) -> tune.Tuner:
    """A ``Tuner`` for ``cfg`` (searcher, scheduler, checkpoints, retries, storage, console).

    Every trial stops after ``max_epochs`` reports, also code that never stops by itself.
    What each trial prints also lands in ``stdout`` and ``stderr`` in its folder (with the
    files the trial's code writes into its working directory).
    """
    tune_environment()
    fail_fast = FailFast()
    screen = ConsoleCallback(ExperimentInfo.from_config(cfg, experiment_path(cfg)), output)
    context = cfg.entry_context
    searcher = build_searcher(cfg.searcher, context)
    return tune.Tuner(
        trainable,
        param_space=search_space.to_param_space(cfg.search_space),
        tune_config=tune.TuneConfig(
            # TuneConfig holds one metric: several go to the searcher and scheduler themselves.
            metric=None if cfg.many_objectives else cfg.metric,
            mode=None if cfg.many_objectives else cfg.mode,
            search_alg=searcher,
            scheduler=build_scheduler(cfg.scheduler, context),
            num_samples=cfg.num_samples,
            # A variant generator takes the limit itself (Ray would warn and ignore it here).
            max_concurrent_trials=(
                cfg.max_concurrent_trials if isinstance(searcher, Searcher) else None
            ),
            time_budget_s=cfg.time_budget_s,
            # Every trial asks for the same resources, so a finished trial's worker takes the
            # next one instead of a fresh process (seconds per trial; see BENCHMARKS.md). A
            # Trainable class is reused only through its own ``reset_config``, which many
            # write for PBT's new values alone (Ray's examples too): they get fresh actors.
            reuse_actors=not inspect.isclass(trainable),
        ),
        run_config=tune.RunConfig(
            name=cfg.name,
            storage_path=storage.storage_root(cfg.storage_path),
            checkpoint_config=checkpoint_config(cfg, trainable),
            failure_config=tune.FailureConfig(max_failures=cfg.failure.max_failures),
            stop=stop_criteria(cfg.metric, cfg.max_epochs, fail_fast),
            callbacks=[
                *trial_check_callbacks(
                    [objective.name for objective in cfg.objectives],
                    perturbation(cfg.scheduler),
                    fail_fast,
                    constrained=list(cfg.constraints),
                ),
                *restart_callbacks(cfg),
                ResultJsonLogger(),
                *tracking_callbacks(cfg),
                *tensorboard_callbacks(cfg),
                *history_callbacks(perturbation(cfg.scheduler), on_record=screen.exploit),
                *scoring_import_callbacks(cfg),
                FinishedTrialsSlimmed(),
                screen,
            ],
            verbose=ray_output.ray_verbosity(output),
            # What a trial prints goes to ``stdout`` and ``stderr`` in its working directory,
            # copied into its folder when it ends (and every ``sync_period``, 5 min).
            log_to_file=True,
            sync_config=tune.SyncConfig(sync_artifacts=True, sync_artifacts_on_checkpoint=False),
        ),
    )


def run_experiment(
    cfg: ExperimentConfig,
    *,
    address: str | None = None,
    overwrite: bool = False,
    trainable: Any = None,
    search_paths: tuple[Path, ...] = (),
    output: ray_output.OutputMode = "normal",
) -> ExperimentOutcome:
    """Run one experiment to the end and score its best trial on the test split.

    The run holds its experiment folder from its first check to its end
    (:mod:`~raytune_hpo.experiment.folder_lock`): a second run, ``--overwrite`` or ``resume``
    into the folder meanwhile is refused.

    Args:
        cfg: A validated experiment config.
        address: Ray cluster to attach to; None starts a local Ray instance.
        overwrite: Start again under a name already used; the earlier folder is renamed to
            ``NAME.replaced-TIMESTAMP``, never deleted.
        trainable: A function or Trainable class to tune instead of importing
            ``cfg.trainable`` (e.g. one defined in a notebook).
        search_paths: Folders to import ``package.module:name`` code from before the working
            directory and the installed packages (the YAML file's folder).
        output: What the console shows: ``normal`` (trial events and progress), ``quiet``
            (errors only) or ``verbose`` (Ray Tune's own output); see :mod:`console`.

    Raises:
        FolderInUse: Another run holds the experiment folder (its host and pid named).
        ConfigError: Before Ray starts: the experiment folder already holds an experiment and
            ``overwrite`` is off, a folder cannot be written or the user's code cannot be
            imported; while it starts: the data set is missing; before any trial starts: the
            cluster cannot be reached or no node can ever hold one trial; later: a trial
            reported without the metric.
        interrupts.ExperimentInterrupted: Ctrl-C stopped it; the state is saved for ``resume``.
    """
    path = experiment_path(cfg)
    if storage.is_uri(cfg.storage_path):
        preflight.check_store(cfg.storage_path)  # its error names the key, before the lock's
    with holding(path, "storage_path", storage.as_location(cfg.storage_path), RUN_HINT) as lock:
        preflight.check_run(cfg, path, overwrite=overwrite)
        preflight.check_tracking(cfg, tracking_root(cfg, path))
        code = resolve_trainable(cfg, trainable, search_paths)
        evaluate = scoring.resolve_evaluate(cfg, search_paths)
        if overwrite and (moved := set_aside(path, lock)) is not None:
            print(f"raytune-hpo: the earlier experiment {path} was moved to {moved}", flush=True)
        return start_experiment(cfg, path, address, code, evaluate, output)


RUN_HINT = "wait until it ends, or choose another --name"
"""What a run refused a folder in use may do."""
RESUME_HINT = "wait until it ends"
"""What a ``resume`` refused a folder in use may do."""


@contextlib.contextmanager
def holding(
    path: storage.Location, key: str, parent: storage.Location, hint: str
) -> Iterator[folder_lock.FolderLock]:
    """Hold the lock of the experiment folder ``path`` inside the block.

    Args:
        path: The experiment folder.
        key: The config key (or folder) that a store's or folder's error names.
        parent: The folder named when the lock cannot be written.
        hint: What a run refused the folder may do.

    Raises:
        FolderInUse: Another run holds the folder.
        ConfigError: ``key``: the store fails, or the folder cannot be created or written.
    """
    try:
        lock = folder_lock.acquire(path, hint=hint)
    except storage.StorageError as err:
        raise ConfigError(key, str(err)) from None
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(key, f"{parent} is not a writable folder ({reason})") from None
    try:
        yield lock
    finally:
        lock.release()


def set_aside(path: storage.Location, lock: folder_lock.FolderLock) -> storage.Location | None:
    """``--overwrite``: the earlier experiment folder renamed, the lock kept at ``path``.

    Returns:
        Where the folder went; None when it held nothing but the lock.
    """
    if all(name == LOCK_FILE for name, _ in storage.entries(path)):
        return None
    moved = storage.set_aside(path)
    if moved is not None:
        lock.moved(moved)
    return moved


def save_config(cfg: ExperimentConfig, path: storage.Location) -> None:
    """Write the resolved config into the experiment folder (what ``resume`` starts from)."""
    storage.write_text(path, CONFIG_FILE, yaml.safe_dump(cfg.model_dump(), sort_keys=False))


def start_experiment(
    cfg: ExperimentConfig,
    path: storage.Location,
    address: str | None,
    code: Any,
    evaluate: Callable[[Path, dict[str, Any]], dict[str, Any]] | None,
    output: ray_output.OutputMode,
) -> ExperimentOutcome:
    """Start Ray, save the config into ``path`` and run the experiment from its first trial.

    Args:
        cfg: The validated config, ``path`` its experiment folder.
        path: The experiment folder, held by this run.
        address: Ray cluster to attach to; None starts a local Ray instance.
        code: The user's function or class (:func:`resolve_trainable`).
        evaluate: The user's scoring function (:func:`scoring.resolve_evaluate`).
        output: What the console shows.
    """
    ray_output.configure(output)
    data = start_ray_loading_data(address, cfg)
    check_resources(cfg.resources_per_trial, cfg.storage_path)
    save_config(cfg, path)
    tuner = build_tuner(cfg, build_trainable(cfg, data, code), output)
    return fit_and_score(tuner, path, cfg, data, evaluate)


def resume_experiment(
    path: str | Path,
    *,
    address: str | None = None,
    trainable: Any = None,
    output: ray_output.OutputMode = "normal",
) -> ExperimentOutcome:
    """Continue an interrupted experiment in its folder, then score its best trial.

    Finished trials keep their results; unfinished and errored trials continue from their
    latest checkpoints (only a trial that never saved one starts over). The trainable is
    rebuilt from the folder's ``raytune_hpo.yaml``. A run that ended before Ray Tune saved any
    state (killed before its first trial started) starts again from that config, in the same
    folder. Like a run, it holds the folder until it ends.

    Args:
        path: The experiment folder (``storage_path/name``), local or a URI.
        address: Ray cluster to attach to; None starts a local Ray instance.
        trainable: The function or Trainable class the experiment ran, when it was handed
            over in Python rather than named by an importable path.
        output: What the console shows: ``normal``, ``quiet`` or ``verbose``, as for
            :func:`run_experiment`.

    Raises:
        FolderInUse: Another run holds the experiment folder (its host and pid named).
        ConfigError: The folder holds no experiment of this toolkit, the user's code cannot be
            imported, the cluster cannot be reached, or no node can ever hold one trial.
    """
    location = storage.as_location(path)
    storage.check_store(location)
    if not storage.entries(location):
        raise ConfigError(
            str(location), f"no {CONFIG_FILE}; not an experiment folder of raytune-hpo"
        )
    with holding(location, str(location), location, RESUME_HINT):
        if not storage.exists(location, CONFIG_FILE):
            if all(name == LOCK_FILE for name, _ in storage.entries(location)):
                raise ConfigError(
                    str(location),
                    f"no {CONFIG_FILE}: the run that used this folder ended before it saved "
                    "its config (as Ray started); start it again with `raytune-hpo run FILE`",
                )
            raise ConfigError(
                str(location), f"no {CONFIG_FILE}; not an experiment folder of raytune-hpo"
            )
        raw = yaml.safe_load(storage.read_text(location, CONFIG_FILE)) or {}
        cfg = in_folder(validate_config(raw, f"{location}/{CONFIG_FILE}"), location)
        code = resolve_trainable(cfg, trainable)
        evaluate = scoring.resolve_evaluate(cfg)
        if not tune.Tuner.can_restore(str(location)):
            print(
                f"raytune-hpo: no trial of {location} had started; starting the experiment "
                f"from its saved {CONFIG_FILE}",
                flush=True,
            )
            return start_experiment(cfg, location, address, code, evaluate, output)
        preflight.check_tracking(cfg, tracking_root(cfg, location))
        if cfg.wandb.enabled:
            from raytune_hpo.tracking.wandb_runs import set_wandb_environment

            set_wandb_environment(cfg.wandb, tracking_root(cfg, location))
        ray_output.configure(output)
        data = start_ray_loading_data(address, cfg)
        check_resources(cfg.resources_per_trial, str(location))
        tune_environment()
        tuner = tune.Tuner.restore(
            str(location),
            build_trainable(cfg, data, code),
            resume_unfinished=True,
            resume_errored=True,
        )
        use_on_restored(tuner, output)
        return fit_and_score(tuner, location, cfg, data, evaluate)


def in_folder(cfg: ExperimentConfig, location: storage.Location) -> ExperimentConfig:
    """``cfg`` whose ``storage_path`` and ``name`` name ``location`` (a folder moved since its
    run, or a URI written differently, runs where it is now)."""
    if experiment_path(cfg) == location:
        return cfg
    if isinstance(location, Path):
        parent: str = str(location.parent)
    else:
        parent = location.base.rsplit("/", 1)[0] + location.query
    return cfg.model_copy(update={"storage_path": parent, "name": location.name})


def fit_and_score(
    tuner: tune.Tuner,
    path: storage.Location,
    cfg: ExperimentConfig,
    data: DatasetArrays | None,
    evaluate: Callable[[Path, dict[str, Any]], dict[str, Any]] | None,
) -> ExperimentOutcome:
    """:func:`fit` (reported checkpoints registered from the reports where
    :func:`checkpoints_from_reports` allows), then
    :func:`~raytune_hpo.experiment.scoring.score_best_trial`; then, on the warm Ray, the workers the
    trials took are replaced for the next run (:func:`raytune_hpo.cluster.keep_warm`; after
    the scoring, whose imports the new workers' start would slow).

    How every trial ended is written into the folder (``trial_ends.json``, also when Ctrl-C
    stops the run); an errored trial is never the best. When the run's trials failed
    (:func:`~raytune_hpo.experiment.ends_record.errored_trials_failure`, or the first ones
    before reporting), the outcome carries :class:`TrialsFailed`, and ``best.json`` is
    written all the same."""
    registering: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if checkpoints_from_reports(cfg):
        registering = tune_loop.checkpoints_registered_from_reports()
    try:
        with registering:
            try:
                results = fit(tuner, path)
            except interrupts.ExperimentInterrupted:
                # What the interrupt says (the state is saved, how to resume) comes first.
                with contextlib.suppress(Exception):
                    ends_record.record_trial_ends(tuner, path, complete=False)
                raise
            finally:
                remove_code_links(cfg, path)
        ends = ends_record.record_trial_ends(tuner, path, complete=True)
        best = scoring.score_best_trial(
            cfg, results, path, data, evaluate, trial_settings(cfg), ends
        )
        failure = _fail_fast_failure(tuner) or ends_record.errored_trials_failure(
            ends, cfg.max_failed_trials
        )
        finish_tracking(cfg, path)
        outcome = ExperimentOutcome(path, results, best, cfg, failure)
        if failure is not None:
            failure.outcome = outcome
        return outcome
    finally:
        keep_warm()


def remove_code_links(cfg: ExperimentConfig, path: storage.Location) -> None:
    """A command's trial folders without the links to its code folder that trials ended by the
    experiment's end left
    (:func:`raytune_hpo.adapters.command.command_trainable.remove_code_links`)."""
    if not isinstance(cfg.trainable, CommandSpec) or not isinstance(path, Path):
        return
    from raytune_hpo.adapters.command import workdir

    code = Path(cfg.trainable.workdir or os.environ.get("TUNE_ORIG_WORKING_DIR") or os.getcwd())
    workdir.remove_code_links(path, code)


def checkpoints_from_reports(cfg: ExperimentConfig) -> bool:
    """Whether Ray Tune may register a reported checkpoint without asking the trial for it
    again (:func:`tune_loop.checkpoints_registered_from_reports`): for the built-in
    trainables and command trials under a scheduler that never saves by itself (its trait)."""
    ours = cfg.builtin is not None or isinstance(cfg.trainable, CommandSpec)
    return ours and not SCHEDULERS[cfg.scheduler.name].traits.saves_trials


def fit(tuner: tune.Tuner, path: storage.Location) -> tune.ResultGrid:
    """:func:`interrupts.fit`, with a trial that never reported the metric as one line.

    Raises:
        ConfigError: ``metric``: a trial reported without it (the keys it did report named).
    """
    try:
        return interrupts.fit(tuner, path)
    except Exception as err:
        missing = _find_cause(err, MissingMetric)
        if not isinstance(missing, MissingMetric):
            raise
        raise ConfigError(missing.key, str(missing)) from None


def _fail_fast_failure(tuner: tune.Tuner) -> TrialsFailed | None:
    """:class:`TrialsFailed` when the run's :class:`FailFast` stopped it (its first trials all
    failed before reporting)."""
    run_config = tune_loop.tuner_run_config(tuner)
    for callback in (run_config.callbacks or []) if run_config is not None else []:
        if isinstance(callback, FailFast) and callback.reason is not None:
            return TrialsFailed(callback.reason)
    return None


def _find_cause(err: BaseException, kind: type[Exception]) -> Exception | None:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
