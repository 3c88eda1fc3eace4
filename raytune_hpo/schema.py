"""The base model of every config section (kept apart so that small modules can share it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section that rejects unknown keys and wrong types (``true`` is no integer)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
