"""Experiment folders side by side: grouped by method, summarised over seeds, written as a report.

A *method* is :attr:`ExperimentConfig.method` (searcher, plus scheduler unless FIFO) read from each
folder's ``raytune_hpo.yaml``; the experiments of one method differ by seed. The final incumbent of
an experiment is the best metric over all its reports. Experiments with several objectives are
also compared by hypervolume (:mod:`raytune_hpo.analysis.fronts`), against one reference point
for all of them: the config's, else the worst value any of them saw. Reads only files on disk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raytune_hpo import storage
from raytune_hpo.analysis import comparison_plots, importance
from raytune_hpo.analysis.fronts import (
    Objectives,
    hypervolume_history,
    reference_point,
    reports_without_errors,
)
from raytune_hpo.analysis.results import (
    Experiment,
    errored_trials,
    incumbent,
    load_experiment,
    not_started,
)
from raytune_hpo.config import ConfigError, method_name
from raytune_hpo.layout import (
    ANYTIME_PNG,
    CONFIG_FILE,
    CURVES_PNG,
    HYPERVOLUME_CSV,
    HYPERVOLUME_PNG,
    IMPORTANCE_CSV,
    METHODS_CSV,
    REPORT_MD,
    REPORTS_CSV,
    RUNS_CSV,
)
from raytune_hpo.number_format import format_number

HISTORY_COLUMNS = ("method", "seed", "experiment", "path", "elapsed_s", "hypervolume")
"""Columns of a comparison's hypervolume histories."""
PER_RUN = (
    "trials_started",
    "trials_not_started",
    "trials_finished",
    "trials_errored",
    "epochs",
    "worker_time_s",
    "wall_time_s",
)
"""Columns of a run that the method table averages over the method's runs."""


@dataclass(frozen=True)
class Comparison:
    """Several experiments, read back and summarised.

    Attributes:
        metric: The metric all experiments optimise.
        mode: ``min`` or ``max``.
        target: A metric value to reach, if given (``time_to_target_s`` columns).
        reports: Tidy data: one row per report, with ``method``, ``seed``, ``experiment``,
            ``path``, ``trial_id``, ``training_iteration``, ``elapsed_s``, the metric,
            ``incumbent`` (best of the experiment so far) and ``config/<name>`` columns.
        runs: One row per experiment (see :func:`run_summary`).
        methods: One row per method, best first (see :func:`method_table`).
        hypervolumes: With several objectives, the runs' hypervolume histories; else None.
        importance: Each method's hyperparameter importance per objective, the mean over
            its runs (:func:`raytune_hpo.analysis.importance.method_importance`).
    """

    metric: str
    mode: str
    target: float | None
    reports: pd.DataFrame
    runs: pd.DataFrame
    methods: pd.DataFrame
    hypervolumes: Hypervolumes | None = None
    importance: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(importance.METHOD_COLUMNS))
    )


@dataclass(frozen=True)
class Hypervolumes:
    """The hypervolume histories of compared runs with several objectives.

    Attributes:
        objectives: What every run optimises.
        reference: The one reference point of every run (objectives' own units), and where it
            comes from (the config's, or the worst value seen across all runs); None when an
            objective has no finite value.
        history: ``method``, ``seed``, ``experiment``, ``path``, ``elapsed_s`` and
            ``hypervolume`` after each report of each run
            (:func:`raytune_hpo.analysis.fronts.hypervolume_history`).
    """

    objectives: Objectives
    reference: tuple[tuple[float, ...], str] | None
    history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HISTORY_COLUMNS))


