"""No import loop in the package, in two senses.

- Between its parts (subpackages and top-level modules), counting every import: at the top of
  a module, inside a function and under ``TYPE_CHECKING``. A part that imports another depends
  on it however late it imports it.
- Between its modules, counting the imports that run when a module is loaded (top-level
  statements), so that every module loads whichever is imported first. A module importing a
  sibling through its own package (``from raytune_hpo.demos import options``) needs that
  package's ``__init__`` first, which Python runs before either: not a loop. Inside one part a
  module may defer an import to a function to break such a loop.
"""

from __future__ import annotations

import ast

from tests.helpers.package_imports import MODULES, find_loop, package_imports, part_graph


def test_find_loop_sees_a_loop() -> None:
    assert find_loop({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_loop({"a": {"b"}, "b": set()}) is None


def test_the_parts_of_the_package_import_each_other_in_no_loop() -> None:
    graph = part_graph(package_imports())
    assert {"config", "search", "registry", "__init__"} <= set(graph)
    assert "registry" in graph["search"] and "search" in graph["config"]
    assert find_loop(graph) is None


def load_time_imports(name: str) -> set[str]:
    """Modules of the package that module ``name`` imports at load time (its parents left
    out)."""
    imported: set[str] = set()
    for node in ast.parse(MODULES[name].read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        imported |= {t for t in targets if t in MODULES and t != name}
    return {t for t in imported if not name.startswith(f"{t}.")}


def test_the_modules_of_the_package_load_in_no_loop() -> None:
    graph = {name: load_time_imports(name) for name in MODULES}
    assert len(graph) > 40
    assert "raytune_hpo.config.schema" in graph["raytune_hpo.config"]
    assert find_loop(graph) is None
