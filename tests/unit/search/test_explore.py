"""The bounded PBT explore step: values never leave their ranges, whatever the perturbation."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ray.tune.experiment import Trial

from raytune_hpo.config import ConfigError, validate_config
from raytune_hpo.search import pbt_explore as explore
from raytune_hpo.search import search_space
from raytune_hpo.search.schedulers import build_scheduler

KEY = "param"


@st.composite
def numeric_specs(draw: st.DrawFn) -> dict[str, list[Any]]:
    """A valid numeric spec of any kind, with bounds from tiny to wide."""
    kind = draw(st.sampled_from(sorted(search_space.NUMERIC_KINDS)))
    if kind == "uniform":
        low = draw(st.floats(-1e3, 1e3))
        return {kind: [low, low + draw(st.floats(1e-3, 1e3))]}
    if kind == "loguniform":
        low = draw(st.floats(1e-6, 10.0))
        return {kind: [low, low * draw(st.floats(1.01, 1e4))]}
    if kind == "quniform":
        q = draw(st.sampled_from([0.125, 0.25, 0.5, 1.0, 2.5]))  # exact in binary
        low = draw(st.integers(-100, 100))
        return {kind: [low * q, (low + draw(st.integers(1, 40))) * q, q]}
    if kind == "randint":
        low = draw(st.integers(-100, 100))
        return {kind: [low, low + draw(st.integers(1, 300))]}
    if kind == "lograndint":
        low = draw(st.integers(1, 100))
        return {kind: [low, low + draw(st.integers(1, 1000))]}
    q = draw(st.integers(1, 10))
    low = draw(st.integers(-50, 50))
    return {kind: [low * q, (low + draw(st.integers(1, 20))) * q, q]}


choice_specs = st.lists(
    st.one_of(st.integers(-5, 5), st.sampled_from(["relu", "tanh", "gelu"]), st.floats(0, 1)),
    min_size=1,
    max_size=6,
    unique=True,
).map(lambda values: {"choice": values})

specs = st.one_of(numeric_specs(), choice_specs)
foreign_values = st.one_of(
    st.floats(-1e6, 1e6), st.integers(-(10**6), 10**6), st.just(0), st.just("unknown"), st.none()
)


def _check_value(spec: dict[str, Any], value: Any) -> None:
    """The value is one the spec can produce, of the spec's type, on its grid."""
    kind = search_space.spec_kind(KEY, spec)
    args = spec[kind]
    assert search_space.contains(KEY, spec, value), (spec, value)
    if kind == "choice":
        assert any(value is v or (value == v and type(value) is type(v)) for v in args)
        return
    if kind in search_space.INTEGER_KINDS:
        assert type(value) is int, (spec, value)
    else:
        assert type(value) is float, (spec, value)
    if len(args) == 3:
        steps = value / args[2]
        assert math.isclose(steps, round(steps), abs_tol=1e-6), (spec, value)


