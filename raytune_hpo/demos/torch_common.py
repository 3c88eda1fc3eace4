"""What the torch trainables share: device choice, batching, checkpoints and reports."""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ray import tune

from raytune_hpo.demos.trial_settings import stamped

CHECKPOINT_FILE = "state.pt"


_DEVICES_SAID: set[str] = set()
"""The devices this worker process has said it trains on (its reused trials say nothing)."""


def select_device(cpus: float) -> torch.device:
    """The GPU Ray assigned when torch sees one, else the CPU; sets torch's CPU threads.

    Where it trains is printed once per worker process: a reused worker's later trials, and its
    restores from checkpoints, train on the same device.

    Args:
        cpus: The trial's CPU share; torch uses that many threads (at least one).
    """
    torch.set_num_threads(max(1, int(cpus)))
    if torch.cuda.is_available():
        device = torch.device("cuda", 0)
        where = f"GPU {os.environ.get('CUDA_VISIBLE_DEVICES', '0')}"
    else:
        device = torch.device("cpu")
        threads = torch.get_num_threads()
        where = f"the CPU with {threads} thread{'s' if threads != 1 else ''}"
    if where not in _DEVICES_SAID:
        _DEVICES_SAID.add(where)
        print(f"this worker trains on {where}", flush=True)
    return device


def place_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Move ``model`` to ``device``; on the CPU in channels-last memory format.

    oneDNN runs the small convolutions and poolings of these models about a fifth faster on
    channels-last tensors (BENCHMARKS.md); results and checkpoints are the same.
    """
    if device.type == "cpu":
        return model.to(device).to(memory_format=torch.channels_last)
    return model.to(device)


def to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A tensor over an object-store array (zero copy on the CPU; read-only, never written)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # object-store arrays are read-only
        return torch.from_numpy(array).to(device)


def batch_indices(
    size: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> Iterator[torch.Tensor]:
    """Index tensors of a shuffled pass over ``size`` items, ``batch_size`` at a time."""
    order = torch.randperm(size, generator=generator).to(device)
    for start in range(0, size, batch_size):
        yield order[start : start + batch_size]


def load_state(directory: Path, device: torch.device) -> dict[str, Any]:
    """Load a state dict written by :func:`report_epoch`."""
    return torch.load(directory / CHECKPOINT_FILE, map_location=device, weights_only=False)


def report_epoch(metrics: Mapping[str, Any], state: Mapping[str, Any] | None) -> None:
    """One ``tune.report`` for the epoch, with a checkpoint when ``state`` is given.

    The metrics are :func:`~raytune_hpo.demos.trial_settings.stamped` with the report's time and
    where the trial runs.
    """
    metrics = stamped(metrics)
    if state is None:
        tune.report(metrics)
        return
    with tempfile.TemporaryDirectory() as directory:
        torch.save(dict(state), Path(directory) / CHECKPOINT_FILE)
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(directory))


def apply_hyperparameters(optimizer: torch.optim.Optimizer, values: Mapping[str, Any]) -> None:
    """Set optimizer hyperparameters (lr, momentum, betas ...) from the trial's current config.

    After a restore the optimizer state carries the old values; PBT's explore changed them.
    """
    for group in optimizer.param_groups:
        for name, value in values.items():
            if name in group:
                group[name] = value
