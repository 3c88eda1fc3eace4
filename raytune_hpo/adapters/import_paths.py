"""The user's own Python code, named by import path: ``package.module:name`` or ``file.py:name``.

:func:`load_object` imports what a config names and :func:`load_trainable` checks that it is a
Ray Tune function trainable or a ``ray.tune.Trainable`` subclass. Failures are one
:class:`UserCodeError` line each (the config turns it into an error naming the key). Code
outside the installed packages is registered with cloudpickle to travel by value, so Ray's
workers run it without importing it themselves; :func:`runtime_env` says what a multi-node
cluster needs shipped besides.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import sysconfig
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from raytune_hpo.errors import UserError

SEPARATOR = ":"
_NEVER_BY_VALUE = frozenset({"raytune_hpo", "ray"})
"""Packages always imported by name on the workers, wherever they lie."""
TrainableKind = Literal["function", "class"]


class UserCodeError(UserError, ValueError):
    """The named code cannot be used; ``str()`` is one line saying why."""


def is_import_path(value: str) -> bool:
    """Whether ``value`` names user code (``module:name`` or ``file.py:name``)."""
    module, sep, attribute = value.rpartition(SEPARATOR)
    return bool(sep and module and attribute)


def split_target(target: str) -> tuple[str, str]:
    """``(module or file, attribute path)`` of ``module:name``.

    Raises:
        UserCodeError: ``target`` is not of that form.
    """
    if not is_import_path(target):
        raise UserCodeError(f"expected package.module:name or path/to/file.py:name, got {target!r}")
    module, _, attribute = target.rpartition(SEPARATOR)
    return module, attribute


def is_file_target(target: str) -> bool:
    """Whether ``target`` names a Python file rather than an importable module."""
    return split_target(target)[0].endswith(".py")


def load_object(target: str, search_paths: tuple[Path, ...] = ()) -> Any:
    """Import what ``target`` names.

    Args:
        target: ``package.module:name`` or ``path/to/file.py:name`` (``name`` may be dotted,
            e.g. ``Class.method``).
        search_paths: Folders searched for the module before ``sys.path`` (the YAML file's
            folder, the working directory).

    Raises:
        UserCodeError: The module or file cannot be imported, or has no such attribute.
    """
    module_name, attribute = split_target(target)
    module = _import_file(Path(module_name)) if module_name.endswith(".py") else None
    if module is None:
        module = _import_module(module_name, search_paths)
    obj: Any = module
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise UserCodeError(f"{module_name} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    _travel_by_value(module)
    return obj


def trainable_kind(obj: Any) -> TrainableKind:
    """``function`` for a callable taking the config, ``class`` for a Trainable subclass.

    Raises:
        UserCodeError: ``obj`` is neither.
    """
    from ray.tune import Trainable

    if inspect.isclass(obj):
        if issubclass(obj, Trainable):
            return "class"
        raise UserCodeError(f"{obj.__qualname__} is a class but not a ray.tune.Trainable subclass")
    if inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isbuiltin(obj):
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            return "function"
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if positional or any(p.kind == p.VAR_POSITIONAL for p in params):
            return "function"
        raise UserCodeError(f"{obj.__qualname__}() takes no argument; it must take the config")
    raise UserCodeError(
        f"is a {type(obj).__name__}, neither a function trainable (def f(config)) nor a "
        "ray.tune.Trainable subclass"
    )


def load_trainable(target: str, search_paths: tuple[Path, ...] = ()) -> Any:
    """Import a function or Trainable class and check that Ray Tune can run it.

    Raises:
        UserCodeError: It cannot be imported or is neither a function nor a Trainable.
    """
    obj = load_object(target, search_paths)
    trainable_kind(obj)
    return obj


def check_loads_elsewhere(obj: Any, timeout_s: float = 120.0) -> None:
    """Load ``obj`` as a Ray worker would: unpickled in a fresh Python in another folder.

    Catches what the driver's import hides, such as a module next to the user's file that a
    worker cannot import by name.

    Raises:
        UserCodeError: The fresh process cannot load it; the message is its exception's line.
    """
    import subprocess
    import tempfile

    from ray import cloudpickle

    try:
        payload = cloudpickle.dumps(obj)
    except Exception as err:  # noqa: BLE001 - whatever cannot be pickled is reported
        raise UserCodeError(f"cannot be sent to Ray's workers: {_last_line(err)}") from None
    with tempfile.TemporaryDirectory(prefix="raytune_hpo_load_") as elsewhere:
        loaded = subprocess.run(
            [sys.executable, "-c", _LOAD_SOURCE],
            input=payload,
            capture_output=True,
            cwd=elsewhere,
            timeout=timeout_s,
            check=False,
        )
    if loaded.returncode != 0:
        lines = loaded.stderr.decode(errors="replace").strip().splitlines() or ["no message"]
        raise UserCodeError(f"a Ray worker could not load it: {lines[-1].strip()}")


_LOAD_SOURCE = "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"


def runtime_env(target: str) -> dict[str, Any]:
    """What Ray must ship to every node of a cluster so that ``target``'s code imports there.

    A file's folder travels as the working directory; a package or module outside the
    installed packages travels as a ``py_modules`` entry; installed code needs nothing.
    """
    module_name, _ = split_target(target)
    if module_name.endswith(".py"):
        return {"working_dir": str(Path(module_name).resolve().parent)}
    top = sys.modules.get(module_name.partition(".")[0])
    origin = _source_folder(top) if top is not None else None
    if origin is None or _is_installed(origin):
        return {}
    if Path(origin).name == "__init__.py" or Path(origin).is_dir():
        return {"py_modules": [str(Path(origin).parent)]}
    return {"working_dir": str(Path(origin).parent)}


def _import_module(name: str, search_paths: tuple[Path, ...]) -> ModuleType:
    for folder in reversed(search_paths):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name and name.startswith(err.name):
            raise UserCodeError(
                f"no module named {err.name!r} (searched the YAML file's folder, the working "
                "directory and the installed packages)"
            ) from None
        raise UserCodeError(f"importing {name} failed: {_last_line(err)}") from None
    except Exception as err:  # noqa: BLE001 - any error of the user's module is reported
        raise UserCodeError(f"importing {name} failed: {_last_line(err)}") from None


def _import_file(path: Path) -> ModuleType:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise UserCodeError(f"no such file: {path}")
    name = path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) == str(path):
        return existing
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserCodeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))  # so that the file imports its neighbours
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:  # noqa: BLE001 - any error of the user's file is reported
        del sys.modules[name]
        raise UserCodeError(f"importing {path} failed: {_last_line(err)}") from None
    return module


def _travel_by_value(module: ModuleType) -> None:
    """Let Ray send the module's functions and classes by value, not by name, and those of the
    modules it imported from its own folder (``from train_lit import LitMLP`` next to it): a
    worker, whose ``sys.path`` lacks that folder, could import neither by name."""
    origin = getattr(module, "__file__", None)
    if origin is None or _is_installed(origin) or module.__name__ == "__main__":
        return
    from ray import cloudpickle  # Ray's own copy, which serialises trainables

    folder = Path(origin).resolve().parent
    for loaded in list(sys.modules.values()):
        if loaded is module or _is_neighbour(loaded, folder):
            cloudpickle.register_pickle_by_value(loaded)


def _is_neighbour(module: ModuleType, folder: Path) -> bool:
    """Whether ``module`` is the user's code from ``folder`` (or below), not this toolkit's."""
    origin = getattr(module, "__file__", None)
    name = module.__name__
    if origin is None or name == "__main__" or name.partition(".")[0] in _NEVER_BY_VALUE:
        return False
    return Path(origin).resolve().is_relative_to(folder) and not _is_installed(origin)


def _source_folder(module: ModuleType) -> str | None:
    origin = getattr(module, "__file__", None)
    if origin is not None:
        return origin
    paths = list(getattr(module, "__path__", []))
    return paths[0] if paths else None


def _is_installed(path: str) -> bool:
    """Whether ``path`` lies in the standard library or an installed-packages folder."""
    resolved = Path(path).resolve()
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    return any(resolved.is_relative_to(Path(root).resolve()) for root in roots)


def _last_line(err: BaseException) -> str:
    """``Type: message`` of an exception, plus where a syntax error is."""
    line = traceback.format_exception_only(type(err), err)[-1].strip()
    if isinstance(err, SyntaxError) and err.filename:
        line += f" ({err.filename}, line {err.lineno})"
    return line
