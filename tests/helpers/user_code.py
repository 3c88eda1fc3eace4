"""The user's own code of the tests (``tests/user_code/tunable.py``) and a config that tunes it.

The ``user_code_dir`` fixture (``tests/conftest.py``) copies the file out of the repository as
``USER_MODULE``.py; a config names its functions and classes as ``USER_MODULE:climb`` or
``USER_MODULE.py:Climber``, as a user's YAML file would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

USER_MODULE = "user_tunable_code"
"""The module name of ``tests/user_code/tunable.py`` once copied out of the repository."""

TUNABLE_FILE = Path(__file__).resolve().parents[1] / "user_code" / "tunable.py"
"""The user's module in the repository, before the fixture copies it."""

LRS = [0.01, 1.0, 2.0, 3.0]
"""The learning rates of ``climb_config``'s grid: a trial's score grows by ``lr`` per step."""


def climb_config(tmp_path: Path, name: str, trainable: str, **changes: Any) -> dict[str, Any]:
    """A raw config that runs ``trainable`` over the grid of ``LRS``, 4 short epochs each.

    Args:
        tmp_path: The folder whose ``results/`` holds the experiment.
        name: The experiment's name.
        trainable: The user's code, such as ``f"{USER_MODULE}:climb"``.
        **changes: Top-level keys that replace or add to the config's.
    """
    return {
        "name": name,
        "trainable": trainable,
        "metric": "score",
        "mode": "max",
        "max_epochs": 4,
        "num_samples": 1,
        "search_space": {"lr": {"grid": LRS}, "seconds_per_step": 0.05},
        "searcher": {"name": "grid"},
        "resources_per_trial": {"cpu": 0.5},
        "storage_path": str(tmp_path / "results"),
        **changes,
    }
