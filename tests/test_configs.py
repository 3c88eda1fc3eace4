"""Every experiment YAML under configs/ loads and builds its space, searcher and scheduler.

Files are discovered at collection time, so a new config is covered without editing this
test. configs/cluster/ holds Ray cluster-launcher files, which are not experiment configs.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from ray.tune.search.basic_variant import BasicVariantGenerator

from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.config import ExperimentConfig, load_config, smoke, validate_config
from raytune_hpo.experiment.runner import resolve_trainable
from raytune_hpo.experiment.scoring import resolve_evaluate
from raytune_hpo.search import search_space
from raytune_hpo.search.schedulers import build_scheduler
from raytune_hpo.search.searchers import build_searcher

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
EXCLUDED = {"cluster"}


def experiment_files() -> list[Path]:
    """Every ``*.yaml`` under configs/, except the cluster-launcher folder."""
    return sorted(
        path
        for path in CONFIG_DIR.rglob("*.yaml")
        if not EXCLUDED & set(path.relative_to(CONFIG_DIR).parts[:-1])
    )


FILES = experiment_files()
IDS = [str(path.relative_to(CONFIG_DIR)) for path in FILES]


def build_all(cfg: ExperimentConfig) -> None:
    """Build what a run needs from ``cfg``, as the runner would, without running anything."""
    param_space = search_space.to_param_space(cfg.search_space)
    assert set(param_space) == set(cfg.search_space)
    searcher = build_searcher(cfg.searcher, cfg.entry_context)
    assert searcher.set_search_properties(cfg.metric, cfg.mode, param_space)
    if not isinstance(searcher, BasicVariantGenerator):
        # Model-based searchers check points_to_evaluate against the space on first use.
        first = searcher.suggest("config_test_0")
        sampled = {k for k, v in cfg.search_space.items() if search_space.spec_kind(k, v)}
        # Ray Tune adds the constants to what a Searcher suggests.
        assert isinstance(first, dict) and sampled <= set(first) <= set(cfg.search_space)
    scheduler = build_scheduler(cfg.scheduler, cfg.entry_context)
    assert scheduler.set_search_properties(cfg.metric, cfg.mode)


def test_configs_are_found() -> None:
    assert FILES, f"no experiment configs under {CONFIG_DIR}"
    assert "quickstart.yaml" in IDS
    assert not any(i.startswith("cluster/") for i in IDS)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_config_loads_and_builds(path: Path) -> None:
    cfg = load_config(path)
    assert isinstance(cfg, ExperimentConfig)
    build_all(cfg)
    # The user's code a config names imports, and its command's folder exists.
    resolve_trainable(cfg, search_paths=(path.parent,))
    resolve_evaluate(cfg, (path.parent,))
    if isinstance(cfg.trainable, CommandSpec):
        assert Path(cfg.trainable.workdir).is_dir(), cfg.trainable.workdir


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_smoke_config_is_valid_and_builds(path: Path) -> None:
    small = smoke(load_config(path))
    assert small.max_epochs <= 2 and small.num_samples <= 2
    assert validate_config(small.model_dump(), str(path)) == small
    build_all(small)


def test_config_names_are_unique() -> None:
    names = Counter(load_config(path).name for path in FILES)
    duplicates = {name: count for name, count in names.items() if count > 1}
    assert not duplicates, f"experiment names used by more than one config: {duplicates}"
