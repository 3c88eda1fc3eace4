"""The experiment from Python: ``raytune_hpo.run`` and ``raytune_hpo.resume``.

The same schema, checks, experiment folder and summary as the command line; a notebook can hand
over a function or ``Trainable`` class it defines instead of naming one by import path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raytune_hpo.config import (
    ExperimentConfig,
    anchor_paths,
    apply_overrides,
    load_config,
    parse_override,
    validate_config,
)

if TYPE_CHECKING:
    from raytune_hpo.console.ray_output import OutputMode
    from raytune_hpo.experiment.runner import ExperimentOutcome


def import_label(trainable: Any) -> str:
    """``module:qualified.name`` of a function or class, as the config records it."""
    return f"{trainable.__module__}:{trainable.__qualname__}"


def resolve_config(
    config: str | Path | Mapping[str, Any] | ExperimentConfig,
    trainable: Any = None,
    overrides: Iterable[str] = (),
) -> tuple[ExperimentConfig, Path]:
    """The validated config and the folder its relative paths start from.

    One rule, as on the command line (:func:`raytune_hpo.config.anchor_paths`): the relative
    paths of a YAML file start from its folder; those of a mapping, a config object and
    ``overrides`` from the current folder.

    Args:
        config: A YAML file, a mapping of the same keys, or a config object.
        trainable: A function or Trainable class; the config's ``trainable`` becomes its
            import path.
        overrides: ``KEY=VALUE`` strings, as ``--set`` takes them.

    Raises:
        ConfigError: The config is invalid (one line naming the key).
    """
    overrides = list(overrides)
    if trainable is not None:
        overrides.append(f"trainable={import_label(trainable)}")
    if isinstance(config, str | Path):
        return load_config(config, overrides), Path(config).expanduser().resolve().parent
    raw = config.model_dump() if isinstance(config, ExperimentConfig) else dict(config)
    raw = apply_overrides(raw, overrides)
    cfg = validate_config(raw, None, [parse_override(o)[0] for o in overrides])
    return anchor_paths(cfg, Path.cwd()), Path.cwd()


def run(
    config: str | Path | Mapping[str, Any] | ExperimentConfig,
    trainable: Any = None,
    overrides: Iterable[str] = (),
    *,
    address: str | None = None,
    overwrite: bool = False,
    output: OutputMode = "normal",
) -> ExperimentOutcome:
    """Run an experiment, print its summary and return its outcome.

    Args:
        config: A YAML file, a mapping of the same keys, or an ``ExperimentConfig``.
        trainable: A Ray Tune function trainable or ``ray.tune.Trainable`` subclass to tune
            (e.g. defined in a notebook); default: the config's ``trainable``.
        overrides: ``KEY=VALUE`` strings, as ``--set`` takes them.
        address: Ray cluster to attach to; None starts a local Ray instance.
        overwrite: Start again under a used name (the earlier folder is renamed).
        output: ``normal`` (trial events and progress), ``quiet`` (failed trials and the
            result), ``verbose`` (Ray Tune's own output) or ``show_output`` (trial events and
            what the trials print), as ``--quiet``, ``--verbose`` and ``--show-output``.

    Raises:
        ConfigError: Invalid config or input the checks before the run catch.
        ExperimentInterrupted: Ctrl-C stopped it; ``resume`` continues it.
        TrialsFailed: After the summary: more trials errored than ``max_failed_trials``
            allows, every trial did, or the first ones failed before reporting; its
            ``outcome`` holds the results and the best trial, written all the same.
    """
    from raytune_hpo.console.summary import print_outcome
    from raytune_hpo.experiment.runner import run_experiment

    cfg, base = resolve_config(config, trainable, overrides)
    outcome = run_experiment(
        cfg,
        address=address,
        overwrite=overwrite,
        trainable=trainable,
        search_paths=(base,),
        output=output,
    )
    print_outcome(outcome)
    return outcome


def resume(
    path: str | Path,
    trainable: Any = None,
    *,
    address: str | None = None,
    output: OutputMode = "normal",
) -> ExperimentOutcome:
    """Continue an interrupted experiment, print its summary and return its outcome.

    Args:
        path: The experiment folder (``storage_path/name``).
        trainable: The function or Trainable class the experiment was run with, needed when
            it cannot be imported by its recorded path (e.g. it was defined in a notebook).
        address: Ray cluster to attach to; None starts a local Ray instance.
        output: What the console shows, as for :func:`run`.
    """
    from raytune_hpo.console.summary import print_outcome
    from raytune_hpo.experiment.runner import resume_experiment

    outcome = resume_experiment(path, address=address, trainable=trainable, output=output)
    print_outcome(outcome)
    return outcome
