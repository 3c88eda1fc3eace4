"""YAML parameter specs -> ``ray.tune`` domains: kinds, bounds, constants, errors, ``contains``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ray.tune.search.sample import Categorical, Domain, Float, Integer, Quantized

from raytune_hpo.search import search_space
from raytune_hpo.search.search_space import SearchSpaceError, contains, to_domain, to_param_space

SAMPLES = 2000


def _sample(domain: Domain, seed: int = 0) -> np.ndarray:
    """Draw ``SAMPLES`` values from ``domain`` with a seeded numpy generator."""
    return np.asarray(domain.sample(size=SAMPLES, random_state=np.random.default_rng(seed)))


# --- every kind converts to the matching domain ----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "domain_cls", "sampler_cls", "lower", "upper"),
    [
        ({"uniform": [0.5, 2.0]}, Float, Float._Uniform, 0.5, 2.0),
        ({"loguniform": [0.01, 1.0]}, Float, Float._LogUniform, 0.01, 1.0),
        # randint and lograndint are inclusive in YAML: Ray's upper bound is high + 1.
        ({"randint": [32, 256]}, Integer, Integer._Uniform, 32, 257),
        ({"lograndint": [1, 64]}, Integer, Integer._LogUniform, 1, 65),
    ],
    ids=["uniform", "loguniform", "randint", "lograndint"],
)
def test_continuous_and_integer_kinds(
    spec: dict[str, Any], domain_cls: type, sampler_cls: type, lower: float, upper: float
) -> None:
    domain = to_domain("p", spec)
    assert type(domain) is domain_cls
    assert type(domain.get_sampler()) is sampler_cls
    assert (domain.lower, domain.upper) == (lower, upper)


@pytest.mark.parametrize(
    ("spec", "domain_cls", "inner_cls", "lower", "upper", "q"),
    [
        ({"quniform": [0.0, 1.0, 0.25]}, Float, Float._Uniform, 0.0, 1.0, 0.25),
        ({"qrandint": [0, 10, 2]}, Integer, Integer._Uniform, 0, 10, 2),
    ],
    ids=["quniform", "qrandint"],
)
def test_quantised_kinds(
    spec: dict[str, Any],
    domain_cls: type,
    inner_cls: type,
    lower: float,
    upper: float,
    q: float,
) -> None:
    domain = to_domain("p", spec)
    sampler = domain.get_sampler()
    assert type(domain) is domain_cls
    assert isinstance(sampler, Quantized)
    assert type(sampler.get_sampler()) is inner_cls
    assert sampler.q == q
    assert (domain.lower, domain.upper) == (lower, upper)


def test_choice_is_a_categorical_over_the_values() -> None:
    domain = to_domain("activation", {"choice": ["relu", "tanh"]})
    assert type(domain) is Categorical
    assert type(domain.get_sampler()) is Categorical._Uniform
    assert domain.categories == ["relu", "tanh"]


def test_grid_is_ray_grid_search() -> None:
    assert to_domain("units", {"grid": [16, 32, 64]}) == {"grid_search": [16, 32, 64]}


# --- sampling: inclusive integer bounds, never exceeded ---------------------------------------


@pytest.mark.parametrize("kind", ["randint", "lograndint"])
def test_inclusive_integer_kinds_reach_both_ends(kind: str) -> None:
    values = _sample(to_domain("p", {kind: [1, 3]}))
    assert set(values.tolist()) == {1, 2, 3}


def test_qrandint_reaches_both_ends_on_the_grid() -> None:
    values = _sample(to_domain("p", {"qrandint": [0, 4, 2]}))
    assert set(values.tolist()) == {0, 2, 4}


def test_quniform_samples_lie_on_the_grid_within_bounds() -> None:
    values = _sample(to_domain("p", {"quniform": [0.0, 1.0, 0.25]}))
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert np.allclose(values / 0.25, np.round(values / 0.25))
    assert set(np.round(values, 9).tolist()) == {0.0, 0.25, 0.5, 0.75, 1.0}


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [
        ({"uniform": [0.5, 2.0]}, 0.5, 2.0),
        ({"loguniform": [1e-3, 1.0]}, 1e-3, 1.0),
        ({"randint": [32, 256]}, 32, 256),
        ({"lograndint": [2, 512]}, 2, 512),
    ],
    ids=["uniform", "loguniform", "randint", "lograndint"],
)
def test_samples_stay_within_bounds(spec: dict[str, Any], low: float, high: float) -> None:
    values = _sample(to_domain("p", spec))
    assert values.min() >= low
    assert values.max() <= high


def test_sampling_is_seeded() -> None:
    domain = to_domain("p", {"loguniform": [1e-3, 1.0]})
    assert np.array_equal(_sample(domain, seed=3), _sample(domain, seed=3))
    assert not np.array_equal(_sample(domain, seed=3), _sample(domain, seed=4))


# --- constants --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 7, "sgd", None, True, [1, 2], ["relu", "tanh"]])
def test_constants_pass_through(value: Any) -> None:
    assert to_domain("p", value) is value
    assert search_space.spec_kind("p", value) is None


def test_to_param_space_converts_every_key() -> None:
    space = to_param_space(
        {"lr": {"loguniform": [0.01, 1.0]}, "act": {"choice": ["relu"]}, "wd": 0.0}
    )
    assert set(space) == {"lr", "act", "wd"}
    assert isinstance(space["lr"], Float)
    assert isinstance(space["act"], Categorical)
    assert space["wd"] == 0.0


# --- invalid specs ----------------------------------------------------------------------------

INVALID: list[tuple[str, Any, str]] = [
    # low >= high
    ("uniform_equal", {"uniform": [1.0, 1.0]}, "low < high"),
    ("uniform_reversed", {"uniform": [2.0, 1.0]}, "low=2.0, high=1.0"),
    ("randint_reversed", {"randint": [5, 1]}, "low < high"),
    ("quniform_reversed", {"quniform": [1.0, 0.0, 0.5]}, "low < high"),
    # low <= 0 on log scales
    ("loguniform_zero", {"loguniform": [0, 1.0]}, "low=0"),
    ("loguniform_negative", {"loguniform": [-1.0, 1.0]}, "low=-1.0"),
    ("lograndint_zero", {"lograndint": [0, 8]}, "low=0"),
    # wrong arity / not a list
    ("uniform_one", {"uniform": [1.0]}, "[low, high]"),
    ("uniform_three", {"uniform": [0, 1, 2]}, "[low, high]"),
    ("quniform_two", {"quniform": [0.0, 1.0]}, "[low, high, q]"),
    ("qrandint_four", {"qrandint": [0, 10, 2, 1]}, "[low, high, q]"),
    ("randint_scalar", {"randint": 5}, "[low, high]"),
    ("uniform_mapping", {"uniform": {"low": 0, "high": 1}}, "[low, high]"),
    # non-numbers
    ("uniform_string", {"uniform": ["a", 1]}, "two numbers"),
    ("uniform_none", {"uniform": [None, 1]}, "two numbers"),
    ("quniform_string_q", {"quniform": [0, 1, "0.1"]}, "three numbers"),
    # bools are not numbers
    ("uniform_bools", {"uniform": [False, True]}, "two numbers"),
    ("randint_bool", {"randint": [True, 3]}, "two numbers"),
    # integer kinds take integers
    ("randint_float", {"randint": [1.5, 3]}, "integers"),
    ("randint_integral_float", {"randint": [1.0, 3]}, "integers"),
    ("lograndint_float", {"lograndint": [1, 3.5]}, "integers"),
    ("qrandint_float_q", {"qrandint": [0, 10, 2.5]}, "integers"),
    # q <= 0, q larger than the range, q not dividing the range
    ("quniform_q_zero", {"quniform": [0.0, 1.0, 0]}, "q=0"),
    ("quniform_q_negative", {"quniform": [0.0, 1.0, -0.5]}, "q=-0.5"),
    ("qrandint_q_zero", {"qrandint": [0, 10, 0]}, "q=0"),
    ("quniform_q_too_big", {"quniform": [0.0, 1.0, 2.0]}, "q=2.0"),
    ("quniform_q_not_dividing", {"quniform": [0.0, 1.0, 0.3]}, "multiple of q"),
    ("qrandint_q_not_dividing", {"qrandint": [0, 10, 3]}, "multiple of q"),
    # empty or non-list choice / grid
    ("choice_empty", {"choice": []}, "non-empty list"),
    ("grid_empty", {"grid": []}, "non-empty list"),
    ("choice_string", {"choice": "relu"}, "non-empty list"),
    ("grid_mapping", {"grid": {"a": 1}}, "non-empty list"),
    # unknown distribution, several keys, empty mapping
    ("unknown_name", {"normal": [0.0, 1.0]}, "normal"),
    ("typo_name", {"loguniorm": [0.01, 1.0]}, "loguniorm"),
    ("multi_key", {"uniform": [0, 1], "choice": [1, 2]}, "one of"),
    ("empty_mapping", {}, "one of"),
]


@pytest.mark.parametrize(
    ("spec", "fragment"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_specs_raise_with_key_and_value(spec: Any, fragment: str) -> None:
    with pytest.raises(SearchSpaceError) as info:
        to_domain("learning_rate", spec)
    err = info.value
    assert err.key == "learning_rate"
    assert fragment in err.message
    assert "\n" not in str(err)


@pytest.mark.parametrize(
    "spec",
    [
        # YAML spells these .inf / .nan; Ray rejects infinite bounds with its own ValueError.
        {"uniform": [0.0, math.inf]},
        {"uniform": [-math.inf, 0.0]},
        {"loguniform": [0.1, math.inf]},
        {"quniform": [0.0, 1.0, math.nan]},
        # Finite numbers whose step count overflows: round(inf) raises OverflowError.
        {"quniform": [0.0, 1.0, 1e-320]},
        {"quniform": [-1e308, 1e308, 1.0]},
        # high - low is a multiple of q, but Ray also needs low and high to be multiples of q.
        {"quniform": [0.05, 0.95, 0.1]},
        {"quniform": [1, 3, 2]},
        # A low far below q is "0 steps" only with an absolute tolerance, which Ray has not.
        {"quniform": [1e-12, 1.0, 0.1]},
        {"quniform": [0.1, 1e308, 1e308]},
    ],
    ids=[
        "uniform_inf_high",
        "uniform_inf_low",
        "loguniform_inf",
        "q_nan",
        "q_tiny",
        "span_huge",
        "quniform_low_off_grid",
        "quniform_int_low_off_grid",
        "quniform_low_tiny_against_q",
        "quniform_low_tiny_against_huge_q",
    ],
)
def test_specs_ray_cannot_build_raise_search_space_error(spec: Any) -> None:
    """Known bug: these leak ValueError/OverflowError from Ray or ``round``."""
    try:
        to_domain("p", spec)
    except SearchSpaceError as err:
        assert err.key == "p"
    except Exception as err:  # the point is which exception escapes
        pytest.fail(
            f"to_domain('p', {spec!r}) raised {type(err).__name__}: {err} "
            "(expected SearchSpaceError naming the key)"
        )
    else:
        pytest.fail(f"to_domain('p', {spec!r}) accepted a spec Ray cannot sample")


def test_qrandint_with_low_off_the_q_grid_is_rejected_or_reaches_its_bounds() -> None:
    """Known bug: Ray quantises to multiples of q, so [1, 5, 2] samples only {2, 4}."""
    spec = {"qrandint": [1, 5, 2]}
    try:
        domain = to_domain("p", spec)
    except SearchSpaceError:
        return
    values = set(_sample(domain).tolist())
    assert values == {1, 3, 5}, f"{spec!r} was accepted but samples {sorted(values)}"


# --- contains ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ({"uniform": [0.0, 1.0]}, 0.0, True),
        ({"uniform": [0.0, 1.0]}, 1.0, True),
        ({"uniform": [0.0, 1.0]}, 0.5, True),
        ({"uniform": [0.0, 1.0]}, 1.01, False),
        ({"uniform": [0.0, 1.0]}, -0.1, False),
        ({"uniform": [0.0, 1.0]}, "0.5", False),
        ({"uniform": [0.0, 1.0]}, None, False),
        ({"loguniform": [0.01, 1.0]}, 0.001, False),
        ({"randint": [1, 3]}, 3, True),
        ({"randint": [1, 3]}, 1, True),
        ({"randint": [1, 3]}, 4, False),
        ({"randint": [1, 3]}, 2.5, False),
        ({"lograndint": [1, 64]}, 64, True),
        ({"qrandint": [0, 10, 2]}, 4, True),
        ({"quniform": [0.0, 1.0, 0.25]}, 0.75, True),
        ({"choice": ["relu", "tanh"]}, "relu", True),
        ({"choice": ["relu", "tanh"]}, "gelu", False),
        ({"grid": [16, 32]}, 32, True),
        ({"grid": [16, 32]}, 24, False),
        ("sgd", "sgd", True),
        ("sgd", "adam", False),
        (0.0, 0.0, True),
    ],
)
def test_contains(spec: Any, value: Any, expected: bool) -> None:
    assert contains("p", spec, value) is expected


@pytest.mark.parametrize(
    ("spec", "value"),
    [({"qrandint": [0, 10, 2]}, 3), ({"quniform": [0.0, 1.0, 0.25]}, 0.3)],
    ids=["qrandint_off_grid", "quniform_off_grid"],
)
def test_contains_rejects_values_off_the_quantisation_grid(spec: Any, value: Any) -> None:
    """Known bug: ``contains`` ignores ``q``, so off-grid points_to_evaluate are accepted."""
    assert contains("p", spec, value) is False, (
        f"contains({spec!r}, {value!r}) is True, but the spec can never produce {value!r}"
    )


def test_contains_rejects_malformed_spec() -> None:
    with pytest.raises(SearchSpaceError):
        contains("p", {"normal": [0, 1]}, 0.5)


# --- property: to_domain never raises anything but SearchSpaceError ----------------------------

# Extremes are drawn explicitly: JSON has no inf/nan, but tiny and huge finite floats are legal.
_numbers = (
    st.integers(min_value=-(10**6), max_value=10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([5e-324, 1e-310, 1e308, -1e308, 0.1, 1, 2])
)
_scalars = st.none() | st.booleans() | _numbers | st.text(max_size=6)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_args = st.lists(_numbers, min_size=0, max_size=4) | _json
_spec_keys = st.sampled_from(sorted(search_space.DISTRIBUTIONS)) | st.text(max_size=10)
_well_formed = st.builds(
    lambda kind, args: {kind: args},
    st.sampled_from(sorted(search_space.DISTRIBUTIONS)),
    st.lists(_numbers, min_size=2, max_size=3),
)
_specs = _well_formed | _json | st.dictionaries(_spec_keys, _args, min_size=0, max_size=2)


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    derandomize=True,
    # No shrinking: a failure is reported as drawn (specs are small), which keeps it fast.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(spec=_specs, probe=_json)
def test_to_domain_raises_only_search_space_error(spec: Any, probe: Any) -> None:
    """Any JSON-like spec converts or raises SearchSpaceError; contains() then answers a bool."""
    try:
        to_domain("p", spec)
    except SearchSpaceError as err:
        assert err.key == "p"
        return
    except Exception as err:  # the point is which exception escapes
        pytest.fail(f"to_domain('p', {spec!r}) raised {type(err).__name__}: {err}")
    assert isinstance(contains("p", spec, probe), bool)
