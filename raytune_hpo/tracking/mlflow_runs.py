"""MLflow tracking: one parent run per experiment, one nested run per trial.

The driver logs everything, from Ray Tune's callback hooks, through ``MlflowClient``: every
report reaches the driver anyway, wherever its trial runs, so the workers need neither MLflow,
nor a route to the tracking server, nor its credentials, and trials (built-in, user code or a
command) change nothing. Ray's own ``MLflowLoggerCallback`` makes one flat run per trial and
starts new ones on ``resume``; this callback nests the trial runs under the experiment's parent
run (tag ``mlflow.parentRunId``), whose id it keeps in the experiment folder
(:data:`~raytune_hpo.layout.MLFLOW_RUN_FILE`), so that a resumed experiment continues its parent
run and the trial runs of its trials. An MLflow failure warns once and never changes the outcome
of an experiment.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ray.tune import Callback

from raytune_hpo import storage
from raytune_hpo.config import mlflow_section
from raytune_hpo.config.mlflow_section import MlflowConfig
from raytune_hpo.layout import (
    BEST_FILE,
    CONFIG_FILE,
    IMPORTANCE_FILE,
    MLFLOW_RUN_FILE,
    PARETO_PNG,
    PBT_HISTORY_PLOT,
    TRIAL_ENDS_FILE,
)
from raytune_hpo.tracking import mlflow_values

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from ray.tune.experiment import Trial
    from ray.tune.stopper import Stopper

logger = logging.getLogger(__name__)

PARENT_TAG = "mlflow.parentRunId"
"""MLflow's own tag that nests a run under another."""
TRIAL_TAG = "hpo.trial_id"
"""The Ray Tune trial id of a trial's run."""
STATUS_TAG = "hpo.trial_status"
"""How Ray Tune ended the trial (``TERMINATED``, ``ERROR``)."""
KIND_TAG = "hpo.run"
"""``experiment`` on a parent run, ``trial`` on a trial's."""
FOLDER_FILES = (
    CONFIG_FILE,
    BEST_FILE,
    TRIAL_ENDS_FILE,
    IMPORTANCE_FILE,
    PBT_HISTORY_PLOT,
    PARETO_PNG,
)
"""The experiment folder's files that its parent run holds as artefacts, once written."""
ENV_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
"""MLflow's settings in the driver, unless set: its retries of a failing request (7, with
back-off: minutes) cut down, so that a server that goes away costs seconds before logging stops;
no line on the console per run that ends."""


class _Failure:
    """Warns of the first MLflow failure and turns logging off for the rest of the run."""

    def __init__(self) -> None:
        self.happened = False

    def __call__(self, what: str, err: BaseException) -> None:
        if not self.happened:
            self.happened = True
            logger.warning("MLflow %s failed, the experiment goes on without it: %s", what, err)


def mlflow_client(uri: str) -> MlflowClient:
    """A client of ``uri`` with MLflow's settings of :data:`ENV_DEFAULTS`."""
    from mlflow import MlflowClient

    for key, value in ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return MlflowClient(tracking_uri=uri)


