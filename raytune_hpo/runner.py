"""``run_experiment``: the one place that assembles and runs a ``ray.tune.Tuner``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ray import tune

from raytune_hpo import cluster, interrupts, preflight, search_space, storage
from raytune_hpo.config import ConfigError, ExperimentConfig, validate_config
from raytune_hpo.data import DatasetArrays, load_dataset
from raytune_hpo.pbt_history import history_callbacks
from raytune_hpo.result_log import ResultJsonLogger
from raytune_hpo.schedulers import build_scheduler
from raytune_hpo.searchers import build_searcher
from raytune_hpo.tracking import build_wandb_callbacks
from raytune_hpo.trainables import TRAINABLES
from raytune_hpo.trainables.common import TrialSettings

CONFIG_FILE = "raytune_hpo.yaml"
"""The resolved config, written into the experiment folder before any trial starts."""
BEST_FILE = "best.json"
"""The best trial, its config, metric and test-split metrics, written after the experiment."""


@dataclass(frozen=True)
class ExperimentOutcome:
    """What a finished experiment gives back."""

    path: storage.Location
    results: tune.ResultGrid
    best: dict[str, Any] | None
    config: ExperimentConfig


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


def load_data(cfg: ExperimentConfig) -> DatasetArrays:
    """The experiment's data set, loaded once in the driver.

    Raises:
        ConfigError: The data set is not on disk and cannot be downloaded, or a size or
            folder of the ``dataset`` section does not fit it.
    """
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


def start_ray(address: str | None = None) -> None:
    """Connect to ``address`` (``auto``, ``HOST:PORT``, ``ray://...``) or start a local Ray.

    See :func:`raytune_hpo.cluster.connect` (token authentication, one-line errors).
    """
    cluster.connect(address)


def build_trainable(cfg: ExperimentConfig, data: DatasetArrays) -> Any:
    """The trainable with data in the object store and per-trial resources attached."""
    spec = TRAINABLES[cfg.trainable]
    trainable = tune.with_parameters(spec.train, data=data, settings=trial_settings(cfg))
    resources = {"cpu": cfg.resources_per_trial.cpu, "gpu": cfg.resources_per_trial.gpu}
    return tune.with_resources(trainable, resources)


def tracking_callbacks(cfg: ExperimentConfig) -> list[tune.Callback]:
    """The W&B callbacks of ``cfg.wandb`` (none when disabled); they never change results.

    W&B writes its files under the experiment folder, or under ``./<name>`` when the
    experiment lives at a URI (``wandb.dir`` overrides both).
    """
    path = experiment_path(cfg)
    local = path if isinstance(path, Path) else Path.cwd() / cfg.name

    def summary() -> Any:
        from raytune_hpo.results import load_experiment, summary_table

        return summary_table(load_experiment(path)) if isinstance(path, Path) else None

    return build_wandb_callbacks(
        cfg.wandb,
        experiment_name=cfg.name,
        experiment_dir=local,
        method=cfg.method,
        metadata={
            "experiment": cfg.name,
            "trainable": cfg.trainable,
            "dataset": cfg.dataset.name,
            "searcher": cfg.searcher.name,
            "scheduler": cfg.scheduler.name,
            "seed": cfg.seed,
            "method": cfg.method,
        },
        metric=cfg.metric,
        mode=cfg.mode,
        summary=summary,
    )


def tune_environment() -> None:
    """Ray Tune settings of this toolkit: no default loggers, no sync-time warnings."""
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")


PBT_MIN_CHECKPOINTS = 4
"""PBT exploits other trials' recent checkpoints; Ray warns that keeping 2 or fewer breaks that."""


def checkpoints_to_keep(cfg: ExperimentConfig) -> int | None:
    """``checkpoint.num_to_keep``, raised to ``PBT_MIN_CHECKPOINTS`` under PBT (said once)."""
    keep = cfg.checkpoint.num_to_keep
    if cfg.scheduler.name != "pbt" or keep is None or keep >= PBT_MIN_CHECKPOINTS:
        return keep
    print(
        f"raytune-hpo: keeping {PBT_MIN_CHECKPOINTS} checkpoints per trial instead of {keep} "
        "(checkpoint.num_to_keep): PBT restores other trials' recent checkpoints",
        flush=True,
    )
    return PBT_MIN_CHECKPOINTS


def build_tuner(cfg: ExperimentConfig, trainable: Any) -> tune.Tuner:
    """A ``Tuner`` for ``cfg`` (searcher, scheduler, checkpoints, retries, storage)."""
    tune_environment()
    return tune.Tuner(
        trainable,
        param_space=search_space.to_param_space(cfg.search_space),
        tune_config=tune.TuneConfig(
            metric=cfg.metric,
            mode=cfg.mode,
            search_alg=build_searcher(cfg),
            scheduler=build_scheduler(cfg),
            num_samples=cfg.num_samples,
            max_concurrent_trials=cfg.max_concurrent_trials,
            time_budget_s=cfg.time_budget_s,
            # Every trial asks for the same resources, so a finished trial's worker takes the
            # next one instead of a fresh process (seconds per trial; see BENCHMARKS.md).
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=cfg.name,
            storage_path=storage.storage_root(cfg.storage_path),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=checkpoints_to_keep(cfg)),
            failure_config=tune.FailureConfig(max_failures=cfg.failure.max_failures),
            callbacks=[
                ResultJsonLogger(),
                *tracking_callbacks(cfg),
                *history_callbacks(cfg.scheduler),
            ],
            verbose=1,
        ),
    )


