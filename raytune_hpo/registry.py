"""Registries of the toolkit: lookup by name, and the entry of a searcher or scheduler.

A searcher or scheduler is one :class:`Entry`: its options model, its builder, its traits, its
smoke settings and its compatibility rules side by side. The config schema, smoke mode, method
names and every behaviour that differs by method (the console's early-stop label, checkpoints
taken from reports, perturbation history and checks) are derived from the ``SEARCHERS`` and
``SCHEDULERS`` dicts of entries, so adding one is one edit there: nothing else tests a name.
An entry's builder and rules take its own options and an :class:`EntryContext`, the few facts of
the experiment they read, never the whole experiment config: among them the experiment's
:class:`Objective` s and :class:`Constraint` s, defined here so that both the config and the
builders use them. This module imports nothing of Ray, and of the rest of the package only the
base models.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar, Union, get_args

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from raytune_hpo.pydantic_base import EntryOptions, StrictModel

T = TypeVar("T")
M = TypeVar("M", bound=EntryOptions)
R = TypeVar("R", bound="Traits")


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """``registry[name]``.

    Raises:
        ValueError: ``name`` is unknown; the message lists the known names.
    """
    try:
        return registry[name]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ValueError(f"unknown {what} {name!r}; known: {known}") from None


@dataclass(frozen=True)
class Objective:
    """One reported metric an experiment optimises.

    Attributes:
        name: The metric's name in the trials' reports.
        mode: ``"min"`` or ``"max"``.
    """

    name: str
    mode: str


class Constraint(StrictModel):
    """A bound on a reported metric (``constraints: {NAME: {max: X}}``): a trial whose last
    report breaks it is never best nor on the Pareto front.

    Attributes:
        max: The largest value allowed; None: no upper bound.
        min: The smallest value allowed; None: no lower bound.
    """

    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Constraint:
        if self.max is None and self.min is None:
            raise ValueError("needs max (at most) or min (at least), e.g. {max: 0.5}")
        for bound in (self.max, self.min):
            if bound is not None and not math.isfinite(bound):
                raise ValueError(f"bounds must be finite numbers, got {bound}")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min must be at most max, got min {self.min:g} > max {self.max:g}")
        return self

    @model_serializer(mode="wrap")
    def _bounds_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, float]:
        return {key: value for key, value in handler(self).items() if value is not None}

    def broken_by(self, value: float | None) -> bool:
        """Whether ``value`` lies outside the bounds; a missing or NaN value breaks it."""
        return max(self.excess(value)) > 0

    def excess(self, value: float | None) -> tuple[float, ...]:
        """How far ``value`` lies beyond each bound, ``max`` first: positive beyond it, zero or
        negative within (Optuna's convention for constraint values); a missing or NaN value
        lies infinitely far beyond."""
        bounds = ((self.max, 1.0), (self.min, -1.0))
        if value is None or math.isnan(value):
            return tuple(math.inf for bound, _ in bounds if bound is not None)
        return tuple(sign * (value - bound) for bound, sign in bounds if bound is not None)


@dataclass(frozen=True)
class Traits:
    """What the rest of the toolkit needs to know of a searcher or scheduler.

    Attributes:
        in_method_name: Whether it shows in a method name beside the other part (random search
            and FIFO do not: ``random`` + ``asha`` is ``asha``).
        method_label: Its part of a method name, from its stored config section; its name
            when None.
        partner: The one entry of the other registry it works with (BOHB's searcher and
            scheduler); None: any.
        many_objectives: It takes several objectives (``metric: [a, b]``).
    """

    in_method_name: bool = True
    method_label: Callable[[Mapping[str, Any]], str] | None = None
    partner: str | None = None
    many_objectives: bool = False


@dataclass(frozen=True)
class SearcherTraits(Traits):
    """A searcher's traits.

    Attributes:
        model_based: It proposes configs from the results so far, from Ray Tune domains: it
            cannot sample ``{grid: [...]}`` nor drive a scheduler that picks configs itself.
        constraints: It honours ``constraints``: it steers its proposals away from configs
            that break them, or it never steers (random and grid search; the constraints then
            only filter the results).
    """

    model_based: bool = False
    constraints: bool = False


@dataclass(frozen=True)
class Perturbation:
    """How a scheduler that perturbs running trials (PBT, PB2) does it.

    Attributes:
        interval: Epochs between two perturbations of a trial.
        keys: The hyperparameters it changes.
    """

    interval: int
    keys: tuple[str, ...]


@dataclass(frozen=True)
class SchedulerTraits(Traits):
    """A scheduler's traits.

    Attributes:
        early_stop_label: How a sentence names it when it ends a trial before ``max_epochs``
            (``"ASHA"``); None if it never does.
        pauses_trials: It pauses trials and resumes them later (from their checkpoints).
        saves_trials: It asks trials to save (to pause or exploit them); one that never does
            lets the driver register reported checkpoints without asking the trial again.
        picks_configs: It sets the config of running trials itself (PBT, PB2), so it takes
            only the variant generator's configs to start from.
        perturbation: Its perturbation schedule from its options; None: it never perturbs.
            A perturbing scheduler gets the perturbation history, its plot and the check
            that trials checkpoint before their first perturbation.
    """

    early_stop_label: str | None = None
    pauses_trials: bool = False
    saves_trials: bool = False
    picks_configs: bool = False
    perturbation: Callable[[Any], Perturbation] | None = None


@dataclass(frozen=True)
class EntryContext:
    """What a searcher's or scheduler's builder and rules read of the experiment, besides
    their own options; the experiment config makes it (``ExperimentConfig.entry_context``).

    Attributes:
        search_space: The YAML search space, as written.
        points_to_evaluate: Configs to try first.
        seed: The experiment's seed.
        max_epochs: The last epoch of a trial.
        num_samples: Samples of the search space (each grid point as often).
        checkpoint_frequency: Epochs between two checkpoints of a trial.
        max_concurrent_trials: Trials that run at once; None: as many as fit.
        scheduler: The name of the experiment's scheduler (a searcher's rules read its
            traits).
        objectives: What the experiment optimises, the first objective first.
        constraints: Reported metric -> its bound.
    """

    search_space: Mapping[str, Any]
    points_to_evaluate: Sequence[Mapping[str, Any]]
    seed: int
    max_epochs: int
    num_samples: int
    checkpoint_frequency: int
    max_concurrent_trials: int | None
    scheduler: str
    objectives: tuple[Objective, ...]
    constraints: Mapping[str, Constraint]


@dataclass(frozen=True)
class Entry(Generic[M, T, R]):
    """One searcher or scheduler.

    Attributes:
        options: The pydantic model of its config section; its ``name`` field is a
            ``Literal`` of the registry key.
        build: Its options and the experiment's context -> the Ray Tune object (imports Ray
            lazily).
        traits: What the rest of the toolkit needs to know of it.
        smoke: Option values that smoke mode sets (one or two epochs, two trials).
        check: Compatibility rules of its options with the rest of the experiment, run when
            a config is validated; raises :class:`InvalidKey` naming the offending key.
    """

    options: type[M]
    build: Callable[[M, EntryContext], T]
    traits: R
    smoke: Mapping[str, Any] = field(default_factory=dict)
    check: Callable[[M, EntryContext], None] | None = None

    def built(self, section: EntryOptions, context: EntryContext) -> T:
        """The Ray Tune object of ``section``, a section of this entry's options.

        Raises:
            TypeError: ``section`` is another entry's options.
        """
        return self.build(options_as(section, self.options), context)

    def check_rules(self, section: EntryOptions, context: EntryContext) -> None:
        """Run this entry's compatibility rules (if any) on ``section`` in ``context``.

        Raises:
            InvalidKey: A rule is broken.
            TypeError: ``section`` is another entry's options.
        """
        if self.check is not None:
            self.check(options_as(section, self.options), context)

    def method_label(self, section: Mapping[str, Any]) -> str:
        """Its part of a method name, given its config section as stored."""
        if self.traits.method_label is not None:
            return self.traits.method_label(section)
        return entry_name(self.options)


def entry_name(options: type[EntryOptions]) -> str:
    """The name an options model answers to: the value of its ``name: Literal[...]`` field."""
    (name,) = get_args(options.model_fields["name"].annotation)
    return name


def options_as(section: EntryOptions, model: type[M]) -> M:
    """``section`` as ``model``: the options an entry's builder or rules read.

    Raises:
        TypeError: ``section`` is another entry's options.
    """
    if not isinstance(section, model):
        raise TypeError(f"expected {model.__name__} options, got {type(section).__name__}")
    return section


def options_union(registry: Mapping[str, Entry[Any, Any, Any]]) -> Any:
    """The options models of ``registry`` as one pydantic union, told apart by ``name``."""
    models = tuple(entry.options for entry in registry.values())
    return Annotated[Union[models], Field(discriminator="name")]  # noqa: UP007 - built at run time
