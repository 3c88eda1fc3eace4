"""Smoke mode: a tiny version of an experiment (small data, two epochs, two trials)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from raytune_hpo.config.schema import ExperimentConfig
from raytune_hpo.search.schedulers import SCHEDULERS
from raytune_hpo.search.searchers import SEARCHERS


def smoke(cfg: ExperimentConfig) -> ExperimentConfig:
    """A tiny version of ``cfg``: small data, two epochs, two trials, one-epoch schedules.

    The searcher and scheduler take the ``smoke`` settings of their registry entries.
    """
    dataset = cfg.dataset.model_copy(
        update={"train_size": min(cfg.dataset.train_size or 10**9, 256), "test_size": 128}
    )
    scheduler = cfg.scheduler.model_copy(update=SCHEDULERS[cfg.scheduler.name].smoke)
    searcher = cfg.searcher.model_copy(update=SEARCHERS[cfg.searcher.name].smoke)
    update = {
        "dataset": dataset,
        "max_epochs": min(cfg.max_epochs, 2),
        "num_samples": min(cfg.num_samples, 2),
        "scheduler": scheduler,
        "searcher": searcher,
        "checkpoint": cfg.checkpoint.model_copy(update={"frequency": 1}),
        "trainable_options": {
            **cfg.trainable_options,
            **(cfg.builtin.smoke_options if cfg.builtin else {}),
        },
        "time_budget_s": None,
    }
    return ExperimentConfig.model_validate({**cfg.model_dump(), **_dump(update)})


def _dump(update: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in update.items()}
