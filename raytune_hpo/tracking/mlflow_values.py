"""What an MLflow run receives from Ray Tune: hyperparameters as params, reports as metrics.

Pure functions, no MLflow import: :mod:`raytune_hpo.tracking.mlflow_runs` wraps their output
in MLflow's entities.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

PARAM_VALUE_LIMIT = 6000
"""The longest param value MLflow stores; a longer one is cut, its end marked."""
STEP_KEY = "training_iteration"
"""The report's count in its trial, Ray Tune's epoch: the step of every metric."""
NOT_METRICS = frozenset({"config", "timestamp", "pid", "done", STEP_KEY})
"""Report keys that are no metric of the trial: its hyperparameters (params), the step itself
and Ray Tune's bookkeeping."""
_BAD_KEY_CHARS = re.compile(r"[^\w\-./ ]")


def clean_key(key: str) -> str:
    """``key`` with the characters MLflow refuses in a name (``[^A-Za-z0-9_\\-./ ]``) as ``_``."""
    return _BAD_KEY_CHARS.sub("_", key)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level, their keys joined by ``/`` (``optimizer/lr``)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = clean_key(f"{prefix}{key}")
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


def params(config: Mapping[str, Any]) -> dict[str, str]:
    """A trial's hyperparameters (nested ones flattened) as MLflow params, cut to the limit."""
    return {key: _param_value(value) for key, value in flatten(config).items()}


def _param_value(value: Any) -> str:
    text = str(value)
    if len(text) <= PARAM_VALUE_LIMIT:
        return text
    return text[: PARAM_VALUE_LIMIT - 3] + "..."


def metrics(result: Mapping[str, Any]) -> dict[str, float]:
    """A report's numbers (nested ones flattened; booleans as 0 and 1) as MLflow metrics.

    Hyperparameters, the step and Ray Tune's bookkeeping (:data:`NOT_METRICS`) are left out,
    and so are values that are no number (strings, lists, None).
    """
    kept = {key: value for key, value in result.items() if key not in NOT_METRICS}
    return {
        key: float(value)
        for key, value in flatten(kept).items()
        if isinstance(value, int | float) and not isinstance(value, complex)
    }


def step(result: Mapping[str, Any], default: int) -> int:
    """The report's step: its epoch (``training_iteration``), else ``default``."""
    value = result.get(STEP_KEY)
    return int(value) if isinstance(value, int | float) and math.isfinite(value) else default


def changed_params(logged: Mapping[str, str], config: Mapping[str, Any]) -> dict[str, float]:
    """Numeric hyperparameters whose value differs from the param logged at the trial's start
    (PBT's explore): metrics ``config/<name>``, since MLflow never changes a param."""
    return {
        f"config/{key}": float(value)
        for key, value in flatten(config).items()
        if isinstance(value, int | float)
        and not isinstance(value, bool)
        and key in logged
        and logged[key] != _param_value(value)
    }


def better(value: float, best: float | None, mode: str) -> bool:
    """Whether ``value`` beats ``best`` (None: nothing yet) in ``mode``; NaN never does."""
    if math.isnan(value):
        return False
    return best is None or (value < best if mode == "min" else value > best)
