"""Checks that run before Ray starts, so that no mistake a check can catch costs a cluster start.

:func:`check_run` refuses a URI ``storage_path`` whose store fails (no bucket, no answer), an
experiment folder that already holds an experiment and a ``storage_path`` or
``dataset.data_dir`` that cannot be written; :func:`check_command` (``validate`` and ``run``) a
command whose ``workdir``, program or script is not there; :func:`dataset_errors` turns the
data module's errors (files missing and no download possible, sizes that do not fit) into
:class:`~raytune_hpo.config.ConfigError` naming the ``dataset`` key; :func:`check_tracking` an
MLflow tracking URI that cannot take runs. Every failure is one line
that names the key and what is wrong.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from raytune_hpo import storage
from raytune_hpo.adapters.command.program import command_problems, trial_path
from raytune_hpo.adapters.command.spec import CommandSpec
from raytune_hpo.config import ConfigError, ExperimentConfig
from raytune_hpo.config.mlflow_section import URI_ENV, tracking_uri
from raytune_hpo.demos.datasets import DatasetNotFoundError
from raytune_hpo.layout import CONFIG_FILE


def check_run(cfg: ExperimentConfig, path: storage.Location, *, overwrite: bool) -> None:
    """Everything ``run`` can check about its folders before Ray starts.

    Args:
        cfg: The validated experiment config.
        path: The experiment folder, ``storage_path/name``.
        overwrite: Whether the user allowed reusing the folder of an earlier experiment.

    Raises:
        ConfigError: The store of a URI ``storage_path`` fails, the folder holds an experiment,
            or a folder cannot be written.
    """
    if storage.is_uri(cfg.storage_path):
        check_store(cfg.storage_path)
    check_new_experiment(path, overwrite=overwrite)
    if not storage.is_uri(cfg.storage_path):
        check_writable("storage_path", Path(cfg.storage_path).expanduser())
    check_writable("dataset.data_dir", Path(cfg.dataset.data_dir).expanduser())


def check_command(cfg: ExperimentConfig) -> None:
    """Prove that a command trainable's code folder, program and script are there.

    Checked as a trial will run the command: in its ``workdir`` (without one, the working
    directory), with the trial's ``PATH``
    (:func:`~raytune_hpo.adapters.command.program.command_problems`). Other trainables pass.

    Raises:
        ConfigError: ``trainable.workdir`` is no folder, or ``trainable.command`` names a
            program or script that is not there (the first problem, in one line).
    """
    spec = cfg.trainable
    if not isinstance(spec, CommandSpec):
        return
    workdir = Path(spec.workdir or os.getcwd()).expanduser()
    for key, message in command_problems(spec, workdir, trial_path()):
        raise ConfigError(key, message)


def check_tracking(cfg: ExperimentConfig, local_root: Path) -> None:
    """Prove that MLflow is installed and its tracking URI can take runs, when it is on.

    Args:
        cfg: The validated experiment config.
        local_root: Where the local store goes when no tracking URI is named.

    Raises:
        ConfigError: ``mlflow``: MLflow is not installed; ``mlflow.tracking_uri`` (or
            ``MLFLOW_TRACKING_URI``, where the URI came from): the server does not answer,
            refuses the credentials or is none (one line, the URI's credentials masked).
    """
    if not cfg.mlflow.active:
        return
    if importlib.util.find_spec("mlflow") is None:
        raise ConfigError("mlflow", "needs MLflow: pip install -e '.[mlflow]' (from a clone)")
    from raytune_hpo.tracking import mlflow_server

    uri = tracking_uri(cfg.mlflow, local_root, os.environ)
    if (problem := mlflow_server.problem(uri)) is not None:
        key = URI_ENV if cfg.mlflow.tracking_uri is None else "mlflow.tracking_uri"
        raise ConfigError(key, problem)


def check_store(storage_path: str) -> None:
    """Prove that the store of a URI ``storage_path`` answers and that its bucket exists.

    Raises:
        ConfigError: ``storage_path``: no such bucket, an unreachable endpoint, a refused
            request, a URI that pyarrow cannot open (one line, the URI named).
    """
    try:
        storage.check_store(storage.as_location(storage_path))
    except storage.StorageError as err:
        raise ConfigError("storage_path", str(err)) from None


def check_new_experiment(path: storage.Location, *, overwrite: bool) -> None:
    """Refuse to start an experiment in a folder that already holds one, unless ``overwrite``.

    Raises:
        ConfigError: ``path`` holds the resolved config of an earlier experiment.
    """
    if overwrite or not storage.exists(path, CONFIG_FILE):
        return
    raise ConfigError(
        "name",
        f"{path} already holds an experiment; continue it with `raytune-hpo resume {path}`, "
        "choose another --name, or pass --overwrite to start again in that folder",
    )


def check_writable(key: str, folder: Path) -> None:
    """Create ``folder`` if needed and prove that a file can be written in it.

    A real file is written (and removed) rather than trusting permission bits, which say
    nothing about read-only file systems or a process running as root.

    Args:
        key: The config key that names the folder, quoted in the error.
        folder: The folder.

    Raises:
        ConfigError: The folder cannot be created or written.
    """
    try:
        storage.probe_writable(folder)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ConfigError(key, f"{folder} is not a writable folder ({reason})") from None


@contextmanager
def dataset_errors() -> Iterator[None]:
    """Turn the data module's errors inside the block into :class:`ConfigError`.

    Raises:
        ConfigError: ``dataset.name`` for a data set that is not on disk and cannot be
            downloaded (the message says which files are expected where, and that ``digits``
            works offline); ``dataset`` for any other bad data setting.
    """
    try:
        yield
    except DatasetNotFoundError as err:
        raise ConfigError("dataset.name", str(err)) from None
    except ValueError as err:
        raise ConfigError("dataset", str(err)) from None
