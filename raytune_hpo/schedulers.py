"""The ``SCHEDULERS`` registry: scheduler name -> builder of a Ray Tune trial scheduler.

Every scheduler counts time in epochs (``training_iteration``); metric and mode are set once,
on the experiment's ``TuneConfig``, never here.
"""

from __future__ import annotations

from collections.abc import Callable

from ray.tune.schedulers import (
    ASHAScheduler,
    FIFOScheduler,
    HyperBandScheduler,
    MedianStoppingRule,
    PopulationBasedTraining,
    TrialScheduler,
)

from raytune_hpo.config import ExperimentConfig
from raytune_hpo.explore import BoundedExplore
from raytune_hpo.registry import lookup

TIME_ATTR = "training_iteration"


def _fifo(cfg: ExperimentConfig) -> TrialScheduler:
    return FIFOScheduler()


def _asha(cfg: ExperimentConfig) -> TrialScheduler:
    s = cfg.scheduler
    return ASHAScheduler(
        time_attr=TIME_ATTR,
        max_t=cfg.max_t,
        grace_period=s.grace_period,
        reduction_factor=s.reduction_factor,
        brackets=s.brackets,
    )


def _hyperband(cfg: ExperimentConfig) -> TrialScheduler:
    return HyperBandScheduler(
        time_attr=TIME_ATTR, max_t=cfg.max_t, reduction_factor=cfg.scheduler.reduction_factor
    )


def _median(cfg: ExperimentConfig) -> TrialScheduler:
    s = cfg.scheduler
    return MedianStoppingRule(
        time_attr=TIME_ATTR,
        grace_period=s.grace_period,
        min_samples_required=s.min_samples_required,
    )


def _pbt(cfg: ExperimentConfig) -> TrialScheduler:
    """PBT whose explore step is :class:`~raytune_hpo.explore.BoundedExplore`.

    Ray's own explore would multiply numbers by 1.2 / 0.8 without clipping them to the range
    and truncate integers. Each mutated key is therefore given to Ray as an empty nested
    mutation (``{}``), which Ray's explore copies unchanged while still logging and tagging the
    key, and the whole perturbation happens in ``custom_explore_fn``.
    """
    s = cfg.scheduler
    return PopulationBasedTraining(
        time_attr=TIME_ATTR,
        perturbation_interval=s.perturbation_interval,
        hyperparam_mutations={key: {} for key in s.hyperparam_mutations},
        quantile_fraction=s.quantile_fraction,
        custom_explore_fn=BoundedExplore(
            s.hyperparam_mutations, s.resample_probability, seed=cfg.seed
        ),
        log_config=True,
    )


SCHEDULERS: dict[str, Callable[[ExperimentConfig], TrialScheduler]] = {
    "fifo": _fifo,
    "asha": _asha,
    "hyperband": _hyperband,
    "median": _median,
    "pbt": _pbt,
}


def build_scheduler(cfg: ExperimentConfig) -> TrialScheduler:
    """The trial scheduler named by ``cfg.scheduler``."""
    return lookup(SCHEDULERS, cfg.scheduler.name, "scheduler")(cfg)
