"""What a trial knows and adds to its reports, without torch: settings and where it runs.

A trainable that needs no torch (``sleep``) imports only this, so its Ray workers never pay for
torch's import.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ray


@dataclass(frozen=True)
class TrialSettings:
    """Experiment-level settings a trial needs; hyperparameters travel in the trial config."""

    max_epochs: int
    checkpoint_frequency: int = 1
    seed: int = 0
    cpus: float = 1.0
    options: Mapping[str, Any] = field(default_factory=dict)
    dataset: str = "digits"
    """Name of the experiment's data set (e.g. for the inception-score classifier)."""
    data_dir: str = "~/.cache/raytune_hpo/data"
    download: bool = True


def placement() -> dict[str, str]:
    """Where the trial runs: ``node_ip`` and ``gpu_ids``, the GPUs Ray assigned ("0,1"; "" none)."""
    return {
        "node_ip": ray.util.get_node_ip_address(),
        "gpu_ids": ",".join(str(gpu) for gpu in ray.get_gpu_ids()),
    }


def stamped(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """``metrics`` with ``report_time`` (seconds since the epoch) and :func:`placement` added.

    The report time lines results up on one wall clock across trials and nodes.
    """
    return {**metrics, "report_time": time.time(), **placement()}
