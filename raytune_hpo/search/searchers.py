"""The ``SEARCHERS`` registry: searcher name -> options, seeded builder, traits, smoke settings,
rules.

Each builder imports Ray Tune (and the library it wraps) when called, so that reading a config
does not; a library that is not installed is named when the config is validated.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import Field

from raytune_hpo.errors import InvalidKey
from raytune_hpo.pydantic_base import EntryOptions
from raytune_hpo.registry import Entry, EntryContext, SearcherTraits, lookup
from raytune_hpo.search import search_space
from raytune_hpo.search.schedulers import SCHEDULERS

if TYPE_CHECKING:
    from ray.tune.search import SearchAlgorithm, Searcher


def grid_keys(space: Mapping[str, Any]) -> list[str]:
    """The keys of ``space`` written as ``{grid: [...]}``."""
    return [k for k, v in space.items() if search_space.spec_kind(k, v) == "grid"]


def first_points(context: EntryContext) -> list[dict[str, Any]] | None:
    """``points_to_evaluate`` as Ray Tune's searchers take it (None: none)."""
    return [dict(point) for point in context.points_to_evaluate] or None


METHODS_EXTRA = "pip install -e '.[methods]' (from a clone)"
"""How to install the libraries of the methods that are not installed by default."""


def require_modules(key: str, what: str, *modules: str) -> None:
    """Raise :class:`InvalidKey` at ``key`` naming the first of ``modules`` not installed."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise InvalidKey(key, f"{what} needs the {module} package: {METHODS_EXTRA}")


def check_partners(searcher: str, scheduler: str) -> None:
    """A searcher and scheduler that work only with each other (BOHB's) come together."""
    pairs = (
        ("searcher", searcher, SEARCHERS[searcher].traits.partner, "scheduler", scheduler),
        ("scheduler", scheduler, SCHEDULERS[scheduler].traits.partner, "searcher", searcher),
    )
    for section, name, partner, other_section, other in pairs:
        if partner is not None and partner != other:
            raise InvalidKey(
                f"{section}.name",
                f"{section} {name} works only with {other_section} {partner}, got "
                f"{other_section} {other}; set {other_section}: {{name: {partner}}}",
            )


def check_objectives(searcher: str, scheduler: str, context: EntryContext) -> None:
    """A searcher and scheduler that take the experiment's objectives and constraints.

    Several objectives need both to have the ``many_objectives`` trait; constraints need a
    searcher with the ``constraints`` trait. A refusal names ``searcher.name`` or
    ``scheduler.name`` and lists the entries that would do.
    """
    count = len(context.objectives)
    metrics = ", ".join(objective.name for objective in context.objectives)
    for section, name, registry in (
        ("searcher", searcher, SEARCHERS),
        ("scheduler", scheduler, SCHEDULERS),
    ):
        if count > 1 and not registry[name].traits.many_objectives:
            able = [key for key, entry in registry.items() if entry.traits.many_objectives]
            raise InvalidKey(
                f"{section}.name",
                f"{section} {name} optimises one metric, got {count} objectives ({metrics}); "
                f"{section}s that take several: {', '.join(able)}",
            )
    if context.constraints and not SEARCHERS[searcher].traits.constraints:
        able = [key for key, entry in SEARCHERS.items() if entry.traits.constraints]
        raise InvalidKey(
            "searcher.name",
            f"searcher {searcher} cannot honour constraints "
            f"({', '.join(context.constraints)}); searchers that do: {', '.join(able)}",
        )


def check_model_based(options: EntryOptions, context: EntryContext) -> None:
    """Rules of every model-based searcher: no grids, no scheduler that picks configs itself."""
    name, scheduler = options.name, context.scheduler
    if grids := grid_keys(context.search_space):
        raise InvalidKey(
            f"search_space.{grids[0]}",
            f"{name} cannot sample a grid; use choice, or searcher random/grid",
        )
    if SCHEDULERS[scheduler].traits.picks_configs:
        raise InvalidKey(
            "searcher.name",
            f"{name} cannot drive {scheduler}: {scheduler} picks the configs "
            "of running trials itself by exploiting and exploring them, and Ray Tune gives it "
            "no search algorithm; use searcher random or grid",
        )


# --- random and grid: Ray's variant generator --------------------------------------------------


class RandomSearcherConfig(EntryOptions):
    """Random sampling of the search space (Ray's BasicVariantGenerator)."""

    name: Literal["random"] = "random"


class GridSearcherConfig(EntryOptions):
    """Every combination of the ``grid`` entries, ``num_samples`` times."""

    name: Literal["grid"]


def _basic_variant(
    options: RandomSearcherConfig | GridSearcherConfig, context: EntryContext
) -> SearchAlgorithm:
    from ray.tune.search.basic_variant import BasicVariantGenerator

    # Ray applies TuneConfig.max_concurrent_trials only to a Searcher, never to a generator
    # handed in ready-made, so the limit goes in here.
    return BasicVariantGenerator(
        points_to_evaluate=first_points(context),
        random_state=context.seed,
        max_concurrent=context.max_concurrent_trials or 0,
    )


def _grid_needs_a_grid(options: GridSearcherConfig, context: EntryContext) -> None:
    if not grid_keys(context.search_space):
        raise InvalidKey(
            "searcher.name", "grid needs at least one {grid: [...]} search_space entry"
        )


# --- hyperopt ----------------------------------------------------------------------------------


class HyperOptSearcherConfig(EntryOptions):
    """Tree-structured Parzen estimator from hyperopt."""

    name: Literal["hyperopt"]
    n_initial_points: int = Field(default=20, ge=1)
    gamma: float = Field(default=0.25, gt=0, lt=1)


def _hyperopt(s: HyperOptSearcherConfig, context: EntryContext) -> Searcher:
    from ray.tune.search.hyperopt import HyperOptSearch

    return HyperOptSearch(
        points_to_evaluate=first_points(context),
        n_initial_points=s.n_initial_points,
        gamma=s.gamma,
        random_state_seed=context.seed,
    )


def _check_hyperopt(s: HyperOptSearcherConfig, context: EntryContext) -> None:
    check_model_based(s, context)
    sampled = set(search_space.sampled_keys(context.search_space))
    for index, point in enumerate(context.points_to_evaluate):
        if missing := sorted(sampled - set(point)):
            raise InvalidKey(
                f"points_to_evaluate[{index}]",
                f"hyperopt needs a value for every sampled parameter; missing: "
                f"{', '.join(missing)}",
            )


# --- optuna ------------------------------------------------------------------------------------

OptunaSampler = Literal["tpe", "cmaes", "gp", "random", "qmc", "nsga2", "nsga3"]
STARTUP_TRIALS = {"tpe": 10, "cmaes": 1, "gp": 10}
"""Samplers that draw ``n_startup_trials`` configs at random before their model takes over, and
Optuna's default number."""
SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)
"""Samplers that optimise one objective only."""
CONSTRAINED_SAMPLERS = ("tpe", "gp", "nsga2", "nsga3")
"""Samplers that read a trial's constraint values (``Trial.set_constraint``) and steer away
from configs that break them."""
UNSTEERED_SAMPLERS = ("random", "qmc")
"""Samplers that never steer by results: constraints only filter what they find."""


