"""Property tests: any input to config loading either converts or raises the toolkit's error.

Whatever a user writes (a nested structure, a mutated valid config, arbitrary YAML text or bytes,
``--set`` overrides), loading ends in an :class:`ExperimentConfig` or a :class:`ConfigError`,
never another exception; and a config that loads builds its search space, searcher and scheduler.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from raytune_hpo.config import (
    ConfigError,
    ExperimentConfig,
    load_config,
    scheduler_names,
    searcher_names,
    validate_config,
)
from raytune_hpo.search import search_space
from raytune_hpo.search.schedulers import build_scheduler
from raytune_hpo.search.searchers import build_searcher

PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

VALID: dict[str, Any] = {
    "name": "prop",
    "trainable": "lenet",
    "trainable_options": {"activation": "relu"},
    "dataset": {"name": "digits", "train_size": 200},
    "metric": "validation_error",
    "mode": "min",
    "max_epochs": 4,
    "num_samples": 4,
    "search_space": {
        "learning_rate": {"loguniform": [0.01, 0.5]},
        "batch_size": {"qrandint": [32, 128, 32]},
        "momentum": {"choice": [0.0, 0.9]},
        "weight_decay": 0.0,
    },
    "points_to_evaluate": [{"learning_rate": 0.1, "batch_size": 64, "momentum": 0.9}],
    "searcher": {"name": "hyperopt", "n_initial_points": 2},
    "scheduler": {"name": "asha", "grace_period": 1, "reduction_factor": 2},
    "failure": {"max_failures": 1},
    "checkpoint": {"frequency": 1, "num_to_keep": 2},
}
"""A valid config touching every section; mutations start from it."""

# Words a user is likely to write, so that generated structures hit real keys and names.
_WORDS = sorted(
    set(ExperimentConfig.model_fields)
    | {"grace_period", "reduction_factor", "max_t", "brackets", "perturbation_interval"}
    | {"hyperparam_mutations", "quantile_fraction", "n_initial_points", "gamma", "cpu", "gpu"}
    | {"data_dir", "train_size", "activation", "fail_at_epoch", "learning_rate", "batch_size"}
    | set(search_space.DISTRIBUTIONS)
    | set(searcher_names())
    | set(scheduler_names())
    | {"lenet", "digits", "mnist", "validation_error", "min", "max"}
)
_numbers = (
    st.integers(min_value=-(10**4), max_value=10**4)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, 2, 0.5, 1e-3, 1e308, -1.0])
)
_scalars = st.none() | st.booleans() | _numbers | st.sampled_from(_WORDS) | st.text(max_size=5)
_keys = st.sampled_from(_WORDS) | st.text(max_size=5)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=10,
)
_structures = st.dictionaries(_keys, _values, max_size=6) | _values


def _accepts_or_config_error(raw: Any) -> ExperimentConfig | None:
    """Validate ``raw``; fail the test on any exception other than :class:`ConfigError`."""
    try:
        return validate_config(raw, "prop.yaml")
    except ConfigError as err:
        assert len(str(err).splitlines()) == 1, repr(str(err))
        return None
    except Exception as err:  # the property is about which exception escapes
        pytest.fail(f"validate_config({raw!r}) raised {type(err).__name__}: {err}")


def _assert_builds(cfg: ExperimentConfig) -> None:
    """An accepted config converts its space and builds its searcher and scheduler."""
    space = search_space.to_param_space(cfg.search_space)
    assert set(space) == set(cfg.search_space)
    build_searcher(cfg.searcher, cfg.entry_context)
    build_scheduler(cfg.scheduler, cfg.entry_context)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a nested dict/list structure, the root excluded."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return []
    found: list[tuple[Any, ...]] = []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _replace(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``raw`` with the node at ``path`` replaced by ``value``."""
    result = copy.deepcopy(raw)
    node: Any = result
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return result


_VALID_PATHS = _paths(VALID)


def test_the_base_config_is_valid() -> None:
    _assert_builds(validate_config(VALID))


@PROPERTY_SETTINGS
@given(raw=_structures, over_valid=st.booleans())
def test_any_structure_loads_or_raises_config_error(raw: Any, over_valid: bool) -> None:
    """Arbitrary structures, alone or laid over the valid config's top level."""
    if over_valid and isinstance(raw, dict):
        raw = {**copy.deepcopy(VALID), **raw}
    cfg = _accepts_or_config_error(raw)
    if cfg is not None:
        _assert_builds(cfg)


@PROPERTY_SETTINGS
@given(path=st.sampled_from(_VALID_PATHS), value=_values)
def test_a_mutated_valid_config_loads_or_raises_config_error(
    path: tuple[Any, ...], value: Any
) -> None:
    cfg = _accepts_or_config_error(_replace(VALID, path, value))
    if cfg is not None:
        _assert_builds(cfg)


@PROPERTY_SETTINGS
@given(
    section=st.sampled_from([p for p in _VALID_PATHS if isinstance(p[-1], str)]),
    key=_keys,
    value=_values,
)
def test_an_added_key_loads_or_raises_config_error(
    section: tuple[Any, ...], key: str, value: Any
) -> None:
    raw = copy.deepcopy(VALID)
    node: Any = raw
    for part in section[:-1]:
        node = node[part]
    if isinstance(node, dict):
        node[key] = value
    cfg = _accepts_or_config_error(raw)
    if cfg is not None:
        _assert_builds(cfg)


@PROPERTY_SETTINGS
@given(body=st.text(max_size=80) | st.binary(max_size=40))
def test_any_file_content_loads_or_raises_config_error(
    tmp_path_factory: pytest.TempPathFactory, body: str | bytes
) -> None:
    path = tmp_path_factory.mktemp("prop") / "exp.yaml"
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except ConfigError:
        return
    except Exception as err:  # the property is about which exception escapes
        pytest.fail(f"load_config of {body!r} raised {type(err).__name__}: {err}")


@PROPERTY_SETTINGS
@given(
    overrides=st.lists(
        st.builds(
            lambda key, value: f"{key}={value}",
            st.lists(_keys, min_size=1, max_size=3).map(".".join) | st.text(max_size=8),
            st.text(max_size=12) | _values.map(lambda v: yaml.safe_dump(v).strip()),
        )
        | st.text(max_size=12),
        max_size=3,
    )
)
def test_any_overrides_load_or_raise_config_error(
    tmp_path_factory: pytest.TempPathFactory, overrides: list[str]
) -> None:
    path = tmp_path_factory.mktemp("prop") / "exp.yaml"
    path.write_text(yaml.safe_dump(VALID))
    try:
        cfg = load_config(path, overrides)
    except ConfigError:
        return
    except Exception as err:  # the property is about which exception escapes
        pytest.fail(f"load_config with --set {overrides!r} raised {type(err).__name__}: {err}")
    _assert_builds(cfg)


def test_valid_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(VALID))
    assert load_config(path) == validate_config(VALID)
