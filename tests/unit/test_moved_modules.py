"""Experiments written before the package was arranged by concept still load.

``tests/data/tuner_0.6_*.pkl`` are the ``tuner.pkl`` files that ``raytune-hpo run`` wrote with
the flat package of version 0.6 (a built-in trainable and a command, both under PBT): their
callbacks, scheduler and trainable spec are pickled under module paths that moved since
(``raytune_hpo.console``, ``raytune_hpo.trial_checks``, ``raytune_hpo.explore``,
``raytune_hpo.trainables.TrainableSpec``, ...). ``raytune-hpo resume`` unpickles that file.
"""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path

import pytest

from raytune_hpo import moved_modules
from raytune_hpo.console.callback import ConsoleCallback
from raytune_hpo.experiment.trial_checks import FailFast
from raytune_hpo.search.pbt_donors import DonorKeepingPBT
from raytune_hpo.search.pbt_explore import BoundedExplore

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("name", ["tuner_0.6_builtin_pbt.pkl", "tuner_0.6_command_pbt.pkl"])
def test_a_tuner_pickled_by_the_flat_package_loads_as_todays_classes(name: str) -> None:
    state = pickle.loads((DATA / name).read_bytes())
    callbacks = {type(callback) for callback in state["_run_config"].callbacks}
    assert {ConsoleCallback, FailFast} <= callbacks
    scheduler = state["_tune_config"].scheduler
    assert type(scheduler) is DonorKeepingPBT
    assert type(scheduler._custom_explore_fn) is BoundedExplore


@pytest.mark.parametrize("old", sorted(moved_modules.MOVED))
def test_every_old_module_name_is_the_module_that_took_over(old: str) -> None:
    module = importlib.import_module(f"raytune_hpo.{old}")
    assert module is importlib.import_module(f"raytune_hpo.{moved_modules.MOVED[old]}")


def test_a_package_that_is_gone_hands_out_its_names_from_where_they_live_now() -> None:
    old = importlib.import_module("raytune_hpo.trainables")
    spec = old.TrainableSpec
    assert spec is importlib.import_module("raytune_hpo.demos.trainables").TrainableSpec
    with pytest.raises(AttributeError, match="'raytune_hpo.trainables' has no attribute 'nope'"):
        _ = old.nope
    # A built-in trainable pickled by 0.7.0 names its code by the old path.
    assert importlib.import_module("raytune_hpo.trainables.lenet").train_lenet is not None


@pytest.mark.parametrize("package", sorted(moved_modules.OLD_ATTRIBUTES))
def test_every_old_name_of_a_package_that_was_a_module_resolves(package: str) -> None:
    module = importlib.import_module(f"raytune_hpo.{package}")
    for name, where in moved_modules.OLD_ATTRIBUTES[package].items():
        if name == "*":
            continue
        module_name, attribute = where.split(":")
        now = getattr(importlib.import_module(f"raytune_hpo.{module_name}"), attribute)
        assert getattr(module, name) is now
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = module.nope
