"""The ``SCHEDULERS`` registry: scheduler name -> options, builder, smoke settings, rules.

Every scheduler counts time in epochs (``training_iteration``); metric and mode are set once,
on the experiment's ``TuneConfig``, never here (MOASHA, which ranks by several objectives that
``TuneConfig`` cannot hold, takes them from the experiment's context). Each builder imports Ray
Tune when called, so that reading a config does not.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from raytune_hpo.errors import InvalidKey
from raytune_hpo.pydantic_base import EntryOptions
from raytune_hpo.registry import Entry, EntryContext, Perturbation, SchedulerTraits, lookup
from raytune_hpo.search import pbt_explore as explore
from raytune_hpo.search import search_space

if TYPE_CHECKING:
    from ray.tune.schedulers import TrialScheduler

TIME_ATTR = "training_iteration"


def max_t(options: EntryOptions, context: EntryContext) -> int:
    """The last epoch a scheduler may grant: its ``max_t`` where it has one, else
    ``max_epochs``."""
    return getattr(options, "max_t", None) or context.max_epochs


def _grace_within_run(
    s: AshaSchedulerConfig | MoashaSchedulerConfig | MedianSchedulerConfig, context: EntryContext
) -> None:
    """A grace period no longer than the run: a scheduler cannot wait past the last epoch."""
    grace = s.grace_period
    last_epoch = min(max_t(s, context), context.max_epochs)
    if grace > last_epoch:
        raise InvalidKey(
            "scheduler.grace_period",
            f"must be at most max_epochs and max_t ({last_epoch}), got {grace}",
        )


# --- fifo --------------------------------------------------------------------------------------


class FifoSchedulerConfig(EntryOptions):
    """Run every trial to ``max_epochs``."""

    name: Literal["fifo"] = "fifo"


def _fifo(options: FifoSchedulerConfig, context: EntryContext) -> TrialScheduler:
    from ray.tune.schedulers import FIFOScheduler

    return FIFOScheduler()


# --- asha --------------------------------------------------------------------------------------


class AshaSchedulerConfig(EntryOptions):
    """Asynchronous successive halving; ``max_t`` defaults to ``max_epochs``."""

    name: Literal["asha"]
    grace_period: int = Field(default=1, ge=1)
    reduction_factor: float = Field(default=2, gt=1)
    brackets: int = Field(default=1, ge=1)
    max_t: int | None = Field(default=None, ge=1)


def _asha(s: AshaSchedulerConfig, context: EntryContext) -> TrialScheduler:
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(
        time_attr=TIME_ATTR,
        max_t=max_t(s, context),
        grace_period=s.grace_period,
        reduction_factor=s.reduction_factor,
        brackets=s.brackets,
    )


# --- moasha ------------------------------------------------------------------------------------


class MoashaSchedulerConfig(EntryOptions):
    """Asynchronous successive halving for several objectives: at each rung a trial goes on if
    it ranks in the top 1 / reduction_factor by non-dominated sorting (crowding distance breaks
    ties); ``max_t`` defaults to ``max_epochs``."""

    name: Literal["moasha"]
    grace_period: int = Field(default=1, ge=1)
    reduction_factor: float = Field(default=2, gt=1)
    max_t: int | None = Field(default=None, ge=1)


def _moasha(s: MoashaSchedulerConfig, context: EntryContext) -> TrialScheduler:
    from raytune_hpo.search.moasha import MultiObjectiveAsha

    return MultiObjectiveAsha(
        context.objectives,
        time_attr=TIME_ATTR,
        max_t=max_t(s, context),
        grace_period=s.grace_period,
        reduction_factor=s.reduction_factor,
    )


# --- hyperband ---------------------------------------------------------------------------------


class HyperBandSchedulerConfig(EntryOptions):
    """Synchronous HyperBand; ``max_t`` defaults to ``max_epochs``."""

    name: Literal["hyperband"]
    reduction_factor: float = Field(default=3, gt=1)
    max_t: int | None = Field(default=None, ge=1)


def _hyperband(s: HyperBandSchedulerConfig, context: EntryContext) -> TrialScheduler:
    from ray.tune.schedulers import HyperBandScheduler

    return HyperBandScheduler(
        time_attr=TIME_ATTR, max_t=max_t(s, context), reduction_factor=s.reduction_factor
    )


# --- median ------------------------------------------------------------------------------------


class MedianSchedulerConfig(EntryOptions):
    """Stop a trial whose best result is below the median of the others at the same time."""

    name: Literal["median"]
    grace_period: int = Field(default=1, ge=1)
    min_samples_required: int = Field(default=3, ge=1)


def _median(s: MedianSchedulerConfig, context: EntryContext) -> TrialScheduler:
    from ray.tune.schedulers import MedianStoppingRule

    return MedianStoppingRule(
        time_attr=TIME_ATTR,
        grace_period=s.grace_period,
        min_samples_required=s.min_samples_required,
    )


# --- pbt ---------------------------------------------------------------------------------------


class PbtSchedulerConfig(EntryOptions):
    """Population based training; ``hyperparam_mutations`` uses the search-space spec format."""

    name: Literal["pbt"]
    perturbation_interval: int = Field(default=2, ge=1)
    quantile_fraction: float = Field(default=0.25, gt=0, le=0.5)
    resample_probability: float = Field(default=0.25, ge=0, le=1)
    hyperparam_mutations: dict[str, Any] = Field(min_length=1)


def _pbt(s: PbtSchedulerConfig, context: EntryContext) -> TrialScheduler:
    """PBT whose explore step is :class:`~raytune_hpo.search.pbt_explore.BoundedExplore`, and whose
    exploits keep their donor's checkpoint
    (:class:`~raytune_hpo.search.pbt_donors.DonorKeepingPBT`).

    Ray's own explore would multiply numbers by 1.2 / 0.8 without clipping them to the range
    and truncate integers. Each mutated key is therefore given to Ray as an empty nested
    mutation (``{}``), which Ray's explore copies unchanged while still logging and tagging the
    key, and the whole perturbation happens in ``custom_explore_fn``.
    """
    from raytune_hpo.search.pbt_donors import DonorKeepingPBT

    return DonorKeepingPBT(
        time_attr=TIME_ATTR,
        perturbation_interval=s.perturbation_interval,
        hyperparam_mutations={key: {} for key in s.hyperparam_mutations},
        quantile_fraction=s.quantile_fraction,
        custom_explore_fn=explore.BoundedExplore(
            s.hyperparam_mutations, s.resample_probability, seed=context.seed
        ),
        log_config=True,
    )


def _check_perturbation(
    name: str, perturbation: Perturbation, context: EntryContext, prefix: str
) -> None:
    """Rules of every perturbing scheduler (``name``): keys of the search space, a perturbation
    within the run at a checkpoint, and a population to exploit."""
    space = context.search_space
    for key in perturbation.keys:
        if key not in space:
            raise InvalidKey(
                f"{prefix}.{key}", f"not in search_space; mutable keys: {', '.join(space)}"
            )
    frequency = context.checkpoint_frequency
    if perturbation.interval % frequency:
        raise InvalidKey(
            "scheduler.perturbation_interval",
            f"must be a multiple of checkpoint.frequency ({frequency}), "
            f"got {perturbation.interval}",
        )
    if perturbation.interval > context.max_epochs:
        raise InvalidKey(
            "scheduler.perturbation_interval",
            f"must be at most max_epochs ({context.max_epochs}) or {name} never perturbs, "
            f"got {perturbation.interval}",
        )
    population = context.num_samples * search_space.grid_size(space)
    if population < 2:
        raise InvalidKey(
            "num_samples",
            f"{name} needs a population of at least 2 trials to exploit, got {population}",
        )


def _check_pbt(pbt: PbtSchedulerConfig, context: EntryContext) -> None:
    """Mutations PBT can apply, and the rules of every perturbing scheduler."""
    prefix = "scheduler.hyperparam_mutations"
    _check_perturbation(pbt.name, _pbt_perturbation(pbt), context, prefix)
    for key, spec in pbt.hyperparam_mutations.items():
        try:
            explore.mutation_kind(key, spec)
        except search_space.SearchSpaceError as err:
            raise InvalidKey(f"{prefix}.{key}", err.message) from None
        if explore.integer_valued(key, context.search_space[key]) and not explore.integer_valued(
            key, spec
        ):
            raise InvalidKey(
                f"{prefix}.{key}",
                f"search_space.{key} holds integers; mutate it with randint, lograndint, "
                f"qrandint or a choice of integers, got {spec!r}",
            )


def _pbt_perturbation(options: PbtSchedulerConfig) -> Perturbation:
    return Perturbation(options.perturbation_interval, tuple(options.hyperparam_mutations))


# --- pb2 ---------------------------------------------------------------------------------------


Bounds = Annotated[list[float], Field(min_length=2, max_length=2)]
"""``[low, high]``."""


class Pb2SchedulerConfig(EntryOptions):
    """Population based bandits: PBT whose explore step is a Gaussian-process bandit over
    ``hyperparam_bounds`` (``{key: [low, high]}``, continuous hyperparameters only)."""

    name: Literal["pb2"]
    perturbation_interval: int = Field(default=2, ge=1)
    quantile_fraction: float = Field(default=0.25, gt=0, le=0.5)
    hyperparam_bounds: dict[str, Bounds] = Field(min_length=1)


def _pb2(s: Pb2SchedulerConfig, context: EntryContext) -> TrialScheduler:
    """PB2 whose exploits keep their donor's checkpoint, as PBT's do."""
    from sklearn.exceptions import ConvergenceWarning

    from raytune_hpo.search.pbt_donors import DonorKeepingPB2

    # The bandit's Gaussian process often fits a length scale at its bound on a few points;
    # scikit-learn would print that into the console at each perturbation.
    warnings.filterwarnings("ignore", category=ConvergenceWarning, module="sklearn")
    return DonorKeepingPB2(
        time_attr=TIME_ATTR,
        perturbation_interval=s.perturbation_interval,
        hyperparam_bounds=dict(s.hyperparam_bounds),
        quantile_fraction=s.quantile_fraction,
        log_config=True,
        seed=context.seed,
    )


def _check_pb2(pb2: Pb2SchedulerConfig, context: EntryContext) -> None:
    """Bounds PB2 can search: ``low < high`` around a continuous hyperparameter."""
    prefix = "scheduler.hyperparam_bounds"
    _check_perturbation(pb2.name, _pb2_perturbation(pb2), context, prefix)
    for key, (low, high) in pb2.hyperparam_bounds.items():
        if not low < high:
            raise InvalidKey(f"{prefix}.{key}", f"must be [low, high] with low < high, got "
                             f"[{low}, {high}]")  # fmt: skip
        spec = context.search_space[key]
        kind = search_space.spec_kind(key, spec)
        continuous = (
            kind in search_space.NUMERIC_KINDS - search_space.INTEGER_KINDS
            if kind is not None
            else isinstance(spec, float)
        )
        if not continuous:
            raise InvalidKey(
                f"{prefix}.{key}",
                f"pb2 explores continuous values; search_space.{key} is {spec!r}: sample it "
                "with uniform, loguniform or quniform, or mutate it with pbt",
            )


def _pb2_perturbation(options: Pb2SchedulerConfig) -> Perturbation:
    return Perturbation(options.perturbation_interval, tuple(options.hyperparam_bounds))


# --- bohb --------------------------------------------------------------------------------------


class BohbSchedulerConfig(EntryOptions):
    """HyperBand for BOHB, with ``searcher: {name: bohb}``; ``max_t`` defaults to
    ``max_epochs``."""

    name: Literal["bohb"]
    reduction_factor: float = Field(default=3, gt=1)
    max_t: int | None = Field(default=None, ge=1)
    stop_last_trials: bool = True


def _bohb(s: BohbSchedulerConfig, context: EntryContext) -> TrialScheduler:
    from ray.tune.schedulers.hb_bohb import HyperBandForBOHB

    return HyperBandForBOHB(
        time_attr=TIME_ATTR,
        max_t=max_t(s, context),
        reduction_factor=s.reduction_factor,
        stop_last_trials=s.stop_last_trials,
    )


# --- the registry ------------------------------------------------------------------------------

SCHEDULERS: dict[str, Entry[Any, TrialScheduler, SchedulerTraits]] = {
    "fifo": Entry(
        FifoSchedulerConfig, _fifo, SchedulerTraits(in_method_name=False, many_objectives=True)
    ),
    "asha": Entry(
        AshaSchedulerConfig,
        _asha,
        SchedulerTraits(early_stop_label="ASHA"),
        smoke={"grace_period": 1, "max_t": None},
        check=_grace_within_run,
    ),
    "moasha": Entry(
        MoashaSchedulerConfig,
        _moasha,
        SchedulerTraits(early_stop_label="MOASHA", many_objectives=True),
        smoke={"grace_period": 1, "max_t": None},
        check=_grace_within_run,
    ),
    "hyperband": Entry(
        HyperBandSchedulerConfig,
        _hyperband,
        SchedulerTraits(early_stop_label="HyperBand", pauses_trials=True, saves_trials=True),
        smoke={"max_t": None},
    ),
    "median": Entry(
        MedianSchedulerConfig,
        _median,
        SchedulerTraits(early_stop_label="the median stopping rule"),
        smoke={"grace_period": 1},
        check=_grace_within_run,
    ),
    "pbt": Entry(
        PbtSchedulerConfig,
        _pbt,
        SchedulerTraits(saves_trials=True, picks_configs=True, perturbation=_pbt_perturbation),
        smoke={"perturbation_interval": 1},
        check=_check_pbt,
    ),
    "pb2": Entry(
        Pb2SchedulerConfig,
        _pb2,
        SchedulerTraits(saves_trials=True, picks_configs=True, perturbation=_pb2_perturbation),
        smoke={"perturbation_interval": 1},
        check=_check_pb2,
    ),
    "bohb": Entry(
        BohbSchedulerConfig,
        _bohb,
        SchedulerTraits(
            early_stop_label="BOHB's HyperBand",
            pauses_trials=True,
            saves_trials=True,
            partner="bohb",
        ),
        smoke={"max_t": None},
    ),
}
"""In the order ``scheduler.name`` errors list them."""


def build_scheduler(section: EntryOptions, context: EntryContext) -> TrialScheduler:
    """The trial scheduler of the ``scheduler`` section ``section``.

    Raises:
        ValueError: Its name is unknown; the message lists the known names.
    """
    return lookup(SCHEDULERS, section.name, "scheduler").built(section, context)


def traits_of(name: str) -> SchedulerTraits:
    """The traits of scheduler ``name`` as a stored config or the console names it (none for a
    name this version does not know)."""
    entry = SCHEDULERS.get(name)
    return SchedulerTraits() if entry is None else entry.traits


def stored_perturbation(section: Mapping[str, Any]) -> Perturbation | None:
    """The perturbation schedule of a scheduler section as an experiment stored it; None if its
    scheduler never perturbs (or this version does not know it)."""
    entry = SCHEDULERS.get(section.get("name", ""))
    if entry is None or entry.traits.perturbation is None:
        return None
    return entry.traits.perturbation(entry.options.model_validate(section))


def perturbation(scheduler: EntryOptions) -> Perturbation | None:
    """The perturbation schedule of a validated scheduler section; None if it never perturbs."""
    traits = SCHEDULERS[scheduler.name].traits
    return None if traits.perturbation is None else traits.perturbation(scheduler)
