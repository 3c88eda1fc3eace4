"""What a person reads while an experiment runs: Ray's output tamed, one line per trial event,
progress, and the summary (:mod:`~raytune_hpo.console.callback`).

May import :mod:`raytune_hpo.ray_compat` and the shared top-level modules.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """What the module ``raytune_hpo.console`` of earlier versions held (experiments written then
    name it in their pickled callbacks)."""
    import importlib

    try:
        return getattr(importlib.import_module("raytune_hpo.console.callback"), name)
    except AttributeError:
        raise AttributeError(f"module 'raytune_hpo.console' has no attribute {name!r}") from None
