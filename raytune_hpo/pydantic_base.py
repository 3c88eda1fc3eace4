"""The base model of every config section (kept apart so that small modules can share it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section that rejects unknown keys and wrong types (``true`` is no integer)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EntryOptions(StrictModel):
    """The options of a searcher or scheduler: a config section chosen by its ``name``.

    Each registry entry's model narrows ``name`` to a ``Literal`` of its registry key.
    """

    name: str
