"""Weights & Biases tracking: one W&B run per trial plus one incumbent run per experiment.

Trial runs come from Ray's own ``WandbLoggerCallback``; the incumbent run is ours. Without an
API key, or when the W&B server does not answer, everything is written offline under
``<dir>/wandb`` for a later ``wandb sync``, and no W&B failure ever changes the outcome of an
experiment.
"""

from __future__ import annotations

import logging
import math
import os
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import ray
from ray.air.integrations.wandb import WandbLoggerCallback
from ray.tune import Callback

from raytune_hpo.cluster import tcp_probe
from raytune_hpo.config.wandb_section import WandbConfig
from raytune_hpo.ray_compat import wandb_actors

if TYPE_CHECKING:
    import pandas as pd
    from ray.tune.experiment import Trial
    from ray.tune.stopper import Stopper

logger = logging.getLogger(__name__)
SERVER_TIMEOUT_S = 3.0
"""How long the W&B server may take to accept a connection before logging goes offline (wandb
itself would wait 90 s per run before giving up)."""


def _base_url() -> str:
    """The W&B server: ``WANDB_BASE_URL``, else wandb's default."""
    from wandb import env
    from wandb.sdk.lib import urls

    return os.environ.get(env.BASE_URL, urls.DEFAULT_BASE_URL)


def _api_key_configured() -> bool:
    """Whether wandb would find credentials without prompting: env first, then netrc."""
    from wandb import env
    from wandb.errors import AuthenticationError
    from wandb.sdk.lib import wbauth

    if os.environ.get(env.API_KEY) or os.environ.get(env.IDENTITY_TOKEN_FILE):
        return True
    try:
        return wbauth.read_netrc_auth(host=_base_url()) is not None
    except (AuthenticationError, ValueError):
        return False


def _unreachable_server() -> str | None:
    """The W&B server (``WANDB_BASE_URL`` or wandb's default) and why it is silent; else None."""
    base_url = _base_url()
    parts = urllib.parse.urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    error = tcp_probe.connect_error(parts.hostname or "", port, SERVER_TIMEOUT_S)
    if error is None:
        return None
    return f"{base_url} ({error.strerror or type(error).__name__})"


def resolve_mode(mode: Literal["auto", "online", "offline"]) -> Literal["online", "offline"]:
    """Turns a configured W&B mode into the one to use.

    Args:
        mode: ``auto``, ``online`` or ``offline``.

    Returns:
        ``online`` when it was asked for (explicitly or by ``auto``), an API key is configured
        (``WANDB_API_KEY`` or a netrc entry for the W&B host) and the W&B server accepts a
        connection within ``SERVER_TIMEOUT_S``; ``offline`` otherwise, so that wandb never
        prompts for a key nor waits for a server that is not there.
    """
    if mode == "offline":
        return "offline"
    if not _api_key_configured():
        if mode == "online":
            logger.warning(
                "W&B mode 'online' asked for but no API key is configured: logging offline."
            )
        return "offline"
    unreachable = _unreachable_server()
    if unreachable is not None:
        logger.warning(
            "W&B server %s does not answer: logging offline; `wandb sync` uploads the runs later.",
            unreachable,
        )
        return "offline"
    return "online"


class _WandbFailure:
    """Shared by an experiment's W&B callbacks: warns of the first failure, drops the rest.

    Once W&B has failed (for instance unreachable), no new W&B run is started, so that each
    trial does not wait for its own timeout.
    """

    def __init__(self) -> None:
        self.happened = False

    def __call__(self, what: str, err: BaseException) -> None:
        if not self.happened:
            self.happened = True
            logger.warning("W&B %s failed, the experiment goes on without it: %s", what, err)


class _TrialRunLoggingActor(wandb_actors.wandb_logging_actor_base()):  # type: ignore[misc]
    """Ray's per-trial logging actor, which also waits for its run file to be complete.

    ``wandb.finish()`` returns before wandb's service has flushed the run file, and Ray kills
    the actor (and its children) as soon as ``run`` returns: ``wandb.teardown()`` waits.
    """

    def run(self) -> None:
        try:
            super().run()
        finally:
            wandb_actors.actor_wandb(self).teardown()