def experiment_id(client: MlflowClient, name: str, artifact_location: str | None) -> str:
    """The id of MLflow experiment ``name``, created (its artefacts at ``artifact_location``,
    or the server's default) when it does not exist yet."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    return str(client.create_experiment(name, artifact_location=artifact_location))


class MlflowRunsCallback(Callback):
    """Logs an experiment to MLflow: a parent run, and a run nested in it per trial.

    The parent run holds the experiment's settings as params, its method and seed as tags,
    ``best_<metric>`` after each report that improves it, and at the end (:func:`finish`) the
    best trial's metrics and the experiment folder's result files. A trial's run holds its
    hyperparameters as params, each report's numbers as metrics at ``step`` = its epoch
    (``training_iteration``), its trial id and how it ended as tags.

    Args:
        uri: The tracking URI.
        experiment: The MLflow experiment's name.
        artifact_location: Where a new MLflow experiment keeps its artefacts; None: the
            server's default.
        folder: The experiment folder, which keeps the parent run's id.
        run_name: The parent run's name (the experiment's).
        params: The parent run's params (settings of the experiment).
        tags: Put on every run (method, seed and the user's tags).
        metric: The metric whose best value the parent run follows.
        mode: ``min`` or ``max``.
    """

    def __init__(
        self,
        *,
        uri: str,
        experiment: str,
        artifact_location: str | None,
        folder: storage.Location,
        run_name: str,
        params: Mapping[str, Any],
        tags: Mapping[str, str],
        metric: str,
        mode: Literal["min", "max"],
    ) -> None:
        self._uri = uri
        self._experiment = experiment
        self._artifact_location = artifact_location
        self._folder = folder
        self._run_name = run_name
        self._params = dict(params)
        self._tags = dict(tags)
        self._metric = metric
        self._mode = mode
        self._reset()

    def _reset(self) -> None:
        self._client: MlflowClient | None = None
        self._failure = _Failure()
        self._parent: str | None = None
        self._experiment_id = ""
        self._trial_runs: dict[str, str] = {}
        self._trial_params: dict[str, dict[str, str]] = {}
        self._open: set[str] = set()
        self._best: float | None = None
        self._reports = 0

    def __getstate__(self) -> dict[str, Any]:
        """Settings only: Ray Tune pickles its callbacks with the experiment, and ``setup``
        finds the runs again (no client, no run ids in the pickle)."""
        state = dict(self.__dict__)
        for key in ("_client", "_failure", "_trial_runs", "_trial_params", "_open"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._reset()

    @property
    def parent_run_id(self) -> str | None:
        """The parent run's id, once :meth:`setup` started or found it."""
        return self._parent

    def setup(
        self,
        stop: Stopper | None = None,
        num_samples: int | None = None,
        total_num_samples: int | None = None,
        **info: Any,
    ) -> None:
        """Starts the parent run, or continues the one the experiment folder names."""
        self._call("parent run", self._start_parent)

    def _start_parent(self) -> None:
        client = self._client = mlflow_client(self._uri)
        self._experiment_id = experiment_id(client, self._experiment, self._artifact_location)
        self._parent = stored_parent_run(client, self._folder, self._experiment_id)
        if self._parent is not None:
            client.update_run(self._parent, status="RUNNING")
            self._trial_runs = trial_runs(client, self._experiment_id, self._parent)
            return
        run = client.create_run(
            self._experiment_id,
            run_name=self._run_name,
            tags={**self._tags, KIND_TAG: "experiment"},
        )
        self._parent = run.info.run_id
        storage.write_text(
            self._folder,
            MLFLOW_RUN_FILE,
            json.dumps({"experiment_id": self._experiment_id, "run_id": self._parent}),
        )
        self._log_batch(self._parent, params=mlflow_values.params(self._params))

    def on_trial_start(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Starts the trial's run, or marks its earlier run (a resumed trial) running again."""
        self._call(f"run of trial {trial}", self._start_trial, trial)

    def _start_trial(self, trial: Trial) -> None:
        if self._client is None or self._parent is None:
            return
        run_id = self._trial_runs.get(trial.trial_id)
        if run_id is not None:
            self._client.update_run(run_id, status="RUNNING")
        else:
            run = self._client.create_run(
                self._experiment_id,
                run_name=str(trial),
                tags={
                    **self._tags,
                    PARENT_TAG: self._parent,
                    TRIAL_TAG: trial.trial_id,
                    KIND_TAG: "trial",
                },
            )
            run_id = self._trial_runs[trial.trial_id] = run.info.run_id
            self._log_batch(run_id, params=mlflow_values.params(trial.config))
        self._trial_params[trial.trial_id] = mlflow_values.params(trial.config)
        self._open.add(trial.trial_id)

    def on_trial_result(
        self, iteration: int, trials: list[Trial], trial: Trial, result: dict, **info: Any
    ) -> None:
        """Logs the report's numbers at its epoch, and the parent's ``best_<metric>``."""
        self._call(f"run of trial {trial}", self._log_result, trial, result)

    def _log_result(self, trial: Trial, result: Mapping[str, Any]) -> None:
        if trial.trial_id not in self._open:
            self._start_trial(trial)
        run_id = self._trial_runs.get(trial.trial_id)
        if run_id is None or self._parent is None:
            return
        step = mlflow_values.step(result, default=self._reports)
        stamp = int(float(result.get("timestamp") or time.time()) * 1000)
        values = mlflow_values.metrics(result)
        logged = self._trial_params.get(trial.trial_id, {})
        values.update(mlflow_values.changed_params(logged, result.get("config") or {}))
        self._log_batch(run_id, metrics=values, step=step, stamp=stamp)
        self._reports += 1
        value = values.get(mlflow_values.clean_key(self._metric))
        if value is not None and mlflow_values.better(value, self._best, self._mode):
            self._best = value
            best = {f"best_{self._metric}": value}
            self._log_batch(self._parent, metrics=best, step=self._reports, stamp=stamp)

    def on_trial_complete(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Ends the trial's run as finished."""
        self._call(f"run of trial {trial}", self._end_trial, trial, "FINISHED")

    def on_trial_error(
        self, iteration: int, trials: list[Trial], trial: Trial, **info: Any
    ) -> None:
        """Ends the trial's run as failed."""
        self._call(f"run of trial {trial}", self._end_trial, trial, "FAILED")

    def _end_trial(self, trial: Trial, status: str) -> None:
        run_id = self._trial_runs.get(trial.trial_id)
        if self._client is None or run_id is None:
            return
        self._open.discard(trial.trial_id)
        trial_status = "ERROR" if status == "FAILED" else "TERMINATED"
        self._client.set_tag(run_id, STATUS_TAG, trial_status)
        self._client.set_terminated(run_id, status=status)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        """Ends the runs of trials that never ended (Ctrl-C) as killed, and the parent run:
        finished when every trial ended, else killed (``resume`` continues it)."""
        self._call("parent run", self._end_runs, trials)

    def _end_runs(self, trials: list[Trial]) -> None:
        if self._client is None or self._parent is None:
            return
        for trial_id in sorted(self._open):
            self._client.set_terminated(self._trial_runs[trial_id], status="KILLED")
        self._open.clear()
        ended = all(trial.is_finished() for trial in trials)
        self._client.set_terminated(self._parent, status="FINISHED" if ended else "KILLED")

    def _log_batch(
        self,
        run_id: str,
        *,
        params: Mapping[str, str] | None = None,
        metrics: Mapping[str, float] | None = None,
        step: int = 0,
        stamp: int | None = None,
    ) -> None:
        log_batch(self._client, run_id, params=params, metrics=metrics, step=step, stamp=stamp)

    def _call(self, what: str, fn: Callable[..., None], *args: Any) -> None:
        if self._failure.happened:
            return
        try:
            fn(*args)
        except Exception as err:  # MLflow must never fail the experiment
            self._failure(what, err)


BATCH_LIMIT = 100
"""Params per ``log_batch`` call (MLflow refuses more)."""


def log_batch(
    client: MlflowClient | None,
    run_id: str,
    *,
    params: Mapping[str, str] | None = None,
    metrics: Mapping[str, float] | None = None,
    step: int = 0,
    stamp: int | None = None,
) -> None:
    """Logs ``params`` and ``metrics`` (at ``step`` and ``stamp``, ms; now when None) to
    ``run_id`` in as few calls as MLflow allows."""
    from mlflow.entities import Metric, Param

    if client is None:
        return
    stamp = stamp if stamp is not None else int(time.time() * 1000)
    entities = [Param(key, value) for key, value in (params or {}).items()]
    for start in range(0, len(entities), BATCH_LIMIT):
        client.log_batch(run_id, params=entities[start : start + BATCH_LIMIT])
    points = [Metric(key, value, stamp, step) for key, value in (metrics or {}).items()]
    for start in range(0, len(points), BATCH_LIMIT * 10):
        client.log_batch(run_id, metrics=points[start : start + BATCH_LIMIT * 10])


def stored_parent_run(
    client: MlflowClient, folder: storage.Location, experiment: str
) -> str | None:
    """The parent run that the experiment folder names, if it is in ``experiment`` of this
    store (a store that lost it, or another one, gets a new parent run)."""
    from mlflow.exceptions import MlflowException

    if not storage.exists(folder, MLFLOW_RUN_FILE):
        return None
    stored = json.loads(storage.read_text(folder, MLFLOW_RUN_FILE))
    try:
        run = client.get_run(str(stored.get("run_id")))
    except MlflowException:
        return None
    if run.info.experiment_id != experiment or run.info.lifecycle_stage != "active":
        return None
    return str(run.info.run_id)


def trial_runs(client: MlflowClient, experiment: str, parent: str) -> dict[str, str]:
    """Trial id -> run id of the trial runs nested in ``parent``."""
    runs = client.search_runs(
        [experiment], filter_string=f"tags.`{PARENT_TAG}` = '{parent}'", max_results=10000
    )
    return {run.data.tags[TRIAL_TAG]: run.info.run_id for run in runs if TRIAL_TAG in run.data.tags}


def finish(uri: str, folder: storage.Location, metric: str) -> None:
    """Adds the end of the experiment to its parent run (named in ``folder``): the best
    trial's value of ``metric``, its test metrics and id (from ``best.json``), and the folder's
    result files (:data:`FOLDER_FILES`) as artefacts. Called after the best trial is scored, and
    again after the summary wrote its plots; an MLflow failure warns and never raises."""
    try:
        _finish(mlflow_client(uri), folder, metric)
    except Exception as err:  # MLflow must never fail the experiment
        _Failure()("end of the parent run", err)


def _finish(client: MlflowClient, folder: storage.Location, metric: str) -> None:
    if not storage.exists(folder, MLFLOW_RUN_FILE):
        return
    run_id = str(json.loads(storage.read_text(folder, MLFLOW_RUN_FILE))["run_id"])
    if storage.exists(folder, BEST_FILE):
        best = json.loads(storage.read_text(folder, BEST_FILE))
        values = {f"best_{metric}": best.get(metric)}
        values.update({f"test_{key}": value for key, value in (best.get("test") or {}).items()})
        log_batch(client, run_id, metrics=mlflow_values.metrics(values))
        client.set_tag(run_id, "hpo.best_trial_id", str(best.get("trial_id")))
    with tempfile.TemporaryDirectory(prefix="raytune-hpo-mlflow-") as scratch:
        for name in FOLDER_FILES:
            if storage.exists(folder, name):
                Path(scratch, name).write_bytes(storage.read_bytes(folder, name))
        if any(Path(scratch).iterdir()):
            client.log_artifacts(run_id, scratch)


def store(cfg: MlflowConfig, local_root: Path) -> tuple[str, str | None]:
    """The tracking URI of ``cfg`` (:func:`~raytune_hpo.config.mlflow_section.tracking_uri`),
    and where a new experiment keeps its artefacts: beside a SQLite store's file (MLflow would
    put them below the working directory), else the server's default (None)."""
    uri = mlflow_section.tracking_uri(cfg, local_root, os.environ)
    database = mlflow_section.sqlite_file(uri)
    return uri, (database.parent.joinpath("artifacts").as_uri() if database else None)


def build_mlflow_callbacks(
    cfg: MlflowConfig,
    *,
    experiment_name: str,
    folder: storage.Location,
    local_root: Path,
    params: Mapping[str, Any],
    tags: Mapping[str, str],
    metric: str,
    mode: Literal["min", "max"],
) -> list[Callback]:
    """The Tune callback that logs an experiment to MLflow; none when MLflow is off.

    Args:
        cfg: The experiment's ``mlflow`` section.
        experiment_name: The experiment's name: the parent run's, and the MLflow
            experiment's unless ``cfg.experiment_name`` is set.
        folder: The experiment folder.
        local_root: Where the local store goes when no tracking URI is named.
        params: The parent run's params.
        tags: Put on every run, with ``cfg.tags``.
        metric: Followed by the parent run as ``best_<metric>``.
        mode: ``min`` or ``max``.
    """
    if not cfg.active:
        return []
    uri, artifact_location = store(cfg, local_root)
    return [
        MlflowRunsCallback(
            uri=uri,
            experiment=cfg.experiment_name or experiment_name,
            artifact_location=artifact_location,
            folder=folder,
            run_name=experiment_name,
            params=params,
            tags={**tags, **cfg.tags},
            metric=metric,
            mode=mode,
        )
    ]
