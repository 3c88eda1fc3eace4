"""Which hyperparameters mattered: each objective's importance, by Optuna's own evaluators.

An experiment's trials become, per objective, an Optuna study of frozen finished trials, and
:func:`optuna.importance.get_param_importances` rates every sampled hyperparameter of the
search space against it; nothing of the evaluation is done here.

- Each trial's LAST report counts: its value of the objective, and the config it ran with
  then (PBT's and PB2's trials end with the config of their last perturbation).
- A trial that errored is left out, and so is one whose last report holds no finite value of
  the objective (as Optuna leaves out a trial that failed or returned NaN). A trial whose last
  report breaks a constraint is kept: importance says what moved the objective, feasible or not.
- A trial whose config lies outside the search space is left out, and counted.
- The distributions are the search space's (constants left out): ``loguniform`` is a
  log-scaled float, ``randint`` an integer, ``choice`` and ``grid`` categorical. A key that
  PBT mutates takes the spec of ``scheduler.hyperparam_mutations``.

PED-ANOVA (the default, as optuna-dashboard uses it) rates how much each hyperparameter's
distribution among the best ``target_quantile`` (10%) of the trials differs from the one among
all trials: it needs at least two trials in that top 10%, so 11 trials. fANOVA fits a random
forest to all trials and splits the objective's variance among the hyperparameters; it is
seeded, so one experiment gives one answer.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from raytune_hpo.layout import CONFIG_PREFIX, IMPORTANCE_FILE
from raytune_hpo.search.search_space import (
    INTEGER_KINDS,
    NUMERIC_KINDS,
    QUANTISED_KINDS,
    contains,
    spec_kind,
)

if TYPE_CHECKING:
    import pandas as pd
    from optuna.distributions import BaseDistribution
    from optuna.importance import BaseImportanceEvaluator

    from raytune_hpo import storage
    from raytune_hpo.analysis.results import Experiment

# Imported inside the functions that need them: the command line names the evaluators without
# pandas, and Optuna's importance module brings scikit-learn (about two seconds) only when an
# objective has enough trials to rate.

PED_ANOVA_TARGET_QUANTILE = 0.1
"""PED-ANOVA's ``target_quantile``, Optuna's default: the best 10% of the trials."""
FANOVA_SEED = 0
"""fANOVA's random forest seed: one experiment, one answer."""
LOG_KINDS = frozenset({"loguniform", "lograndint"})
"""Spec kinds that Optuna rates on a log scale."""
PERTURBED_SPECS = "hyperparam_mutations"
"""The scheduler option that holds the specs PBT draws and bounds its perturbations from."""


@dataclass(frozen=True)
class ImportanceEvaluator:
    """An Optuna importance evaluator as the toolkit offers it.

    Attributes:
        label: Its name in what a person reads (``PED-ANOVA``).
        build: Makes Optuna's evaluator.
        min_trials: Trials it needs to rate anything.
        needs: Why it needs them, in words.
    """

    label: str
    build: Callable[[], BaseImportanceEvaluator]
    min_trials: int
    needs: str


def _ped_anova() -> BaseImportanceEvaluator:
    from optuna.importance import PedAnovaImportanceEvaluator

    return PedAnovaImportanceEvaluator(target_quantile=PED_ANOVA_TARGET_QUANTILE)


def _fanova() -> BaseImportanceEvaluator:
    from optuna.importance import FanovaImportanceEvaluator

    return FanovaImportanceEvaluator(seed=FANOVA_SEED)


EVALUATORS: dict[str, ImportanceEvaluator] = {
    "pedanova": ImportanceEvaluator(
        "PED-ANOVA",
        _ped_anova,
        min_trials=math.floor(1 / PED_ANOVA_TARGET_QUANTILE) + 1,
        needs=f"its best {PED_ANOVA_TARGET_QUANTILE:.0%} must hold 2 trials",
    ),
    "fanova": ImportanceEvaluator(
        "fANOVA", _fanova, min_trials=2, needs="one trial has no variance to split"
    ),
}
"""Evaluator name (``summary --importance NAME``) -> its entry."""
DEFAULT_EVALUATOR = "pedanova"


def evaluator_entry(name: str) -> ImportanceEvaluator:
    """``EVALUATORS[name]``.

    Raises:
        ValueError: ``name`` is unknown; the message lists the known names.
    """
    if name not in EVALUATORS:
        raise ValueError(f"unknown importance evaluator {name!r}; known: {', '.join(EVALUATORS)}")
    return EVALUATORS[name]


