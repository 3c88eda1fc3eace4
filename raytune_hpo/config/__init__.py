"""The experiment config, one job per module; this package re-exports what the rest imports.

- :mod:`~raytune_hpo.config.schema`: the pydantic models (:class:`ExperimentConfig` and its
  sections) and their cross-field rules;
- :mod:`~raytune_hpo.config.loading`: YAML files, ``--set KEY=VALUE`` overrides, validation
  into one :class:`ConfigError`, paths of the user's code anchored at the file's folder;
- :mod:`~raytune_hpo.config.smoke_mode`: :func:`smoke`, the tiny version of an experiment;
- :mod:`~raytune_hpo.config.config_errors`: :class:`ConfigError` and pydantic's errors in one line;
- :mod:`~raytune_hpo.config.names`: folder names, searcher and scheduler names;
- :mod:`~raytune_hpo.config.wandb_section`: the ``wandb`` section.

May import ``registry`` and ``search`` (the registries the sections come from), ``demos`` (the
built-in trainables' names and options), ``adapters`` (the command section) and the shared
top-level modules.
"""

from __future__ import annotations

from raytune_hpo.config.config_errors import ConfigError
from raytune_hpo.config.loading import (
    YamlLoader,
    anchor_paths,
    apply_overrides,
    load_config,
    load_yaml,
    parse_override,
    read_yaml,
    validate_config,
)
from raytune_hpo.config.names import (
    check_folder_name,
    method_name,
    scheduler_names,
    searcher_names,
)
from raytune_hpo.config.schema import (
    CheckpointSettings,
    DatasetConfig,
    ExperimentConfig,
    FailureSettings,
    ResourcesConfig,
    SchedulerConfig,
    SearcherConfig,
    TrainableField,
)
from raytune_hpo.config.smoke_mode import smoke

__all__ = [
    "CheckpointSettings",
    "ConfigError",
    "DatasetConfig",
    "ExperimentConfig",
    "FailureSettings",
    "ResourcesConfig",
    "SchedulerConfig",
    "SearcherConfig",
    "TrainableField",
    "YamlLoader",
    "anchor_paths",
    "apply_overrides",
    "check_folder_name",
    "load_config",
    "load_yaml",
    "method_name",
    "parse_override",
    "read_yaml",
    "scheduler_names",
    "searcher_names",
    "smoke",
    "validate_config",
]
