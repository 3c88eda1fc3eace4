"""The experiment config as pydantic models: one :class:`ExperimentConfig` and its sections.

Cross-field rules (search space, and the compatibility rules of the searcher's and scheduler's
registry entries) run in the model validator so that a config built in code obeys them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from raytune_hpo.adapters.command.args import check_macros
from raytune_hpo.adapters.command.formats import UnreadableMetric, check_readable
from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.adapters.import_paths import is_import_path
from raytune_hpo.config.config_errors import describe, dotted
from raytune_hpo.config.names import check_folder_name, method_name
from raytune_hpo.config.wandb_section import WandbConfig
from raytune_hpo.demos.datasets import DATASETS
from raytune_hpo.errors import InvalidKey
from raytune_hpo.pydantic_base import EntryOptions, StrictModel
from raytune_hpo.registry import EntryContext, lookup, options_union
from raytune_hpo.search import search_space
from raytune_hpo.search.schedulers import SCHEDULERS, FifoSchedulerConfig, max_t
from raytune_hpo.search.searchers import SEARCHERS, RandomSearcherConfig, check_partners

if TYPE_CHECKING:
    from raytune_hpo.demos.trainables import DemoTrainable


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


if TYPE_CHECKING:
    # Built from the registries at run time; a type checker sees the base of every entry.
    SearcherConfig: TypeAlias = EntryOptions
    SchedulerConfig: TypeAlias = EntryOptions
else:
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
    max_failed_trials: int = Field(default=0, ge=0)
    """Trials that may end in an error while the run still exits 0 (retries of
    ``failure.max_failures`` that succeed do not count); one more makes it exit 1."""
    checkpoint: CheckpointSettings = CheckpointSettings()
    wandb: WandbConfig = WandbConfig()
    tensorboard: bool = True
    """Write TensorBoard event files (metrics per report, hparams) into every trial's folder."""

    @field_validator("name")
    @classmethod
    def _folder_name(cls, name: str) -> str:
        return check_folder_name(name)

    @field_validator("trainable")
    @classmethod
    def _known_trainable(cls, trainable: str | CommandSpec) -> str | CommandSpec:
        from raytune_hpo.demos.trainables import TRAINABLES

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
        check_partners(self.searcher.name, self.scheduler.name)
        context = self.entry_context
        SEARCHERS[self.searcher.name].check_rules(self.searcher, context)
        SCHEDULERS[self.scheduler.name].check_rules(self.scheduler, context)
        if isinstance(self.trainable, CommandSpec):
            try:
                check_macros(self.trainable, self.search_space)
            except ValueError as err:
                raise InvalidKey("trainable.command", str(err)) from None
            try:
                check_readable(self.metric, self.trainable.metrics)
            except UnreadableMetric as err:
                key = err.key if err.key == "metric" else f"trainable.{err.key}"
                raise InvalidKey(key, err.message) from None
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
                dotted(("trainable_options", *first["loc"])), describe(first, spec.options)
            ) from None
        return self

    @property
    def builtin(self) -> DemoTrainable | None:
        """The registry entry of a built-in trainable; None for the user's own code."""
        from raytune_hpo.demos.trainables import TRAINABLES

        return TRAINABLES.get(self.trainable) if isinstance(self.trainable, str) else None

    @property
    def trainable_label(self) -> str:
        """The trainable in one line: its name, import path or command."""
        return self.trainable.label if isinstance(self.trainable, CommandSpec) else self.trainable

    @property
    def method(self) -> str:
        """The method name used to group experiments (:func:`method_name`)."""
        return method_name(self.searcher.model_dump(), self.scheduler.model_dump())

    @property
    def max_t(self) -> int:
        """The last epoch a scheduler may grant."""
        return max_t(self.scheduler, self.entry_context)

    @property
    def entry_context(self) -> EntryContext:
        """What the searcher's and scheduler's builders and rules read of this experiment."""
        return EntryContext(
            search_space=self.search_space,
            points_to_evaluate=self.points_to_evaluate,
            seed=self.seed,
            max_epochs=self.max_epochs,
            num_samples=self.num_samples,
            checkpoint_frequency=self.checkpoint.frequency,
            max_concurrent_trials=self.max_concurrent_trials,
            scheduler=self.scheduler.name,
        )


def _check_space(prefix: str, space: Mapping[str, Any]) -> None:
    for key, spec in space.items():
        try:
            search_space.check_spec(key, spec)
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
