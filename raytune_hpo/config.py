"""The experiment config: pydantic models, YAML loading, ``--set`` overrides and smoke mode.

Every mistake in a config file ends as one :class:`ConfigError` whose message names the file,
the dotted key and what is allowed. Cross-field rules (search space, and the compatibility rules
of the searcher's and scheduler's registry entries) run in the model validator so that a config
built in code obeys them too.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from raytune_hpo import search_space
from raytune_hpo.command_spec import CommandSpec
from raytune_hpo.data import DATASETS
from raytune_hpo.registry import InvalidKey, lookup, options_union
from raytune_hpo.schedulers import SCHEDULERS, FifoSchedulerConfig
from raytune_hpo.schema import StrictModel
from raytune_hpo.searchers import SEARCHERS, RandomSearcherConfig
from raytune_hpo.user_code import is_file_target, is_import_path
from raytune_hpo.wandb_config import WandbConfig

if TYPE_CHECKING:
    from raytune_hpo.trainables import Trainable


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


class ConfigError(ValueError):
    """A bad config value; ``str()`` is one line: ``FILE: KEY: what is wrong``."""

    def __init__(self, key: str, message: str, source: str | None = None) -> None:
        self.key = key
        self.message = message
        self.source = source
        prefix = f"{source}: " if source else ""
        line = f"{prefix}{key}: {message}"
        super().__init__(line.translate(_ONE_LINE))


_ONE_LINE = {
    ord(c): c.encode("unicode_escape").decode() for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
}
"""Line breaks (as ``str.splitlines`` sees them) are escaped so that an error stays one line."""


# --- sections --------------------------------------------------------------------------------


class DatasetConfig(StrictModel):
    """Which data set to load and how much of it."""

    name: str = "digits"
    data_dir: str = "~/.cache/raytune_hpo/data"
    download: bool = True
    train_size: int | None = Field(default=None, ge=1)
    val_fraction: float = Field(default=0.1, gt=0, lt=1)
    test_size: int | None = Field(default=None, ge=1)

    @field_validator("name")
    @classmethod
    def _known_dataset(cls, name: str) -> str:
        lookup(DATASETS, name, "data set")
        return name


class ResourcesConfig(StrictModel):
    """Resources of one trial; fractional GPUs are allowed."""

    cpu: float = Field(default=1, gt=0)
    gpu: float = Field(default=0, ge=0)

    @field_validator("gpu")
    @classmethod
    def _whole_above_one(cls, gpu: float) -> float:
        if gpu > 1 and not float(gpu).is_integer():
            raise ValueError(f"a share of one GPU (0 < gpu <= 1) or whole GPUs, got {gpu:g}")
        return gpu


class FailureSettings(StrictModel):
    """How often a failing trial is retried from its last checkpoint."""

    max_failures: int = Field(default=0, ge=-1)


class CheckpointSettings(StrictModel):
    """Checkpointing of trials: every ``frequency`` epochs, keeping ``num_to_keep``."""

    frequency: int = Field(default=1, ge=1)
    num_to_keep: int | None = Field(default=2, ge=1)


SearcherConfig = options_union(SEARCHERS)
"""``searcher``: the options model of one ``SEARCHERS`` entry, chosen by ``name``."""
SchedulerConfig = options_union(SCHEDULERS)
"""``scheduler``: the options model of one ``SCHEDULERS`` entry, chosen by ``name``."""


def _trainable_tag(value: Any) -> str:
    return "command" if isinstance(value, Mapping | CommandSpec) else "name"


TrainableField = Annotated[
    Annotated[str, Tag("name")] | Annotated[CommandSpec, Tag("command")],
    Discriminator(_trainable_tag),
]
"""``trainable``: a built-in name or an import path (a string), or a ``{command: ...}`` section."""

_FOLDER_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
"""The characters of an experiment or study name: one folder name on any file system or URI."""
_DOT_FOLDERS = {".": "storage_path itself", "..": "the folder above storage_path"}


def check_folder_name(name: str) -> str:
    """``name`` if it names one folder inside its parent (``storage_path``), else an error.

    Only letters, digits and ``_ . + -`` are allowed, so that no separator can climb or
    descend; ``.`` (the parent itself) and ``..`` (the folder above it) are refused.

    Raises:
        ValueError: ``name`` would leave its folder, or holds another character.
    """
    allowed = "one folder name of letters, digits and _ . + -, other than '.' and '..'"
    if name in _DOT_FOLDERS:
        raise ValueError(f"{name!r} is {_DOT_FOLDERS[name]}; use {allowed}")
    if not _FOLDER_NAME.fullmatch(name):
        raise ValueError(f"must be {allowed}, got {name!r}")
    return name


class ExperimentConfig(StrictModel):
    """One tuning experiment: what to train, over which space, searched and scheduled how."""

    name: str
    trainable: TrainableField = "lenet"
    trainable_options: dict[str, Any] = Field(default_factory=dict)
    evaluate: str | None = None
    dataset: DatasetConfig = DatasetConfig()
    metric: str = "validation_error"
    mode: Literal["min", "max"] = "min"
    max_epochs: int = Field(default=10, ge=1)
    num_samples: int = Field(default=10, ge=1)
    time_budget_s: float | None = Field(default=None, gt=0)
    seed: int = 0
    search_space: dict[str, Any] = Field(min_length=1)
    points_to_evaluate: list[dict[str, Any]] = Field(default_factory=list)
    searcher: SearcherConfig = RandomSearcherConfig()
    scheduler: SchedulerConfig = FifoSchedulerConfig()
    resources_per_trial: ResourcesConfig = ResourcesConfig()
    max_concurrent_trials: int | None = Field(default=None, ge=1)
    storage_path: str = "~/raytune_hpo_results"
    failure: FailureSettings = FailureSettings()
    checkpoint: CheckpointSettings = CheckpointSettings()
    wandb: WandbConfig = WandbConfig()

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        return check_folder_name(name)

    @field_validator("trainable")
    @classmethod
    def _known_trainable(cls, trainable: str | CommandSpec) -> str | CommandSpec:
        from raytune_hpo.trainables import TRAINABLES

        if isinstance(trainable, CommandSpec) or is_import_path(trainable):
            return trainable
        if trainable not in TRAINABLES:
            raise ValueError(
                f"unknown trainable {trainable!r}; known: {', '.join(sorted(TRAINABLES))}; "
                "or your own code as package.module:name, path/to/file.py:name or "
                "{command: python train.py ${args}}"
            )
        return trainable

    @field_validator("evaluate")
    @classmethod
    def _import_path(cls, target: str | None) -> str | None:
        if target is not None and not is_import_path(target):
            raise ValueError(
                f"expected package.module:function or path/to/file.py:function, got {target!r}"
            )
        return target

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentConfig:
        _check_space("search_space", self.search_space)
        _check_points(self.search_space, self.points_to_evaluate)
        for entry in (SEARCHERS[self.searcher.name], SCHEDULERS[self.scheduler.name]):
            if entry.check is not None:
                entry.check(self)
        spec = self.builtin
        if spec is None:
            if self.trainable_options:
                raise InvalidKey(
                    "trainable_options",
                    "applies to the built-in trainables only; your own code takes its "
                    "settings from search_space (a plain value is a constant)",
                )
            return self
        if self.evaluate is not None:
            raise InvalidKey(
                "evaluate", f"applies to your own code; {self.trainable} scores its test split"
            )
        if self.metric not in spec.metrics:
            raise InvalidKey(
                "metric",
                f"{self.trainable} does not report {self.metric!r}; "
                f"it reports: {', '.join(spec.metrics)}",
            )
        try:
            spec.options.model_validate(self.trainable_options, strict=True)
        except ValidationError as err:
            first = err.errors()[0]
            raise InvalidKey(
                _dotted(("trainable_options", *first["loc"])), _describe(first, spec.options)
            ) from None
        return self

    @property
    def builtin(self) -> Trainable | None:
        """The registry entry of a built-in trainable; None for the user's own code."""
        from raytune_hpo.trainables import TRAINABLES

        return TRAINABLES.get(self.trainable) if isinstance(self.trainable, str) else None

    @property
    def trainable_label(self) -> str:
        """The trainable in one line: its name, import path or command."""
        return self.trainable.label if isinstance(self.trainable, CommandSpec) else self.trainable

    @property
    def method(self) -> str:
        """The method name used to group experiments: searcher, plus scheduler unless FIFO."""
        if self.scheduler.name == "fifo":
            return self.searcher.name
        if self.searcher.name == "random":
            return self.scheduler.name
        return f"{self.searcher.name}+{self.scheduler.name}"

    @property
    def max_t(self) -> int:
        """The last epoch a scheduler may grant."""
        return getattr(self.scheduler, "max_t", None) or self.max_epochs


