"""Many objectives and constraints in the config: ``metric``/``mode`` lists, ``constraints``,
``reference_point``, their one-line errors, the refusals of methods that cannot take them, and
the saved config that round-trips them."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from raytune_hpo.config import ConfigError, ExperimentConfig, smoke, validate_config
from raytune_hpo.config.objectives import Constraint, Objective, objectives_of
from raytune_hpo.search.schedulers import SCHEDULERS
from raytune_hpo.search.searchers import SEARCHERS

SPACE = {"learning_rate": {"loguniform": [0.01, 1.0]}, "momentum": {"uniform": [0.0, 0.9]}}
TWO = {"metric": ["validation_error", "train_loss"], "mode": ["min", "min"]}


def config(**changes: Any) -> ExperimentConfig:
    return validate_config({"name": "mo", "search_space": SPACE, **changes}, "mo.yaml")


def refusal(**changes: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        config(**changes)
    assert "\n" not in str(info.value)
    return info.value


def saved_and_read(cfg: ExperimentConfig) -> ExperimentConfig:
    """``cfg`` written as the experiment folder saves it, and read back."""
    return validate_config(yaml.safe_load(yaml.safe_dump(cfg.model_dump(), sort_keys=False)))


def test_one_metric_is_one_objective_and_stays_a_plain_string() -> None:
    cfg = config(metric="validation_accuracy", mode="max")
    assert cfg.objectives == (Objective("validation_accuracy", "max"),)
    assert not cfg.many_objectives
    assert (cfg.metric, cfg.mode, cfg.constraints, cfg.reference_point) == (
        "validation_accuracy",
        "max",
        {},
        None,
    )
    dumped = cfg.model_dump()
    assert (dumped["metric"], dumped["mode"]) == ("validation_accuracy", "max")


def test_lists_name_every_objective_and_the_first_leads() -> None:
    cfg = config(metric=["validation_error", "train_loss"], mode=["min", "max"])
    assert cfg.objectives == (
        Objective("validation_error", "min"),
        Objective("train_loss", "max"),
    )
    assert cfg.many_objectives
    assert (cfg.metric, cfg.mode) == ("validation_error", "min")
    assert cfg.entry_context.objectives == cfg.objectives


def test_a_list_of_one_is_one_objective() -> None:
    cfg = config(metric=["train_loss"], mode=["max"])
    assert cfg.objectives == (Objective("train_loss", "max"),)
    assert cfg.model_dump()["metric"] == "train_loss"


def test_the_saved_config_round_trips_objectives_constraints_and_reference_point() -> None:
    cfg = config(
        **TWO,
        constraints={"train_loss": {"max": 2}, "validation_accuracy": {"min": 0.5, "max": 1}},
        reference_point=[1, 3.5],
    )
    dumped = cfg.model_dump()
    assert dumped["metric"] == ["validation_error", "train_loss"]
    assert dumped["mode"] == ["min", "min"]
    assert dumped["constraints"] == {
        "train_loss": {"max": 2.0},
        "validation_accuracy": {"max": 1.0, "min": 0.5},
    }
    assert dumped["reference_point"] == [1.0, 3.5]
    read = saved_and_read(cfg)
    assert read.objectives == cfg.objectives
    assert read.constraints == cfg.constraints
    assert read.reference_point == (1.0, 3.5)
    assert read.model_dump() == dumped
    assert objectives_of(dumped) == cfg.objectives


def test_smoke_keeps_every_objective() -> None:
    cfg = config(**TWO, constraints={"train_loss": {"max": 2}})
    small = smoke(cfg)
    assert small.objectives == cfg.objectives
    assert small.constraints == cfg.constraints


def test_watched_metrics_are_the_objectives_then_the_constrained_ones() -> None:
    cfg = config(**TWO, constraints={"validation_accuracy": {"min": 0.5}, "train_loss": {"max": 2}})
    assert cfg.watched_metrics == ("validation_error", "train_loss", "validation_accuracy")


@pytest.mark.parametrize(
    ("constraint", "value", "broken"),
    [
        ({"max": 1.0}, 1.0, False),
        ({"max": 1.0}, 1.5, True),
        ({"min": 0.5}, 0.4, True),
        ({"min": 0.5}, 0.5, False),
        ({"min": 0.5, "max": 1.0}, 1.2, True),
        ({"min": 0.5, "max": 1.0}, 0.7, False),
        ({"max": 1.0}, math.nan, True),
        ({"max": 1.0}, None, True),
    ],
)
def test_a_constraint_is_broken_outside_its_bounds_or_without_a_value(
    constraint: dict[str, float], value: float | None, broken: bool
) -> None:
    assert Constraint.model_validate(constraint).broken_by(value) is broken


def test_excess_follows_optunas_convention() -> None:
    both = Constraint(max=1.0, min=0.5)
    assert both.excess(0.75) == (-0.25, -0.25)
    assert both.excess(1.5) == (0.5, -1.0)
    assert both.excess(None) == (math.inf, math.inf)


INVALID = [
    ("lengths_differ", {"metric": ["validation_error", "train_loss"], "mode": "min"}, "mode",
     ("1 mode(s) for 2 metric(s)", "[min, min]")),
    ("unknown_mode", {"metric": ["validation_error", "train_loss"], "mode": ["min", "lowest"]},
     "mode[1]", ("'lowest'", "known: min, max")),
    ("empty_list", {"metric": [], "mode": []}, "metric", ("at least one",)),
    ("twice", {"metric": ["train_loss", "train_loss"], "mode": ["min", "min"]}, "metric",
     ("'train_loss' twice",)),
    ("not_a_name", {"metric": ["train_loss", 3], "mode": ["min", "min"]}, "metric[1]",
     ("expected a metric name",)),
    ("unreported_objective", {"metric": ["validation_error", "latency"], "mode": ["min", "min"]},
     "metric", ("does not report 'latency'", "validation_error")),
    ("unreported_constraint", {"constraints": {"latency": {"max": 3}}}, "constraints.latency",
     ("does not report 'latency'",)),
    ("constraint_without_bound", {"constraints": {"train_loss": {}}}, "constraints.train_loss",
     ("needs max", "or min")),
    ("constraint_min_above_max", {"constraints": {"train_loss": {"min": 2, "max": 1}}},
     "constraints.train_loss", ("min must be at most max",)),
    ("constraint_key_typo", {"constraints": {"train_loss": {"maximum": 1}}},
     "constraints.train_loss.maximum", ("allowed: max, min",)),
    ("constraint_nan", {"constraints": {"train_loss": {"max": math.nan}}},
     "constraints.train_loss", ("finite",)),
    ("reference_point_length", {**TWO, "reference_point": [1.0]}, "reference_point",
     ("one number per objective (2: validation_error, train_loss), got 1",)),
    ("reference_point_infinite", {**TWO, "reference_point": [1.0, math.inf]}, "reference_point",
     ("finite",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "key", "fragments"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_objectives_are_refused_in_one_line(
    changes: dict[str, Any], key: str, fragments: tuple[str, ...]
) -> None:
    err = refusal(**changes)
    assert err.key == key, str(err)
    for fragment in fragments:
        assert fragment in err.message, f"{fragment!r} missing from {err.message!r}"


def test_a_constraint_may_bound_an_objective() -> None:
    cfg = config(**TWO, constraints={"train_loss": {"max": 2}})
    assert set(cfg.constraints) == {"train_loss"}


def _needs(section: str, name: str) -> dict[str, Any]:
    """The options a config needs to pick entry ``name`` of ``section``."""
    if section == "searcher":
        return {
            "searcher": {"name": name},
            "scheduler": {"name": "bohb" if name == "bohb" else "fifo"},
        }
    if name in ("pbt", "pb2"):
        key = "hyperparam_mutations" if name == "pbt" else "hyperparam_bounds"
        value = {"momentum": {"uniform": [0.0, 0.9]}} if name == "pbt" else {"momentum": [0, 0.9]}
        return {"scheduler": {"name": name, key: value}, "num_samples": 4}
    searcher = "bohb" if name == "bohb" else "random"
    return {"scheduler": {"name": name}, "searcher": {"name": searcher}}


@pytest.mark.parametrize(
    ("section", "name"),
    [("searcher", name) for name in SEARCHERS] + [("scheduler", name) for name in SCHEDULERS],
)
def test_many_objectives_need_entries_whose_traits_take_them(section: str, name: str) -> None:
    registry = SEARCHERS if section == "searcher" else SCHEDULERS
    changes = {**TWO, **_needs(section, name)}
    if name == "grid":
        changes["search_space"] = {**SPACE, "momentum": {"grid": [0.0, 0.9]}}
    if registry[name].traits.many_objectives:
        config(**changes)
        return
    # A scheduler that comes with its own searcher (BOHB's) is refused through the searcher.
    partner = registry[name].traits.partner if section == "scheduler" else None
    section, registry, name = (
        ("searcher", SEARCHERS, partner) if partner else (section, registry, name)
    )
    err = refusal(**changes)
    assert err.key == f"{section}.name"
    able = [key for key, entry in registry.items() if entry.traits.many_objectives]
    assert f"{section} {name} optimises one metric, got 2 objectives" in err.message
    assert f"{section}s that take several: {', '.join(able)}" in err.message


@pytest.mark.parametrize("name", list(SEARCHERS))
def test_constraints_need_a_searcher_that_honours_them(name: str) -> None:
    changes = {"constraints": {"train_loss": {"max": 2}}, **_needs("searcher", name)}
    if name == "grid":
        changes["search_space"] = {**SPACE, "momentum": {"grid": [0.0, 0.9]}}
    if SEARCHERS[name].traits.constraints:
        assert config(**changes).constraints["train_loss"].max == 2
        return
    err = refusal(**changes)
    assert err.key == "searcher.name"
    assert "cannot honour constraints (train_loss)" in err.message
    assert "searchers that do: random, grid, optuna" in err.message


@pytest.mark.parametrize("sampler", ["nsga2", "nsga3", "tpe", "gp", "random", "qmc"])
def test_optuna_samplers_take_many_objectives_and_constraints(sampler: str) -> None:
    cfg = config(
        **TWO,
        searcher={"name": "optuna", "sampler": sampler},
        constraints={"validation_accuracy": {"min": 0.5}},
    )
    assert cfg.searcher.sampler == sampler  # type: ignore[attr-defined]


def test_cmaes_is_refused_with_many_objectives_or_constraints() -> None:
    many = refusal(**TWO, searcher={"name": "optuna", "sampler": "cmaes"})
    assert many.key == "searcher.sampler"
    assert "samplers that take several: tpe, gp, random, qmc, nsga2, nsga3" in many.message
    bounded = refusal(
        searcher={"name": "optuna", "sampler": "cmaes"}, constraints={"train_loss": {"max": 1}}
    )
    assert bounded.key == "searcher.sampler"
    assert "samplers that steer by them: tpe, gp, nsga2, nsga3" in bounded.message


def test_population_size_is_for_the_nsga_samplers() -> None:
    cfg = config(searcher={"name": "optuna", "sampler": "nsga2", "population_size": 8})
    assert cfg.searcher.population_size == 8  # type: ignore[attr-defined]
    err = refusal(searcher={"name": "optuna", "sampler": "tpe", "population_size": 8})
    assert err.key == "searcher.population_size"


def test_a_command_must_be_able_to_report_every_watched_metric() -> None:
    command = {
        "command": "python train.py ${args}",
        "metrics": {"format": "regex", "pattern": r"loss (?P<loss>\S+) ms (?P<ms>\S+)"},
    }
    assert config(trainable=command, metric=["loss", "ms"], mode=["min", "min"]).many_objectives
    err = refusal(trainable=command, metric="loss", constraints={"memory": {"max": 3}})
    assert err.key == "trainable.metrics.pattern"
    assert "'memory'" in err.message
