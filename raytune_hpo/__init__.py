"""Config-driven hyperparameter tuning on Ray Tune.

``raytune_hpo.run(config, trainable=None, overrides=())`` and ``raytune_hpo.resume(path)`` run
an experiment from Python (see :mod:`raytune_hpo.api`); they are imported on first use, so that
importing the package stays cheap.
"""

from __future__ import annotations

from typing import Any

from raytune_hpo import moved_modules

__all__ = ["resume", "run"]

moved_modules.install()


def __getattr__(name: str) -> Any:
    if name in __all__:
        from raytune_hpo import api

        return getattr(api, name)
    raise AttributeError(f"module 'raytune_hpo' has no attribute {name!r}")
