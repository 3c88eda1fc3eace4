"""Reading an experiment file: YAML, ``--set KEY=VALUE`` overrides, validation, paths.

Every mistake in a config file ends as one :class:`ConfigError` whose message names the file,
the dotted key and what is allowed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.adapters.import_paths import is_file_target, is_import_path
from raytune_hpo.config.config_errors import ConfigError, locate
from raytune_hpo.config.schema import ExperimentConfig


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``1e-4`` as a float (YAML 1.2) instead of a string."""


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_yaml(text: str) -> Any:
    """Parse YAML text with :class:`YamlLoader`."""
    return yaml.load(text, Loader=YamlLoader)  # noqa: S506 - a SafeLoader subclass


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``key.sub=value`` into the dotted key and the YAML-parsed value."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError("--set", f"expected KEY=VALUE (e.g. dataset.name=digits), got {text!r}")
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of ``raw`` with every ``KEY=VALUE`` override applied."""
    result = copy.deepcopy(raw)
    for text in overrides:
        key, value = parse_override(text)
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {key}", f"{part!r} holds a value, not a section")
            node = child
        node[parts[-1]] = value
    return result


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read one YAML mapping; syntax errors name line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError("file", f"cannot read: {err.strerror}", str(path)) from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            "file",
            f"not UTF-8 text (byte {err.object[err.start]:#04x} at offset {err.start})",
            str(path),
        ) from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "syntax"
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(where, f"invalid YAML: {problem}", str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("(top level)", "must be a mapping of keys to values", str(path))
    return data


def validate_config(
    raw: Mapping[str, Any], source: str | None = None, override_keys: Iterable[str] = ()
) -> ExperimentConfig:
    """Build an :class:`ExperimentConfig`, turning the first problem into a :class:`ConfigError`."""
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as err:
        errors = err.errors()
        # A misspelt key also leaves the key it meant missing: name the misspelling.
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        key, message = locate(error, raw, ExperimentConfig)
        if any(key == k or key.startswith(f"{k}.") for k in override_keys):
            raise ConfigError(f"--set {key}", message) from None
        raise ConfigError(key, message, source) from None


def load_config(path: str | Path, overrides: Iterable[str] = ()) -> ExperimentConfig:
    """Load a YAML experiment file and apply ``--set KEY=VALUE`` overrides.

    Relative paths resolve by one rule (:func:`anchor_paths`): a path written in the file
    against the file's folder, a path given by ``--set`` against the current folder.
    """
    overrides = list(overrides)
    raw = apply_overrides(read_yaml(path), overrides)
    keys = [parse_override(o)[0] for o in overrides]
    cfg = validate_config(raw, str(path), keys)
    return anchor_paths(cfg, Path(path).expanduser().resolve().parent, from_flags=keys)


def anchor_paths(
    cfg: ExperimentConfig, base: Path, from_flags: Iterable[str] = ()
) -> ExperimentConfig:
    """``cfg`` with every relative path made absolute: ``storage_path``, ``dataset.data_dir``,
    ``wandb.dir``, ``trainable.workdir`` and the files of ``trainable`` and ``evaluate``
    (``path/to/file.py:name``).

    A path resolves against ``base`` (the YAML file's folder), or against the current folder
    when a command-line flag set it (a key of ``from_flags``, or a section above it). URIs
    (``s3://...``) and paths under ``~`` stay as written. A command without
    ``workdir`` runs in ``base``. The resolved config, saved with the experiment, then runs
    the same code and writes to the same folders from any folder (``resume``).

    Args:
        cfg: A validated config.
        base: The folder of the file the config came from.
        from_flags: Dotted keys given on the command line (``--set``, ``--storage-path``).
    """
    flags = list(from_flags)
    cwd = Path.cwd()

    def folder(key: str) -> Path:
        return cwd if any(key == k or key.startswith(f"{k}.") for k in flags) else base

    def local(key: str, value: str) -> str:
        if "://" in value or value.startswith("~"):
            return value
        return str((folder(key) / value).resolve())

    def code(key: str, target: str) -> str:
        if not is_import_path(target) or not is_file_target(target):
            return target
        file, _, name = target.rpartition(":")
        return f"{(folder(key) / Path(file).expanduser()).resolve()}:{name}"

    trainable = cfg.trainable
    if isinstance(trainable, CommandSpec):
        workdir = local("trainable.workdir", trainable.workdir or ".")
        workdir = str(Path(workdir).expanduser().resolve())
        trainable = trainable.model_copy(update={"workdir": workdir})
    elif cfg.builtin is None:
        trainable = code("trainable", trainable)
    wandb = cfg.wandb
    if wandb.dir is not None:
        wandb = wandb.model_copy(update={"dir": local("wandb.dir", wandb.dir)})
    return cfg.model_copy(
        update={
            "trainable": trainable,
            "evaluate": None if cfg.evaluate is None else code("evaluate", cfg.evaluate),
            "storage_path": local("storage_path", cfg.storage_path),
            "dataset": cfg.dataset.model_copy(
                update={"data_dir": local("dataset.data_dir", cfg.dataset.data_dir)}
            ),
            "wandb": wandb,
        }
    )
