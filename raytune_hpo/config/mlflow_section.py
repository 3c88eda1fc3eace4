"""The ``mlflow`` section of an experiment config, and where its runs go, apart from MLflow.

Imports only pydantic and the standard library, so that loading a config or printing the
console's header never imports MLflow (:mod:`raytune_hpo.tracking.mlflow_runs` does, when an
experiment runs).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from raytune_hpo.layout import MLFLOW_DB, MLFLOW_DIR

URI_ENV = "MLFLOW_TRACKING_URI"
"""MLflow's own variable for the tracking server; used when the config names none."""
CREDENTIAL_ENVS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
"""MLflow's own variables for a tracking server's credentials: the only place for them."""


class MlflowConfig(BaseModel):
    """The ``mlflow`` section of an experiment config.

    Attributes:
        enabled: Log to MLflow; None (the default) logs when ``tracking_uri`` is set.
        tracking_uri: The tracking server (``http://host:5000``) or store (``sqlite:///...``);
            None uses ``MLFLOW_TRACKING_URI``, else a local store in the experiment folder.
            Credentials never go here: MLflow reads them from ``MLFLOW_TRACKING_USERNAME``
            and ``MLFLOW_TRACKING_PASSWORD`` (or ``MLFLOW_TRACKING_TOKEN``).
        experiment_name: The MLflow experiment that holds the runs; None uses the
            experiment's name (a study uses its own name for all of its runs).
        tags: Tags put on every run, parent and trials.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    tracking_uri: str | None = Field(default=None, min_length=1)
    experiment_name: str | None = Field(default=None, min_length=1)
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("tracking_uri")
    @classmethod
    def _no_credentials(cls, uri: str | None) -> str | None:
        """A URI with a password would be written into the experiment folder and the logs."""
        if uri is not None and urllib.parse.urlsplit(uri).password is not None:
            raise ValueError(
                "holds a password; give it in MLFLOW_TRACKING_USERNAME and "
                "MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) instead"
            )
        return uri

    @property
    def active(self) -> bool:
        """Whether the experiment logs to MLflow: ``enabled``, or a ``tracking_uri`` given."""
        return self.enabled if self.enabled is not None else self.tracking_uri is not None


def local_store(root: Path) -> str:
    """The SQLite URI of the local store below ``root`` (its artefacts go beside the file)."""
    return f"sqlite:///{Path(root).expanduser().resolve() / MLFLOW_DIR / MLFLOW_DB}"


def sqlite_file(uri: str) -> Path | None:
    """The file of a ``sqlite:///`` store; None for any other URI."""
    parts = urllib.parse.urlsplit(uri)
    return Path(urllib.parse.unquote(parts.path)) if parts.scheme == "sqlite" else None


def tracking_uri(cfg: MlflowConfig, root: Path, env: Mapping[str, str]) -> str:
    """Where the runs go: ``cfg.tracking_uri``, else ``MLFLOW_TRACKING_URI``, else the local
    store below ``root`` (:func:`local_store`)."""
    return cfg.tracking_uri or env.get(URI_ENV) or local_store(root)


def masked_uri(uri: str) -> str:
    """``uri`` with any user name and password replaced by ``***``, fit for logs."""
    parts = urllib.parse.urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port is not None else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def where(cfg: MlflowConfig, root: Path, experiment: str, env: Mapping[str, str]) -> str:
    """Where MLflow runs go, in one line for the console's header (credentials masked).

    Args:
        cfg: The ``mlflow`` section.
        root: The folder of the local store (the experiment folder).
        experiment: The experiment's name, the default MLflow experiment.
        env: The environment, for ``MLFLOW_TRACKING_URI``.
    """
    if not cfg.active:
        return "off"
    name = cfg.experiment_name or experiment
    uri = tracking_uri(cfg, root, env)
    if uri == local_store(root):
        folder = Path(root).expanduser().resolve() / MLFLOW_DIR
        return f"experiment {name} in {folder}; see it: mlflow ui --backend-store-uri {uri}"
    return f"experiment {name} at {masked_uri(uri)}"
