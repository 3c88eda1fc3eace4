"""YAML parameter specs -> ``ray.tune`` domains, and checks on those specs.

A spec is either a plain value (a constant) or a one-key mapping naming a distribution::

    learning_rate: {loguniform: [0.01, 1.0]}
    batch_size: {randint: [32, 256]}        # both ends inclusive
    activation: {choice: [relu, tanh]}
    optimizer: sgd                          # constant

Everything here is pure: no Ray cluster is needed to convert or validate a space, and checking
one (:func:`check_spec`) does not even import Ray Tune, so that loading a config stays light.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from raytune_hpo.errors import InvalidKey


class SearchSpaceError(InvalidKey):
    """A parameter spec that cannot be converted; ``key`` names the parameter."""


def _bounds(key: str, kind: str, args: Any, *, log: bool = False) -> tuple[float, float]:
    if (
        not isinstance(args, (list, tuple))
        or len(args) != 2
        or not all(_is_number(a) for a in args)
    ):
        raise SearchSpaceError(key, f"{kind} takes [low, high] (two numbers, finite), got {args!r}")
    low, high = args
    if not low < high:
        raise SearchSpaceError(key, f"{kind} needs low < high, got low={low}, high={high}")
    if not math.isfinite(high - low):
        raise SearchSpaceError(key, f"{kind} range is too wide to sample, got [{low}, {high}]")
    if log and low <= 0:
        raise SearchSpaceError(key, f"{kind} needs low > 0 on a log scale, got low={low}")
    return low, high


def _quantised(key: str, kind: str, args: Any) -> tuple[float, float, float]:
    if (
        not isinstance(args, (list, tuple))
        or len(args) != 3
        or not all(_is_number(a) for a in args)
    ):
        raise SearchSpaceError(key, f"{kind} takes [low, high, q] (three numbers), got {args!r}")
    low, high = _bounds(key, kind, args[:2])
    q = args[2]
    if not 0 < q <= high - low:
        raise SearchSpaceError(key, f"{kind} needs 0 < q <= high - low ({high - low}), got q={q}")
    if not (_on_grid(low, q) and _on_grid(high, q)):
        raise SearchSpaceError(
            key,
            f"{kind} needs low and high to each be a multiple of q, "
            f"got low={low}, high={high}, q={q}",
        )
    return low, high, q


def _on_grid(value: float, q: float) -> bool:
    """Whether ``value`` is a whole multiple of ``q`` (up to float rounding).

    The same test as Ray Tune's ``quantized`` (relative tolerance only), so that every range
    accepted here is one Ray accepts: with an absolute tolerance, ``low=1e-12, q=0.1`` would pass
    here as "0 steps" and fail in Ray.
    """
    steps = value / q
    return math.isfinite(steps) and math.isclose(steps, round(steps))


def _integers(key: str, kind: str, args: Any, count: int) -> list[int]:
    """The first ``count`` of ``args``, each an integer."""
    if any(not isinstance(a, int) or isinstance(a, bool) for a in args[:count]):
        raise SearchSpaceError(key, f"{kind} takes integers, got {args!r}")
    return list(args[:count])


def _values(key: str, kind: str, args: Any) -> list[Any]:
    if not isinstance(args, (list, tuple)) or len(args) == 0:
        raise SearchSpaceError(key, f"{kind} takes a non-empty list of values, got {args!r}")
    return list(args)


def _is_number(value: Any) -> bool:
    """A finite int or float (bools, NaN and infinities are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _uniform(key: str, args: Any) -> tuple[Any, ...]:
    return _bounds(key, "uniform", args)


def _loguniform(key: str, args: Any) -> tuple[Any, ...]:
    return _bounds(key, "loguniform", args, log=True)


def _quniform(key: str, args: Any) -> tuple[Any, ...]:
    return _quantised(key, "quniform", args)


def _randint(key: str, args: Any) -> tuple[Any, ...]:
    _bounds(key, "randint", args)
    low, high = _integers(key, "randint", args, 2)
    return low, high + 1


def _lograndint(key: str, args: Any) -> tuple[Any, ...]:
    _bounds(key, "lograndint", args, log=True)
    low, high = _integers(key, "lograndint", args, 2)
    return low, high + 1


def _qrandint(key: str, args: Any) -> tuple[Any, ...]:
    _quantised(key, "qrandint", args)
    return tuple(_integers(key, "qrandint", args, 3))


def _values_of(kind: str) -> Callable[[str, Any], tuple[Any, ...]]:
    def values(key: str, args: Any) -> tuple[Any, ...]:
        return (_values(key, kind, args),)

    return values


DISTRIBUTIONS: dict[str, tuple[Callable[[str, Any], tuple[Any, ...]], str]] = {
    "uniform": (_uniform, "uniform"),
    "loguniform": (_loguniform, "loguniform"),
    "quniform": (_quniform, "quniform"),
    "randint": (_randint, "randint"),
    "lograndint": (_lograndint, "lograndint"),
    "qrandint": (_qrandint, "qrandint"),
    "choice": (_values_of("choice"), "choice"),
    "grid": (_values_of("grid"), "grid_search"),
}
"""Spec keyword -> (its check, which returns the arguments of the ``ray.tune`` function, and
that function's name). ``randint``/``lograndint`` are inclusive here, exclusive in Ray Tune."""

NUMERIC_KINDS = frozenset(DISTRIBUTIONS) - {"choice", "grid"}
INTEGER_KINDS = frozenset({"randint", "lograndint", "qrandint"})
QUANTISED_KINDS = frozenset({"quniform", "qrandint"})


def spec_kind(key: str, spec: Any) -> str | None:
    """The distribution a spec names, or None for a constant.

    Raises:
        SearchSpaceError: a mapping that is not exactly one known distribution.
    """
    if not isinstance(spec, Mapping):
        return None
    if len(spec) != 1 or next(iter(spec)) not in DISTRIBUTIONS:
        raise SearchSpaceError(
            key,
            f"a parameter spec is a plain value or one of {{{', '.join(DISTRIBUTIONS)}}}: "
            f"[...], got {dict(spec)!r}",
        )
    return next(iter(spec))


def sampled_keys(space: Mapping[str, Any]) -> list[str]:
    """The keys of ``space`` drawn from a distribution (not constants), in order."""
    return [key for key, spec in space.items() if spec_kind(key, spec)]


def grid_size(space: Mapping[str, Any]) -> int:
    """Combinations of a search space's ``{grid: [...]}`` entries (1 without any).

    Ray Tune runs every combination ``num_samples`` times. Reads the space as written (a config
    or the ``raytune_hpo.yaml`` of an experiment folder) and raises nothing: a spec that is not
    a grid counts once.
    """
    return math.prod(
        len(spec["grid"])
        for spec in space.values()
        if isinstance(spec, Mapping) and list(spec) == ["grid"]
    )


def check_spec(key: str, spec: Any) -> None:
    """Check one parameter spec without building it (nor importing Ray Tune).

    Raises:
        SearchSpaceError: The spec names no known distribution or its arguments do not fit it.
    """
    kind = spec_kind(key, spec)
    if kind is not None:
        check, _ = DISTRIBUTIONS[kind]
        check(key, spec[kind])


def to_domain(key: str, spec: Any) -> Any:
    """Convert one parameter spec to a ``ray.tune`` domain (constants pass through)."""
    kind = spec_kind(key, spec)
    if kind is None:
        return spec
    from ray import tune

    check, function = DISTRIBUTIONS[kind]
    return getattr(tune, function)(*check(key, spec[kind]))


def to_param_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a whole YAML search space to Ray Tune's ``param_space``."""
    return {key: to_domain(key, spec) for key, spec in space.items()}


def contains(key: str, spec: Any, value: Any) -> bool:
    """Whether ``value`` is a value the spec can produce (bounds inclusive)."""
    kind = spec_kind(key, spec)
    if kind is None:
        return value == spec
    args = spec[kind]
    if kind in ("choice", "grid"):
        return value in args
    if not _is_number(value):
        return False
    if kind in INTEGER_KINDS and not float(value).is_integer():
        return False
    if kind in QUANTISED_KINDS and not _on_grid(value, args[2]):
        return False
    return args[0] <= value <= args[1]
