"""Where results are logged besides the console: W&B runs (offline by default) and the
experiment folder's result files.

- :mod:`~raytune_hpo.tracking.wandb_runs`: the W&B callback, one run per trial, grouped by method;
- :mod:`~raytune_hpo.tracking.wandb_config`: the ``wandb:`` section (pure);
- :mod:`~raytune_hpo.tracking.result_json_logger`: ``result.json`` of each trial.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """What the module ``raytune_hpo.tracking`` of earlier versions held (experiments written then
    name it in their pickled callbacks)."""
    import importlib

    try:
        return getattr(importlib.import_module("raytune_hpo.tracking.wandb_runs"), name)
    except AttributeError:
        raise AttributeError(f"module 'raytune_hpo.tracking' has no attribute {name!r}") from None