def _check_space(prefix: str, space: Mapping[str, Any]) -> None:
    for key, spec in space.items():
        try:
            search_space.to_domain(key, spec)
        except search_space.SearchSpaceError as err:
            raise InvalidKey(f"{prefix}.{key}", err.message) from None


def _check_points(space: Mapping[str, Any], points: Iterable[Mapping[str, Any]]) -> None:
    for index, point in enumerate(points):
        for key, value in point.items():
            where = f"points_to_evaluate[{index}].{key}"
            if key not in space:
                raise InvalidKey(where, f"not in search_space; known: {', '.join(space)}")
            if not search_space.contains(key, space[key], value):
                raise InvalidKey(where, f"{value!r} lies outside {space[key]!r}")


# --- loading ---------------------------------------------------------------------------------


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
        key, message = _locate(error, raw)
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

    def absolute(target: str | None) -> str | None:
        if target is None or not is_import_path(target) or not is_file_target(target):
            return target
        file, _, name = target.rpartition(":")
        return f"{(base / Path(file).expanduser()).resolve()}:{name}"

    trainable = cfg.trainable
    if isinstance(trainable, CommandSpec):
        workdir = (base / Path(trainable.workdir or ".").expanduser()).resolve()
        trainable = trainable.model_copy(update={"workdir": str(workdir)})
    elif cfg.builtin is None:
        trainable = absolute(trainable)
    return cfg.model_copy(update={"trainable": trainable, "evaluate": absolute(cfg.evaluate)})


