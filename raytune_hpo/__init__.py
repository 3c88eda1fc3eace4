"""Config-driven hyperparameter tuning on Ray Tune.

``raytune_hpo.run(config, trainable=None, overrides=())`` and ``raytune_hpo.resume(path)`` run
an experiment from Python (see :mod:`raytune_hpo.api`); they are imported on first use, so that
importing the package stays cheap. No module of the package imports this one by its own name
(``from raytune_hpo import x``): each names the module it needs (``raytune_hpo.x``).
"""

from __future__ import annotations

from typing import Any

from raytune_hpo.moved_modules import install

__all__ = ["resume", "run"]

install()


def __getattr__(name: str) -> Any:
    if name in __all__:
        from raytune_hpo.api import resume, run

        return {"resume": resume, "run": run}[name]
    raise AttributeError(f"module 'raytune_hpo' has no attribute {name!r}")
