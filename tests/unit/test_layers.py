"""Which part of the package may import which (the layers of DESIGN.md), read from the source.

Every ``import`` statement counts: at the top of a module, inside a function, under
``TYPE_CHECKING``; a deferred import is still a dependency. Imports by name at run time
(``importlib.import_module``, as the old-name tables do) are not seen.

The rules:

- only ``cli.py`` imports ``raytune_hpo.cli``: the library never imports its command line;
- the shared top-level modules (``errors``, ``layout``, ``number_format``, ``output_lines``,
  ``processes``, ``pydantic_base``, ``trial_ends``) import nothing of the package, so that any
  module may import them;
- ``analysis/`` reads experiment folders: it may import ``config``, ``search`` (the search
  space) and the shared modules, never ``trainables``, ``run``, ``console`` or ``cli``;
- ``search/`` and ``trainables/`` never import ``run``, ``console``, ``analysis`` or ``cli``;
- ``console/`` never imports ``run`` or ``cli``;
- ``dashboard/`` reads what ``analysis`` reads: never ``trainables``, ``experiment``,
  ``console`` or ``cli``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "raytune_hpo"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str = "raytune_hpo.x") -> set[str]:
    """Every dotted name of the package that ``source`` imports, wherever the statement is.

    ``from A import B`` names both ``A`` and ``A.B`` (``B`` may be a module or an attribute);
    a relative import is resolved against ``module``.
    """
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            names |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return {name for name in names if name == "raytune_hpo" or name.startswith("raytune_hpo.")}


def package_imports() -> dict[str, set[str]]:
    """Module name -> what it imports of the package, for every module of the package."""
    return {
        module_name(path): imported_names(path.read_text(), module_name(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


IMPORTS = package_imports()


def under(name: str, part: str) -> bool:
    """Whether ``name`` is ``raytune_hpo.<part>`` or inside it."""
    prefix = f"raytune_hpo.{part}"
    return name == prefix or name.startswith(f"{prefix}.")


def breaches(area: str, forbidden: tuple[str, ...]) -> list[str]:
    """``module -> import`` for each import of a module in ``area`` that ``forbidden`` names."""
    found = []
    for module, names in IMPORTS.items():
        if not under(module, area):
            continue
        for name in sorted(names):
            if any(under(name, part) for part in forbidden):
                found.append(f"{module} -> {name}")
    return found


def test_the_reader_sees_imports_in_functions_and_under_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import raytune_hpo.layout\n"
        "if TYPE_CHECKING:\n"
        "    from raytune_hpo.experiment.runner import ExperimentOutcome\n"
        "def f():\n"
        "    from raytune_hpo import cli\n"
        "    from . import sibling\n"
    )
    assert imported_names(source, "raytune_hpo.console.summary") == {
        "raytune_hpo.layout",
        "raytune_hpo.experiment.runner",
        "raytune_hpo.experiment.runner.ExperimentOutcome",
        "raytune_hpo",
        "raytune_hpo.cli",
        "raytune_hpo.console",
        "raytune_hpo.console.sibling",
    }
    assert (
        breaches("experiment", ("cli",)) == []
    )  # experiment/ never imports the command line either
    assert len(IMPORTS) > 40 and "raytune_hpo.cli" in IMPORTS


def test_only_the_command_line_imports_the_command_line() -> None:
    found = [
        f"{module} -> {name}"
        for module, names in IMPORTS.items()
        if module != "raytune_hpo.cli"
        for name in sorted(names)
        if under(name, "cli")
    ]
    assert found == []


@pytest.mark.parametrize(
    "module",
    [
        "raytune_hpo.errors",
        "raytune_hpo.layout",
        "raytune_hpo.output_lines",
        "raytune_hpo.number_format",
        "raytune_hpo.trial_ends",
        "raytune_hpo.os_processes",
        "raytune_hpo.pydantic_base",
    ],
)
def test_shared_modules_import_nothing_of_the_package(module: str) -> None:
    assert IMPORTS[module] == set()


@pytest.mark.parametrize(
    ("area", "forbidden"),
    [
        ("analysis", ("trainables", "experiment", "console", "cli")),
        ("search", ("experiment", "console", "analysis", "cli")),
        ("trainables", ("experiment", "console", "analysis", "cli")),
        ("console", ("experiment", "cli")),
        ("dashboard", ("trainables", "experiment", "console", "cli")),
    ],
)
def test_a_layer_never_imports_the_layers_above_it(area: str, forbidden: tuple[str, ...]) -> None:
    assert breaches(area, forbidden) == []


def test_no_subpackage_shadows_the_python_api() -> None:
    # ``raytune_hpo.run`` is a function; a subpackage of that name would replace it once
    # imported (``import raytune_hpo.run.x`` sets the package's attribute).
    import raytune_hpo

    for name in raytune_hpo.__all__:
        assert not (PACKAGE / name).exists() and not (PACKAGE / f"{name}.py").exists(), name
