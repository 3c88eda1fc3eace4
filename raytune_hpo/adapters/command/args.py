"""A command trial's arguments: W&B Sweeps' macros filled with the trial's hyperparameters.

Pure and light (no Ray): a config check runs :func:`check_macros` before anything starts, and
each command trial :func:`expand_command`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from raytune_hpo.adapters.command.spec import MACROS, CommandSpec

_MACRO = re.compile(r"\$\$|\$\{([^}]*)\}")


def format_value(value: Any) -> str:
    """A hyperparameter as one command-line value that argparse, Hydra or ``json`` reads back.

    Numbers as Python writes them (``0.001``, ``1e-05``, ``nan``), booleans ``True`` /
    ``False``, ``None`` as ``None``, strings unchanged, lists and mappings as JSON. NumPy
    scalars count as the Python numbers they hold.
    """
    value = plain(value)
    return json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)


def expand_command(spec: CommandSpec, config: Mapping[str, Any], json_file: Path) -> list[str]:
    """The command's arguments with the trial's hyperparameters filled in (W&B Sweeps' macros).

    ``${args}`` becomes one ``--name=value`` argument per hyperparameter (with
    ``spec.booleans == "flag"``, a boolean as a bare ``--name`` when True and nothing when
    False), ``${args_no_hyphens}`` one ``name=value`` argument each (Hydra overrides), both
    sorted by name; they must stand alone. ``${args_json_file}`` becomes ``json_file``,
    ``${name}`` the value of hyperparameter ``name``, both also inside a larger argument
    (``--lr=${learning_rate}``). ``$$`` is a literal ``$``. Values are written by
    :func:`format_value`.

    Args:
        spec: The command.
        config: The trial's hyperparameters.
        json_file: Where the hyperparameters are written as JSON for ``${args_json_file}``.

    Raises:
        ValueError: A macro names no hyperparameter, or ``${args}`` shares an argument.
    """
    items = [(str(name), value) for name, value in sorted(config.items())]
    argv: list[str] = []
    for item in spec.argv_template():
        if item == "${args}":
            argv += [arg for name, value in items for arg in _options(name, value, spec.booleans)]
        elif item == "${args_no_hyphens}":
            argv += [f"{name}={format_value(value)}" for name, value in items]
        else:
            argv.append(_expand_item(item, config, json_file))
    return argv


def _options(name: str, value: Any, booleans: str) -> list[str]:
    """``${args}``'s arguments for one hyperparameter: ``--name=value``, or a flag or none."""
    value = plain(value)
    if booleans == "flag" and isinstance(value, bool):
        return [f"--{name}"] if value else []
    return [f"--{name}={format_value(value)}"]


def _expand_item(item: str, config: Mapping[str, Any], json_file: Path) -> str:
    return _MACRO.sub(lambda match: _macro(match[1], item, config, json_file), item)


def _macro(name: str | None, item: str, config: Mapping[str, Any], json_file: Path) -> str:
    if name is None:
        return "$"
    if name in ("args", "args_no_hyphens"):
        raise ValueError(f"${{{name}}} expands to several arguments and must stand alone: {item!r}")
    if name == "args_json_file":
        return str(json_file)
    if name in config:
        return format_value(config[name])
    known = ", ".join(f"${{{macro}}}" for macro in MACROS)
    names = ", ".join(sorted(map(str, config))) or "none"
    raise ValueError(
        f"unknown macro ${{{name}}} in the command; known: {known}, or ${{NAME}} of a "
        f"hyperparameter ({names}); write $$ for a literal $"
    )


def plain(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays as Python numbers and lists, tuples as lists."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def check_macros(spec: CommandSpec, names: Iterable[str]) -> None:
    """Expand ``spec`` with a placeholder for every hyperparameter in ``names``.

    Raises:
        ValueError: As :func:`expand_command`: a macro names no hyperparameter, or ``${args}``
            shares an argument.
    """
    expand_command(spec, dict.fromkeys(names, 0), Path("hyperparameters.json"))