class _TrialRunsCallback(WandbLoggerCallback):
    """Ray's W&B logger that adds experiment metadata to each trial run's config.

    The trial's hyperparameters win over a metadata entry of the same name. A logging actor
    that fails is reported to ``failure``, not raised; after a failure no trial run starts.
    Overrides private hooks of Ray's class (listed in ``version.OVERRIDDEN_HOOKS``).
    """

    _logger_actor_cls = _TrialRunLoggingActor

    def __init__(self, *, metadata: dict[str, Any], failure: _WandbFailure, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metadata = dict(metadata)
        self._failure = failure

    def log_trial_start(self, trial: Trial) -> None:
        if not self._failure.happened:
            super().log_trial_start(trial)

    def log_trial_result(self, iteration: int, trial: Trial, result: dict) -> None:
        if wandb_actors.wandb_logs_trial(self, trial) or not self._failure.happened:
            super().log_trial_result(iteration, trial, result)

    def log_trial_end(self, trial: Trial, failed: bool = False) -> None:
        if wandb_actors.wandb_logs_trial(self, trial):
            super().log_trial_end(trial, failed)

    def _start_logging_actor(
        self, trial: Trial, exclude_results: list[str], **wandb_init_kwargs: Any
    ) -> None:
        wandb_init_kwargs["config"] = {**self._metadata, **wandb_init_kwargs.get("config", {})}
        super()._start_logging_actor(trial, exclude_results, **wandb_init_kwargs)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """Ends the runs of trials that never ended (Ctrl-C), then waits for every run.

        Ray's callback waits ``upload_timeout`` (30 minutes) for a logging actor that was never
        told that its trial ended.
        """
        for trial in wandb_actors.wandb_open_trials(self):
            wandb_actors.stop_wandb_logging(self, trial)
        super().on_experiment_end(trials, **info)

    def _cleanup_logging_actor(self, trial: Trial) -> None:
        future = wandb_actors.wandb_logging_future(self, trial)
        if ray.wait([future], timeout=0)[0]:
            try:
                ray.get(future)
            except Exception as err:  # W&B must never fail the experiment
                self._failure(f"logging of trial {trial}", getattr(err, "cause", err))
        super()._cleanup_logging_actor(trial)


class IncumbentRunCallback(Callback):
    """One W&B run per experiment holding the incumbent (best result so far) over time.

    Each result logs ``elapsed_s`` (seconds since the experiment started), the result's
    metric and ``best_<metric>``; the end of the experiment logs the tables that ``tables``
    returns (the trials' summary; with several objectives the Pareto front and the
    hypervolume history).

    Args:
        init_kwargs: Keyword arguments of ``wandb.init`` (project, group, name, mode...).
        metric: Result key to track.
        mode: ``min`` or ``max``: which way the metric improves.
        tables: Called at the end of the experiment: name -> frame; each non-empty frame is
            logged as a ``wandb.Table`` under its name.
        failure: Shared record of W&B failures; a new one is made when None.
    """

    def __init__(
        self,
        *,
        init_kwargs: dict[str, Any],
        metric: str,
        mode: Literal["min", "max"],
        tables: Callable[[], Mapping[str, pd.DataFrame]] | None = None,
        failure: _WandbFailure | None = None,
    ) -> None:
        self._init_kwargs = init_kwargs
        self._metric = metric
        self._sign = 1.0 if mode == "min" else -1.0
        self._tables = tables
        self._failure = failure or _WandbFailure()
        self._run: Any = None
        self._start = 0.0
        self._best: float | None = None

    def setup(
        self,
        stop: Stopper | None = None,
        num_samples: int | None = None,
        total_num_samples: int | None = None,
        **info: Any,
    ) -> None:
        """Starts the clock and the W&B run."""
        import wandb

        self._start = time.monotonic()
        self._best = None
        try:
            self._run = wandb.init(reinit="create_new", **self._init_kwargs)
            self._run.define_metric(f"best_{self._metric}", step_metric="elapsed_s")
            self._run.define_metric(self._metric, step_metric="elapsed_s")
        except Exception as err:  # W&B must never fail the experiment
            self._run = None
            self._failure("incumbent run", err)

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        """Logs the result's metric and the incumbent (NaN never is one) against elapsed seconds."""
        value = result.get(self._metric)
        if self._run is None or value is None:
            return
        value = float(value)
        if not math.isnan(value) and (
            self._best is None or self._sign * value < self._sign * self._best
        ):
            self._best = value
        row = {"elapsed_s": time.monotonic() - self._start, self._metric: value}
        if self._best is not None:
            row[f"best_{self._metric}"] = self._best
        self._call(self._run.log, row)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """Logs the tables, if any, finishes the run and waits for its files.

        ``wandb.finish()`` returns before wandb's service has written the run file;
        ``wandb.teardown()`` waits for it, which ends every W&B run of this process.
        """
        import wandb

        if self._run is None:
            return
        self._call(self._log_tables)
        self._call(self._run.finish)
        self._call(wandb.teardown)
        self._run = None

    def _log_tables(self) -> None:
        import wandb

        tables = self._tables() if self._tables is not None else {}
        logged = {key: wandb.Table(dataframe=frame) for key, frame in tables.items() if len(frame)}
        if logged:
            self._run.log(logged)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception as err:  # W&B must never fail the experiment
            self._failure("incumbent run", err)


def set_wandb_environment(
    cfg: WandbConfig, default_dir: Path
) -> tuple[Literal["online", "offline"], Path]:
    """Sets ``WANDB_MODE``, ``WANDB_SILENT`` and ``WANDB_DIR`` in this process for ``cfg``.

    Ray's W&B callback asks for an API key unless ``WANDB_MODE`` says offline, also when it is
    restored with a resumed experiment; so ``resume`` calls this before Ray restores it.

    Args:
        cfg: The ``wandb`` section.
        default_dir: Root of the W&B files (``<default_dir>/wandb``) unless ``cfg.dir`` is set.

    Returns:
        The mode to use (see :func:`resolve_mode`) and the root folder, which exists.
    """
    wandb_mode = resolve_mode(cfg.mode)
    root = (Path(cfg.dir) if cfg.dir is not None else Path(default_dir)).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    os.environ["WANDB_MODE"] = wandb_mode
    os.environ["WANDB_SILENT"] = "true"
    os.environ["WANDB_DIR"] = str(root)
    return wandb_mode, root


def build_wandb_callbacks(
    cfg: WandbConfig,
    *,
    experiment_name: str,
    experiment_dir: Path,
    method: str,
    metadata: dict[str, Any],
    metric: str,
    mode: Literal["min", "max"],
    tables: Callable[[], Mapping[str, pd.DataFrame]] | None = None,
) -> list[Callback]:
    """Builds the Tune callbacks that log an experiment to W&B.

    Sets ``WANDB_MODE``, ``WANDB_SILENT`` and ``WANDB_DIR`` in this process so that wandb
    never prompts; the same settings are passed to every ``wandb.init`` explicitly, since
    Ray workers may have started before. The console's header says from them where the runs
    go (:func:`raytune_hpo.console.header.wandb_where`).

    Args:
        cfg: The experiment's ``wandb`` section.
        experiment_name: Default group, and the incumbent run's name prefix.
        experiment_dir: Default root of the W&B files (``<experiment_dir>/wandb``).
        method: Searcher and scheduler, e.g. ``hyperopt+asha``: the runs' job type.
        metadata: Added to every run's config (trainable, dataset, searcher, seed...).
        metric: Result key that the incumbent run tracks.
        mode: ``min`` or ``max``.
        tables: Returns the tables logged by the incumbent run at the end (name -> frame).

    Returns:
        Ray's ``WandbLoggerCallback`` (one run per trial) and an ``IncumbentRunCallback``;
        an empty list when W&B is not enabled.
    """
    if not cfg.enabled:
        return []
    wandb_mode, root = set_wandb_environment(cfg, experiment_dir)

    group = cfg.group or experiment_name
    common = {
        "entity": cfg.entity,
        "tags": list(cfg.tags),
        "job_type": method,
        "mode": wandb_mode,
        "dir": str(root),
        "settings": {"silent": True},
    }
    failure = _WandbFailure()
    trial_runs = _TrialRunsCallback(
        project=cfg.project, group=group, metadata=metadata, failure=failure, **common
    )
    incumbent = IncumbentRunCallback(
        init_kwargs={
            "project": cfg.project,
            "group": group,
            "name": f"{experiment_name}-incumbent",
            "config": {**metadata, "metric": metric, "mode": mode},
            **common,
        },
        metric=metric,
        mode=mode,
        tables=tables,
        failure=failure,
    )
    return [trial_runs, incumbent]


def log_comparison_run(
    cfg: WandbConfig,
    *,
    group: str,
    root: Path,
    tables: dict[str, pd.DataFrame],
    images: dict[str, Path],
) -> bool:
    """One more W&B run in a study's group that holds the study's tables and plots.

    The run's ``job_type`` is ``comparison``, so the group's dashboard shows the method table
    and the anytime plot beside the runs of each method, without panels made by hand.

    Args:
        cfg: The ``wandb`` section of the study's configs (project, entity, mode, dir, tags).
        group: The study's W&B group.
        root: Default root of the W&B files (``<root>/wandb``) when ``cfg.dir`` is not set.
        tables: Logged as ``wandb.Table`` under their keys.
        images: PNG files, logged as ``wandb.Image`` under their keys.

    Returns:
        Whether the run was written; a W&B failure warns once and never raises.
    """
    import wandb

    wandb_mode, folder = set_wandb_environment(cfg, root)
    try:
        run = wandb.init(
            project=cfg.project,
            entity=cfg.entity,
            group=group,
            job_type="comparison",
            name=f"{group}-comparison",
            tags=list(cfg.tags),
            mode=wandb_mode,
            dir=str(folder),
            settings={"silent": True},
            reinit="create_new",
        )
        run.log(
            {
                **{key: wandb.Table(dataframe=frame) for key, frame in tables.items()},
                **{key: wandb.Image(str(path)) for key, path in images.items()},
            }
        )
        run.finish()
        wandb.teardown()
    except Exception as err:  # W&B must never fail the study
        _WandbFailure()("comparison run", err)
        return False
    return True
