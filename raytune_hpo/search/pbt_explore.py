"""PBT's explore step, bounded by the ``hyperparam_mutations`` specs of the config.

For every mutated key, independently:

- with probability ``resample_probability`` (or when the current value does not belong to the
  spec), draw a fresh value from the spec's distribution;
- otherwise a ``choice`` moves to a neighbouring value (inwards at either end), and a number is
  multiplied by one of ``perturbation_factors``;
- every number is then clipped to ``[low, high]``, an integer is rounded (not truncated) and a
  quantised spec snaps to a multiple of ``q``; where rounding undid the move, the value takes one
  step (1, or ``q``) in the move's direction instead. Integers stay ``int``, floats stay
  ``float``, choices stay choices.

All randomness comes from one ``random.Random``, so a seed reproduces the whole sequence.
:class:`BoundedExplore` is what the PBT scheduler calls (Ray's ``custom_explore_fn``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from raytune_hpo.search import search_space

PERTURBATION_FACTORS = (1.2, 0.8)
"""Ray's defaults: a perturbed number is multiplied by one of these."""
DISCRETE_KINDS = search_space.INTEGER_KINDS | {"quniform"}
"""Kinds whose values lie on a grid: a perturbation moves at least one step."""


def explore(
    config: Mapping[str, Any],
    specs: Mapping[str, Any],
    rng: random.Random,
    resample_probability: float,
    perturbation_factors: Sequence[float] = PERTURBATION_FACTORS,
) -> dict[str, Any]:
    """A copy of ``config`` with every key of ``specs`` perturbed or resampled within its spec.

    Args:
        config: The donor trial's config (not modified).
        specs: ``hyperparam_mutations`` in the search-space spec format (validated).
        rng: The source of randomness.
        resample_probability: Chance of drawing a fresh value instead of perturbing, in [0, 1].
        perturbation_factors: Factors a number may be multiplied by.

    Raises:
        search_space.SearchSpaceError: A spec is invalid, a constant or a grid.
    """
    new = dict(config)
    for key, spec in specs.items():
        value = config.get(key)
        new[key] = mutate(key, spec, value, rng, resample_probability, perturbation_factors)
    return new


def mutation_kind(key: str, spec: Any) -> str:
    """The distribution of a valid mutation spec.

    Raises:
        search_space.SearchSpaceError: The spec is invalid, a constant or a grid.
    """
    kind = search_space.spec_kind(key, spec)
    if kind is None or kind == "grid":
        allowed = ", ".join(k for k in search_space.DISTRIBUTIONS if k != "grid")
        raise search_space.SearchSpaceError(
            key, f"a mutation needs a distribution ({allowed}), got {spec!r}"
        )
    search_space.check_spec(key, spec)
    return kind


def mutate(
    key: str,
    spec: Any,
    value: Any,
    rng: random.Random,
    resample_probability: float,
    perturbation_factors: Sequence[float] = PERTURBATION_FACTORS,
) -> Any:
    """One value's explore step (see the module docstring)."""
    kind = mutation_kind(key, spec)
    args = spec[kind]
    resample = rng.random() < resample_probability or not search_space.contains(key, spec, value)
    if kind == "choice":
        return rng.choice(args) if resample else _neighbour(args, value, rng)
    if resample:
        return sample(kind, args, rng)
    factor = rng.choice(list(perturbation_factors))
    moved = bound(kind, args, value * factor)
    if kind in DISCRETE_KINDS and factor != 1 and math.isclose(moved, value):
        # Rounding to the grid undid the move: take one step in its direction instead.
        step = args[2] if len(args) == 3 else 1
        up = value * factor > value or (value == 0 and factor > 1)
        moved = bound(kind, args, value + (step if up else -step))
    return moved


def _neighbour(values: Sequence[Any], value: Any, rng: random.Random) -> Any:
    """The value left or right of ``value`` in ``values`` (inwards at either end)."""
    if len(values) == 1:
        return values[0]
    index = list(values).index(value)
    if index == 0:
        return values[1]
    if index == len(values) - 1:
        return values[-2]
    return values[index + rng.choice((-1, 1))]


def bound(kind: str, args: Sequence[Any], value: float) -> int | float:
    """Clip ``value`` to the spec's ``[low, high]``, snap to its grid, and fix its type."""
    low, high = args[0], args[1]
    value = min(max(value, low), high)
    if kind in search_space.QUANTISED_KINDS:
        value = min(max(round(value / args[2]) * args[2], low), high)
    if kind in search_space.INTEGER_KINDS:
        return int(round(value))
    return float(value)


def sample(kind: str, args: Sequence[Any], rng: random.Random) -> int | float:
    """A fresh value drawn from a numeric spec (both ends inclusive for integers)."""
    low, high = args[0], args[1]
    if kind in ("uniform", "quniform"):
        value = rng.uniform(low, high)
    elif kind == "loguniform":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    elif kind == "randint":
        value = rng.randint(low, high)
    elif kind == "lograndint":
        value = math.exp(rng.uniform(math.log(low), math.log(high + 1)))
        value = math.floor(value)
    elif kind == "qrandint":
        value = rng.randint(round(low / args[2]), round(high / args[2])) * args[2]
    else:
        raise ValueError(f"cannot sample a {kind!r} spec")
    return bound(kind, args, value)


class BoundedExplore:
    """PBT's ``custom_explore_fn``: ``config -> config``, perturbed within the mutation specs.

    Holds its own seeded RNG; it pickles with the scheduler (Ray saves the tuner).

    Args:
        specs: ``hyperparam_mutations`` in the search-space spec format.
        resample_probability: Chance of a fresh draw per key.
        seed: Seed of the RNG.
        perturbation_factors: Factors a number may be multiplied by.
    """

    def __init__(
        self,
        specs: Mapping[str, Any],
        resample_probability: float,
        seed: int,
        perturbation_factors: Sequence[float] = PERTURBATION_FACTORS,
    ) -> None:
        for key, spec in specs.items():
            mutation_kind(key, spec)
        self.specs = dict(specs)
        self.resample_probability = resample_probability
        self.perturbation_factors = tuple(perturbation_factors)
        self.rng = random.Random(seed)

    def __call__(self, config: dict[str, Any]) -> dict[str, Any]:
        """The explored copy of the donor's ``config``."""
        return explore(
            config, self.specs, self.rng, self.resample_probability, self.perturbation_factors
        )


def integer_valued(key: str, spec: Any) -> bool:
    """Whether every value a spec can produce is an ``int`` (integer kinds, int constants)."""
    kind = search_space.spec_kind(key, spec)
    if kind is None:
        values = [spec]
    elif kind in ("choice", "grid"):
        values = list(spec[kind])
    else:
        return kind in search_space.INTEGER_KINDS
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)
