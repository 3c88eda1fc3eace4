"""``run_experiment``: the one place that assembles and runs a ``ray.tune.Tuner``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
import yaml
from ray import tune
from ray.tune.logger import JsonLoggerCallback

from raytune_hpo import search_space
from raytune_hpo.config import ConfigError, ExperimentConfig
from raytune_hpo.data import DatasetArrays, load_dataset
from raytune_hpo.schedulers import build_scheduler
from raytune_hpo.searchers import build_searcher
from raytune_hpo.trainables import TRAINABLES
from raytune_hpo.trainables.common import TrialSettings

CONFIG_FILE = "raytune_hpo.yaml"
"""The resolved config, written into the experiment folder before any trial starts."""
BEST_FILE = "best.json"
"""The best trial, its config, metric and test-split metrics, written after the experiment."""


@dataclass(frozen=True)
class ExperimentOutcome:
    """What a finished experiment gives back."""

    path: Path
    results: tune.ResultGrid
    best: dict[str, Any] | None


def experiment_path(cfg: ExperimentConfig) -> Path:
    """The folder of an experiment: ``storage_path/name``."""
    return Path(cfg.storage_path).expanduser().resolve() / cfg.name


def trial_settings(cfg: ExperimentConfig) -> TrialSettings:
    """The experiment-level settings handed to every trial."""
    return TrialSettings(
        max_epochs=cfg.max_epochs,
        checkpoint_frequency=cfg.checkpoint.frequency,
        seed=cfg.seed,
        cpus=cfg.resources_per_trial.cpu,
        options=dict(cfg.trainable_options),
    )


def load_data(cfg: ExperimentConfig) -> DatasetArrays:
    """The experiment's data set, loaded once in the driver."""
    d = cfg.dataset
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
    """Connect to ``address`` (``auto``, ``HOST:PORT``, ``ray://...``) or start a local Ray."""
    if ray.is_initialized():
        return
    if address:
        os.environ.setdefault("RAY_AUTH_MODE", "token")
    ray.init(address=address, include_dashboard=False, logging_level="WARNING")


def build_trainable(cfg: ExperimentConfig, data: DatasetArrays) -> Any:
    """The trainable with data in the object store and per-trial resources attached."""
    spec = TRAINABLES[cfg.trainable]
    trainable = tune.with_parameters(spec.train, data=data, settings=trial_settings(cfg))
    resources = {"cpu": cfg.resources_per_trial.cpu, "gpu": cfg.resources_per_trial.gpu}
    return tune.with_resources(trainable, resources)


def build_tuner(cfg: ExperimentConfig, trainable: Any) -> tune.Tuner:
    """A ``Tuner`` for ``cfg`` (searcher, scheduler, checkpoints, retries, storage)."""
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
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
        ),
        run_config=tune.RunConfig(
            name=cfg.name,
            storage_path=str(experiment_path(cfg).parent),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=cfg.checkpoint.num_to_keep),
            failure_config=tune.FailureConfig(max_failures=cfg.failure.max_failures),
            callbacks=[JsonLoggerCallback()],
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
        overwrite: Allow reusing the folder of an earlier experiment of the same name.

    Raises:
        ConfigError: The experiment folder already holds an experiment and ``overwrite`` is off.
    """
    path = experiment_path(cfg)
    if (path / CONFIG_FILE).exists() and not overwrite:
        raise ConfigError(
            "name",
            f"{path} already holds an experiment; choose another --name, "
            "`raytune-hpo resume` it, or pass --overwrite",
        )
    path.mkdir(parents=True, exist_ok=True)
    (path / CONFIG_FILE).write_text(yaml.safe_dump(cfg.model_dump(), sort_keys=False))
    data = load_data(cfg)
    start_ray(address)
    results = build_tuner(cfg, build_trainable(cfg, data)).fit()
    return ExperimentOutcome(path, results, score_best_trial(cfg, results, data, path))


def score_best_trial(
    cfg: ExperimentConfig, results: tune.ResultGrid, data: DatasetArrays, path: Path
) -> dict[str, Any] | None:
    """Evaluate the best trial's best checkpoint on the test split and save ``best.json``."""
    try:
        best = results.get_best_result(cfg.metric, cfg.mode, scope="all")
    except RuntimeError:
        return None
    if best is None or best.metrics is None:
        return None
    checkpoint = best.get_best_checkpoint(cfg.metric, cfg.mode) or best.checkpoint
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
    (path / BEST_FILE).write_text(json.dumps(summary, indent=2, default=str))
    return summary


def _best_value(frame: Any, cfg: ExperimentConfig) -> float | None:
    if frame is None or cfg.metric not in frame:
        return None
    series = frame[cfg.metric].dropna()
    if series.empty:
        return None
    return float(series.min() if cfg.mode == "min" else series.max())
