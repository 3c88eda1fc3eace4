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

from raytune_hpo.config.errors import ConfigError, locate
from raytune_hpo.config.schema import ExperimentConfig
from raytune_hpo.trainables.command.spec import CommandSpec
from raytune_hpo.trainables.user_code import is_file_target, is_import_path


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

    Relative paths of the user's code (``file.py:name``, a command's ``workdir``) are
    resolved against the YAML file's folder.
    """
    overrides = list(overrides)
    raw = apply_overrides(read_yaml(path), overrides)
    cfg = validate_config(raw, str(path), [parse_override(o)[0] for o in overrides])
    return anchor_paths(cfg, Path(path).expanduser().resolve().parent)


def anchor_paths(cfg: ExperimentConfig, base: Path) -> ExperimentConfig:
    """``cfg`` with the user's code files and a command's workdir as absolute paths under ``base``.

    A command without ``workdir`` runs in ``base``. The resolved config, saved with the
    experiment, then runs the same code from any folder (``resume``).
    """

    def absolute(target: str) -> str:
        if not is_import_path(target) or not is_file_target(target):
            return target
        file, _, name = target.rpartition(":")
        return f"{(base / Path(file).expanduser()).resolve()}:{name}"

    trainable = cfg.trainable
    if isinstance(trainable, CommandSpec):
        workdir = (base / Path(trainable.workdir or ".").expanduser()).resolve()
        trainable = trainable.model_copy(update={"workdir": str(workdir)})
    elif cfg.builtin is None:
        trainable = absolute(trainable)
    evaluate = None if cfg.evaluate is None else absolute(cfg.evaluate)
    return cfg.model_copy(update={"trainable": trainable, "evaluate": evaluate})
