"""What a person reads: while an experiment runs, and after.

- :mod:`~raytune_hpo.console.ray_output`: Ray's own output tamed for the output modes
  (loggers, the progress engine, worker output named by trial);
- :mod:`~raytune_hpo.console.formatting`: hyperparameters, durations and trial events as
  text (pure);
- :mod:`~raytune_hpo.console.progress`: where an experiment stands, its status line and bar;
- :mod:`~raytune_hpo.console.screen`: lines on the console, above the bar;
- :mod:`~raytune_hpo.console.header`: the experiment as the header shows it;
- :mod:`~raytune_hpo.console.callback`: the Ray Tune callback, one line per trial event;
- :mod:`~raytune_hpo.console.summary`: the summary, best trial and comparison table printed
  after a run (for the command line and :mod:`raytune_hpo.api`).

May import :mod:`raytune_hpo.ray_compat`, the shared top-level modules, ``config``, ``search``
and (for the summary) ``analysis``; never ``experiment`` or ``cli``.
"""

from __future__ import annotations

from typing import Any

_MOVED: dict[str, tuple[str, str]] = {
    **{
        name: ("ray_output", name)
        for name in (
            "OutputMode",
            "OUTPUT_MODES",
            "RAY_WORKER_NOISE",
            "NEW_OUTPUT_SWITCH",
            "configure",
            "ray_verbosity",
            "is_ray_noise",
        )
    },
    **{
        name: ("formatting", name)
        for name in (
            "format_params",
            "format_duration",
            "ending",
            "epochs_text",
            "after_failure",
            "exploit_line",
            "concurrency",
            "pick_best",
        )
    },
    "format_value": ("formatting", "format_number"),
    "Progress": ("progress", "Progress"),
    "StatusSchedule": ("progress", "StatusSchedule"),
    "ExperimentInfo": ("header", "ExperimentInfo"),
    "wandb_where": ("header", "wandb_where"),
    **{
        name: ("callback", name)
        for name in (
            "ConsoleCallback",
            "use_on_restored",
            "PROGRESS_MODES",
            "FAILURE_LINES",
            "STATUS_EVERY_S",
            "BAR_REFRESH_S",
        )
    },
}
"""What the module ``raytune_hpo.console`` of earlier versions held -> (module, name) now."""


def __getattr__(name: str) -> Any:
    """A name of the earlier module ``raytune_hpo.console`` (experiments written then name it in
    their pickled callbacks), from the module that holds it now."""
    import importlib

    if name not in _MOVED:
        raise AttributeError(f"module 'raytune_hpo.console' has no attribute {name!r}")
    module, attribute = _MOVED[name]
    return getattr(importlib.import_module(f"raytune_hpo.console.{module}"), attribute)