@dataclass(frozen=True)
class ObjectiveImportance:
    """One objective's importance, or why there is none.

    Attributes:
        objective: The objective's metric.
        trials: Trials that counted.
        outside: Trials left out because their config lies outside the search space.
        importance: Hyperparameter -> importance (summing to 1), most important first; empty
            when there were too few trials.
        missing: Why there is no importance, in one line; None when there is.
    """

    objective: str
    trials: int
    outside: int = 0
    importance: dict[str, float] = field(default_factory=dict)
    missing: str | None = None


@dataclass(frozen=True)
class Importance:
    """An experiment's importance, every objective's.

    Attributes:
        evaluator: The evaluator's name in :data:`EVALUATORS`.
        objectives: One entry per objective, the first one first.
    """

    evaluator: str
    objectives: tuple[ObjectiveImportance, ...]

    def as_json(self) -> dict[str, dict[str, float]]:
        """``{objective: {param: importance}}``, the objectives with an importance only."""
        return {o.objective: o.importance for o in self.objectives if o.missing is None}


def sampled_specs(config: Mapping[str, Any]) -> dict[str, Any]:
    """The spec of every sampled key of an experiment config (a plain dict): its
    ``search_space``, with the specs that PBT mutates from ``scheduler``; constants are left
    out."""
    specs = {
        **(config.get("search_space") or {}),
        **((config.get("scheduler") or {}).get(PERTURBED_SPECS) or {}),
    }
    return {key: spec for key, spec in specs.items() if spec_kind(key, spec)}


def to_distribution(key: str, spec: Any) -> BaseDistribution:
    """Optuna's distribution of one sampled spec of the search space.

    Raises:
        ValueError: The spec is a constant.
        search_space.SearchSpaceError: The spec names no known distribution.
    """
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    kind = spec_kind(key, spec)
    if kind is None:
        raise ValueError(f"{key}: a constant has no distribution, got {spec!r}")
    args = spec[kind]
    if kind not in NUMERIC_KINDS:
        return CategoricalDistribution([_categorical(value) for value in args])
    low, high = args[0], args[1]
    step = args[2] if kind in QUANTISED_KINDS else None
    log = kind in LOG_KINDS
    if kind in INTEGER_KINDS:
        return IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    return FloatDistribution(float(low), float(high), log=log, step=step)


