"""The SEARCHERS and SCHEDULERS registries: names, seeding, and the scheduler contract.

No Ray cluster is started: searchers are asked for suggestions directly and schedulers are
driven with stub trials and made-up results, as Syne Tune's scheduler API tests and Ray's
``test_trial_scheduler.py`` do.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel
from ray.tune.experiment import Trial
from ray.tune.schedulers import FIFOScheduler, PopulationBasedTraining, TrialScheduler
from ray.tune.search import Searcher, SearchGenerator
from ray.tune.search.basic_variant import BasicVariantGenerator

from raytune_hpo import config
from raytune_hpo.config import ExperimentConfig, validate_config
from raytune_hpo.registry import Entry, entry_name
from raytune_hpo.search import search_space
from raytune_hpo.search.schedulers import SCHEDULERS, FifoSchedulerConfig, build_scheduler
from raytune_hpo.search.searchers import SEARCHERS, RandomSearcherConfig, build_searcher

METRIC = "validation_error"
MODE = "min"
CONTINUE, PAUSE, STOP = TrialScheduler.CONTINUE, TrialScheduler.PAUSE, TrialScheduler.STOP
DECISIONS = {CONTINUE, PAUSE, STOP}

SPACE: dict[str, Any] = {
    "learning_rate": {"loguniform": [0.01, 1.0]},
    "momentum": {"uniform": [0.0, 0.9]},
    "batch_size": {"randint": [32, 256]},
    "activation_scale": {"choice": [0.5, 1.0, 2.0]},
    "weight_decay": 0.0,
}

SEARCHER_SECTIONS: dict[str, dict[str, Any]] = {
    "hyperopt": {"name": "hyperopt", "n_initial_points": 2},
    "optuna": {"name": "optuna", "n_startup_trials": 2},
    "bohb": {"name": "bohb", "min_points_in_model": 5},
}
"""Searcher sections beyond ``{"name": NAME}`` (model-based ones reach their model within 5
suggestions)."""

SCHEDULER_SECTIONS: dict[str, dict[str, Any]] = {
    "pbt": {
        "name": "pbt",
        "perturbation_interval": 2,
        "hyperparam_mutations": {"learning_rate": {"loguniform": [0.01, 1.0]}},
    },
    "pb2": {
        "name": "pb2",
        "perturbation_interval": 2,
        "hyperparam_bounds": {"learning_rate": [0.01, 1.0], "momentum": [0.0, 0.9]},
    },
    "median": {"name": "median", "min_samples_required": 1},
}
"""Scheduler sections beyond ``{"name": NAME}``; a new registry entry is tested as bare name."""


def make_config(
    *, searcher: str | None = None, scheduler: str | None = None, seed: int = 0, **changes: Any
) -> ExperimentConfig:
    """A valid config using the registry names ``searcher`` and ``scheduler`` (default: the
    other's partner, else random search and FIFO)."""
    searcher = searcher or (scheduler and SCHEDULERS[scheduler].traits.partner) or "random"
    scheduler = scheduler or SEARCHERS[searcher].traits.partner or "fifo"
    space = dict(SPACE)
    if searcher == "grid":
        space["batch_size"] = {"grid": [32, 64, 128]}
    data: dict[str, Any] = {
        "name": "registry",
        "metric": METRIC,
        "mode": MODE,
        "max_epochs": 6,
        "seed": seed,
        "search_space": space,
        "searcher": SEARCHER_SECTIONS.get(searcher, {"name": searcher}),
        "scheduler": SCHEDULER_SECTIONS.get(scheduler, {"name": scheduler}),
    }
    data.update(changes)
    return validate_config(data, "registry.yaml")


def searcher_of(cfg: ExperimentConfig) -> Any:
    """The search algorithm of ``cfg``, built as the runner builds it."""
    return build_searcher(cfg.searcher, cfg.entry_context)


def scheduler_of(cfg: ExperimentConfig) -> TrialScheduler:
    """The trial scheduler of ``cfg``, built as the runner builds it."""
    return build_scheduler(cfg.scheduler, cfg.entry_context)


# --- (a) the entry contract: the config schema and smoke mode come from the registries --------

ENTRIES: list[tuple[str, str, Entry[Any, Any, Any]]] = [
    *(("searcher", name, entry) for name, entry in SEARCHERS.items()),
    *(("scheduler", name, entry) for name, entry in SCHEDULERS.items()),
]
ENTRY_IDS = [f"{section}-{name}" for section, name, _ in ENTRIES]


def section_config(section: str, name: str, **options: Any) -> ExperimentConfig:
    """A valid config whose ``section`` is the registry entry ``name`` with ``options``."""
    base = make_config(**{section: name})
    data = base.model_dump()
    data[section] = {**data[section], **options}
    return validate_config(data, "registry.yaml")


@pytest.mark.parametrize(("section", "name", "entry"), ENTRIES, ids=ENTRY_IDS)
def test_entry_options_answer_to_their_name(
    section: str, name: str, entry: Entry[Any, Any, Any]
) -> None:
    """The key, the model's ``name`` literal and the model the config parses are one."""
    assert issubclass(entry.options, BaseModel)
    assert entry_name(entry.options) == name
    parsed = getattr(make_config(**{section: name}), section)
    assert type(parsed) is entry.options
    assert name in (config.searcher_names() if section == "searcher" else config.scheduler_names())


@pytest.mark.parametrize(("section", "name", "entry"), ENTRIES, ids=ENTRY_IDS)
def test_entry_smoke_settings_are_valid_options(
    section: str, name: str, entry: Entry[Any, Any, Any]
) -> None:
    """Smoke settings name the entry's own options and give values the model accepts."""
    assert set(entry.smoke) <= set(entry.options.model_fields), sorted(entry.smoke)
    small = config.smoke(make_config(**{section: name}))
    assert getattr(small, section).model_dump(include=set(entry.smoke)) == dict(entry.smoke)


def test_entry_rules_run_on_validation() -> None:
    """An entry's compatibility rules run when a config naming it is validated."""
    checked = [(s, n) for s, n, e in ENTRIES if e.check is not None]
    assert ("searcher", "grid") in checked and ("scheduler", "pbt") in checked
    with pytest.raises(config.ConfigError, match="grid needs at least one"):
        validate_config({**make_config().model_dump(), "searcher": {"name": "grid"}})
    with pytest.raises(config.ConfigError, match="scheduler.grace_period: must be at most"):
        section_config("scheduler", "median", grace_period=7)


def test_unknown_searcher_lists_known_names() -> None:
    bogus = RandomSearcherConfig.model_construct(name="nope")
    with pytest.raises(
        ValueError, match="unknown searcher 'nope'; known: bohb, grid, hyperopt, optuna, random"
    ):
        build_searcher(bogus, make_config().entry_context)


def test_unknown_scheduler_lists_known_names() -> None:
    bogus = FifoSchedulerConfig.model_construct(name="nope")
    with pytest.raises(ValueError, match="unknown scheduler 'nope'; known: asha, bohb, fifo"):
        build_scheduler(bogus, make_config().entry_context)


def test_an_entry_builds_and_checks_only_its_own_options() -> None:
    context = make_config().entry_context
    with pytest.raises(TypeError, match="expected HyperOptSearcherConfig options, got Random"):
        SEARCHERS["hyperopt"].built(RandomSearcherConfig(), context)
    with pytest.raises(TypeError, match="expected PbtSchedulerConfig options, got Fifo"):
        SCHEDULERS["pbt"].check_rules(FifoSchedulerConfig(), context)


def test_the_entries_read_the_experiment_through_its_context() -> None:
    """Builders and rules get the experiment's facts from the config, not the config itself."""
    cfg = make_config(
        scheduler="pbt",
        seed=7,
        num_samples=3,
        max_concurrent_trials=2,
        checkpoint={"frequency": 2},
        points_to_evaluate=[{"learning_rate": 0.1}],
    )
    context = cfg.entry_context
    assert (context.seed, context.max_epochs, context.num_samples) == (7, 6, 3)
    assert (context.checkpoint_frequency, context.max_concurrent_trials) == (2, 2)
    assert (context.search_space, context.scheduler) == (cfg.search_space, "pbt")
    assert list(context.points_to_evaluate) == [{"learning_rate": 0.1}]
    for entry in (*SEARCHERS.values(), *SCHEDULERS.values()):
        for rule in (entry.build, entry.check):
            if rule is not None:
                assert list(inspect.signature(rule).parameters)[1:] == ["context"], rule


# --- (b) every searcher is seeded -------------------------------------------------------------


def _noop_trainable(config: dict[str, Any]) -> None:
    """Stands in for a trainable: BasicVariantGenerator only needs something to register."""


def _objective(point: dict[str, Any]) -> float:
    """A made-up validation error, so model-based searchers have results to learn from."""
    return abs(point["learning_rate"] - 0.1) + point["momentum"] / 10


def suggestions(cfg: ExperimentConfig, count: int, storage: Path) -> list[dict[str, Any]]:
    """The first ``count`` configs the searcher built from ``cfg`` proposes, without Ray."""
    searcher = searcher_of(cfg)
    param_space = search_space.to_param_space(cfg.search_space)
    if isinstance(searcher, BasicVariantGenerator):
        # The variant generator is driven by experiment specs, not by suggest().
        searcher.add_configurations(
            {
                "seeded": {
                    "run": _noop_trainable,
                    "config": param_space,
                    "num_samples": count,
                    "storage_path": str(storage),
                }
            }
        )
        trials = [searcher.next_trial() for _ in range(count)]
        assert all(t is not None for t in trials)
        return [dict(t.config) for t in trials]
    assert searcher.set_search_properties(cfg.metric, cfg.mode, param_space)
    points = []
    for i in range(count):
        point = searcher.suggest(f"t{i}")
        assert isinstance(point, dict)
        searcher.on_trial_complete(f"t{i}", {cfg.metric: _objective(point)})
        points.append(point)
    return points


@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_same_seed_same_suggestions(name: str, tmp_path: Path) -> None:
    first = suggestions(make_config(searcher=name, seed=1), 5, tmp_path / "a")
    second = suggestions(make_config(searcher=name, seed=1), 5, tmp_path / "b")
    assert first == second
    assert len({p["learning_rate"] for p in first}) > 1, "suggestions do not vary at all"


@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_different_seed_different_suggestions(name: str, tmp_path: Path) -> None:
    first = suggestions(make_config(searcher=name, seed=1), 5, tmp_path / "a")
    second = suggestions(make_config(searcher=name, seed=2), 5, tmp_path / "b")
    assert first != second


@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_suggestions_lie_in_the_space(name: str, tmp_path: Path) -> None:
    cfg = make_config(searcher=name, seed=3)
    sampled = {k for k, v in cfg.search_space.items() if search_space.spec_kind(k, v)}
    for point in suggestions(cfg, 5, tmp_path):
        # Ray Tune adds the constants to what a Searcher suggests.
        assert sampled <= set(point) <= set(cfg.search_space)
        for key, value in point.items():
            assert search_space.contains(key, cfg.search_space[key], value), (key, value)


@pytest.mark.parametrize("name", sorted(SEARCHERS))
def test_points_to_evaluate_come_first(name: str, tmp_path: Path) -> None:
    point = {"learning_rate": 0.05, "momentum": 0.5, "batch_size": 64, "activation_scale": 2.0}
    cfg = make_config(searcher=name, seed=4, points_to_evaluate=[point])
    first = suggestions(cfg, 2, tmp_path)[0]
    assert {k: first[k] for k in point} == point


def test_searchers_leave_metric_and_mode_to_the_experiment() -> None:
    """Metric and mode are declared once, on TuneConfig: a searcher must accept them."""
    for name in SEARCHERS:
        cfg = make_config(searcher=name)
        param_space = search_space.to_param_space(cfg.search_space)
        assert searcher_of(cfg).set_search_properties(METRIC, MODE, param_space), name


# --- (c) the scheduler contract ---------------------------------------------------------------


class FakeController:
    """The least of a TuneController that Ray's schedulers call back into.

    Unavoidable: MedianStoppingRule asks ``get_live_trials`` when samples are insufficient,
    HyperBand calls ``stop_trial`` on bad paused trials, PBT reads ``search_alg``,
    ``get_trials`` and ``_schedule_trial_save`` when it perturbs, and BOHB's HyperBand tells
    the search algorithm's searcher (the real one of its partner) which trials it pauses.
    """

    def __init__(self, search_alg: Any = None) -> None:
        self.trials: list[Trial] = []
        self.search_alg = search_alg

    def get_trials(self) -> list[Trial]:
        return list(self.trials)

    def get_live_trials(self) -> list[Trial]:
        return [t for t in self.trials if t.status not in (Trial.TERMINATED, Trial.ERROR)]

    def stop_trial(self, trial: Trial) -> None:
        trial.set_status(Trial.TERMINATED)

    def pause_trial(self, trial: Trial, should_checkpoint: bool = True) -> None:
        trial.set_status(Trial.PAUSED)

    def _schedule_trial_save(self, trial: Trial, result: dict[str, Any] | None = None) -> None:
        return None


def fake_trial(index: int) -> Trial:
    """A stub trial (no trainable behind it), already RUNNING as if the controller started it."""
    trial = Trial(
        "__fake",
        config={"learning_rate": 0.1, "momentum": 0.5, "batch_size": 64},
        trial_id=f"trial_{index:03d}",
        stub=True,
    )
    trial.set_status(Trial.RUNNING)
    return trial


def add_trials(scheduler: TrialScheduler, controller: FakeController, count: int) -> list[Trial]:
    """``count`` made-up trials, known to the controller and added to the scheduler."""
    trials = [fake_trial(i) for i in range(count)]
    for trial in trials:
        controller.trials.append(trial)
        scheduler.on_trial_add(controller, trial)
    return trials


def result(epoch: int, error: float) -> dict[str, Any]:
    """A made-up per-epoch report, as the trainables send it."""
    return {"training_iteration": epoch, METRIC: error, "epoch": epoch}


def prepared(name: str) -> tuple[TrialScheduler, FakeController]:
    """The scheduler ``name`` from the registry, with metric/mode as TuneConfig would set them."""
    cfg = make_config(scheduler=name)
    scheduler = scheduler_of(cfg)
    assert scheduler.set_search_properties(METRIC, MODE), (
        f"{name}: metric/mode already set on the scheduler (Ray would raise)"
    )
    assert scheduler.metric == METRIC
    searcher = searcher_of(cfg)
    if isinstance(searcher, Searcher):
        searcher = SearchGenerator(searcher)
    return scheduler, FakeController(searcher)


def drive(
    scheduler: TrialScheduler, controller: FakeController, errors: list[float], epochs: int
) -> list[tuple[int, int, str]]:
    """Round-robin epochs over trials with final errors ``errors``; returns every decision."""
    trials = add_trials(scheduler, controller, len(errors))
    decisions: list[tuple[int, int, str]] = []
    for epoch, (index, trial) in itertools.product(range(1, epochs + 1), enumerate(trials)):
        if trial.status == Trial.TERMINATED:
            continue
        trial.set_status(Trial.RUNNING)
        report = result(epoch, errors[index] + 0.5 / epoch)
        decision = scheduler.on_trial_result(controller, trial, report)
        decisions.append((index, epoch, decision))
        if decision == STOP or epoch == epochs:
            scheduler.on_trial_complete(controller, trial, report)
            trial.set_status(Trial.TERMINATED)
        elif decision == PAUSE:
            trial.set_status(Trial.PAUSED)
    return decisions


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_contract(name: str) -> None:
    scheduler, controller = prepared(name)
    decisions = drive(scheduler, controller, [0.1, 0.2, 0.3, 0.6, 0.9], epochs=6)
    assert decisions, "no decisions were made"
    assert {d for _, _, d in decisions} <= DECISIONS, decisions
    # Every trial got at least its first epoch, and nothing ran past max_epochs.
    assert {i for i, e, _ in decisions if e == 1} == set(range(5))
    assert all(e <= 6 for _, e, _ in decisions)
    assert all(t.status == Trial.TERMINATED for t in controller.trials)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_without_the_metric_in_a_result(name: str) -> None:
    """A report lacking the metric is ignored, except by PBT (and PB2), which require it."""
    scheduler, controller = prepared(name)
    (trial,) = add_trials(scheduler, controller, 1)
    if isinstance(scheduler, PopulationBasedTraining):
        with pytest.raises(RuntimeError, match=f"Cannot find metric {METRIC}"):
            scheduler.on_trial_result(controller, trial, {"training_iteration": 1})
    else:
        assert scheduler.on_trial_result(controller, trial, {"training_iteration": 1}) == CONTINUE


MANY = [name for name, entry in SCHEDULERS.items() if entry.traits.many_objectives]
SECOND = "train_loss"


@pytest.mark.parametrize("name", MANY)
def test_scheduler_contract_with_many_objectives(name: str) -> None:
    """Entries that take several objectives, driven with made-up reports of two (TuneConfig
    holds no metric then), decide within the contract; one that stops trials early does."""
    cfg = make_config(scheduler=name, metric=[METRIC, SECOND], mode=[MODE, "max"])
    scheduler = scheduler_of(cfg)
    assert scheduler.set_search_properties(None, None)
    controller = FakeController()
    trials = add_trials(scheduler, controller, 5)
    decisions = []
    for epoch, (index, trial) in itertools.product(range(1, 7), enumerate(trials)):
        if trial.status == Trial.TERMINATED:
            continue
        error = [0.1, 0.2, 0.3, 0.6, 0.9][index] + 0.5 / epoch
        report = {**result(epoch, error), SECOND: 1 - error}  # both objectives agree
        decision = scheduler.on_trial_result(controller, trial, report)
        decisions.append(decision)
        if decision == STOP or epoch == 6:
            scheduler.on_trial_complete(controller, trial, report)
            trial.set_status(Trial.TERMINATED)
    assert set(decisions) <= DECISIONS
    assert (STOP in decisions) == (SCHEDULERS[name].traits.early_stop_label is not None)
    assert all(t.status == Trial.TERMINATED for t in controller.trials)


UNTIMED = {"fifo"}
"""Schedulers that never stop or pause a trial early, and so keep no clock."""


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_uses_epochs_as_time(name: str) -> None:
    scheduler, _ = prepared(name)
    if name in UNTIMED:
        assert type(scheduler) is FIFOScheduler
        assert not hasattr(scheduler, "_time_attr")
    else:
        assert scheduler._time_attr == "training_iteration"


def test_fifo_always_continues() -> None:
    scheduler, controller = prepared("fifo")
    decisions = drive(scheduler, controller, [0.1, 0.9, 0.5], epochs=6)
    assert [d for _, _, d in decisions] == [CONTINUE] * 18


def test_asha_stops_a_clearly_worse_trial_at_the_grace_period() -> None:
    cfg = make_config(scheduler="asha", max_epochs=10)
    assert (cfg.scheduler.grace_period, cfg.scheduler.reduction_factor) == (1, 2)
    assert cfg.scheduler.brackets == 1
    scheduler = scheduler_of(cfg)
    assert scheduler.set_search_properties(METRIC, MODE)
    controller = FakeController()
    trials = add_trials(scheduler, controller, 3)
    # Good trials report first; the rung at iteration 1 keeps the top half.
    decisions = [
        scheduler.on_trial_result(controller, trial, result(1, error))
        for trial, error in zip(trials, [0.2, 0.1, 0.9], strict=True)
    ]
    assert decisions == [CONTINUE, CONTINUE, STOP]
    # The survivors go on to the next rung (iteration 2).
    assert scheduler.on_trial_result(controller, trials[1], result(2, 0.05)) == CONTINUE


def test_asha_stops_at_max_t() -> None:
    scheduler, controller = prepared("asha")
    (trial,) = add_trials(scheduler, controller, 1)
    decisions = [scheduler.on_trial_result(controller, trial, result(e, 0.1)) for e in (1, 5, 6)]
    assert decisions == [CONTINUE, CONTINUE, STOP]


def test_median_stops_a_trial_worse_than_the_median() -> None:
    scheduler, controller = prepared("median")
    trials = add_trials(scheduler, controller, 3)
    decisions = [
        scheduler.on_trial_result(controller, trial, result(1, error))
        for trial, error in zip(trials, [0.1, 0.1, 0.9], strict=True)
    ]
    # The first trial has no one to compare with; all are RUNNING, so it continues.
    assert decisions == [CONTINUE, CONTINUE, STOP]


@pytest.mark.parametrize("name", ["hyperband", "pbt"])
def test_metric_and_mode_are_set_once(name: str) -> None:
    cfg = make_config(scheduler=name)
    scheduler = scheduler_of(cfg)
    assert scheduler.metric is None and scheduler._mode is None
    assert scheduler.set_search_properties(METRIC, MODE)
    assert (scheduler.metric, scheduler._mode) == (METRIC, MODE)
    assert not scheduler.set_search_properties(METRIC, MODE), "metric/mode set twice"


def test_hyperband_max_t_follows_the_config() -> None:
    scheduler = scheduler_of(make_config(scheduler="hyperband", max_epochs=9))
    assert scheduler._max_t_attr == 9


def test_pbt_mutations_come_from_the_search_space_spec() -> None:
    scheduler = scheduler_of(make_config(scheduler="pbt"))
    # Ray sees the mutated keys only; the bounded explore step holds the specs (explore.py).
    assert set(scheduler._hyperparam_mutations) == {"learning_rate"}
    explorer = scheduler._custom_explore_fn
    assert explorer.specs == {"learning_rate": {"loguniform": [0.01, 1.0]}}
    assert explorer.resample_probability == 0.25
    assert scheduler._perturbation_interval == 2
    assert scheduler._quantile_fraction == 0.25


@pytest.mark.parametrize("searcher", ["random", "grid"])
def test_variant_generator_carries_max_concurrent_trials(searcher: str) -> None:
    """Ray ignores TuneConfig.max_concurrent_trials for a ready-made variant generator."""
    space = {"learning_rate": {"grid": [0.1, 0.2]}, "batch_size": 64}
    cfg = validate_config(
        {
            "name": "limit",
            "search_space": space,
            "searcher": {"name": searcher},
            "max_concurrent_trials": 3,
        }
    )
    assert searcher_of(cfg).max_concurrent == 3


@pytest.mark.parametrize("scheduler", ["fifo", "pbt"])
def test_num_to_keep_holds_as_given_under_every_scheduler(scheduler: str) -> None:
    from raytune_hpo.experiment.runner import checkpoint_config

    cfg = make_config(scheduler=scheduler, checkpoint={"num_to_keep": 1})
    assert checkpoint_config(cfg, None).num_to_keep == 1


def test_pbt_is_built_to_keep_donor_checkpoints() -> None:
    from raytune_hpo.search.pbt_donors import DonorKeepingPBT

    assert isinstance(scheduler_of(make_config(scheduler="pbt")), DonorKeepingPBT)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_checkpoints_come_from_reports_only_under_schedulers_that_never_save(name: str) -> None:
    from raytune_hpo.experiment.runner import checkpoints_from_reports

    never_saves = name in {"fifo", "asha", "moasha", "median"}  # PBT saves; HyperBand pauses
    assert checkpoints_from_reports(make_config(scheduler=name)) is never_saves
    command = make_config(scheduler=name, trainable={"command": "python train.py ${args}"})
    assert checkpoints_from_reports(command) is never_saves
    user_code = make_config(scheduler=name, trainable="my_package.training:train")
    assert checkpoints_from_reports(user_code) is False


# --- (d) traits: what the rest of the toolkit knows of each entry, checked against it ----------


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_traits_say_what_it_does(name: str) -> None:
    """An early-stop label exactly for a scheduler that stops trials early, ``pauses_trials``
    exactly for one that pauses them, and a scheduler that pauses or perturbs trials saves
    them (a paused or exploited trial goes on from its checkpoint)."""
    traits = SCHEDULERS[name].traits
    scheduler, controller = prepared(name)
    decisions = {d for _, _, d in drive(scheduler, controller, [0.1, 0.2, 0.3, 0.6, 0.9], 6)}
    assert (traits.early_stop_label is not None) == (STOP in decisions), decisions
    assert traits.pauses_trials == (PAUSE in decisions), decisions
    if traits.pauses_trials or traits.perturbation is not None:
        assert traits.saves_trials
    if traits.perturbation is not None:
        assert traits.picks_configs
        assert isinstance(scheduler, PopulationBasedTraining)


@pytest.mark.parametrize(("section", "name", "entry"), ENTRIES, ids=ENTRY_IDS)
def test_partners_name_each_other(section: str, name: str, entry: Entry[Any, Any, Any]) -> None:
    partner = entry.traits.partner
    if partner is None:
        return
    other = SCHEDULERS if section == "searcher" else SEARCHERS
    assert other[partner].traits.partner == name


@pytest.mark.parametrize(
    ("searcher", "scheduler", "key", "message"),
    [
        ("bohb", "asha", "searcher.name", "searcher bohb works only with scheduler bohb, got "
         "scheduler asha; set scheduler: {name: bohb}"),
        ("hyperopt", "bohb", "scheduler.name", "scheduler bohb works only with searcher bohb, "
         "got searcher hyperopt; set searcher: {name: bohb}"),
    ],
)  # fmt: skip
def test_a_mismatched_pair_is_one_error(
    searcher: str, scheduler: str, key: str, message: str
) -> None:
    with pytest.raises(config.ConfigError) as caught:
        make_config(searcher=searcher, scheduler=scheduler)
    assert str(caught.value) == f"registry.yaml: {key}: {message}"


MODEL_BASED = sorted(n for n, e in SEARCHERS.items() if e.traits.model_based)
UNPAIRED_MODEL_BASED = [n for n in MODEL_BASED if SEARCHERS[n].traits.partner is None]
PICKS_CONFIGS = sorted(n for n, e in SCHEDULERS.items() if e.traits.picks_configs)


@pytest.mark.parametrize(
    ("searcher", "scheduler"), list(itertools.product(UNPAIRED_MODEL_BASED, PICKS_CONFIGS))
)
def test_model_based_searchers_cannot_drive_a_scheduler_that_picks_configs(
    searcher: str, scheduler: str
) -> None:
    assert UNPAIRED_MODEL_BASED and PICKS_CONFIGS
    with pytest.raises(config.ConfigError, match=f"{searcher} cannot drive {scheduler}"):
        make_config(searcher=searcher, scheduler=scheduler)


@pytest.mark.parametrize("name", MODEL_BASED)
def test_model_based_searchers_cannot_sample_a_grid(name: str) -> None:
    space = {**SPACE, "batch_size": {"grid": [32, 64]}}
    with pytest.raises(config.ConfigError, match=f"search_space.batch_size: {name} cannot sample"):
        make_config(searcher=name, search_space=space)


@pytest.mark.parametrize(
    ("searcher", "scheduler", "method"),
    [
        ({"name": "random"}, {"name": "fifo"}, "random"),
        ({"name": "random"}, {"name": "asha"}, "asha"),
        ({"name": "hyperopt"}, {"name": "fifo"}, "hyperopt"),
        ({"name": "hyperopt"}, {"name": "asha"}, "hyperopt+asha"),
        ({"name": "optuna"}, {"name": "asha"}, "optuna-tpe+asha"),
        ({"name": "optuna", "sampler": "cmaes"}, {"name": "fifo"}, "optuna-cmaes"),
        ({"name": "bohb"}, {"name": "bohb"}, "bohb"),
        ({"name": "grid"}, {"name": "pb2"}, "grid+pb2"),
        ({"name": "someday"}, {"name": "fifo"}, "someday"),
    ],
)
def test_method_names_come_from_the_traits(
    searcher: dict[str, Any], scheduler: dict[str, Any], method: str
) -> None:
    assert config.method_name(searcher, scheduler) == method


@pytest.mark.parametrize(
    ("bounds", "message"),
    [
        ({"learning_rate": [0.5, 0.1]}, "learning_rate: must be [low, high] with low < high"),
        ({"batch_size": [32, 256]}, "batch_size: pb2 explores continuous values"),
        ({"activation_scale": [0.5, 2]}, "activation_scale: pb2 explores continuous values"),
        ({"dropout": [0.0, 0.5]}, "dropout: not in search_space"),
        ({"learning_rate": [0.1]}, "learning_rate: List should have at least 2 items"),
    ],
)
def test_pb2_bounds_are_checked_like_pbt_ranges(bounds: dict[str, Any], message: str) -> None:
    with pytest.raises(
        config.ConfigError, match=re.escape(f"scheduler.hyperparam_bounds.{message}")
    ):
        section_config("scheduler", "pb2", hyperparam_bounds=bounds)


def test_pb2_is_built_with_its_bounds_and_keeps_donor_checkpoints() -> None:
    from raytune_hpo.search.pbt_donors import DonorKeepingPB2

    scheduler = scheduler_of(make_config(scheduler="pb2"))
    assert isinstance(scheduler, DonorKeepingPB2)
    assert scheduler._hyperparam_bounds == {"learning_rate": [0.01, 1.0], "momentum": [0.0, 0.9]}
    assert scheduler._perturbation_interval == 2


@pytest.mark.parametrize(
    ("options", "key", "message"),
    [
        ({"sampler": "cmaes", "multivariate": True}, "multivariate", "only the tpe sampler"),
        ({"sampler": "qmc", "n_startup_trials": 3}, "n_startup_trials", "only the tpe, cmaes, gp"),
        ({"sampler": "anneal"}, "sampler", "Input should be 'tpe', 'cmaes', 'gp', 'random', 'qmc'"),
    ],
)  # fmt: skip
def test_optuna_options_are_checked(options: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(config.ConfigError, match=f"searcher.{key}: {message}"):
        section_config("searcher", "optuna", **options)


@pytest.mark.parametrize("sampler", ["tpe", "cmaes", "gp", "random", "qmc"])
def test_every_optuna_sampler_is_seeded(sampler: str, tmp_path: Path) -> None:
    import optuna

    def optuna_config(seed: int) -> ExperimentConfig:
        data = make_config(searcher="optuna", seed=seed).model_dump()
        data["searcher"] = {"name": "optuna", "sampler": sampler}
        return validate_config(data, "registry.yaml")

    def points(seed: int, folder: str) -> list[dict[str, Any]]:
        return suggestions(optuna_config(seed), 4, tmp_path / folder)

    searcher = searcher_of(optuna_config(0))
    assert isinstance(searcher._sampler, optuna.samplers.BaseSampler)
    assert type(searcher._sampler).__name__.lower().startswith(sampler.replace("gp", "gps"))
    assert points(1, "a") == points(1, "b")
    assert points(1, "c") != points(2, "d")


@pytest.mark.parametrize(
    ("section", "name", "module"),
    [
        ("searcher", "bohb", "hpbandster"),
        ("searcher", "bohb", "ConfigSpace"),
        ("searcher", "optuna", "optuna"),
    ],
)
def test_a_missing_library_is_named_with_how_to_install_it(
    section: str, name: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules is how Python itself marks a module that cannot be imported.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(config.ConfigError) as caught:
        make_config(**{section: name})
    assert str(caught.value) == (
        f"registry.yaml: searcher.name: {name} needs the {module} package: "
        "pip install -e '.[methods]' (from a clone)"
    )


def test_bohb_needs_a_model_of_more_points_than_parameters() -> None:
    with pytest.raises(config.ConfigError, match=re.escape(
        "searcher.min_points_in_model: must be at least the number of sampled parameters + 1 "
        "(5), got 4"
    )):  # fmt: skip
        section_config("searcher", "bohb", min_points_in_model=4)


def _name_tests(path: Path, names: set[str]) -> list[str]:
    """The places in ``path`` that compare a value with a method name, or key a dict by one."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            parts = [e for o in operands for e in getattr(o, "elts", [o])]
        elif isinstance(node, ast.Dict):
            parts = [key for key in node.keys if key is not None]
        else:
            continue
        hits = [p.value for p in parts if isinstance(p, ast.Constant) and p.value in names]
        found += [f"{path}:{node.lineno} {value!r}" for value in hits]
    return found


def test_no_module_outside_the_registries_tests_a_method_name() -> None:
    """Behaviour that differs by method is a trait of its entry, so a new entry is one edit."""
    package = Path(config.__file__).resolve().parents[1]
    registries = {package / "search" / "searchers.py", package / "search" / "schedulers.py"}
    # "grid" is also a search-space spec; that one is no method name.
    names = (set(SEARCHERS) | set(SCHEDULERS)) - set(search_space.DISTRIBUTIONS)
    found = [
        place
        for path in sorted(package.rglob("*.py"))
        if path not in registries
        for place in _name_tests(path, names)
    ]
    assert not found, found


def test_bohb_pb2_and_optuna_keep_their_libraries_noise_out_of_the_console() -> None:
    """statsmodels warns at each fit of BOHB's model, scikit-learn at each of PB2's bandit,
    Optuna at each experimental sampler."""
    from optuna.exceptions import ExperimentalWarning
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        searcher_of(make_config(searcher="bohb"))
        scheduler_of(make_config(scheduler="pb2"))
        searcher_of(make_config(searcher="optuna"))
        warnings.warn("QMCSampler is experimental", ExperimentalWarning, stacklevel=1)
        warnings.warn_explicit(
            "The optimal value found for dimension 0 of parameter lengthscale is close to the "
            "specified lower bound 1e-05.", ConvergenceWarning, "kernels.py", 445,
            module="sklearn.gaussian_process.kernels",
        )  # fmt: skip
        warnings.warn_explicit(
            "After 0.17 or January 2028, whichever comes first, the default behavior will "
            "switch to using an entropy initialized numpy.random.Generator.", FutureWarning,
            "_decorators.py", 219, module="pandas.util._decorators",
        )  # fmt: skip
        warnings.warn("a warning of the toolkit's own still shows", UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["a warning of the toolkit's own still shows"]


def _pb2_new_configs(seed: int) -> list[dict[str, Any]]:
    """Two explore steps of a PB2 built with ``seed`` after 4 epochs of 4 made-up trials."""
    scheduler = scheduler_of(make_config(scheduler="pb2", seed=seed))
    assert scheduler.set_search_properties(METRIC, MODE)
    controller = FakeController()
    trials = add_trials(scheduler, controller, 4)
    for epoch, (index, trial) in itertools.product(range(1, 5), enumerate(trials)):
        scheduler.on_trial_result(controller, trial, result(epoch, 0.1 * index + 0.5 / epoch))
    return [scheduler._get_new_config(trials[3], trials[0])[0] for _ in range(2)]


def test_pb2_bandit_is_seeded_and_leaves_numpy_alone() -> None:
    np.random.seed(7)
    expected_next = np.random.uniform()
    np.random.seed(7)
    first = _pb2_new_configs(seed=1)
    assert np.random.uniform() == expected_next, "PB2 drew from NumPy's global generator"
    assert _pb2_new_configs(seed=1) == first
    assert _pb2_new_configs(seed=2) != first
    assert first[0] != first[1]
