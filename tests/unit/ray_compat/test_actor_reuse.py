"""A pending trial keeps the actor Ray is already starting for it (:func:`tune_loop.
started_actors_kept`), and takes a cached actor where its own is only requested.

The moment this is about (a trial ends while Ray starts another trial's worker process) comes
and goes within a second of a real run and cannot be brought about on purpose, so Ray Tune's
controller is held at that moment by a stand-in with the attributes its
``_maybe_reuse_cached_actor`` reads; the cache of actors is Ray Tune's own. What it does over a
whole run (worker processes started, wall time against bare Ray) is measured by
``experiments/benchmarks/bench_scale.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from ray.tune.execution.tune_controller import TuneController
from ray.tune.experiment import Trial
from ray.tune.utils.object_cache import _ObjectCache

from raytune_hpo.ray_compat import tune_loop

RESOURCES = "0.25 CPU"  # the cache keys actors by their resource request; any hashable will do


class StandInRayActor:
    """The Ray actor handle a trial is given: Ray Tune asks it for the trial's first metrics."""

    class _Method:
        def remote(self, **kwargs: Any) -> None:
            return None

    get_auto_filled_metrics = _Method()


@dataclass
class StandInActorManager:
    """Ray's actor manager: which tracked actors are created (their worker started or
    starting), with the Ray actor of each."""

    created: set[str] = field(default_factory=set)

    @property
    def _live_actors_to_ray_actors_resources(self) -> dict[str, tuple[StandInRayActor, None]]:
        return {actor: (StandInRayActor(), None) for actor in self.created}

    def is_actor_started(self, tracked_actor: str) -> bool:
        return tracked_actor in self.created


@dataclass
class StandInController:
    """The controller's state at the moment one trial's actor was cached."""

    _actor_manager: StandInActorManager = field(default_factory=StandInActorManager)
    _actor_cache: _ObjectCache = field(default_factory=lambda: _ObjectCache(may_keep_one=True))
    _trial_to_actor: dict[Trial, str] = field(default_factory=dict)
    _actor_to_trial: dict[str, Trial] = field(default_factory=dict)
    _resetting_trials: set[Trial] = field(default_factory=set)
    removed: list[str] = field(default_factory=list)
    resets: list[Trial] = field(default_factory=list)

    def _remove_actor(self, tracked_actor: str) -> None:
        self.removed.append(tracked_actor)

    def _schedule_trial_reset(self, trial: Trial, config: Any, tag: Any) -> None:
        self.resets.append(trial)

    def reuse(self, trial: Trial) -> bool:
        return bool(TuneController._maybe_reuse_cached_actor(self, trial))  # type: ignore[arg-type]


@pytest.fixture
def controller() -> Iterator[StandInController]:
    """A finished trial's actor in the cache, one pending trial that wants it; the patch on."""
    before = TuneController._maybe_reuse_cached_actor
    tune_loop.started_actors_kept()
    stand_in = StandInController()
    stand_in._actor_cache.increase_max(RESOURCES)
    stand_in._actor_cache.cache_object(RESOURCES, "finished trial's actor")
    stand_in._actor_manager.created.add("finished trial's actor")
    try:
        yield stand_in
    finally:
        TuneController._maybe_reuse_cached_actor = before  # type: ignore[method-assign]


def pending_trial(stand_in: StandInController, own_actor: str, *, created: bool) -> Trial:
    trial = Trial("__fake", stub=True)
    trial.placement_group_factory = RESOURCES  # type: ignore[assignment]
    stand_in._trial_to_actor[trial] = own_actor
    stand_in._actor_to_trial[own_actor] = trial
    if created:
        stand_in._actor_manager.created.add(own_actor)
    return trial


def test_a_trial_keeps_the_actor_ray_is_already_starting(controller: StandInController) -> None:
    trial = pending_trial(controller, "its own actor", created=True)

    assert controller.reuse(trial) is False
    assert controller.removed == []
    assert controller._trial_to_actor[trial] == "its own actor"
    assert controller._actor_cache.has_cached_object(RESOURCES)  # left for another trial


def test_a_trial_whose_actor_is_only_requested_takes_the_cached_one(
    controller: StandInController,
) -> None:
    trial = pending_trial(controller, "its requested actor", created=False)

    assert controller.reuse(trial) is True
    assert controller.removed == ["its requested actor"]
    assert controller._trial_to_actor[trial] == "finished trial's actor"
    assert controller.resets == [trial]
    assert not controller._actor_cache.has_cached_object(RESOURCES)


def test_a_new_trial_takes_the_cached_actor(controller: StandInController) -> None:
    trial = Trial("__fake", stub=True)
    trial.placement_group_factory = RESOURCES  # type: ignore[assignment]

    assert controller.reuse(trial) is True
    assert controller.removed == []
    assert controller._trial_to_actor[trial] == "finished trial's actor"


def test_installing_twice_wraps_rays_own_method_once(controller: StandInController) -> None:
    tune_loop.started_actors_kept()
    patched = TuneController._maybe_reuse_cached_actor
    assert patched.rays_own.__module__ == "ray.tune.execution.tune_controller"  # type: ignore[attr-defined]
