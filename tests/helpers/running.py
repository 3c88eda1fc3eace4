"""The command line in a fresh interpreter, and waiting for a condition to come true."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml


def run_cli(
    *args: str, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``raytune-hpo ARGS`` in a fresh interpreter and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "raytune_hpo.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def wait_for(condition: Callable[[], object], timeout_s: float, interval_s: float = 0.1) -> bool:
    """Whether ``condition()`` came true within ``timeout_s`` seconds (asked every interval)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)
    return False


def write_sleep_config(
    folder: Path, name: str, storage_path: str, *, epochs: int, trials: int, **changes: Any
) -> Path:
    """``folder/NAME.yaml``: ``trials`` trials of the ``sleep`` trainable, ``epochs`` epochs of
    0.05 s over a learning rate, offline data in ``folder/data``; ``changes`` replace keys."""
    spec = {
        "name": name,
        "trainable": "sleep",
        "trainable_options": {"seconds_per_epoch": 0.05},
        "dataset": {"name": "digits", "data_dir": str(folder / "data")},
        "max_epochs": epochs,
        "num_samples": trials,
        "search_space": {"learning_rate": {"uniform": [0.1, 1.0]}},
        "storage_path": storage_path,
        **changes,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path
