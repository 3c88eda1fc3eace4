"""Names of earlier versions, still importable, in one place; release 0.9.0 drops them.

Experiments written by earlier versions hold pickled references to module paths and names (the
trainable, callbacks, schedulers, a built-in trainable's ``module:function``), such as
``raytune_hpo.command_trial.train_command`` (0.6.0) or ``raytune_hpo.trainables.lenet``
(0.7.0); ``raytune-hpo resume`` unpickles them, on the driver and on every worker. Importing
``raytune_hpo`` installs a finder that loads:

- each old module name of :data:`MOVED` as the module that replaced it, the same module object
  (so ``isinstance`` and registries agree);
- each old package of :data:`OLD_PACKAGES` that is gone as an empty package whose names come
  from the module that holds them now.

The ``console`` and ``tracking`` packages were modules once: :data:`OLD_ATTRIBUTES` says where
their old names live now, and each package's ``__getattr__`` is :func:`old_attribute_getter`.
The CHANGELOG names the release that removes all of these.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

PACKAGE = "raytune_hpo"
REMOVED_IN = "0.9.0"
"""The release that drops these names: experiments written before 0.8.0 resume until then."""

MOVED: dict[str, str] = {
    # The flat package of 0.6.0 and before.
    "base_models": "pydantic_base",
    "command_args": "adapters.command.args",
    "command_metrics": "adapters.command.formats",
    "command_spec": "adapters.command.spec",
    "command_state": "adapters.command.state",
    "command_trial": "adapters.command.command_trainable",
    "restore_check": "adapters.restore_check",
    "user_code": "adapters.import_paths",
    "data": "demos.datasets",
    "inception_score": "demos.inception_score",
    "models.lenet": "demos.lenet_model",
    "models.dcgan": "demos.dcgan_model",
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
    "runner": "experiment.runner",
    "preflight": "experiment.preflight",
    "interrupts": "experiment.interrupts",
    "study": "experiment.study",
    "trial_checks": "experiment.trial_checks",
    "import_ahead": "experiment.scoring_import",
    "worker_preload": "cluster.worker_preload",
    "tcp_probe": "cluster.tcp_probe",
    "wandb_config": "config.wandb_section",
    "result_json_logger": "tracking.result_json_logger",
    "ray_internals": "ray_compat.version",
    # The ``trainables`` package of 0.7.0, split into demos and adapters in 0.8.0.
    "trainables.builtin": "demos.trainables",
    "trainables.trial": "demos.trial_settings",
    "trainables.common": "demos.torch_common",
    "trainables.data": "demos.datasets",
    "trainables.dcgan": "demos.dcgan",
    "trainables.lenet": "demos.lenet",
    "trainables.models.dcgan": "demos.dcgan_model",
    "trainables.models.lenet": "demos.lenet_model",
    "trainables.epoch_loop": "demos.epoch_loop",
    "trainables.inception_score": "demos.inception_score",
    "trainables.options": "demos.options",
    "trainables.sleep": "demos.sleep",
    "trainables.user_code": "adapters.import_paths",
    "trainables.restore_check": "adapters.restore_check",
    "trainables.command": "adapters.command",
    "trainables.command.args": "adapters.command.args",
    "trainables.command.event_files": "adapters.command.event_files",
    "trainables.command.guardian": "adapters.command.guardian",
    "trainables.command.metric_names": "adapters.command.metric_names",
    "trainables.command.metrics": "adapters.command.formats",
    "trainables.command.processes": "adapters.command.process_group",
    "trainables.command.program": "adapters.command.program",
    "trainables.command.reporting": "adapters.command.reporting",
    "trainables.command.rerun": "adapters.command.rerun",
    "trainables.command.spec": "adapters.command.spec",
    "trainables.command.state": "adapters.command.state",
    "trainables.command.trial": "adapters.command.command_trainable",
    "trainables.command.workdir": "adapters.command.workdir",
    "analysis.restarts": "analysis.restart_counts",
    # Storage, one subpackage in 0.8.0.
    "analysis.storage": "storage",
    "dashboard.store": "storage.stamped",
    "config.errors": "config.config_errors",
    "tracking.wandb_config": "config.wandb_section",
    "processes": "os_processes",
}
"""Old module path (below the package) -> the module that took over."""

OLD_PACKAGES: dict[str, str | None] = {
    "trainables": "demos.trainables",
    "trainables.models": None,
    "models": None,
}
"""Old package that is gone -> the module whose names it hands out (``None``: no names)."""

_CONSOLE_NAMES: dict[str, tuple[str, ...]] = {
    "ray_output": (
        "OutputMode",
        "OUTPUT_MODES",
        "RAY_WORKER_NOISE",
        "NEW_OUTPUT_SWITCH",
        "configure",
        "ray_verbosity",
        "is_ray_noise",
    ),
    "formatting": (
        "format_params",
        "format_duration",
        "ending",
        "epochs_text",
        "after_failure",
        "exploit_line",
        "concurrency",
        "pick_best",
    ),
    "progress": ("Progress", "StatusSchedule"),
    "header": ("ExperimentInfo", "wandb_where"),
    "callback": (
        "ConsoleCallback",
        "use_on_restored",
        "PROGRESS_MODES",
        "FAILURE_LINES",
        "STATUS_EVERY_S",
        "BAR_REFRESH_S",
    ),
}

OLD_ATTRIBUTES: dict[str, dict[str, str]] = {
    "console": {
        **{
            name: f"console.{module}:{name}"
            for module, names in _CONSOLE_NAMES.items()
            for name in names
        },
        "format_value": "console.formatting:format_number",
    },
    "tracking": {"*": "tracking.wandb_runs"},
}
"""Package that was a module -> old name -> ``module:name`` now (``"*"``: every name of one
module)."""


class _Alias(importlib.abc.Loader):
    """Loads an old name as the module now at ``target``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        # The import system returns what sys.modules holds under the name once this returns.
        sys.modules[module.__name__] = importlib.import_module(self.target)


class _GonePackage(importlib.abc.Loader):
    """Loads an old package that is gone: no modules of its own, its names from ``source``."""

    def __init__(self, source: str | None) -> None:
        self.source = source

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        module.__path__ = []
        if self.source is not None:
            module.__dict__["__getattr__"] = _names_of(module.__name__, f"{PACKAGE}.{self.source}")


def _names_of(package: str, source: str) -> Callable[[str], Any]:
    def getattr_(name: str) -> Any:
        try:
            return getattr(importlib.import_module(source), name)
        except AttributeError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    return getattr_


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the old names of :data:`MOVED` and :data:`OLD_PACKAGES`."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        old = fullname.removeprefix(f"{PACKAGE}.")
        if old == fullname:
            return None
        if old in MOVED:
            return importlib.machinery.ModuleSpec(fullname, _Alias(f"{PACKAGE}.{MOVED[old]}"))
        if old in OLD_PACKAGES:
            return importlib.machinery.ModuleSpec(
                fullname, _GonePackage(OLD_PACKAGES[old]), is_package=True
            )
        return None


def old_attribute_getter(package: str) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package`` (``raytune_hpo.console``): its names of earlier
    versions, from :data:`OLD_ATTRIBUTES`."""
    names = OLD_ATTRIBUTES[package.removeprefix(f"{PACKAGE}.")]

    def getattr_(name: str) -> Any:
        if name in names:
            module, attribute = names[name].split(":")
            return getattr(importlib.import_module(f"{PACKAGE}.{module}"), attribute)
        if "*" in names:
            return _names_of(package, f"{PACKAGE}.{names['*']}")(name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return getattr_


def install() -> None:
    """Make the old names importable (idempotent)."""
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
