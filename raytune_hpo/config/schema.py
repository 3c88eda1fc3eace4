"""The experiment config as pydantic models: one :class:`ExperimentConfig` and its sections.

Cross-field rules (search space, objectives, and the compatibility rules of the searcher's and
scheduler's registry entries) run in the model validators so that a config built in code obeys
them too.

``metric`` and ``mode`` hold the first objective, so that every single-metric code path reads
plain strings; several objectives (``metric: [a, b]``) live in :attr:`ExperimentConfig.objectives`
and are written back as lists when the config is dumped (the experiment folder's saved config).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import (
    Discriminator,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)

from raytune_hpo.adapters.command.args import check_macros
from raytune_hpo.adapters.command.formats import UnreadableMetric, check_readable
from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.adapters.import_paths import is_import_path
from raytune_hpo.config.config_errors import describe, dotted
from raytune_hpo.config.mlflow_section import MlflowConfig
from raytune_hpo.config.names import check_folder_name, method_name
from raytune_hpo.config.objectives import (
    Constraint,
    Objective,
    check_reference_point,
    parse_objectives,
    watched_metrics,
)
from raytune_hpo.config.wandb_section import WandbConfig
from raytune_hpo.demos.datasets import DATASETS
from raytune_hpo.errors import InvalidKey
from raytune_hpo.pydantic_base import EntryOptions, StrictModel
from raytune_hpo.registry import EntryContext, lookup, options_union
from raytune_hpo.search import search_space
from raytune_hpo.search.schedulers import SCHEDULERS, FifoSchedulerConfig, max_t
from raytune_hpo.search.searchers import (
    SEARCHERS,
    RandomSearcherConfig,
    check_objectives,
    check_partners,
)

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
    """The first objective (``metric: [a, b]`` in a file names several: :attr:`objectives`)."""
    mode: Literal["min", "max"] = "min"
    """The first objective's mode."""
    constraints: dict[str, Constraint] = Field(default_factory=dict)
    reference_point: tuple[float, ...] | None = Field(default=None, strict=False)
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
    mlflow: MlflowConfig = MlflowConfig()
    tensorboard: bool = True
    """Write TensorBoard event files (metrics per report, hparams) into every trial's folder."""

    _objectives: tuple[Objective, ...] = PrivateAttr(default=())
    """Every objective when there are several; empty for one (``metric`` and ``mode``)."""

    @model_validator(mode="wrap")
    @classmethod
    def _many_objectives(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Lists of ``metric`` and ``mode`` -> the first objective in the fields, all of them
        in ``_objectives``."""
        many: tuple[Objective, ...] = ()
        if isinstance(data, Mapping) and any(
            isinstance(data.get(key), list | tuple) for key in ("metric", "mode")
        ):
            fields = cls.model_fields
            many = parse_objectives(
                data.get("metric", fields["metric"].default),
                data.get("mode", fields["mode"].default),
            )
            data = {**data, "metric": many[0].name, "mode": many[0].mode}
        cfg = handler(data)
        if len(many) > 1:
            cfg._objectives = many
            cfg._check_objectives()
        return cfg

    @model_serializer(mode="wrap")
    def _dump_objectives(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped = handler(self)
        if self._objectives:
            dumped["metric"] = [objective.name for objective in self._objectives]
            dumped["mode"] = [objective.mode for objective in self._objectives]
        return dumped

    @field_serializer("reference_point")
    def _dump_point(self, point: tuple[float, ...] | None) -> list[float] | None:
        return None if point is None else list(point)

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
        if isinstance(self.trainable, CommandSpec):
            try:
                check_macros(self.trainable, self.search_space)
            except ValueError as err:
                raise InvalidKey("trainable.command", str(err)) from None
        self._check_objectives()
        return self

    def _check_objectives(self) -> None:
        """Rules that read the objectives and constraints: the reference point, the searcher
        and scheduler that must take them, the metrics a trainable must report, and the
        trainable's options. Runs again once several objectives are known
        (:meth:`_many_objectives`)."""
        check_reference_point(self.reference_point, self.objectives)
        context = self.entry_context
        check_objectives(self.searcher.name, self.scheduler.name, context)
        SEARCHERS[self.searcher.name].check_rules(self.searcher, context)
        SCHEDULERS[self.scheduler.name].check_rules(self.scheduler, context)
        if isinstance(self.trainable, CommandSpec):
            for metric in self.watched_metrics:
                try:
                    check_readable(metric, self.trainable.metrics)
                except UnreadableMetric as err:
                    key = (
                        self._metric_key(metric) if err.key == "metric" else f"trainable.{err.key}"
                    )
                    raise InvalidKey(key, err.message) from None
        spec = self.builtin
        if spec is None:
            if self.trainable_options:
                raise InvalidKey(
                    "trainable_options",
                    "applies to the built-in trainables only; your own code takes its "
                    "settings from search_space (a plain value is a constant)",
                )
            return
        if self.evaluate is not None:
            raise InvalidKey(
                "evaluate", f"applies to your own code; {self.trainable} scores its test split"
            )
        for metric in self.watched_metrics:
            if metric not in spec.metrics:
                raise InvalidKey(
                    self._metric_key(metric),
                    f"{self.trainable} does not report {metric!r}; "
                    f"it reports: {', '.join(spec.metrics)}",
                )
        try:
            spec.options.model_validate(self.trainable_options, strict=True)
        except ValidationError as err:
            first = err.errors()[0]
            raise InvalidKey(
                dotted(("trainable_options", *first["loc"])), describe(first, spec.options)
            ) from None

    def _metric_key(self, metric: str) -> str:
        """The key that names ``metric``: ``metric`` for an objective, else its constraint."""
        names = [objective.name for objective in self.objectives]
        return "metric" if metric in names else f"constraints.{metric}"

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """What the experiment optimises, the first objective (``metric``, ``mode``) first."""
        return self._objectives or (Objective(self.metric, self.mode),)

    @property
    def many_objectives(self) -> bool:
        """Whether it optimises more than one metric."""
        return len(self.objectives) > 1

    @property
    def watched_metrics(self) -> tuple[str, ...]:
        """Every metric each trial must report: the objectives, then the constrained ones."""
        return watched_metrics(self.objectives, self.constraints)

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
            objectives=self.objectives,
            constraints=self.constraints,
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