class OptunaSearcherConfig(EntryOptions):
    """One of Optuna's samplers, through Ray Tune's ``OptunaSearch``.

    ``n_startup_trials`` (random configs before the model takes over) is Optuna's default
    where unset (:data:`STARTUP_TRIALS`). ``nsga2`` and ``nsga3`` are Optuna's genetic
    algorithms for several objectives (``population_size`` configs per generation).
    """

    name: Literal["optuna"]
    sampler: OptunaSampler = "tpe"
    n_startup_trials: int | None = Field(default=None, ge=0)
    multivariate: bool = False
    population_size: int | None = Field(default=None, ge=2)


POPULATION_SAMPLERS = ("nsga2", "nsga3")
"""Samplers that take ``population_size``."""
NSGA_POPULATION = 50
"""Optuna's default ``population_size`` of its NSGA samplers."""


def _optuna_sampler(s: OptunaSearcherConfig, seed: int | None) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # The qmc, gp and nsga3 samplers are marked experimental; the console need not say so.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    samplers = optuna.samplers
    startup = STARTUP_TRIALS.get(s.sampler, 0) if s.n_startup_trials is None else s.n_startup_trials
    population = s.population_size or NSGA_POPULATION
    if s.sampler == "tpe":
        return samplers.TPESampler(seed=seed, multivariate=s.multivariate, n_startup_trials=startup)
    if s.sampler == "cmaes":
        return samplers.CmaEsSampler(seed=seed, n_startup_trials=startup)
    if s.sampler == "gp":
        return samplers.GPSampler(seed=seed, n_startup_trials=startup)
    if s.sampler in POPULATION_SAMPLERS:
        from raytune_hpo.search import optuna_samplers

        genetic = (
            optuna_samplers.PicklableNSGAIISampler
            if s.sampler == "nsga2"
            else optuna_samplers.PicklableNSGAIIISampler
        )
        return genetic(seed=seed, population_size=population)
    if s.sampler == "qmc":
        return samplers.QMCSampler(seed=seed)
    return samplers.RandomSampler(seed=seed)


def _optuna(s: OptunaSearcherConfig, context: EntryContext) -> Searcher:
    from raytune_hpo.search.optuna_constrained import ConstrainedOptunaSearch

    objectives = context.objectives
    many = (
        {"metric": [o.name for o in objectives], "mode": [o.mode for o in objectives]}
        if len(objectives) > 1
        else {}
    )
    return ConstrainedOptunaSearch(
        constraints=context.constraints,
        points_to_evaluate=first_points(context),
        sampler=_optuna_sampler(s, context.seed),
        **many,
    )


