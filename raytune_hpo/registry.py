"""Registries of the toolkit: lookup by name, and the entry of a searcher or scheduler.

A searcher or scheduler is one :class:`Entry`: its options model, its builder, its smoke
settings and its compatibility rules side by side. The config schema and smoke mode are derived
from the ``SEARCHERS`` and ``SCHEDULERS`` dicts of entries, so adding one is one edit there.
This module imports nothing of Ray, and of the rest of the package only the base models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar, Union, get_args

from pydantic import Field

from raytune_hpo.pydantic_base import EntryOptions

if TYPE_CHECKING:
    from raytune_hpo.config import ExperimentConfig

T = TypeVar("T")
M = TypeVar("M", bound=EntryOptions)


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
class Entry(Generic[T]):
    """One searcher or scheduler.

    Attributes:
        options: The pydantic model of its config section; its ``name`` field is a
            ``Literal`` of the registry key.
        build: The experiment config -> the Ray Tune object (imports Ray lazily).
        smoke: Option values that smoke mode sets (one or two epochs, two trials).
        check: Compatibility rules with the rest of the experiment, run when a config is
            validated; raises :class:`InvalidKey` naming the offending key.
    """

    options: type[EntryOptions]
    build: Callable[[ExperimentConfig], T]
    smoke: Mapping[str, Any] = field(default_factory=dict)
    check: Callable[[ExperimentConfig], None] | None = None


def entry_name(options: type[EntryOptions]) -> str:
    """The name an options model answers to: the value of its ``name: Literal[...]`` field."""
    (name,) = get_args(options.model_fields["name"].annotation)
    return name


def options_as(section: EntryOptions, model: type[M]) -> M:
    """``section`` as ``model``: the options an entry's builder or rule reads.

    An entry's builder and rules run only on a section of its own options model, so this
    narrows the section's type for them.

    Raises:
        TypeError: ``section`` is another entry's options.
    """
    if not isinstance(section, model):
        raise TypeError(f"expected {model.__name__} options, got {type(section).__name__}")
    return section


def options_union(registry: Mapping[str, Entry[Any]]) -> Any:
    """The options models of ``registry`` as one pydantic union, told apart by ``name``."""
    models = tuple(entry.options for entry in registry.values())
    return Annotated[Union[models], Field(discriminator="name")]  # noqa: UP007 - built at run time
