"""Which part of the package may import which: one table, :data:`MAY_IMPORT`, read against the
source (every ``import`` statement, see :mod:`tests.helpers.package_imports`), the
architecture page and each subpackage's docstring.

A part is a subpackage or a top-level module. The shared top-level modules (:data:`SHARED`)
import nothing of the package, so that every other part may import them. Every other part may
import what its row names, besides itself and the shared modules. The root package's own names
(``raytune_hpo.run``, ``raytune_hpo.resume``) are for users: no part imports them, and the
table has no loop, so the package has no import loop between its parts
(``tests/unit/test_import_cycles.py`` checks the source too).
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.package_imports import (
    MODULES,
    PACKAGE,
    ROOT,
    find_loop,
    imported_names,
    package_imports,
    part,
)
from tests.helpers.paths import ROOT as REPO

SHARED = (
    "errors",
    "gc_pause",
    "layout",
    "moved_modules",
    "number_format",
    "os_processes",
    "output_lines",
    "pareto",
    "pydantic_base",
    "trial_ends",
)
"""Top-level modules that import nothing of the package."""

MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "registry": (),
    "ray_compat": (),
    "storage": (),
    "demos": ("registry", "ray_compat"),
    "adapters": ("ray_compat",),
    "search": ("registry", "ray_compat", "storage"),
    "config": ("registry", "search", "demos", "adapters"),
    "analysis": ("config", "search", "storage"),
    "cluster": ("config", "ray_compat", "storage"),
    "tracking": ("config", "cluster", "ray_compat", "storage"),
    "console": ("config", "search", "analysis", "ray_compat", "storage"),
    "dashboard": ("config", "search", "analysis", "ray_compat", "storage"),
    "experiment": (
        "registry",
        "ray_compat",
        "storage",
        "demos",
        "adapters",
        "search",
        "config",
        "analysis",
        "cluster",
        "tracking",
        "console",
    ),
    "api": ("config", "console", "experiment"),
    "cli": ("config", "search", "analysis", "cluster", "console", "dashboard", "experiment"),
    "__init__": ("api",),
}
"""Part -> the other parts it may import, besides the shared modules (lowest first)."""

IMPORTS = package_imports()


def allowed(importer: str, imported: str) -> bool:
    """Whether part ``importer`` may import part ``imported`` by :data:`MAY_IMPORT`."""
    if importer == imported:
        return True
    if importer in SHARED:
        return False
    return imported in SHARED or imported in MAY_IMPORT[importer]


def test_the_reader_sees_every_import_and_names_the_module_it_reaches() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import raytune_hpo.layout\n"
        "from raytune_hpo import storage, run\n"
        "if TYPE_CHECKING:\n"
        "    from raytune_hpo.experiment.runner import ExperimentOutcome\n"
        "def f():\n"
        "    from raytune_hpo import cli\n"
        "    from . import formatting\n"
        "    from .summary import print_outcome\n"
    )
    modules = {
        "raytune_hpo.layout",
        "raytune_hpo.storage",
        "raytune_hpo.cli",
        "raytune_hpo.experiment.runner",
        "raytune_hpo.console.formatting",
        "raytune_hpo.console.summary",
    }
    assert imported_names(source, "raytune_hpo.console.header", modules) == {
        "raytune_hpo.layout",
        "raytune_hpo.storage",
        "raytune_hpo",
        "raytune_hpo.run",
        "raytune_hpo.experiment.runner",
        "raytune_hpo.experiment.runner.ExperimentOutcome",
        "raytune_hpo.cli",
        "raytune_hpo.console.formatting",
        "raytune_hpo.console.summary",
        "raytune_hpo.console.summary.print_outcome",
    }
    assert {part(name) for name in ("raytune_hpo", "raytune_hpo.cli", "raytune_hpo.search.x")} == {
        "__init__",
        "cli",
        "search",
    }
    assert len(IMPORTS) > 40 and "raytune_hpo.cli" in IMPORTS


def test_the_table_has_a_row_for_every_part_of_the_package() -> None:
    parts = {part(module) for module in MODULES}
    assert parts == set(MAY_IMPORT) | set(SHARED)
    assert not set(MAY_IMPORT) & set(SHARED)
    named = {name for row in MAY_IMPORT.values() for name in row}
    assert named <= set(MAY_IMPORT) - {"__init__"}, "no part imports the root package"


def test_the_table_has_no_loop() -> None:
    assert find_loop({importer: set(row) for importer, row in MAY_IMPORT.items()}) is None


def test_every_import_of_the_package_is_allowed_by_the_table() -> None:
    found = [
        f"{module} -> {name}"
        for module, names in IMPORTS.items()
        for name in sorted(names)
        if not allowed(part(module), part(name))
    ]
    assert found == []


def test_no_module_imports_the_root_package() -> None:
    assert [module for module, names in IMPORTS.items() if ROOT in names] == []


@pytest.mark.parametrize("module", SHARED)
def test_shared_modules_import_nothing_of_the_package(module: str) -> None:
    assert IMPORTS[f"{ROOT}.{module}"] == set()


def _names_in(text: str) -> set[str]:
    """The parts that ``text`` names in backticks (``search``, ``search/``, ``api.py``)."""
    return {
        name.removesuffix("/").removesuffix(".py")
        for name in re.findall(r"`+([a-z_]+(?:/|\.py)?)`+", text)
    }


ARCHITECTURE = REPO / "docs" / "pages" / "architecture.md"


def _page_rows() -> dict[str, str]:
    """The rows of the architecture page's table of parts: part -> its "may import" cell."""
    rows = {}
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and (name := re.fullmatch(r"`([a-z_]+)(?:/|\.py)`", cells[0])):
            rows[name.group(1)] = cells[2]
    return rows


def test_the_architecture_page_shows_the_table() -> None:
    rows = _page_rows()
    assert set(rows) == (set(MAY_IMPORT) | set(SHARED)) - {"__init__"}
    for name, cell in rows.items():
        if name in SHARED:
            assert cell == "nothing of the package", name
        else:
            assert _names_in(cell) == set(MAY_IMPORT[name]), name


SUBPACKAGES = sorted(
    path.parent.name for path in PACKAGE.glob("*/__init__.py") if path.parent.name in MAY_IMPORT
)


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_each_subpackage_says_what_it_may_import(name: str) -> None:
    """Its docstring's sentence "May import ``a``, ``b`` and the shared top-level modules."
    names its row of the table (and maybe some shared modules)."""
    docstring = (PACKAGE / name / "__init__.py").read_text().split('"""')[1]
    sentence = re.search(r"May import:? (.+?)\.(?:\s|$)", " ".join(docstring.split()))
    assert sentence is not None, f"{name}/__init__.py names no 'May import ...'"
    assert "the shared top-level modules" in sentence.group(1)
    assert _names_in(sentence.group(1)) - set(SHARED) == set(MAY_IMPORT[name])


def test_no_subpackage_shadows_the_python_api() -> None:
    # ``raytune_hpo.run`` is a function; a subpackage of that name would replace it once
    # imported (``import raytune_hpo.run.x`` sets the package's attribute).
    import raytune_hpo

    for name in raytune_hpo.__all__:
        assert not (PACKAGE / name).exists() and not (PACKAGE / f"{name}.py").exists(), name
