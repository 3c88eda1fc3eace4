"""The ``wandb`` section of an experiment config, apart from the W&B code that acts on it.

Imports only pydantic, so that loading a config never pulls in wandb or Ray's W&B integration
(:mod:`raytune_hpo.tracking.wandb_runs` does, when an experiment runs).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WandbConfig(BaseModel):
    """The ``wandb`` section of an experiment config.

    Attributes:
        enabled: Log to W&B at all.
        project: W&B project.
        entity: W&B user or team; None uses the account's default.
        group: Group of the experiment's runs; None uses the experiment name.
        tags: Tags put on every run.
        mode: ``auto`` is ``online`` when an API key is configured and the W&B server
            answers, else ``offline``.
        dir: Folder in which W&B creates its ``wandb/`` folder of run files (as
            ``wandb.init(dir=...)``); None uses the experiment folder.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    project: str = Field(default="raytune-hpo", min_length=1)
    entity: str | None = None
    group: str | None = None
    tags: list[str] = []
    mode: Literal["auto", "online", "offline"] = "auto"
    dir: str | None = None
