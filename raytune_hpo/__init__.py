"""Config-driven hyperparameter tuning on Ray Tune.

``raytune_hpo.run(config, trainable=None, overrides=())`` and ``raytune_hpo.resume(path)`` run
an experiment from Python (see :mod:`raytune_hpo.api`); they are imported on first use, so that
importing the package stays cheap. They are for users: no module of the package imports them
(``from raytune_hpo import storage`` imports the subpackage, not a name of this module).
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