def _check_optuna(s: OptunaSearcherConfig, context: EntryContext) -> None:
    require_modules("searcher.name", "optuna", "optuna")
    if s.sampler == "cmaes":
        require_modules("searcher.sampler", "the cmaes sampler", "cmaes")
    if s.multivariate and s.sampler != "tpe":
        raise InvalidKey(
            "searcher.multivariate", f"only the tpe sampler takes it, got sampler {s.sampler}"
        )
    if s.n_startup_trials is not None and s.sampler not in STARTUP_TRIALS:
        raise InvalidKey(
            "searcher.n_startup_trials",
            f"only the {', '.join(STARTUP_TRIALS)} samplers take it, got sampler {s.sampler}",
        )
    if s.population_size is not None and s.sampler not in POPULATION_SAMPLERS:
        raise InvalidKey(
            "searcher.population_size",
            f"only the {', '.join(POPULATION_SAMPLERS)} samplers take it, got sampler {s.sampler}",
        )
    many = [name for name in get_args(OptunaSampler) if name not in SINGLE_OBJECTIVE_SAMPLERS]
    if len(context.objectives) > 1 and s.sampler in SINGLE_OBJECTIVE_SAMPLERS:
        raise InvalidKey(
            "searcher.sampler",
            f"{s.sampler} optimises one metric, got {len(context.objectives)} objectives; "
            f"samplers that take several: {', '.join(many)}",
        )
    if context.constraints and s.sampler not in CONSTRAINED_SAMPLERS + UNSTEERED_SAMPLERS:
        raise InvalidKey(
            "searcher.sampler",
            f"{s.sampler} cannot honour constraints; samplers that steer by them: "
            f"{', '.join(CONSTRAINED_SAMPLERS)}",
        )
    check_model_based(s, context)


def _optuna_label(section: Any) -> str:
    return f"optuna-{section.get('sampler', 'tpe')}"


# --- bohb --------------------------------------------------------------------------------------


class BohbSearcherConfig(EntryOptions):
    """BOHB's model (hpbandster's kernel density estimator), with ``scheduler: {name: bohb}``;
    ``min_points_in_model`` defaults to the number of sampled parameters + 1."""

    name: Literal["bohb"]
    min_points_in_model: int | None = Field(default=None, ge=1)
    top_n_percent: int = Field(default=15, ge=1, le=99)
    random_fraction: float = Field(default=1 / 3, ge=0, le=1)


STATSMODELS_SEED_WARNING = "After 0.17 or January 2028"
"""The start of the warning statsmodels gives at each fit of BOHB's density model (its default
random generator will change), which would print into the console at every suggestion."""


def _bohb(s: BohbSearcherConfig, context: EntryContext) -> Searcher:
    from ray.tune.search.bohb import TuneBOHB

    warnings.filterwarnings("ignore", message=STATSMODELS_SEED_WARNING, category=FutureWarning)
    return TuneBOHB(
        bohb_config={
            "min_points_in_model": s.min_points_in_model,
            "top_n_percent": s.top_n_percent,
            "random_fraction": s.random_fraction,
        },
        points_to_evaluate=first_points(context),
        seed=context.seed,
        max_concurrent=context.max_concurrent_trials or 0,
    )


def _check_bohb(s: BohbSearcherConfig, context: EntryContext) -> None:
    require_modules("searcher.name", "bohb", "hpbandster", "ConfigSpace")
    check_model_based(s, context)
    least = len(search_space.sampled_keys(context.search_space)) + 1
    given = s.min_points_in_model
    if given is not None and given < least:
        raise InvalidKey(
            "searcher.min_points_in_model",
            f"must be at least the number of sampled parameters + 1 ({least}), got {given}",
        )


# --- the registry ------------------------------------------------------------------------------

SEARCHERS: dict[str, Entry[Any, SearchAlgorithm | Searcher, SearcherTraits]] = {
    "random": Entry(
        RandomSearcherConfig,
        _basic_variant,
        SearcherTraits(in_method_name=False, many_objectives=True, constraints=True),
    ),
    "grid": Entry(
        GridSearcherConfig,
        _basic_variant,
        SearcherTraits(many_objectives=True, constraints=True),
        check=_grid_needs_a_grid,
    ),
    "hyperopt": Entry(
        HyperOptSearcherConfig,
        _hyperopt,
        SearcherTraits(model_based=True),
        smoke={"n_initial_points": 1},
        check=_check_hyperopt,
    ),
    "optuna": Entry(
        OptunaSearcherConfig,
        _optuna,
        SearcherTraits(
            model_based=True,
            method_label=_optuna_label,
            many_objectives=True,
            constraints=True,
        ),
        check=_check_optuna,
    ),
    "bohb": Entry(
        BohbSearcherConfig,
        _bohb,
        SearcherTraits(model_based=True, partner="bohb"),
        check=_check_bohb,
    ),
}
"""In the order ``searcher.name`` errors list them; grids come from ``{grid: [...]}``."""


def build_searcher(section: EntryOptions, context: EntryContext) -> SearchAlgorithm | Searcher:
    """The search algorithm of the ``searcher`` section ``section``, seeded from ``context.seed``.

    Raises:
        ValueError: Its name is unknown; the message lists the known names.
    """
    return lookup(SEARCHERS, section.name, "searcher").built(section, context)