@settings(max_examples=300, deadline=None)
@given(
    spec=specs,
    start=st.one_of(st.none(), foreign_values),
    resample_probability=st.floats(0, 1),
    factors=st.lists(st.floats(0.01, 100.0), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    rounds=st.integers(1, 25),
)
def test_repeated_perturbations_never_leave_the_spec(
    spec: dict[str, Any],
    start: Any,
    resample_probability: float,
    factors: list[float],
    seed: int,
    rounds: int,
) -> None:
    rng = random.Random(seed)
    config = {KEY: start, "untouched": "kept"}
    for _ in range(rounds):
        config = explore.explore(config, {KEY: spec}, rng, resample_probability, factors)
        _check_value(spec, config[KEY])
        assert config["untouched"] == "kept"


@settings(max_examples=200, deadline=None)
@given(spec=numeric_specs(), seed=st.integers(0, 2**32 - 1))
def test_samples_lie_in_the_spec(spec: dict[str, Any], seed: int) -> None:
    kind = search_space.spec_kind(KEY, spec)
    value = explore.sample(kind, spec[kind], random.Random(seed))
    _check_value(spec, value)


@pytest.mark.parametrize(
    ("spec", "value", "factor", "expected"),
    [
        ({"randint": [32, 256]}, 200, 1.2, 240),  # 240.0, not truncated
        ({"randint": [32, 256]}, 250, 1.2, 256),  # clipped to high
        ({"randint": [1, 10]}, 2, 1.2, 3),  # 2.4 rounds back to 2: one step up instead
        ({"randint": [1, 10]}, 2, 0.8, 1),  # 1.6 rounds to 2: one step down instead
        ({"qrandint": [32, 256, 32]}, 64, 1.2, 96),  # 76.8 snaps back to 64: one step of q
        ({"randint": [0, 8]}, 7, 1.3, 8),  # 9.1 clipped; still inside
        ({"loguniform": [0.01, 1.0]}, 0.9, 1.2, 1.0),  # Ray would give 1.08
        ({"loguniform": [0.01, 1.0]}, 0.011, 0.8, 0.01),  # Ray would give 0.0088
        ({"uniform": [0.3, 0.9]}, 0.5, 0.8, 0.4),
        ({"quniform": [0.0, 1.0, 0.25]}, 0.5, 1.2, 0.75),  # 0.6 snaps back: one step of q
    ],
)
def test_perturbation_rounds_steps_and_clips(
    spec: dict[str, Any], value: float, factor: float, expected: float
) -> None:
    new = explore.mutate(KEY, spec, value, random.Random(0), 0.0, (factor,))
    assert new == pytest.approx(expected)
    assert type(new) is type(expected)


@pytest.mark.parametrize(
    ("value", "neighbours"),
    [("a", {"b"}), ("b", {"a", "c"}), ("c", {"b"})],
)
def test_choice_moves_to_a_neighbour(value: str, neighbours: set[str]) -> None:
    rng = random.Random(0)
    seen = {explore.mutate(KEY, {"choice": ["a", "b", "c"]}, value, rng, 0.0) for _ in range(50)}
    assert seen == neighbours


def test_resample_probability_one_draws_over_the_whole_range() -> None:
    rng = random.Random(1)
    spec = {"randint": [0, 9]}
    seen = {explore.mutate(KEY, spec, 0, rng, 1.0) for _ in range(300)}
    assert seen == set(range(10))


def test_a_value_outside_the_spec_is_resampled() -> None:
    rng = random.Random(0)
    assert explore.mutate(KEY, {"choice": [1, 2]}, 7, rng, 0.0) in (1, 2)
    assert 0.1 <= explore.mutate(KEY, {"uniform": [0.1, 0.2]}, 5.0, rng, 0.0) <= 0.2


def test_same_seed_same_sequence_other_seed_other_sequence() -> None:
    specs_ = {"lr": {"loguniform": [1e-4, 1e-1]}, "bs": {"choice": [16, 32, 64]}}
    config = {"lr": 1e-2, "bs": 32}

    def run(seed: int) -> list[dict[str, Any]]:
        explorer = explore.BoundedExplore(specs_, 0.25, seed=seed)
        return [explorer(config) for _ in range(20)]

    assert run(3) == run(3)
    assert run(3) != run(4)


@pytest.mark.parametrize("spec", [0.5, {"grid": [1, 2]}, {"uniform": [1, 0]}])
def test_a_spec_that_cannot_be_mutated_is_refused(spec: Any) -> None:
    with pytest.raises(search_space.SearchSpaceError):
        explore.BoundedExplore({KEY: spec}, 0.25, seed=0)


# --- the real PBT scheduler uses it ------------------------------------------------------------

MUTATIONS: dict[str, Any] = {
    "learning_rate": {"loguniform": [0.01, 1.0]},
    "batch_size": {"randint": [32, 256]},
    "activation": {"choice": ["relu", "tanh", "sigmoid"]},
}


def _pbt_config(**scheduler: Any) -> dict[str, Any]:
    return {
        "name": "explore",
        "num_samples": 4,
        "search_space": dict(MUTATIONS),
        "scheduler": {"name": "pbt", "hyperparam_mutations": dict(MUTATIONS), **scheduler},
    }


def test_ray_pbt_explore_stays_in_range_from_the_edges() -> None:
    """Ray's own explore path (what PBT runs at an exploit) with donors at both ends."""
    cfg = validate_config(_pbt_config(resample_probability=0.0))
    scheduler = build_scheduler(cfg.scheduler, cfg.entry_context)
    for edge in (
        {"learning_rate": 1.0, "batch_size": 256, "activation": "sigmoid"},
        {"learning_rate": 0.01, "batch_size": 32, "activation": "relu"},
    ):
        donor = Trial("__fake", config=dict(edge), stub=True)
        for _ in range(100):
            new, _ = scheduler._get_new_config(None, donor)
            for key, spec in MUTATIONS.items():
                _check_value(spec, new[key])


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        (
            {
                "scheduler": {
                    "name": "pbt",
                    "hyperparam_mutations": {"batch_size": {"grid": [32, 64]}},
                }
            },
            "scheduler.hyperparam_mutations.batch_size",
            ("needs a distribution", "choice"),
        ),
        (
            {
                "scheduler": {
                    "name": "pbt",
                    "hyperparam_mutations": {"batch_size": {"uniform": [32, 64]}},
                }
            },
            "scheduler.hyperparam_mutations.batch_size",
            ("integers", "randint"),
        ),
        (
            {"scheduler": {"name": "pbt", "hyperparam_mutations": {"batch_size": 64}}},
            "scheduler.hyperparam_mutations.batch_size",
            ("needs a distribution",),
        ),
        (
            {
                "max_epochs": 3,
                "scheduler": {
                    "name": "pbt",
                    "perturbation_interval": 4,
                    "hyperparam_mutations": MUTATIONS,
                },
            },
            "scheduler.perturbation_interval",
            ("max_epochs (3)", "got 4"),
        ),
        ({"num_samples": 1}, "num_samples", ("population", "got 1")),
    ],
)
def test_pbt_config_errors_name_the_key(
    changes: dict[str, Any], key: str, words: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config({**_pbt_config(), **changes}, "pbt.yaml")
    assert info.value.key == key
    for word in words:
        assert word in info.value.message, info.value.message
