"""Naming the user's code: import paths, file paths, what counts as a trainable, what ships."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ray import tune

from raytune_hpo.adapters import import_paths
from raytune_hpo.config import anchor_paths, validate_config


class _Trainable(tune.Trainable):
    def step(self) -> dict[str, float]:
        return {"loss": 1.0}


def _needs_config(config: dict) -> None:
    """A function trainable."""


def _takes_nothing() -> None:
    """No config parameter: Ray could not call it."""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("pkg.mod:fn", True), ("dir/file.py:Cls.method", True), ("lenet", False), (":fn", False)],
)
def test_import_paths_are_module_colon_name(value: str, expected: bool) -> None:
    assert import_paths.is_import_path(value) is expected


def test_functions_and_trainable_classes_are_told_apart() -> None:
    assert import_paths.trainable_kind(_needs_config) == "function"
    assert import_paths.trainable_kind(_Trainable) == "class"
    with pytest.raises(import_paths.UserCodeError, match="takes no argument"):
        import_paths.trainable_kind(_takes_nothing)
    with pytest.raises(import_paths.UserCodeError, match="is a int, neither"):
        import_paths.trainable_kind(3)


def test_a_file_is_imported_with_its_neighbours_and_travels_by_value(tmp_path: Path) -> None:
    (tmp_path / "helper_for_code_test.py").write_text("FACTOR = 3\n")
    (tmp_path / "code_for_code_test.py").write_text(
        "from helper_for_code_test import FACTOR\n\ndef train(config):\n    return FACTOR\n"
    )
    train = import_paths.load_trainable(f"{tmp_path}/code_for_code_test.py:train")

    from ray import cloudpickle

    # A process that cannot import the file (as a Ray worker on another node) still runs it.
    elsewhere = subprocess.run(
        [sys.executable, "-c", "import pickle, sys; print(pickle.load(sys.stdin.buffer)({}))"],
        input=cloudpickle.dumps(train),
        capture_output=True,
        cwd="/",
        timeout=60,
    )
    assert train({}) == 3
    assert elsewhere.stdout.strip() == b"3", elsewhere.stderr[-1000:]


def test_a_module_is_found_in_the_search_paths(tmp_path: Path) -> None:
    package = tmp_path / "pkg_for_code_test"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "model.py").write_text("def train(config):\n    return 'trained'\n")

    train = import_paths.load_trainable("pkg_for_code_test.model:train", (tmp_path,))

    assert train({}) == "trained"
    assert import_paths.runtime_env("pkg_for_code_test.model:train") == {
        "py_modules": [str(package)]
    }


def test_what_a_cluster_needs_shipped(tmp_path: Path) -> None:
    assert import_paths.runtime_env(f"{tmp_path}/train.py:fn") == {"working_dir": str(tmp_path)}
    assert import_paths.runtime_env("ray.tune.examples.pbt_function:pbt_function") == {}


def test_relative_paths_start_at_the_config_folder(tmp_path: Path) -> None:
    base = {"name": "x", "metric": "loss", "search_space": {"lr": 0.1}}
    script = anchor_paths(
        validate_config({**base, "trainable": "code/train.py:fit", "evaluate": "ev.py:score"}),
        tmp_path,
    )
    command = anchor_paths(
        validate_config({**base, "trainable": {"command": "python t.py ${args}"}}), tmp_path
    )
    module = anchor_paths(validate_config({**base, "trainable": "pkg.mod:fit"}), tmp_path)

    assert script.trainable == f"{tmp_path}/code/train.py:fit"
    assert script.evaluate == f"{tmp_path}/ev.py:score"
    assert command.trainable.workdir == str(tmp_path)
    assert module.trainable == "pkg.mod:fit"
    assert script.trainable_label == script.trainable and script.builtin is None
