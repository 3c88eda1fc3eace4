"""Experiment names are one folder inside ``storage_path``: ``.``, ``..`` and paths are refused.

``name: ".."`` once wrote the experiment into the parent of ``storage_path`` and ``name: "."``
into ``storage_path`` itself. :func:`check_folder_name` is the one rule; the config, ``--set``
and ``--name`` go through it, and the command line says what is wrong in one line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from raytune_hpo import cli
from raytune_hpo.config import ConfigError, check_folder_name, validate_config

ALLOWED = "one folder name of letters, digits and _ . + -, other than '.' and '..'"


@pytest.mark.parametrize("name", ["quickstart", "lenet_asha.seed-1", "a+b", "v1.0", "...", "x."])
def test_a_folder_name_is_returned_as_it_is(name: str) -> None:
    assert check_folder_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (".", "'.' is storage_path itself"),
        ("..", "'..' is the folder above storage_path"),
        ("", "got ''"),
        ("a/b", "got 'a/b'"),
        ("../escape", "got '../escape'"),
        ("/tmp/abs", "got '/tmp/abs'"),
        ("a\\b", "got 'a\\\\b'"),
        ("two words", "got 'two words'"),
        ("~", "got '~'"),
        ("x\n", "got 'x\\n'"),
    ],
)
def test_a_name_that_leaves_its_folder_is_refused(name: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_folder_name(name)
    assert reason in str(caught.value)
    assert ALLOWED in str(caught.value)


def _raw(tmp_path: Path, name: str) -> dict:
    return {
        "name": name,
        "trainable": "sleep",
        "dataset": {"data_dir": str(tmp_path / "data")},
        "max_epochs": 1,
        "num_samples": 1,
        "search_space": {"learning_rate": {"uniform": [0.1, 1.0]}},
        "storage_path": str(tmp_path / "results"),
    }


def test_the_config_refuses_it_naming_the_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(_raw(tmp_path, ".."), "exp.yaml")
    assert str(caught.value).startswith("exp.yaml: name: '..' is the folder above storage_path")


def _config_file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_raw(tmp_path, name)))
    return path


def test_the_command_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    config = _config_file(tmp_path, "..")
    result = subprocess.run(
        [sys.executable, "-m", "raytune_hpo.cli", "run", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == cli.EXIT_BAD_INPUT
    assert result.stderr.splitlines() == [
        f"raytune-hpo: error: {config}: name: '..' is the folder above storage_path; use {ALLOWED}"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml"]


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (["--set", "name=."], "--set name"),
        (["--set", "name=.."], "--set name"),
        (["--name", ".."], "--set name"),
        (["--name", "sub/dir"], "--set name"),
    ],
)
def test_overrides_on_the_command_line_are_refused(
    args: list[str], key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config_file(tmp_path, "fine")
    assert cli.main(["run", str(config), *args]) == cli.EXIT_BAD_INPUT
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"raytune-hpo: error: {key}: "), lines
    assert ALLOWED in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.yaml"]
