"""The end of a run: the best trial, its best checkpoint scored on the test split, ``best.json``.

A built-in trainable scores the test split itself; the user's code through its ``evaluate``
hook (``evaluate: file.py:function`` in the config), if it has one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ray import tune

from raytune_hpo import storage
from raytune_hpo.adapters import import_paths
from raytune_hpo.analysis.fronts import Objectives, front_records, json_scalar, trial_points
from raytune_hpo.config import ConfigError, ExperimentConfig
from raytune_hpo.demos.datasets import DatasetArrays
from raytune_hpo.demos.trial_settings import TrialSettings
from raytune_hpo.layout import BEST_FILE, CONFIG_PREFIX, RAY_RESULT_KEYS
from raytune_hpo.trial_ends import RunEnds


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
        hook = import_paths.load_object(cfg.evaluate, (*search_paths, Path.cwd()))
    except import_paths.UserCodeError as err:
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
    ends: RunEnds | None = None,
) -> dict[str, Any] | None:
    """Find the best trial, score its best checkpoint on the test split and save ``best.json``.

    ``data`` and ``settings`` (the trials' own) let a built-in trainable score the test split;
    ``ends`` (how the trials ended) names the best trial's end in ``best.json`` (``end``).

    A built-in trainable scores the test split itself; the user's code through its
    ``evaluate`` hook, if it has one. ``best.json`` holds the best trial, its config, its best
    value of the metric, the metrics of that report, the checkpoint and the test metrics; with
    several objectives, ``pareto_front`` too (:func:`pareto_front_of`), and the best trial is
    the best of the first objective.

    The best trial is the best of those that ended without an error and keep every
    constraint (:func:`best_result`).
    """
    best = best_result(results, cfg)
    if best is None or best.metrics is None or best.config is None:
        return None
    checkpoint = best.checkpoint
    if best.best_checkpoints:  # a trial that saved none (e.g. ``sleep``) has nothing to test
        checkpoint = best.get_best_checkpoint(cfg.metric, cfg.mode) or checkpoint
    trial_id = best.metrics.get("trial_id")
    end = ends.trials.get(str(trial_id)) if ends is not None else None
    summary: dict[str, Any] = {
        "trial_id": trial_id,
        "end": end.words if end is not None else None,
        "config": best.config,
        cfg.metric: _best_value(best.metrics_dataframe, cfg),
        "metrics": _best_report(best.metrics_dataframe, cfg),
        "checkpoint": checkpoint.path if checkpoint is not None else None,
        "test": None,
    }
    objectives = objectives_of(cfg)
    if objectives.many:
        summary["pareto_front"] = pareto_front_of(results, objectives)
    if checkpoint is not None and (cfg.builtin is not None or evaluate is not None):
        with checkpoint.as_directory() as directory:
            if cfg.builtin is not None and data is not None and settings is not None:
                summary["test"] = cfg.builtin.evaluate(Path(directory), best.config, data, settings)
            elif evaluate is not None:
                summary["test"] = evaluate(Path(directory), dict(best.config))
    storage.write_text(path, BEST_FILE, json.dumps(summary, indent=2, default=str))
    return summary


def best_result(results: tune.ResultGrid, cfg: ExperimentConfig) -> tune.Result | None:
    """The result of the trial with the best value of the (first) objective over all its
    reports, of the trials that ended without an error and whose last report keeps every
    constraint; None when none of those reported it.

    Ray's ``ResultGrid.get_best_result`` also weighs errored trials: one that ASHA promoted
    and that then crashed could be named best, with a checkpoint of a run that never ended.
    """
    best, best_value = None, None
    for result, frame in kept_results(results, objectives_of(cfg)):
        value = _best_value(frame, cfg)
        if value is None:
            continue
        better = best_value is None or (
            value < best_value if cfg.mode == "min" else value > best_value
        )
        if better:
            best, best_value = result, value
    return best


def objectives_of(cfg: ExperimentConfig) -> Objectives:
    """What ``cfg`` optimises and its constraints, as the analysis reads them."""
    return Objectives(cfg.objectives, cfg.constraints, cfg.reference_point)


def kept_results(
    results: tune.ResultGrid, objectives: Objectives
) -> list[tuple[tune.Result, pd.DataFrame]]:
    """The results of the trials that reported, ended without an error and whose last report
    keeps every constraint, each with its reports."""
    kept = []
    for index in range(len(results)):
        result = results[index]
        frame = result.metrics_dataframe
        if result.error is not None or frame is None or frame.empty:
            continue
        last = frame.sort_values("training_iteration", kind="stable").iloc[-1]
        if objectives.feasible(last.to_dict()):
            kept.append((result, frame))
    return kept


def pareto_front_of(results: tune.ResultGrid, objectives: Objectives) -> list[dict[str, Any]]:
    """The Pareto front of the trials' last reports, as ``best.json`` holds it
    (:func:`raytune_hpo.analysis.fronts.front_records`), sorted by the first objective."""
    frames = []
    for result, reported in kept_results(results, objectives):
        frame = reported.drop(columns=[c for c in reported if str(c).startswith(CONFIG_PREFIX)])
        for key, value in (result.config or {}).items():
            frame[f"{CONFIG_PREFIX}{key}"] = [value] * len(frame)
        frames.append(frame)
    reports = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return front_records(trial_points(reports, objectives))


def _best_report(frame: Any, cfg: ExperimentConfig) -> dict[str, Any] | None:
    """What the trial reported at its best value of the metric, and at which iteration."""
    series = _finite(frame, cfg)
    if series is None or series.empty:
        return None
    index = series.idxmin() if cfg.mode == "min" else series.idxmax()
    row = frame.loc[index]
    return {
        k: json_scalar(v)
        for k, v in row.items()
        if k == "training_iteration"
        or (k not in RAY_RESULT_KEYS and not str(k).startswith(CONFIG_PREFIX))
    }


def _finite(frame: Any, cfg: ExperimentConfig) -> Any:
    """The finite values of the metric in a trial's reports frame (None without the column)."""
    if frame is None or cfg.metric not in frame:
        return None
    series = pd.to_numeric(frame[cfg.metric], errors="coerce")
    return series[np.isfinite(series)]


def _best_value(frame: Any, cfg: ExperimentConfig) -> float | None:
    series = _finite(frame, cfg)
    if series is None or series.empty:
        return None
    return float(series.min() if cfg.mode == "min" else series.max())
