"""Whether an MLflow tracking URI can take runs, asked once before Ray starts.

An HTTP server must accept a connection within :data:`TIMEOUT_S` and answer one search of its
experiments with the credentials of MLflow's own variables (``MLFLOW_TRACKING_USERNAME`` and
``MLFLOW_TRACKING_PASSWORD``, or ``MLFLOW_TRACKING_TOKEN``), without MLflow's retries (minutes
by default); a SQLite store's folder must be writable. Every answer names the URI with its
credentials masked.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

from raytune_hpo.cluster import tcp_probe
from raytune_hpo.config.mlflow_section import masked_uri, sqlite_file

TIMEOUT_S = 5.0
"""How long the server may take to accept a connection, and then to answer."""
SEARCH_ENDPOINT = "/api/2.0/mlflow/experiments/search"


def problem(uri: str) -> str | None:
    """Why runs cannot go to ``uri``, in one line; None when they can (or cannot be told)."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return _server_problem(uri, parts)
    if (database := sqlite_file(uri)) is not None:
        return _folder_problem(uri, database.parent)
    if parts.scheme in ("", "file"):
        return "the file store is retired by MLflow: use a sqlite:/// URI or a server"
    return None


def _server_problem(uri: str, parts: urllib.parse.SplitResult) -> str | None:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    error = tcp_probe.connect_error(parts.hostname or "", port, TIMEOUT_S)
    if error is not None:
        return f"{masked_uri(uri)} does not answer ({error.strerror or type(error).__name__})"
    from mlflow.utils.credentials import get_default_host_creds
    from mlflow.utils.rest_utils import http_request

    try:
        response = http_request(
            get_default_host_creds(uri),
            SEARCH_ENDPOINT,
            "POST",
            max_retries=0,
            timeout=TIMEOUT_S,
            raise_on_status=False,
            json={"max_results": 1},
        )
    except Exception as err:  # requests' errors, MLflow's wrapping of them
        return f"{masked_uri(uri)} does not answer as an MLflow server ({type(err).__name__})"
    if response.status_code in (401, 403):
        return (
            f"{masked_uri(uri)} refused the credentials (HTTP {response.status_code}): set "
            "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN)"
        )
    if not response.ok:
        return f"{masked_uri(uri)} is no MLflow tracking server (HTTP {response.status_code})"
    return None


def _folder_problem(uri: str, folder: Path) -> str | None:
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        return f"{masked_uri(uri)}: {existing} is not writable"
    return None
