"""Bad input through ``raytune-hpo run``: exit code 2, one stderr line naming the key, no traceback.

One case for each up-front error of the toolkit. The cases call ``cli.main`` in-process (Ray is
made to fail loudly if anything tries to start it); two of them also run the real console
command in a subprocess, for the real exit code and stderr.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from raytune_hpo import cli
from raytune_hpo.experiment import runner
from raytune_hpo.layout import CONFIG_FILE

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    """One bad input: what to change, and what its one stderr line must contain.

    Attributes:
        key: The config key (or ``--set KEY``) the line must name.
        fragments: Further text the line must contain (what is allowed, the bad value ...).
        changes: Top-level config entries replaced in the base config.
        args: Extra command-line arguments after ``run FILE``.
        text: Raw file content instead of the base config (for YAML syntax errors).
        prepare: Called with the case's temporary folder before the command runs.
            ``BLOCKED`` in the config or the arguments stands for a path below a regular file.
        from_file: Whether the line must name the config file.
    """

    key: str
    fragments: tuple[str, ...] = ()
    changes: dict[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    text: str | None = None
    prepare: Callable[[Path], None] | None = None
    from_file: bool = True


def _base(tmp: Path) -> dict[str, Any]:
    """A valid tiny config whose folders live under ``tmp``."""
    return {
        "name": "bad_input",
        "dataset": {"name": "digits", "data_dir": str(tmp / "data"), "train_size": 100},
        "max_epochs": 2,
        "num_samples": 2,
        "search_space": {
            "learning_rate": {"loguniform": [0.01, 0.5]},
            "batch_size": {"randint": [16, 64]},
        },
        "storage_path": str(tmp / "results"),
    }


def _space(**entries: Any) -> dict[str, Any]:
    return {"search_space": {"batch_size": 32, **entries}}


def _file_in_the_way(tmp: Path) -> None:
    """Put a regular file where a folder is expected, so nothing can be created below it."""
    (tmp / "blocked").write_text("a file, not a folder\n")


def _earlier_experiment(tmp: Path) -> None:
    folder = tmp / "results" / "bad_input"
    folder.mkdir(parents=True)
    (folder / CONFIG_FILE).write_text("name: bad_input\n")


def _user_files(tmp: Path) -> None:
    """User code beside the config: a good function, a failing import, a syntax error."""
    (tmp / "good.py").write_text("def train(config):\n    pass\n")
    (tmp / "failing.py").write_text("raise RuntimeError('no GPU here')\n")
    (tmp / "broken.py").write_text("def train(config)\n    pass\n")


CASES: dict[str, Case] = {
    "yaml_syntax": Case(
        "line 2, column 25",
        ("invalid YAML", "expected ',' or ']'"),
        text="name: x\nsearch_space: {lr: [1, 2}\n",
    ),
    "misspelled_key": Case(
        "max_epoch", ("unknown key", "did you mean 'max_epochs'"), changes={"max_epoch": 3}
    ),
    "wrong_type": Case(
        "num_samples", ("expected an integer", "True"), changes={"num_samples": True}
    ),
    "wrong_type_section": Case(
        "dataset", ("expected a mapping", "'digits'"), changes={"dataset": "digits"}
    ),
    "unknown_trainable": Case(
        "trainable", ("'resnet'", "known:", "lenet"), changes={"trainable": "resnet"}
    ),
    "trainable_module_missing": Case(
        "trainable",
        ("no_such_module_xyz:train", "no module named 'no_such_module_xyz'"),
        changes={"trainable": "no_such_module_xyz:train"},
    ),
    "trainable_attribute_missing": Case(
        "trainable",
        ("json has no attribute 'no_such_fn'",),
        changes={"trainable": "json:no_such_fn"},
    ),
    "trainable_file_missing": Case(
        "trainable", ("no such file", "missing.py"), changes={"trainable": "missing.py:train"}
    ),
    "trainable_import_fails": Case(
        "trainable",
        ("failing.py", "RuntimeError: no GPU here"),
        prepare=_user_files,
        changes={"trainable": "failing.py:train"},
    ),
    "command_macro_typo": Case(
        "trainable.command",
        ("unknown macro ${learning_rat}", "${args}", "batch_size, learning_rate"),
        changes={
            "trainable": {"command": "python train.py --lr=${learning_rat}"},
            "search_space": {"batch_size": 32, "learning_rate": 0.1},
        },
    ),
    "trainable_syntax_error": Case(
        "trainable",
        ("broken.py", "SyntaxError", "line 1"),
        prepare=_user_files,
        changes={"trainable": "broken.py:train"},
    ),
    "trainable_neither_function_nor_class": Case(
        "trainable",
        ("is a str", "neither a function trainable", "Trainable"),
        changes={"trainable": "os:sep"},
    ),
    "trainable_class_not_a_trainable": Case(
        "trainable",
        ("JSONDecoder", "not a ray.tune.Trainable subclass"),
        changes={"trainable": "json:JSONDecoder"},
    ),
    "command_misspelled_key": Case(
        "trainable.workdr",
        ("did you mean 'workdir'",),
        changes={"trainable": {"command": "python train.py ${args}", "workdr": "."}},
    ),
    "command_script_misspelled": Case(
        "trainable.command",
        ("the script 'trian.py' does not exist", "did you mean 'train.py'?"),
        prepare=lambda tmp: (tmp / "train.py").write_text(""),
        changes={"trainable": {"command": "python trian.py ${args}"}},
    ),
    "command_workdir_missing": Case(
        "trainable.workdir",
        ("code", "does not exist"),
        changes={"trainable": {"command": "python train.py ${args}", "workdir": "code"}},
    ),
    "command_metrics_format": Case(
        "trainable.metrics.format",
        ("'csv'", "key_value"),
        changes={"trainable": {"command": "python t.py", "metrics": {"format": "csv"}}},
    ),
    "trainable_options_for_user_code": Case(
        "trainable_options",
        ("built-in trainables only", "search_space"),
        changes={"trainable": "good.py:train", "trainable_options": {"activation": "relu"}},
    ),
    "evaluate_hook_missing": Case(
        "evaluate",
        ("good.py:score", "has no attribute 'score'"),
        prepare=_user_files,
        changes={"trainable": "good.py:train", "evaluate": "good.py:score"},
    ),
    "unknown_dataset": Case(
        "dataset.name", ("'cifar'", "known:", "digits"), changes={"dataset": {"name": "cifar"}}
    ),
    "unknown_searcher": Case(
        "searcher.name", ("'smac'", "hyperopt", "optuna"), changes={"searcher": {"name": "smac"}}
    ),
    "unknown_scheduler": Case(
        "scheduler.name", ("'pb2x'", "asha"), changes={"scheduler": {"name": "pb2x"}}
    ),
    "reversed_range": Case(
        "search_space.learning_rate",
        ("low < high", "low=0.5, high=0.01"),
        changes=_space(learning_rate={"uniform": [0.5, 0.01]}),
    ),
    "empty_range": Case(
        "search_space.learning_rate",
        ("low < high",),
        changes=_space(learning_rate={"uniform": [0.1, 0.1]}),
    ),
    "non_positive_log_bound": Case(
        "search_space.learning_rate",
        ("low > 0", "low=0"),
        changes=_space(learning_rate={"loguniform": [0, 1]}),
    ),
    "quantisation_step_off_the_range": Case(
        "search_space.learning_rate",
        ("multiple of q", "q=0.3"),
        changes=_space(learning_rate={"quniform": [0, 1, 0.3]}),
    ),
    "quantisation_step_too_large": Case(
        "search_space.batch_size",
        ("q <= high - low", "q=64"),
        changes={"search_space": {"batch_size": {"qrandint": [16, 64, 64]}}},
    ),
    "metric_not_reported": Case(
        "metric", ("'accuracy'", "validation_error"), changes={"metric": "accuracy"}
    ),
    "mode": Case("mode", ("'min' or 'max'", "'up'"), changes={"mode": "up"}),
    "pbt_with_hyperopt": Case(
        "searcher.name",
        ("hyperopt cannot drive pbt", "random or grid"),
        changes={
            "searcher": {"name": "hyperopt"},
            "scheduler": {
                "name": "pbt",
                "hyperparam_mutations": {"learning_rate": {"loguniform": [0.01, 0.5]}},
            },
        },
    ),
    "hyperopt_with_grid": Case(
        "search_space.batch_size",
        ("hyperopt cannot sample a grid",),
        changes={"searcher": {"name": "hyperopt"}, **_space(batch_size={"grid": [16, 32]})},
    ),
    "point_outside_the_space": Case(
        "points_to_evaluate[0].learning_rate",
        ("5", "outside"),
        changes={"points_to_evaluate": [{"learning_rate": 5}]},
    ),
    "set_unknown_key": Case(
        "--set scheduler.grace_perod",
        ("did you mean 'grace_period'",),
        args=("--set", "scheduler={name: asha}", "--set", "scheduler.grace_perod=1"),
        from_file=False,
    ),
    "set_wrong_type": Case(
        "--set max_epochs",
        ("expected an integer", "'ten'"),
        args=("--set", "max_epochs=ten"),
        from_file=False,
    ),
    "dataset_not_on_disk": Case(
        "dataset.name",
        ("'mnist' not found", "download=False", "MNIST/raw", "'digits'"),
        changes={"dataset": {"name": "mnist", "download": False}},
    ),
    "data_dir_not_writable": Case(
        "dataset.data_dir",
        ("not a writable folder",),
        prepare=_file_in_the_way,
        changes={"dataset": {"name": "digits", "data_dir": "BLOCKED/data"}},
    ),
    "storage_path_not_writable": Case(
        "storage_path",
        ("not a writable folder",),
        prepare=_file_in_the_way,
        args=("--storage-path", "BLOCKED/results"),
    ),
    "name_of_an_existing_experiment": Case(
        "name",
        ("already holds an experiment", "raytune-hpo resume", "--overwrite"),
        prepare=_earlier_experiment,
    ),
}


def _command(case: Case, tmp: Path) -> list[str]:
    """``run FILE ARGS`` for ``case``, with its config file written under ``tmp``."""
    path = tmp / "exp.yaml"
    blocked = str(tmp / "blocked")
    text = case.text if case.text is not None else yaml.safe_dump({**_base(tmp), **case.changes})
    path.write_text(text.replace("BLOCKED", blocked))
    if case.prepare is not None:
        case.prepare(tmp)
    return ["run", str(path), *(arg.replace("BLOCKED", blocked) for arg in case.args)]


def _check_line(stderr: str, case: Case, tmp: Path) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("raytune-hpo: error: "), line
    assert "Traceback" not in stderr
    assert f"{case.key}:" in line, line
    if case.from_file:
        assert f"{tmp / 'exp.yaml'}: " in line, line
    for fragment in case.fragments:
        assert fragment in line, (fragment, line)


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to start Ray fail the test: every check must come first."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Ray was started for input that a check should have refused")

    monkeypatch.setattr(runner, "start_ray", refuse)


@pytest.mark.parametrize("name", [name for name in CASES if name != "dataset_not_on_disk"])
def test_bad_input_exits_2_with_one_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_ray: None
) -> None:
    case = CASES[name]
    code = cli.main(_command(case, tmp_path))
    captured = capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT, captured
    _check_line(captured.err, case, tmp_path)


def test_a_missing_data_set_is_one_line_while_ray_starts_and_before_any_trial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data set loads while Ray starts; its error is the line, whatever Ray's start says.

    Ray's start is replaced by one that fails after a moment (starting Ray is not this test's
    subject; ``test_real_command_exits_2_with_one_line`` runs the real command).
    """
    started: list[bool] = []

    def failing_start(*args: Any, **kwargs: Any) -> None:
        started.append(True)
        time.sleep(0.2)
        raise runner.ConfigError("--address", "no cluster here")

    monkeypatch.setattr(runner, "start_ray", failing_start)
    monkeypatch.setattr(runner, "build_tuner", _no_tuner)
    case = CASES["dataset_not_on_disk"]
    assert cli.main(_command(case, tmp_path)) == cli.EXIT_BAD_INPUT
    assert started == [True]
    _check_line(capsys.readouterr().err, case, tmp_path)


def _no_tuner(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("a trial would start after a failed check")


def test_refused_run_leaves_an_earlier_experiment_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_ray: None
) -> None:
    case = CASES["name_of_an_existing_experiment"]
    command = _command(case, tmp_path)
    folder = tmp_path / "results" / "bad_input"
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert cli.main(command) == cli.EXIT_BAD_INPUT
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    capsys.readouterr()


def test_missing_data_set_writes_no_experiment_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_ray: None
) -> None:
    """A refused run leaves nothing that would block the corrected command."""
    assert cli.main(_command(CASES["dataset_not_on_disk"], tmp_path)) == cli.EXIT_BAD_INPUT
    assert not (tmp_path / "results" / "bad_input" / CONFIG_FILE).exists()
    capsys.readouterr()


@pytest.mark.parametrize("name", ["dataset_not_on_disk", "wrong_type", "trainable_import_fails"])
def test_real_command_exits_2_with_one_line(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    result = subprocess.run(
        [sys.executable, "-m", "raytune_hpo.cli", *_command(case, tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    _check_line(result.stderr, case, tmp_path)
