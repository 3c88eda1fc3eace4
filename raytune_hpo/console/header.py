"""The experiment as the console's header shows it, and where its W&B logs go."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from raytune_hpo.config import mlflow_section
from raytune_hpo.console.formatting import concurrency, format_duration
from raytune_hpo.number_format import format_number
from raytune_hpo.search.search_space import spec_kind

if TYPE_CHECKING:
    from raytune_hpo.config import ExperimentConfig


@dataclass(frozen=True)
class ExperimentInfo:
    """What the console says about an experiment, taken from its config.

    Attributes:
        name: The experiment's name.
        folder: Its experiment folder (a local path or a URI).
        trainable: The trainable in one line.
        searcher: Searcher name.
        scheduler: Scheduler name.
        metric: The metric.
        mode: ``min`` or ``max``.
        max_epochs: Epochs per trial.
        num_samples: Trials (grid: repetitions of the grid).
        time_budget_s: The time budget, if any.
        cpu: CPUs per trial.
        gpu: GPUs per trial.
        max_concurrent_trials: Cap on trials at once, if any.
        max_failures: Retries of a failing trial (-1: without end).
        params: The searched (not constant) hyperparameters, in config order.
        wandb: W&B logging is on.
        wandb_project: The W&B project.
        wandb_group: The W&B group of the runs.
        mlflow: Where MLflow runs go, credentials masked; empty when MLflow is off.
        paths: Resolved folders besides ``folder``, as (label, path): a built-in trainable's
            data, a command's code folder.
    """

    name: str
    folder: str
    trainable: str
    searcher: str
    scheduler: str
    metric: str
    mode: Literal["min", "max"]
    max_epochs: int
    num_samples: int
    time_budget_s: float | None
    cpu: float
    gpu: float
    max_concurrent_trials: int | None
    max_failures: int
    params: tuple[str, ...]
    wandb: bool = False
    wandb_project: str = ""
    wandb_group: str = ""
    mlflow: str = ""
    paths: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_config(cls, cfg: ExperimentConfig, folder: str | Path) -> ExperimentInfo:
        """The info of a validated config whose experiment folder is ``folder``."""
        return cls(
            name=cfg.name,
            folder=str(folder),
            trainable=cfg.trainable_label,
            searcher=cfg.searcher.name,
            scheduler=cfg.scheduler.name,
            metric=cfg.metric,
            mode=cfg.mode,
            max_epochs=cfg.max_epochs,
            num_samples=cfg.num_samples,
            time_budget_s=cfg.time_budget_s,
            cpu=cfg.resources_per_trial.cpu,
            gpu=cfg.resources_per_trial.gpu,
            max_concurrent_trials=cfg.max_concurrent_trials,
            max_failures=cfg.failure.max_failures,
            params=tuple(k for k, spec in cfg.search_space.items() if spec_kind(k, spec)),
            wandb=cfg.wandb.enabled,
            wandb_project=cfg.wandb.project,
            wandb_group=cfg.wandb.group or cfg.name,
            mlflow=mlflow_text(cfg, folder),
            paths=config_paths(cfg),
        )

    def header(
        self,
        total: int | None,
        cluster: Mapping[str, float],
        env: Mapping[str, str],
    ) -> list[str]:
        """The lines printed when the experiment starts.

        Args:
            total: Trials the experiment runs (a grid multiplies ``num_samples``).
            cluster: The cluster's resources (``ray.cluster_resources()``).
            env: The environment, for where W&B writes (``WANDB_MODE``, ``WANDB_DIR``).
        """
        trials = f"{total} trials" if total is not None else f"{self.num_samples} samples"
        goal = "minimising" if self.mode == "min" else "maximising"
        cpus, gpus = float(cluster.get("CPU", 0)), float(cluster.get("GPU", 0))
        at_once = concurrency(self.cpu, self.gpu, cpus, gpus, self.max_concurrent_trials)
        budget = (
            f"{format_duration(self.time_budget_s)}, then every trial stops"
            if self.time_budget_s is not None
            else "none: runs until every trial has ended"
        )
        return [
            f"Experiment {self.name}: {trials} of {self.trainable}, up to {self.max_epochs} "
            f"epochs each, {goal} {self.metric}",
            f"  search     {self.searcher} searcher, {self.scheduler} scheduler",
            f"  folder     {self.folder}",
            *(f"  {label:<10} {path}" for label, path in self.paths),
            f"  resources  {format_number(self.cpu)} CPU, {format_number(self.gpu)} GPU per "
            f"trial; {at_once} at once on {format_number(cpus)} CPUs, {format_number(gpus)} GPUs",
            f"  budget     {budget}",
            f"  W&B        {self.wandb_text(env)}",
            *([f"  MLflow     {self.mlflow}"] if self.mlflow else []),
        ]

    def wandb_text(self, env: Mapping[str, str]) -> str:
        """Where W&B logs go: ``off``, or :func:`wandb_where`."""
        return wandb_where(env, self.wandb_project, self.wandb_group) if self.wandb else "off"


def mlflow_text(cfg: ExperimentConfig, folder: str | Path) -> str:
    """Where MLflow runs go (:func:`raytune_hpo.config.mlflow_section.where`); empty when off.
    The local store is in the experiment folder, or in ``./<name>`` for a URI."""
    if not cfg.mlflow.active:
        return ""
    root = folder if isinstance(folder, Path) else Path.cwd() / cfg.name
    return mlflow_section.where(cfg.mlflow, root, cfg.name, os.environ)


def config_paths(cfg: ExperimentConfig) -> tuple[tuple[str, str], ...]:
    """The folders a run reads besides its experiment folder, resolved as it uses them: the
    data of a built-in trainable, the code folder of a command."""
    if not isinstance(cfg.trainable, str):  # a command
        return (("code", cfg.trainable.workdir),) if cfg.trainable.workdir else ()
    if cfg.builtin is not None:
        return (("data", str(Path(cfg.dataset.data_dir).expanduser())),)
    return ()


def wandb_where(env: Mapping[str, str], project: str, group: str) -> str:
    """Where W&B logs go, from ``WANDB_MODE`` and ``WANDB_DIR`` as the W&B set-up left them.

    Args:
        env: The environment (``os.environ``) after :func:`tracking.build_wandb_callbacks`.
        project: The W&B project.
        group: The group of the experiment's runs.
    """
    if env.get("WANDB_MODE") == "offline":
        runs = Path(env.get("WANDB_DIR", ".")) / "wandb"
        return f"offline, runs in {runs}; `wandb sync {runs}` uploads them"
    return f"online, project {project}, group {group}"
