"""The ``SEARCHERS`` registry: searcher name -> builder of a seeded Ray Tune search algorithm."""

from __future__ import annotations

from collections.abc import Callable

from ray.tune.search import SearchAlgorithm, Searcher
from ray.tune.search.basic_variant import BasicVariantGenerator

from raytune_hpo.config import ExperimentConfig
from raytune_hpo.registry import lookup


def _basic_variant(cfg: ExperimentConfig) -> SearchAlgorithm:
    # Ray applies TuneConfig.max_concurrent_trials only to a Searcher, never to a generator
    # handed in ready-made, so the limit goes in here.
    return BasicVariantGenerator(
        points_to_evaluate=list(cfg.points_to_evaluate) or None,
        random_state=cfg.seed,
        max_concurrent=cfg.max_concurrent_trials or 0,
    )


def _hyperopt(cfg: ExperimentConfig) -> Searcher:
    from ray.tune.search.hyperopt import HyperOptSearch

    return HyperOptSearch(
        points_to_evaluate=list(cfg.points_to_evaluate) or None,
        n_initial_points=cfg.searcher.n_initial_points,
        gamma=cfg.searcher.gamma,
        random_state_seed=cfg.seed,
    )


SEARCHERS: dict[str, Callable[[ExperimentConfig], SearchAlgorithm | Searcher]] = {
    "random": _basic_variant,
    "grid": _basic_variant,
    "hyperopt": _hyperopt,
}
"""``random`` and ``grid`` share Ray's variant generator; grids come from ``{grid: [...]}``."""


def build_searcher(cfg: ExperimentConfig) -> SearchAlgorithm | Searcher:
    """The search algorithm named by ``cfg.searcher``, seeded from ``cfg.seed``."""
    return lookup(SEARCHERS, cfg.searcher.name, "searcher")(cfg)
