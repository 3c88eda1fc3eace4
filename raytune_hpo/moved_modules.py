"""Module names of earlier versions, still importable: they name the modules that took over.

Experiments written before the package was arranged by concept hold pickled references to
module paths such as ``raytune_hpo.command_trial.train_command`` (the trainable, callbacks,
schedulers); ``raytune-hpo resume`` unpickles them, on the driver and on every worker. Each old
name here is loaded as the module that replaced it, the same module object (so ``isinstance``
and registries agree), through a finder that importing ``raytune_hpo`` installs. The old
``raytune_hpo.console`` and ``raytune_hpo.tracking`` are packages now, whose ``__getattr__``
hands out what the old modules held.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

PACKAGE = "raytune_hpo"
MOVED: dict[str, str] = {
    "base_models": "pydantic_base",
    "command_args": "trainables.command.args",
    "command_metrics": "trainables.command.metrics",
    "command_spec": "trainables.command.spec",
    "command_state": "trainables.command.state",
    "command_trial": "trainables.command.trial",
    "restore_check": "trainables.restore_check",
    "user_code": "trainables.user_code",
    "data": "trainables.data",
    "inception_score": "trainables.inception_score",
    "models": "trainables.models",
    "models.lenet": "trainables.models.lenet",
    "models.dcgan": "trainables.models.dcgan",
    "search_space": "search.search_space",
    "searchers": "search.searchers",
    "schedulers": "search.schedulers",
    "explore": "search.pbt_explore",
    "pbt_donors": "search.pbt_donors",
    "pbt_history": "search.pbt_history",
    "pbt_history_plot": "analysis.pbt_history_plot",
    "compare": "analysis.compare",
    "comparison_plots": "analysis.comparison_plots",
    "results": "analysis.results",
    "storage": "analysis.storage",
    "runner": "experiment.runner",
    "preflight": "experiment.preflight",
    "interrupts": "experiment.interrupts",
    "study": "experiment.study",
    "trial_checks": "experiment.trial_checks",
    "import_ahead": "experiment.scoring_import",
    "worker_preload": "cluster.worker_preload",
    "tcp_probe": "cluster.tcp_probe",
    "wandb_config": "tracking.wandb_config",
    "result_json_logger": "tracking.result_json_logger",
    "ray_internals": "ray_compat.version",
}
"""Old module path (below the package) -> the module that took over."""


class _Alias(importlib.abc.Loader):
    """Loads an old name as the module now at ``target``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns what sys.modules holds under the name once this returns.
        sys.modules[module.__name__] = importlib.import_module(self.target)


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old names of :data:`MOVED`."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        old = fullname.removeprefix(f"{PACKAGE}.")
        if old == fullname or old not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(f"{PACKAGE}.{MOVED[old]}"))


def install() -> None:
    """Make the old names importable (idempotent)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
