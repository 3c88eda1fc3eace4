"""What an experiment prints after it ran: its summary, its best trial, a comparison's table.

The command line and :mod:`raytune_hpo.api` both print through here. Reading results imports
pandas and the analysis modules when called, never Ray Tune or torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from raytune_hpo.analysis.importance import DEFAULT_EVALUATOR
from raytune_hpo.number_format import format_number
from raytune_hpo.search.schedulers import stored_perturbation

if TYPE_CHECKING:
    from raytune_hpo import storage
    from raytune_hpo.analysis.compare import Comparison

TABLE_ALL_UP_TO = 20
"""Trials up to which the summary's table shows every one; past them, the best :data:`TABLE_TOP`
(all are in the experiment folder's ``trials.csv``)."""
TABLE_TOP = 10
"""Trials the summary's table shows of an experiment of more than :data:`TABLE_ALL_UP_TO`."""
IMPORTANCE_TOP = 8
"""Hyperparameters ``summary`` lists per objective, most important first."""
IMPORTANCE_BAR = 40
"""Characters of the bar of an importance of 1."""
METRIC_COLUMNS = ("best", "mean", "std", "hypervolume", "hypervolume_std")
"""Columns of a method table that hold metric values (4 significant digits; the rest 1 decimal)."""


class _Config(Protocol):
    @property
    def metric(self) -> str: ...


class Outcome(Protocol):
    """What :func:`print_outcome` reads of a finished run (``run.runner.ExperimentOutcome``)."""

    @property
    def path(self) -> Path | str: ...

    @property
    def best(self) -> dict[str, Any] | None: ...

    @property
    def config(self) -> _Config: ...

    @property
    def failure(self) -> Exception | None: ...


def print_outcome(outcome: Outcome) -> None:
    """The summary of a finished run, read back from its folder (local or a URI), then the
    line that opens the dashboard over it (:func:`dashboard_line`).

    Raises:
        TrialsFailed: The run's trials failed (more errored than ``max_failed_trials``
            allows, every one of them, or the first ones before reporting), raised after the
            summary: its one line, which names how many and the first one's error, is the
            run's last, and the command exits 1 (``best.json`` and the results are written).
    """
    print_summary(outcome.path, errors=outcome.failure is None)
    print(dashboard_line(outcome.path))
    if outcome.failure is not None:
        raise outcome.failure


def dashboard_line(path: Path | str) -> str:
    """The line that opens the dashboard over the folder that holds experiment ``path`` (its
    ``storage_path``, a local folder or a URI, quoted for a shell)."""
    import shlex

    from raytune_hpo import storage

    location = storage.as_location(path)
    folder = location.parent if isinstance(location, Path) else location.with_name("")
    return f"see it: raytune-hpo dashboard {shlex.quote(str(folder))}"


def print_summary(
    path: Path | str, *, errors: bool = True, importance: str = DEFAULT_EVALUATOR
) -> None:
    """The trial table, how the trials ended, the best config and test metrics of an
    experiment folder, and which hyperparameters mattered (``importance.json`` written).

    Args:
        path: The experiment folder, local or a URI.
        errors: Also say how many trials errored and the first one's error (a failed run
            says it in its error line instead).
        importance: The importance evaluator, a name in
            :data:`raytune_hpo.analysis.importance.EVALUATORS`.
    """
    from raytune_hpo.analysis.restart_counts import count_restarts, restarts_line
    from raytune_hpo.analysis.results import ends_tally, load_experiment, summary_table, trial_ends
    from raytune_hpo.console.front_summary import print_front
    from raytune_hpo.trial_ends import errors_line

    experiment = load_experiment(path)
    print(f"\nExperiment {experiment.name} ({experiment.path})")
    print_trials_table(experiment.path, summary_table(experiment))
    print_pbt_history(experiment)
    print(f"trials: {ends_tally(experiment)}")
    if (restarts := restarts_line(count_restarts(experiment.path))) is not None:
        print(restarts)
    tolerated = int(experiment.config.get("max_failed_trials") or 0)
    if errors and (line := errors_line(trial_ends(experiment), tolerated)) is not None:
        print(line)
    print_front(experiment)
    print_importance(experiment, importance)
    print_best(experiment.best, experiment.metric)


def print_trials_table(location: storage.Location, table: Any) -> None:
    """The trials table, best first: every trial of a small experiment, the best
    :data:`TABLE_TOP` of a larger one and where all of them are (``trials.csv``, written into
    the experiment folder at ``location``)."""
    import pandas as pd

    from raytune_hpo import storage
    from raytune_hpo.layout import TRIALS_CSV

    shown = shown_table(table)
    cut = len(shown) > TABLE_ALL_UP_TO
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        text = shown.head(TABLE_TOP if cut else len(shown)).to_string(index=False)
        print(text if not shown.empty else "no trials")
    try:
        storage.write_text(location, TRIALS_CSV, table.to_csv(index=False))
    except (OSError, storage.StorageError) as err:
        print(f"{TRIALS_CSV} not written: {err}")
        return
    if cut:
        print(f"best {TABLE_TOP} of {len(shown)} trials shown; all in {location / TRIALS_CSV}")


def shown_table(table: Any) -> Any:
    """The trials table as the console prints it: Ray's status and the error files' paths
    left out (the ``end`` column and the error line say it), no NaN where a trial had no
    error."""
    shown = table.drop(columns=["status", "error_file"], errors="ignore")
    if "error" in shown:
        shown["error"] = shown["error"].fillna("")
    return shown


def print_pbt_history(experiment: Any) -> None:
    """The perturbations of an experiment folder (PBT's, PB2's), and their plot saved into it."""
    section = experiment.config.get("scheduler") or {}
    perturbation = stored_perturbation(section)
    if perturbation is None:
        return  # its scheduler never perturbs; reading nothing needs no Ray Tune nor matplotlib
    import pandas as pd

    from raytune_hpo import storage
    from raytune_hpo.analysis.pbt_history_plot import save_pbt_plot
    from raytune_hpo.layout import PBT_HISTORY_FILE
    from raytune_hpo.search.pbt_history import history_frame, history_table, parse_records

    location = experiment.path
    if not storage.exists(location, PBT_HISTORY_FILE):
        return
    history = history_frame(parse_records(storage.read_text(location, PBT_HISTORY_FILE)))
    if history.empty:
        return
    table = history_table(history)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(f"\n{section['name'].upper()} perturbations ({len(table)}):")
        print(table.to_string(index=False))
    params = list(perturbation.keys)
    plot = save_pbt_plot(experiment.reports, history, params, experiment.metric, experiment.path)
    print(f"{section['name'].upper()} history plot: {plot}")


def print_best(best: dict[str, Any] | None, metric: str) -> None:
    """The best trial, its config and its test-split metrics (contents of ``best.json``)."""
    if best is None:
        print(f"no trial to name best: none reported {metric} and ended without an error")
        return
    print(f"best trial {best.get('trial_id')}: {metric} = {best.get(metric)}")
    if "config" in best:
        print(f"best config: {best['config']}")
    if best.get("test"):
        tests = ", ".join(f"{k} = {format_number(v)}" for k, v in best["test"].items())
        print(f"test split: {tests}")


def print_importance(experiment: Any, evaluator: str = DEFAULT_EVALUATOR) -> None:
    """Each objective's most important hyperparameters as bars, or why there are none; the
    importance written into the experiment folder (``importance.json``)."""
    from raytune_hpo import storage
    from raytune_hpo.analysis.importance import (
        EVALUATORS,
        experiment_importance,
        write_importance,
    )
    from raytune_hpo.layout import IMPORTANCE_FILE

    found = experiment_importance(experiment, evaluator)
    if found is None:
        return  # nothing sampled, nothing to rank
    label = EVALUATORS[evaluator].label
    for objective in found.objectives:
        outside = (
            f", {objective.outside} left out (config outside the search space)"
            if objective.outside
            else ""
        )
        if objective.missing is not None:
            print(f"importance of {objective.objective}: {objective.missing}{outside}")
            continue
        print(
            f"\nimportance of {objective.objective} ({label}, {objective.trials} trials' last "
            f"reports{outside}):"
        )
        print(importance_bars(objective.importance))
    try:
        write_importance(experiment.path, found)
    except (OSError, storage.StorageError) as err:
        print(f"{IMPORTANCE_FILE} not written: {err}")


def importance_bars(importance: Mapping[str, float], top: int = IMPORTANCE_TOP) -> str:
    """The ``top`` most important hyperparameters, one line each: name, value and a bar."""
    from raytune_hpo.layout import IMPORTANCE_FILE

    shown = sorted(importance.items(), key=lambda item: -item[1])[:top]
    width = max((len(name) for name, _ in shown), default=0)
    lines = [
        f"  {name:<{width}}  {value:5.2f}  {'#' * round(value * IMPORTANCE_BAR)}"
        for name, value in shown
    ]
    if len(importance) > top:
        lines.append(f"  ({len(importance) - top} more in {IMPORTANCE_FILE})")
    return "\n".join(lines)


def print_comparison(comparison: Comparison, written: Mapping[str, Path | str]) -> None:
    """The method table of a comparison, rounded to what a person reads, which
    hyperparameters mattered to each method, and its report."""
    import pandas as pd

    methods = comparison.methods
    formatters = {
        column: format_number if column in METRIC_COLUMNS else "{:.1f}".format
        for column in methods.select_dtypes("float").columns
    }
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(methods.to_string(index=False, formatters=formatters))
    print_method_importance(comparison.importance)
    print(f"report: {written['report']}")


def print_method_importance(table: Any) -> None:
    """Each objective's hyperparameter importance per method (the mean over its runs)."""
    import pandas as pd

    from raytune_hpo.analysis.importance import importance_table

    for objective in table["objective"].unique():
        wide = importance_table(table, objective)
        print(f"\nimportance of {objective}, mean over each method's runs:")
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            print(wide.to_string(index=False, float_format="{:.2f}".format))