def smoke(cfg: ExperimentConfig) -> ExperimentConfig:
    """A tiny version of ``cfg``: small data, two epochs, two trials, one-epoch schedules.

    The searcher and scheduler take the ``smoke`` settings of their registry entries.
    """
    dataset = cfg.dataset.model_copy(
        update={"train_size": min(cfg.dataset.train_size or 10**9, 256), "test_size": 128}
    )
    scheduler = cfg.scheduler.model_copy(update=SCHEDULERS[cfg.scheduler.name].smoke)
    searcher = cfg.searcher.model_copy(update=SEARCHERS[cfg.searcher.name].smoke)
    update = {
        "dataset": dataset,
        "max_epochs": min(cfg.max_epochs, 2),
        "num_samples": min(cfg.num_samples, 2),
        "scheduler": scheduler,
        "searcher": searcher,
        "checkpoint": cfg.checkpoint.model_copy(update={"frequency": 1}),
        "trainable_options": {
            **cfg.trainable_options,
            **(cfg.builtin.smoke_options if cfg.builtin else {}),
        },
        "time_budget_s": None,
    }
    return ExperimentConfig.model_validate({**cfg.model_dump(), **_dump(update)})


def _dump(update: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in update.items()}


# --- error messages --------------------------------------------------------------------------

_TAGGED = {"searcher", "scheduler"}


def _locate(error: Mapping[str, Any], raw: Mapping[str, Any]) -> tuple[str, str]:
    """The dotted key and one-line message of a pydantic error."""
    ctx_error = (error.get("ctx") or {}).get("error")
    if isinstance(ctx_error, InvalidKey):
        return ctx_error.key, ctx_error.message
    loc = list(error["loc"])
    if len(loc) > 1 and loc[0] in _TAGGED and isinstance(raw.get(loc[0]), Mapping):
        if loc[1] == raw[loc[0]].get("name"):
            del loc[1]
    if len(loc) > 1 and loc[0] == "trainable":
        del loc[1]  # the tag of the trainable's union: "name" or "command"
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc.append("name")
    model = _model_at(loc[:-1], raw) if error["type"] == "extra_forbidden" else None
    return _dotted(loc) or "(top level)", _describe(error, model)


def _dotted(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error: Mapping[str, Any], model: type[BaseModel] | None) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        bad = str(error["loc"][-1])
        allowed = sorted(model.model_fields) if model else []
        close = [a for a in allowed if a.startswith(bad)] or difflib.get_close_matches(
            bad, allowed, n=1
        )
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key; {hint}allowed: {', '.join(allowed)}"
    if kind == "union_tag_invalid":
        return f"unknown name {error['ctx']['tag']!r}; known: {error['ctx']['expected_tags']}"
    if kind == "union_tag_not_found":
        return "needs a 'name'"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return "is required"
    if kind in _EXPECTED_TYPES:
        value = error.get("input")
        return f"expected {_EXPECTED_TYPES[kind]}, got {value!r} ({_yaml_type(value)})"
    if kind != "value_error" and "input" in error and not isinstance(error["input"], Mapping):
        return f"{message}, got {error['input']!r}"
    return message


_MAPPING = "a mapping of keys to values"
_EXPECTED_TYPES = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
}
"""Pydantic's type-error kinds -> what the key takes, in the words of a YAML file."""


def _yaml_type(value: Any) -> str:
    """The YAML name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    names.update({list: "list", dict: "mapping"})
    return names.get(type(value), type(value).__name__)


def _model_at(loc: list[Any], raw: Mapping[str, Any]) -> type[BaseModel] | None:
    """The model class that validates the section at ``loc`` (for listing allowed keys)."""
    model: type[BaseModel] | None = ExperimentConfig
    node: Any = raw
    for part in loc:
        if model is None or isinstance(part, int):
            return None
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        node = node.get(part, {}) if isinstance(node, Mapping) else {}
        if part in _TAGGED:
            model = _tagged_model(part, node)
        elif part == "trainable":
            model = CommandSpec
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            return None
    return model


def _tagged_model(section: str, node: Mapping[str, Any]) -> type[BaseModel] | None:
    registry = SEARCHERS if section == "searcher" else SCHEDULERS
    name = node.get("name")
    return registry[name].options if isinstance(name, str) and name in registry else None


def searcher_names() -> list[str]:
    """Names accepted by ``searcher.name``."""
    return list(SEARCHERS)


def scheduler_names() -> list[str]:
    """Names accepted by ``scheduler.name``."""
    return list(SCHEDULERS)