def load_comparison(
    paths: Sequence[str | Path],
    target: float | None = None,
    evaluator: str = importance.DEFAULT_EVALUATOR,
) -> Comparison:
    """Read experiment folders and summarise them by method.

    Args:
        paths: Experiment folders (``storage_path/name``) written by ``raytune-hpo run``.
        target: Optional metric value; the time each run first reaches it is reported.
        evaluator: The hyperparameter importance evaluator, a name in
            :data:`raytune_hpo.analysis.importance.EVALUATORS`.

    Raises:
        FileNotFoundError: A folder is not an experiment of this toolkit.
        ConfigError: A folder's config is invalid, or the experiments optimise different
            metrics or modes.
    """
    if not paths:
        raise ConfigError("DIR", "give at least one experiment folder")
    experiments = [load_experiment(p) for p in paths]
    objectives = Objectives.from_config(experiments[0].config)
    for experiment in experiments[1:]:
        other = Objectives.from_config(experiment.config)
        if (other.names, other.modes) != (objectives.names, objectives.modes):
            raise ConfigError(
                "metric",
                f"{_said(other)} differs from {_said(objectives)} of {experiments[0].path}; "
                "compare experiments of one metric and mode",
                str(experiment.path / CONFIG_FILE),
            )
    methods = [experiment_method(e) for e in experiments]
    frames = [tidy_reports(e, m) for e, m in zip(experiments, methods, strict=True)]
    frames = [frame for frame in frames if not frame.empty]
    reports = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    runs = pd.DataFrame(
        [run_summary(e, m, target) for e, m in zip(experiments, methods, strict=True)]
    )
    hypervolumes = None
    if objectives.many:
        hypervolumes = compare_hypervolumes(experiments, methods, objectives)
        final = hypervolumes.history.groupby("path")["hypervolume"].last()
        runs["hypervolume"] = runs["path"].map(final).astype(float)
    mode = objectives.modes[0]
    found = [
        (method, importance.experiment_importance(experiment, evaluator))
        for experiment, method in zip(experiments, methods, strict=True)
    ]
    return Comparison(
        objectives.names[0], mode, target, reports, runs, method_table(runs, mode), hypervolumes,
        importance.method_importance(found),
    )  # fmt: skip


def _said(objectives: Objectives) -> str:
    """``val_loss (min)`` or ``val_loss (min), latency_ms (min)``."""
    return ", ".join(
        f"{name} ({mode})" for name, mode in zip(objectives.names, objectives.modes, strict=True)
    )


def compare_hypervolumes(
    experiments: Sequence[Experiment], methods: Sequence[str], objectives: Objectives
) -> Hypervolumes:
    """Every run's hypervolume history against one reference point: the config's, else the
    worst value of each objective over every report of every run (errored trials left out)."""
    kept = [reports_without_errors(experiment) for experiment in experiments]
    reference = reference_point(kept, objectives)
    if reference is None:
        return Hypervolumes(objectives, None)
    frames = []
    for experiment, method, reports in zip(experiments, methods, kept, strict=True):
        history = hypervolume_history(reports, objectives, reference[0])
        history.insert(0, "path", str(experiment.path))
        history.insert(0, "experiment", experiment.name)
        history.insert(0, "seed", experiment.config.get("seed"))
        history.insert(0, "method", method)
        frames.append(history)
    history = pd.concat(frames, ignore_index=True)
    return Hypervolumes(objectives, reference, history[list(HISTORY_COLUMNS)])


def experiment_method(experiment: Experiment) -> str:
    """The method of an experiment, from its stored config (checked when the run wrote it).

    Read from the names alone: validating the whole config would import every built-in
    trainable, and with them torch.

    Raises:
        ConfigError: The stored config names no searcher or scheduler.
    """
    sections = []
    for section in ("searcher", "scheduler"):
        stored = experiment.config.get(section) or {}
        if not isinstance(stored.get("name"), str):
            raise ConfigError(
                f"{section}.name", "missing; not a config written by raytune-hpo",
                str(experiment.path / CONFIG_FILE),
            )  # fmt: skip
        sections.append(stored)
    return method_name(*sections)