def run_experiment(
    cfg: ExperimentConfig, *, address: str | None = None, overwrite: bool = False
) -> ExperimentOutcome:
    """Run one experiment to the end and score its best trial on the test split.

    Args:
        cfg: A validated experiment config.
        address: Ray cluster to attach to; None starts a local Ray instance.
        overwrite: Start again under a name already used; the earlier folder is renamed to
            ``NAME.replaced-TIMESTAMP``, never deleted.

    Raises:
        ConfigError: Before Ray starts: the experiment folder already holds an experiment and
            ``overwrite`` is off, a folder cannot be written or the data set is missing; after:
            the cluster cannot be reached, or no node can ever hold one trial.
        interrupts.ExperimentInterrupted: Ctrl-C stopped it; the state is saved for ``resume``.
    """
    path = experiment_path(cfg)
    preflight.check_run(cfg, path, overwrite=overwrite)
    data = load_data(cfg)
    if overwrite and (moved := storage.set_aside(path)) is not None:
        print(f"raytune-hpo: the earlier experiment {path} was moved to {moved}", flush=True)
    start_ray(address)
    cluster.check_resources(cfg.resources_per_trial, cfg.storage_path)
    storage.write_text(path, CONFIG_FILE, yaml.safe_dump(cfg.model_dump(), sort_keys=False))
    results = interrupts.fit(build_tuner(cfg, build_trainable(cfg, data)), path)
    return ExperimentOutcome(path, results, score_best_trial(cfg, results, data, path), cfg)


def resume_experiment(path: str | Path, *, address: str | None = None) -> ExperimentOutcome:
    """Continue an interrupted experiment in its folder, then score its best trial.

    Finished trials keep their results; unfinished and errored trials continue from their
    latest checkpoints (only a trial that never saved one starts over). The trainable is
    rebuilt from the folder's ``raytune_hpo.yaml``.

    Args:
        path: The experiment folder (``storage_path/name``), local or a URI.
        address: Ray cluster to attach to; None starts a local Ray instance.

    Raises:
        ConfigError: The folder holds no experiment of this toolkit or no Ray Tune state, the
            cluster cannot be reached, or no node can ever hold one trial.
    """
    location = storage.as_location(path)
    if not storage.exists(location, CONFIG_FILE):
        raise ConfigError(
            str(location), f"no {CONFIG_FILE}; not an experiment folder of raytune-hpo"
        )
    raw = yaml.safe_load(storage.read_text(location, CONFIG_FILE)) or {}
    cfg = validate_config(raw, f"{location}/{CONFIG_FILE}")
    if not tune.Tuner.can_restore(str(location)):
        raise ConfigError(
            str(location),
            "no Ray Tune experiment state to resume (no trial had started); "
            "start it again with `raytune-hpo run --overwrite`",
        )
    start_ray(address)
    cluster.check_resources(cfg.resources_per_trial, str(location))
    data = load_data(cfg)
    tune_environment()
    tuner = tune.Tuner.restore(
        str(location), build_trainable(cfg, data), resume_unfinished=True, resume_errored=True
    )
    results = interrupts.fit(tuner, location)
    best = score_best_trial(cfg, results, data, location)
    return ExperimentOutcome(location, results, best, cfg)


def score_best_trial(
    cfg: ExperimentConfig, results: tune.ResultGrid, data: DatasetArrays, path: storage.Location
) -> dict[str, Any] | None:
    """Evaluate the best trial's best checkpoint on the test split and save ``best.json``."""
    try:
        best = results.get_best_result(cfg.metric, cfg.mode, scope="all")
    except RuntimeError:
        return None
    if best is None or best.metrics is None:
        return None
    checkpoint = best.checkpoint
    if best.best_checkpoints:  # a trial that saved none (e.g. ``sleep``) has nothing to test
        checkpoint = best.get_best_checkpoint(cfg.metric, cfg.mode) or checkpoint
    summary: dict[str, Any] = {
        "trial_id": best.metrics.get("trial_id"),
        "config": best.config,
        cfg.metric: _best_value(best.metrics_dataframe, cfg),
        "test": None,
    }
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            summary["test"] = TRAINABLES[cfg.trainable].evaluate(
                Path(directory), best.config, data, trial_settings(cfg)
            )
    storage.write_text(path, BEST_FILE, json.dumps(summary, indent=2, default=str))
    return summary


def _best_value(frame: Any, cfg: ExperimentConfig) -> float | None:
    if frame is None or cfg.metric not in frame:
        return None
    series = frame[cfg.metric].dropna()
    if series.empty:
        return None
    return float(series.min() if cfg.mode == "min" else series.max())
