"""The ``SCHEDULERS`` registry: scheduler name -> options, builder, smoke settings, rules.

Every scheduler counts time in epochs (``training_iteration``); metric and mode are set once,
on the experiment's ``TuneConfig``, never here. Each builder imports Ray Tune when called, so
that reading a config does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from raytune_hpo.errors import InvalidKey
from raytune_hpo.pydantic_base import EntryOptions
from raytune_hpo.registry import Entry, lookup, options_as
from raytune_hpo.search import pbt_explore as explore
from raytune_hpo.search import search_space

if TYPE_CHECKING:
    from ray.tune.schedulers import TrialScheduler

    from raytune_hpo.config import ExperimentConfig

TIME_ATTR = "training_iteration"


def _grace_within_run(cfg: ExperimentConfig) -> None:
    """A grace period no longer than the run: a scheduler cannot wait past the last epoch."""
    scheduler = cfg.scheduler
    if not isinstance(scheduler, (AshaSchedulerConfig, MedianSchedulerConfig)):
        raise TypeError(f"expected a scheduler with a grace period, got {scheduler.name!r}")
    grace = scheduler.grace_period
    last_epoch = min(cfg.max_t, cfg.max_epochs)
    if grace > last_epoch:
        raise InvalidKey(
            "scheduler.grace_period",
            f"must be at most max_epochs and max_t ({last_epoch}), got {grace}",
        )


# --- fifo --------------------------------------------------------------------------------------


class FifoSchedulerConfig(EntryOptions):
    """Run every trial to ``max_epochs``."""

    name: Literal["fifo"] = "fifo"


def _fifo(cfg: ExperimentConfig) -> TrialScheduler:
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


def _asha(cfg: ExperimentConfig) -> TrialScheduler:
    from ray.tune.schedulers import ASHAScheduler

    s = options_as(cfg.scheduler, AshaSchedulerConfig)
    return ASHAScheduler(
        time_attr=TIME_ATTR,
        max_t=cfg.max_t,
        grace_period=s.grace_period,
        reduction_factor=s.reduction_factor,
        brackets=s.brackets,
    )


# --- hyperband ---------------------------------------------------------------------------------


class HyperBandSchedulerConfig(EntryOptions):
    """Synchronous HyperBand; ``max_t`` defaults to ``max_epochs``."""

    name: Literal["hyperband"]
    reduction_factor: float = Field(default=3, gt=1)
    max_t: int | None = Field(default=None, ge=1)


def _hyperband(cfg: ExperimentConfig) -> TrialScheduler:
    from ray.tune.schedulers import HyperBandScheduler

    s = options_as(cfg.scheduler, HyperBandSchedulerConfig)
    return HyperBandScheduler(
        time_attr=TIME_ATTR, max_t=cfg.max_t, reduction_factor=s.reduction_factor
    )


# --- median ------------------------------------------------------------------------------------


class MedianSchedulerConfig(EntryOptions):
    """Stop a trial whose best result is below the median of the others at the same time."""

    name: Literal["median"]
    grace_period: int = Field(default=1, ge=1)
    min_samples_required: int = Field(default=3, ge=1)


def _median(cfg: ExperimentConfig) -> TrialScheduler:
    from ray.tune.schedulers import MedianStoppingRule

    s = options_as(cfg.scheduler, MedianSchedulerConfig)
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


def _pbt(cfg: ExperimentConfig) -> TrialScheduler:
    """PBT whose explore step is :class:`~raytune_hpo.search.pbt_explore.BoundedExplore`, and whose
    exploits keep their donor's checkpoint
    (:class:`~raytune_hpo.search.pbt_donors.DonorKeepingPBT`).

    Ray's own explore would multiply numbers by 1.2 / 0.8 without clipping them to the range
    and truncate integers. Each mutated key is therefore given to Ray as an empty nested
    mutation (``{}``), which Ray's explore copies unchanged while still logging and tagging the
    key, and the whole perturbation happens in ``custom_explore_fn``.
    """
    from raytune_hpo.search.pbt_donors import DonorKeepingPBT

    s = options_as(cfg.scheduler, PbtSchedulerConfig)
    return DonorKeepingPBT(
        time_attr=TIME_ATTR,
        perturbation_interval=s.perturbation_interval,
        hyperparam_mutations={key: {} for key in s.hyperparam_mutations},
        quantile_fraction=s.quantile_fraction,
        custom_explore_fn=explore.BoundedExplore(
            s.hyperparam_mutations, s.resample_probability, seed=cfg.seed
        ),
        log_config=True,
    )


def _check_pbt(cfg: ExperimentConfig) -> None:
    """Mutations PBT can apply, a perturbation within the run and a population to exploit."""
    pbt = options_as(cfg.scheduler, PbtSchedulerConfig)
    prefix = "scheduler.hyperparam_mutations"
    for key in pbt.hyperparam_mutations:
        if key not in cfg.search_space:
            raise InvalidKey(
                f"{prefix}.{key}",
                f"not in search_space; mutable keys: {', '.join(cfg.search_space)}",
            )
    for key, spec in pbt.hyperparam_mutations.items():
        try:
            explore.mutation_kind(key, spec)
        except search_space.SearchSpaceError as err:
            raise InvalidKey(f"{prefix}.{key}", err.message) from None
        if explore.integer_valued(key, cfg.search_space[key]) and not explore.integer_valued(
            key, spec
        ):
            raise InvalidKey(
                f"{prefix}.{key}",
                f"search_space.{key} holds integers; mutate it with randint, lograndint, "
                f"qrandint or a choice of integers, got {spec!r}",
            )
    if pbt.perturbation_interval % cfg.checkpoint.frequency:
        raise InvalidKey(
            "scheduler.perturbation_interval",
            f"must be a multiple of checkpoint.frequency ({cfg.checkpoint.frequency}), "
            f"got {pbt.perturbation_interval}",
        )
    if pbt.perturbation_interval > cfg.max_epochs:
        raise InvalidKey(
            "scheduler.perturbation_interval",
            f"must be at most max_epochs ({cfg.max_epochs}) or PBT never perturbs, "
            f"got {pbt.perturbation_interval}",
        )
    population = cfg.num_samples * search_space.grid_size(cfg.search_space)
    if population < 2:
        raise InvalidKey(
            "num_samples",
            f"pbt needs a population of at least 2 trials to exploit, got {population}",
        )


# --- the registry ------------------------------------------------------------------------------

SCHEDULERS: dict[str, Entry[TrialScheduler]] = {
    "fifo": Entry(FifoSchedulerConfig, _fifo),
    "asha": Entry(
        AshaSchedulerConfig,
        _asha,
        smoke={"grace_period": 1, "max_t": None},
        check=_grace_within_run,
    ),
    "hyperband": Entry(HyperBandSchedulerConfig, _hyperband, smoke={"max_t": None}),
    "median": Entry(
        MedianSchedulerConfig, _median, smoke={"grace_period": 1}, check=_grace_within_run
    ),
    "pbt": Entry(PbtSchedulerConfig, _pbt, smoke={"perturbation_interval": 1}, check=_check_pbt),
}
"""In the order ``scheduler.name`` errors list them."""


def build_scheduler(cfg: ExperimentConfig) -> TrialScheduler:
    """The trial scheduler named by ``cfg.scheduler``."""
    return lookup(SCHEDULERS, cfg.scheduler.name, "scheduler").build(cfg)