def tidy_reports(experiment: Experiment, method: str) -> pd.DataFrame:
    """The experiment's reports in time order, labelled and with the running incumbent."""
    frame = experiment.reports
    if frame.empty:
        return frame
    frame = frame.sort_values(["elapsed_s", "trial_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "path", str(experiment.path))
    frame.insert(0, "experiment", experiment.name)
    frame.insert(0, "seed", experiment.config.get("seed"))
    frame.insert(0, "method", method)
    errored = errored_trials(experiment)
    frame["incumbent"] = incumbent(frame, experiment.metric, experiment.mode, errored)["incumbent"]
    return frame


def run_summary(experiment: Experiment, method: str, target: float | None) -> dict[str, Any]:
    """One experiment in one row.

    Returns:
        ``method``, ``seed``, ``experiment``, ``path``, ``final`` (best metric of all
        reports of the trials that did not error), ``trials_started`` (given a start time by
        Ray, or reported),
        ``trials_not_started`` (the experiment ended before they ran, created or not),
        ``trials_finished`` (started and TERMINATED: run to the end, stopped by the scheduler or
        by the time budget; not ERROR), ``trials_errored``, ``epochs`` (reports),
        ``worker_time_s`` (sum of the
        epochs' times), ``wall_time_s`` (last report) and ``time_to_target_s`` (NaN if never
        reached).
    """
    reports, trials = experiment.reports, experiment.trials
    reported = set(reports["trial_id"]) if not reports.empty else set()
    row: dict[str, Any] = {
        "method": method,
        "seed": experiment.config.get("seed"),
        "experiment": experiment.name,
        "path": str(experiment.path),
    }
    began = trials["start_time"].notna() | trials["trial_id"].isin(reported)
    finished = int((began & (trials["status"] == "TERMINATED")).sum())
    row.update(
        trials_started=max(int(began.sum()), len(reported)),
        trials_not_started=not_started(experiment),
        trials_finished=finished,
        trials_errored=int((trials["status"] == "ERROR").sum()),
        epochs=len(reports),
    )
    if reports.empty:
        return {
            **row,
            "final": math.nan,
            "worker_time_s": 0.0,
            "wall_time_s": 0.0,
            "time_to_target_s": math.nan,
        }
    curve = incumbent(reports, experiment.metric, experiment.mode, errored_trials(experiment))
    return {
        **row,
        "final": float(curve["incumbent"].iloc[-1]),
        "worker_time_s": float(reports["time_this_iter_s"].sum()),
        "wall_time_s": float(reports["elapsed_s"].max()),
        "time_to_target_s": time_to_target(curve, target, experiment.mode),
    }


def time_to_target(curve: pd.DataFrame, target: float | None, mode: str) -> float:
    """The first ``elapsed_s`` at which the incumbent reaches ``target``; NaN if never."""
    if target is None or curve.empty:
        return math.nan
    values = curve["incumbent"]
    reached = values <= target if mode == "min" else values >= target
    return float(curve.loc[reached, "elapsed_s"].iloc[0]) if reached.any() else math.nan


def method_table(runs: pd.DataFrame, mode: str) -> pd.DataFrame:
    """One row per method, ranked by the mean final incumbent (then the best one); with
    several objectives (a ``hypervolume`` column in ``runs``), by the mean final hypervolume
    first.

    Columns: ``rank``, ``method``, ``runs``, ``best``, ``mean`` and ``std`` of the final
    incumbent over runs (seeds); with several objectives, ``hypervolume`` and
    ``hypervolume_std``: mean and standard deviation of the final hypervolume over runs;
    ``trials_started``, ``trials_not_started``,
    ``trials_finished``, ``trials_errored``, ``epochs``, ``worker_time_s``, ``wall_time_s``:
    means per run;
    ``reached_target``: runs that reached the target; ``time_to_target_s``: mean over those runs.
    """
    rows = []
    for method, group in runs.groupby("method", sort=True):
        final = group["final"].dropna()
        reached = group["time_to_target_s"].dropna()
        rows.append(
            {
                "method": method,
                "runs": len(group),
                "best": (final.min() if mode == "min" else final.max()) if len(final) else math.nan,
                "mean": final.mean() if len(final) else math.nan,
                "std": final.std(ddof=1) if len(final) > 1 else math.nan,
                **_hypervolume_columns(group),
                **{column: float(group[column].mean()) for column in PER_RUN},
                "reached_target": len(reached),
                "time_to_target_s": reached.mean() if len(reached) else math.nan,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    ascending = mode == "min"
    keys, order = ["mean", "best", "method"], [ascending, ascending, True]
    if "hypervolume" in table:
        keys, order = ["hypervolume", *keys], [False, *order]
    table = table.sort_values(keys, ascending=order, na_position="last").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def _hypervolume_columns(group: pd.DataFrame) -> dict[str, float]:
    """Mean and standard deviation of a method's final hypervolumes (none for one objective)."""
    if "hypervolume" not in group:
        return {}
    final = group["hypervolume"].dropna()
    return {
        "hypervolume": final.mean() if len(final) else math.nan,
        "hypervolume_std": final.std(ddof=1) if len(final) > 1 else math.nan,
    }


def anytime_curves(
    reports: pd.DataFrame, points: int = 200, column: str = "incumbent"
) -> pd.DataFrame:
    """Incumbents (or another ``column`` of the runs, such as ``hypervolume``) of each method
    on one time grid, summarised over its runs.

    Each run's value is a step function of time, held after its last report. The grid runs
    from 0 to the last report of all runs; a method's row at time ``t`` appears once every one
    of its runs has reported by ``t``.

    Returns:
        Columns ``method``, ``elapsed_s``, ``mean``, ``std``, ``lo`` (min), ``hi`` (max),
        ``runs``.
    """
    columns = ["method", "elapsed_s", "mean", "std", "lo", "hi", "runs"]
    if reports.empty:
        return pd.DataFrame(columns=columns)
    grid = np.linspace(0.0, float(reports["elapsed_s"].max()), points)
    frames = []
    for method, group in reports.groupby("method", sort=True):
        steps = np.vstack([_step_values(run, grid, column) for _, run in group.groupby("path")])
        complete = ~np.isnan(steps).any(axis=0)
        values = steps[:, complete]
        frames.append(
            pd.DataFrame(
                {
                    "method": method,
                    "elapsed_s": grid[complete],
                    "mean": values.mean(axis=0),
                    "std": values.std(axis=0, ddof=1) if len(values) > 1 else np.nan,
                    "lo": values.min(axis=0),
                    "hi": values.max(axis=0),
                    "runs": len(values),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[columns]


def _step_values(run: pd.DataFrame, grid: np.ndarray, column: str) -> np.ndarray:
    """A run's ``column`` at each grid time (NaN before its first report)."""
    times = run["elapsed_s"].to_numpy(dtype=float)
    values = run[column].to_numpy(dtype=float)
    index = np.searchsorted(times, grid, side="right") - 1
    return np.where(index >= 0, values[np.clip(index, 0, None)], np.nan)


def write_comparison(comparison: Comparison, out: str | Path) -> dict[str, Path]:
    """Write the plots, CSVs and Markdown report of a comparison into ``out``.

    Returns:
        What was written: ``anytime``, ``learning_curves``, ``reports``, ``runs``,
        ``methods`` and ``report`` paths; with several objectives, ``hypervolume`` (the plot)
        and ``hypervolume_history`` (the CSV) too.
    """
    out = Path(out).expanduser()
    c = comparison
    written = {
        "anytime": comparison_plots.save_figure(
            comparison_plots.plot_anytime(anytime_curves(c.reports), c.metric, c.mode),
            out / ANYTIME_PNG,
        ),
        "learning_curves": comparison_plots.save_figure(
            comparison_plots.plot_learning_curves(c.reports, c.metric), out / CURVES_PNG
        ),
    }
    tables = [
        ("reports", REPORTS_CSV, c.reports),
        ("runs", RUNS_CSV, c.runs),
        ("methods", METHODS_CSV, c.methods),
        ("importance", IMPORTANCE_CSV, c.importance),
    ]
    if c.hypervolumes is not None:
        curves = anytime_curves(c.hypervolumes.history, column="hypervolume")
        figure = comparison_plots.plot_hypervolume(curves, c.hypervolumes.reference)
        written["hypervolume"] = comparison_plots.save_figure(figure, out / HYPERVOLUME_PNG)
        tables.append(("hypervolume_history", HYPERVOLUME_CSV, c.hypervolumes.history))
    for key, name, frame in tables:
        storage.write_text(out, name, frame.to_csv(index=False))
        written[key] = out / name
    storage.write_text(out, REPORT_MD, markdown_report(c))
    written["report"] = out / REPORT_MD
    return written


def markdown_report(comparison: Comparison) -> str:
    """The Markdown report: method table, embedded plots, one row per run."""
    c = comparison
    target = f"; target {c.target:g}" if c.target is not None else ""
    runs = c.runs[
        [
            "method",
            "seed",
            "experiment",
            "final",
            *PER_RUN,
            "time_to_target_s",
            "path",
        ]
    ]
    lines = [
        f"# Comparison of {len(c.runs)} experiments",
        "",
        f"Metric `{c.metric}` ({c.mode}){target}. The final incumbent of a run is its best "
        f"`{c.metric}` over all reports; `best`, `mean` and `std` are over the runs (seeds) of a "
        "method; trial counts, epochs and times are means per run.",
        "",
        "## Methods",
        "",
        markdown_table(c.methods),
        "",
        "## Anytime performance",
        "",
        f"![Best {c.metric} so far against wall-clock time]({ANYTIME_PNG})",
        "",
        *hypervolume_section(c.hypervolumes),
        *importance_section(c.importance),
        "## Learning curves",
        "",
        f"![{c.metric} of every trial against wall-clock time]({CURVES_PNG})",
        "",
        "## Runs",
        "",
        markdown_table(runs),
        "",
    ]
    return "\n".join(lines)


def hypervolume_section(hypervolumes: Hypervolumes | None) -> list[str]:
    """The report's lines on hypervolume (none for one objective)."""
    if hypervolumes is None:
        return []
    if hypervolumes.reference is None:
        said = "no reference point: an objective has no finite value"
    else:
        point, source = hypervolumes.reference
        said = f"reference point ({', '.join(format_number(v) for v in point)}), {source}"
    return [
        "## Hypervolume",
        "",
        f"Objectives {_said(hypervolumes.objectives)}; {said}. After each report, the "
        "hypervolume of the Pareto front of every trial's last report so far (trials that "
        "errored or break a constraint left out); `hypervolume` in the method table is the "
        "mean of the runs' final values.",
        "",
        f"![Hypervolume against wall-clock time]({HYPERVOLUME_PNG})",
        "",
    ]


def importance_section(table: pd.DataFrame) -> list[str]:
    """The report's lines on which hyperparameters mattered, a table per objective (none
    when no run had enough trials)."""
    if table.empty:
        return []
    lines = [
        "## Which hyperparameters mattered",
        "",
        "Each run's importance of every hyperparameter to each objective (from each trial's "
        "last report), the mean over the method's runs that had enough trials (`runs`); "
        "`importance.csv` holds the standard deviations.",
        "",
    ]
    for objective in table["objective"].unique():
        wide = importance.importance_table(table, objective)
        lines += [f"`{objective}`:", "", markdown_table(wide), ""]
    return lines


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; floats to 4 significant digits, NaN as ``-``."""
    if frame.empty:
        return "(none)"
    header = [str(c) for c in frame.columns]
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    return "\n".join(_row(cells) for cells in [header, ["---"] * len(header), *rows])


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "-" if math.isnan(value) else format_number(value)
    return str(value).replace("|", "\\|")
