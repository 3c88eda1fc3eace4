"""No two modules of the package import each other, directly or around a loop.

Only imports that run when a module is loaded count (top-level statements); imports inside
functions and under ``TYPE_CHECKING`` are how a module defers a dependency on purpose. A module
importing a sibling through its own package (``from raytune_hpo.trainables import common``)
needs that package's ``__init__`` first, which Python runs before either: not a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "raytune_hpo"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def load_time_imports(path: Path, known: set[str]) -> set[str]:
    """Modules of the package that ``path`` imports at load time (its own parents left out)."""
    name = module_name(path)
    imported: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            continue
        imported |= {t for t in targets if t in known and t != name}
    return {t for t in imported if not name.startswith(f"{t}.")}


def find_loop(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop of ``graph`` (its modules in order), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
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


def test_find_loop_sees_a_loop() -> None:
    assert find_loop({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_loop({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_loop() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    known = {module_name(path) for path in paths}
    graph = {module_name(path): load_time_imports(path, known) for path in paths}
    assert len(graph) > 40
    assert "raytune_hpo.config.schema" in graph["raytune_hpo.config"]
    assert find_loop(graph) is None
