"""The ``SEARCHERS`` registry: searcher name -> options, seeded builder, smoke settings, rules.

Each builder imports Ray Tune when called, so that reading a config does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from raytune_hpo.errors import InvalidKey
from raytune_hpo.pydantic_base import EntryOptions
from raytune_hpo.registry import Entry, lookup, options_as
from raytune_hpo.search import search_space

if TYPE_CHECKING:
    from ray.tune.search import SearchAlgorithm, Searcher

    from raytune_hpo.config import ExperimentConfig


def grid_keys(cfg: ExperimentConfig) -> list[str]:
    """The ``search_space`` keys written as ``{grid: [...]}``."""
    return [k for k, v in cfg.search_space.items() if search_space.spec_kind(k, v) == "grid"]


# --- random and grid: Ray's variant generator --------------------------------------------------


class RandomSearcherConfig(EntryOptions):
    """Random sampling of the search space (Ray's BasicVariantGenerator)."""

    name: Literal["random"] = "random"


class GridSearcherConfig(EntryOptions):
    """Every combination of the ``grid`` entries, ``num_samples`` times."""

    name: Literal["grid"]


def _basic_variant(cfg: ExperimentConfig) -> SearchAlgorithm:
    from ray.tune.search.basic_variant import BasicVariantGenerator

    # Ray applies TuneConfig.max_concurrent_trials only to a Searcher, never to a generator
    # handed in ready-made, so the limit goes in here.
    return BasicVariantGenerator(
        points_to_evaluate=list(cfg.points_to_evaluate) or None,
        random_state=cfg.seed,
        max_concurrent=cfg.max_concurrent_trials or 0,
    )


def _grid_needs_a_grid(cfg: ExperimentConfig) -> None:
    if not grid_keys(cfg):
        raise InvalidKey(
            "searcher.name", "grid needs at least one {grid: [...]} search_space entry"
        )


# --- hyperopt ----------------------------------------------------------------------------------


class HyperOptSearcherConfig(EntryOptions):
    """Tree-structured Parzen estimator from hyperopt."""

    name: Literal["hyperopt"]
    n_initial_points: int = Field(default=20, ge=1)
    gamma: float = Field(default=0.25, gt=0, lt=1)


def _hyperopt(cfg: ExperimentConfig) -> Searcher:
    from ray.tune.search.hyperopt import HyperOptSearch

    s = options_as(cfg.searcher, HyperOptSearcherConfig)
    return HyperOptSearch(
        points_to_evaluate=list(cfg.points_to_evaluate) or None,
        n_initial_points=s.n_initial_points,
        gamma=s.gamma,
        random_state_seed=cfg.seed,
    )


def _check_hyperopt(cfg: ExperimentConfig) -> None:
    if grids := grid_keys(cfg):
        raise InvalidKey(
            f"search_space.{grids[0]}",
            "hyperopt cannot sample a grid; use choice, or searcher random/grid",
        )
    if cfg.scheduler.name == "pbt":
        raise InvalidKey(
            "searcher.name",
            "hyperopt cannot drive pbt: Ray Tune's PBT accepts no search algorithm, as it picks "
            "new configs itself by exploiting and exploring trials; use searcher random or grid",
        )
    sampled = {k for k, v in cfg.search_space.items() if search_space.spec_kind(k, v)}
    for index, point in enumerate(cfg.points_to_evaluate):
        if missing := sorted(sampled - set(point)):
            raise InvalidKey(
                f"points_to_evaluate[{index}]",
                f"hyperopt needs a value for every sampled parameter; missing: "
                f"{', '.join(missing)}",
            )


# --- the registry ------------------------------------------------------------------------------

SEARCHERS: dict[str, Entry[SearchAlgorithm | Searcher]] = {
    "random": Entry(RandomSearcherConfig, _basic_variant),
    "grid": Entry(GridSearcherConfig, _basic_variant, check=_grid_needs_a_grid),
    "hyperopt": Entry(
        HyperOptSearcherConfig, _hyperopt, smoke={"n_initial_points": 1}, check=_check_hyperopt
    ),
}
"""In the order ``searcher.name`` errors list them; grids come from ``{grid: [...]}``."""


def build_searcher(cfg: ExperimentConfig) -> SearchAlgorithm | Searcher:
    """The search algorithm named by ``cfg.searcher``, seeded from ``cfg.seed``."""
    return lookup(SEARCHERS, cfg.searcher.name, "searcher").build(cfg)
