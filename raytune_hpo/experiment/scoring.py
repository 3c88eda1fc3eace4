"""The end of a run: the best trial, its best checkpoint scored on the test split, ``best.json``.

A built-in trainable scores the test split itself; the user's code through its ``evaluate``
hook (``evaluate: file.py:function`` in the config), if it has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ray import tune

from raytune_hpo.analysis import storage
from raytune_hpo.config import ConfigError, ExperimentConfig
from raytune_hpo.experiment.trial_checks import RAY_RESULT_KEYS
from raytune_hpo.layout import BEST_FILE
from raytune_hpo.trainables import user_code
from raytune_hpo.trainables.data import DatasetArrays
from raytune_hpo.trainables.trial import TrialSettings


def resolve_evaluate(
    cfg: ExperimentConfig, search_paths: tuple[Path, ...] = ()
) -> Callable[[Path, dict[str, Any]], dict[str, Any]] | None:
    """The user's ``evaluate`` hook (checkpoint folder, config -> metrics), if configured.

    Raises:
        ConfigError: ``evaluate`` names code that cannot be imported or is not callable.
    """
    if cfg.evaluate is None:
        return None
    try:
        hook = user_code.load_object(cfg.evaluate, (*search_paths, Path.cwd()))
    except user_code.UserCodeError as err:
        raise ConfigError("evaluate", f"{cfg.evaluate}: {err}") from None
    if not callable(hook):
        raise ConfigError("evaluate", f"{cfg.evaluate}: is a {type(hook).__name__}, not a function")
    return hook


def score_best_trial(
    cfg: ExperimentConfig,
    results: tune.ResultGrid,
    path: storage.Location,
    data: DatasetArrays | None = None,
    evaluate: Callable[[Path, dict[str, Any]], dict[str, Any]] | None = None,
    settings: TrialSettings | None = None,
) -> dict[str, Any] | None:
    """Find the best trial, score its best checkpoint on the test split and save ``best.json``.

    ``data`` and ``settings`` (the trials' own) let a built-in trainable score the test split.

    A built-in trainable scores the test split itself; the user's code through its
    ``evaluate`` hook, if it has one. ``best.json`` holds the best trial, its config, its best
    value of the metric, the metrics of that report, the checkpoint and the test metrics.
    """
    try:
        best = results.get_best_result(cfg.metric, cfg.mode, scope="all")
    except RuntimeError:
        return None
    if best is None or best.metrics is None or best.config is None:
        return None
    if _best_value(best.metrics_dataframe, cfg) is None:  # no trial reported the metric
        return None
    checkpoint = best.checkpoint
    if best.best_checkpoints:  # a trial that saved none (e.g. ``sleep``) has nothing to test
        checkpoint = best.get_best_checkpoint(cfg.metric, cfg.mode) or checkpoint
    summary: dict[str, Any] = {
        "trial_id": best.metrics.get("trial_id"),
        "config": best.config,
        cfg.metric: _best_value(best.metrics_dataframe, cfg),
        "metrics": _best_report(best.metrics_dataframe, cfg),
        "checkpoint": checkpoint.path if checkpoint is not None else None,
        "test": None,
    }
    if checkpoint is not None and (cfg.builtin is not None or evaluate is not None):
        with checkpoint.as_directory() as directory:
            if cfg.builtin is not None and data is not None and settings is not None:
                summary["test"] = cfg.builtin.evaluate(Path(directory), best.config, data, settings)
            elif evaluate is not None:
                summary["test"] = evaluate(Path(directory), dict(best.config))
    storage.write_text(path, BEST_FILE, json.dumps(summary, indent=2, default=str))
    return summary


def _best_report(frame: Any, cfg: ExperimentConfig) -> dict[str, Any] | None:
    """What the trial reported at its best value of the metric, and at which iteration."""
    if frame is None or cfg.metric not in frame or frame[cfg.metric].dropna().empty:
        return None
    index = frame[cfg.metric].idxmin() if cfg.mode == "min" else frame[cfg.metric].idxmax()
    row = frame.loc[index]
    return {
        k: _plain(v)
        for k, v in row.items()
        if k == "training_iteration"
        or (k not in RAY_RESULT_KEYS and not str(k).startswith("config/"))
    }


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar from a DataFrame cell."""
    return value.item() if hasattr(value, "item") else value


def _best_value(frame: Any, cfg: ExperimentConfig) -> float | None:
    if frame is None or cfg.metric not in frame:
        return None
    series = frame[cfg.metric].dropna()
    if series.empty:
        return None
    return float(series.min() if cfg.mode == "min" else series.max())
