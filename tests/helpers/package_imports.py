"""What each module of the package imports of the package, read from its source.

Every ``import`` statement counts: at the top of a module, inside a function, under
``TYPE_CHECKING``; a deferred import is still a dependency. Imports by name at run time
(``importlib.import_module``, as the old-name tables do) are not seen.

An import names the deepest module it reaches: ``from raytune_hpo import storage`` imports the
subpackage ``raytune_hpo.storage``, as ``import raytune_hpo.storage`` does (Python runs the
root's ``__init__`` first for both, as it runs every parent package's). Only a name the root's
``__init__`` itself holds (``from raytune_hpo import run``, or ``import raytune_hpo``) imports
the root package.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "raytune_hpo"
ROOT = "raytune_hpo"


def module_name(path: Path) -> str:
    """``raytune_hpo/search/searchers.py`` -> ``raytune_hpo.search.searchers``."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
"""Every module of the package -> its file."""


def imported_names(
    source: str, module: str = "raytune_hpo.x", modules: Set[str] = frozenset(MODULES)
) -> set[str]:
    """Every dotted name of the package that ``source`` imports, wherever the statement is.

    ``from A import B`` names ``A.B`` alone when that is one of ``modules``; otherwise it
    names both ``A`` and ``A.B`` (``B`` is an attribute of ``A``). A relative import is
    resolved against ``module``.
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
            for alias in node.names:
                target = f"{base}.{alias.name}"
                names |= {target} if target in modules else {base, target}
    return {name for name in names if name == ROOT or name.startswith(f"{ROOT}.")}


def package_imports() -> dict[str, set[str]]:
    """Module name -> what it imports of the package, for every module of the package."""
    return {
        name: imported_names(path.read_text(), name if path.stem != "__init__" else f"{name}.x")
        for name, path in MODULES.items()
    }


def part(name: str) -> str:
    """The part of the package a dotted name lies in: its subpackage or top-level module
    (``search``, ``registry``), or ``__init__`` for the root package's own names."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def part_graph(imports: Mapping[str, Set[str]]) -> dict[str, set[str]]:
    """Part -> the other parts its modules import (``part -> module -> name`` collapsed)."""
    graph: dict[str, set[str]] = {part(module): set() for module in imports}
    for module, names in imports.items():
        graph[part(module)] |= {part(name) for name in names} - {part(module)}
    return graph


def find_loop(graph: Mapping[str, Set[str]]) -> list[str] | None:
    """One loop of ``graph`` (its nodes in order, the first repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (loop := visit(target)):
                return loop
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (loop := visit(node)):
            return loop
    return None