def _categorical(value: Any) -> Any:
    """A choice as Optuna keeps it: a plain scalar, else its JSON text."""
    from raytune_hpo.analysis.fronts import json_scalar

    value = json_scalar(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _param(distribution: BaseDistribution, value: Any) -> Any:
    """A trial's value of a key as ``distribution`` takes it (an integer as ``int``)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return _categorical(value)
    if isinstance(distribution, IntDistribution):
        return int(value)
    return float(value)


def experiment_importance(
    experiment: Experiment, evaluator: str = DEFAULT_EVALUATOR
) -> Importance | None:
    """The importance of every objective of an experiment folder, read back (the trials that
    errored left out); None when its search space samples no hyperparameter."""
    from raytune_hpo.analysis.fronts import reports_without_errors

    return trials_importance(
        reports_without_errors(experiment), experiment.config, evaluator=evaluator
    )


def trials_importance(
    reports: pd.DataFrame,
    config: Mapping[str, Any],
    *,
    evaluator: str = DEFAULT_EVALUATOR,
) -> Importance | None:
    """The importance of every objective, from tidy reports (pure).

    Args:
        reports: One row per report of the trials that did not error: ``trial_id``,
            ``training_iteration``, the objectives and ``config/<name>`` columns
            (:func:`raytune_hpo.analysis.results.read_reports`).
        config: The experiment's config as a plain dict (``metric``, ``mode``,
            ``search_space``, ``scheduler``).
        evaluator: A name in :data:`EVALUATORS`.

    Returns:
        One :class:`ObjectiveImportance` per objective; None when the search space samples no
        hyperparameter.

    Raises:
        ValueError: ``evaluator`` is unknown.
    """
    from raytune_hpo.analysis.fronts import last_reports
    from raytune_hpo.config.objectives import objectives_of

    entry = evaluator_entry(evaluator)
    specs = sampled_specs(config)
    if not specs:
        return None
    last = last_reports(reports)
    return Importance(
        evaluator,
        tuple(
            _objective_importance(last, objective.name, objective.mode, specs, entry)
            for objective in objectives_of(config)
        ),
    )


def _objective_importance(
    last: pd.DataFrame,
    name: str,
    mode: str,
    specs: Mapping[str, Any],
    entry: ImportanceEvaluator,
) -> ObjectiveImportance:
    """One objective's importance from the trials' last reports."""
    distributions = {key: to_distribution(key, spec) for key, spec in specs.items()}
    rows, outside = _counted_rows(last, name, specs, distributions)
    if len(rows) < entry.min_trials:
        missing = (
            f"{name} is in the last report of {len(rows)} trials; {entry.label} needs at "
            f"least {entry.min_trials} ({entry.needs})"
        )
        return ObjectiveImportance(name, len(rows), outside, missing=missing)
    import optuna
    from optuna.importance import get_param_importances

    with _quiet_optuna():
        study = optuna.create_study(direction="minimize" if mode == "min" else "maximize")
        trials = [
            optuna.trial.create_trial(params=params, distributions=distributions, value=value)
            for params, value in rows
        ]
        study.add_trials(trials)
        importance = get_param_importances(study, evaluator=entry.build())
    return ObjectiveImportance(
        name, len(rows), outside, {key: float(value) for key, value in importance.items()}
    )


def _counted_rows(
    last: pd.DataFrame,
    name: str,
    specs: Mapping[str, Any],
    distributions: Mapping[str, BaseDistribution],
) -> tuple[list[tuple[dict[str, Any], float]], int]:
    """The (params, value) of every trial whose last report holds a finite ``name``, and how
    many of them were left out for a config outside the search space."""
    import pandas as pd

    if last.empty or name not in last:
        return [], 0
    values = pd.to_numeric(last[name], errors="coerce")
    kept = last[values.notna() & values.abs().lt(math.inf)]
    rows, outside = [], 0
    for report in kept.to_dict("records"):
        config = {key: report.get(f"{CONFIG_PREFIX}{key}") for key in specs}
        if not all(_inside(key, specs[key], value) for key, value in config.items()):
            outside += 1
            continue
        params = {key: _param(distributions[key], value) for key, value in config.items()}
        rows.append((params, float(report[name])))
    return rows, outside


def _inside(key: str, spec: Any, value: Any) -> bool:
    """Whether a trial's value of ``key`` is one its spec can produce."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    if spec_kind(key, spec) not in NUMERIC_KINDS:
        return _categorical(value) in [_categorical(choice) for choice in next(iter(spec.values()))]
    return contains(key, spec, value.item() if hasattr(value, "item") else value)


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna without its study-created log line and its experimental-feature warnings."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        optuna.logging.set_verbosity(verbosity)


def write_importance(path: storage.Location, importance: Importance) -> None:
    """Write ``importance.json`` (``{objective: {param: importance}}``) into the folder."""
    from raytune_hpo import storage

    text = json.dumps(importance.as_json(), indent=2) + "\n"
    storage.write_text(path, IMPORTANCE_FILE, text)


METHOD_COLUMNS = ("method", "objective", "param", "importance", "std", "runs")
"""Columns of :func:`method_importance`."""


def method_importance(found: Sequence[tuple[str, Importance | None]]) -> pd.DataFrame:
    """Each method's importance: the mean over its runs (seeds) that had one.

    Args:
        found: (method, importance of one of its runs) pairs; None for a run whose search
            space samples nothing.

    Returns:
        One row per method, objective and hyperparameter: ``importance`` (the mean),
        ``std`` (over the runs; NaN for one) and ``runs`` (how many had an importance);
        most important first within a method and objective.
    """
    import pandas as pd

    rows = [
        {"method": method, "objective": o.objective, "param": param, "importance": value}
        for method, importance in found
        if importance is not None
        for o in importance.objectives
        for param, value in o.importance.items()
    ]
    if not rows:
        return pd.DataFrame(columns=list(METHOD_COLUMNS))
    grouped = pd.DataFrame(rows).groupby(["method", "objective", "param"], sort=False)
    table = grouped["importance"].agg(["mean", "std", "count"]).reset_index()
    table.columns = list(METHOD_COLUMNS)
    order = table.sort_values(["method", "objective", "importance"], ascending=[True, True, False])
    return order.reset_index(drop=True)


def importance_table(table: pd.DataFrame, objective: str) -> pd.DataFrame:
    """One objective of :func:`method_importance` as a person reads it: a row per method,
    its ``runs`` and a column per hyperparameter, the most important (over all methods) first."""
    own = table[table["objective"] == objective]
    wide = own.pivot_table(index="method", columns="param", values="importance", sort=True)
    params = wide.mean().sort_values(ascending=False, kind="stable").index
    wide = wide[list(params)]
    wide.insert(0, "runs", own.groupby("method", sort=True)["runs"].max())
    return wide.reset_index().rename_axis(columns=None)
