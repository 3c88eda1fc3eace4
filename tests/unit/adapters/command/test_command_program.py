"""What a command needs before Ray starts (its folder, program and script), and the
``command.sh`` that runs a trial's command again by hand, run for real with ``sh``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from raytune_hpo.adapters.command.program import command_problems, script_argument, trial_path
from raytune_hpo.adapters.command.rerun import rerun_script, write_rerun_script
from raytune_hpo.adapters.command.spec import CommandSpec
from tests.helpers.running import run_cli


@pytest.mark.parametrize(
    ("command", "script"),
    [
        ("python train.py ${args}", "train.py"),
        ("python3.11 -u -W ignore src/train.py --lr=1", "src/train.py"),
        ("python -Wignore -X dev train.py", "train.py"),
        ("python -m pkg.train ${args}", None),
        ("python -uc 'print(1)'", None),
        ("python -c 'import x' train.py", None),
        ("bash -e run.sh ${args}", "run.sh"),
        ("sh -c 'python train.py'", None),
        ("Rscript fit.R", "fit.R"),
        ("torchrun --nproc-per-node 2 train.py", None),  # not an interpreter: program only
        ("./train.sh ${args}", None),
        ("python", None),
    ],
)
def test_the_script_is_the_interpreters_first_argument_that_is_no_option(
    command: str, script: str | None
) -> None:
    assert script_argument(CommandSpec(command=command).argv_template()) == script


def problems(tmp_path: Path, command: str, workdir: Path | None = None) -> list[tuple[str, str]]:
    return command_problems(CommandSpec(command=command), workdir or tmp_path, trial_path())


def test_a_misspelled_script_is_named_with_the_file_it_meant(tmp_path: Path) -> None:
    (tmp_path / "train_gb.py").write_text("")
    assert problems(tmp_path, "python train_gb.py ${args}") == []
    ((key, message),) = problems(tmp_path, "python trian_gb.py ${args}")
    assert key == "trainable.command"
    assert message == (
        f"the script 'trian_gb.py' does not exist in {tmp_path} (the folder the command runs "
        "in); did you mean 'train_gb.py'?"
    )


def test_a_missing_workdir_is_the_only_problem_named(tmp_path: Path) -> None:
    missing = tmp_path / "code"
    assert problems(tmp_path, "python trian.py", missing) == [
        ("trainable.workdir", f"{missing} does not exist")
    ]


def test_modules_inline_code_and_macros_are_not_files(tmp_path: Path) -> None:
    assert problems(tmp_path, "python -m no_such_module ${args}") == []
    assert problems(tmp_path, "python -c 'print(1)'") == []
    assert problems(tmp_path, "python ${script} ${args}") == []
    assert problems(tmp_path, "env A=1 python -m pkg") == []


def test_programs_are_found_on_the_trials_path_or_as_executable_files(tmp_path: Path) -> None:
    script = tmp_path / "train.sh"
    script.write_text("#!/bin/sh\n")
    assert problems(tmp_path, f"{Path(sys.executable).name} -V") == []  # the trial's python
    ((key, message),) = problems(tmp_path, "./train.sh")
    assert (key, message) == (
        "trainable.command",
        f"the program './train.sh' is not executable: chmod +x {script}",
    )
    script.chmod(0o755)
    assert problems(tmp_path, "./train.sh ${args}") == []
    ((_, message),) = problems(tmp_path, "train.sh")
    assert (
        message == f"the program 'train.sh' is not on PATH; the file train.sh of {tmp_path} "
        "runs as ./train.sh"
    )
    ((_, message),) = problems(tmp_path, "env CUDA_VISIBLE_DEVICES=0 pythn train.py")
    assert message == "the program 'pythn' is not on PATH"


SCRIPT = """
import json, os, sys
from pathlib import Path
print("argv", json.dumps(sys.argv[1:]))
print("cwd", os.getcwd())
print("trial", os.environ["RAYTUNE_HPO_TRIAL_ID"])
print("python", sys.executable)
state = Path(os.environ["RAYTUNE_HPO_CHECKPOINT_DIR"])
print("state", sorted(p.name for p in state.iterdir()))
print("json", Path(sys.argv[-1]).read_text().strip() if sys.argv[-1].endswith(".json") else None)
"""


def test_command_sh_runs_the_exact_arguments_again_in_the_code_folder(tmp_path: Path) -> None:
    code, trial, scratch = tmp_path / "code", tmp_path / "trial", tmp_path / "gone"
    code.mkdir()
    trial.mkdir()
    scratch.mkdir()
    (code / "train.py").write_text(SCRIPT)
    json_file = scratch / "config.json"
    json_file.write_text(json.dumps({"lr": 0.1}))
    argv = ["python", "train.py", "--name=it's a test", "--lr=0.1", str(json_file)]
    text = rerun_script(
        argv,
        code,
        {"RAYTUNE_HPO_TRIAL_ID": "abc_00001", "PYTHONUNBUFFERED": "1"},
        trial="abc_00001",
        path_prefix=str(Path(sys.executable).parent),
        json_file=json_file,
        inherited={"CUDA_VISIBLE_DEVICES": "1", "WANDB_API_KEY": "secret"},
    )
    path = write_rerun_script(trial, "command.sh", text)
    assert "secret" not in text and "# CUDA_VISIBLE_DEVICES was 1" in text
    json_file.unlink()  # the trial's scratch folder is gone by the time someone reruns it
    clean_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    ran = subprocess.run(
        [str(path)], cwd=tmp_path, env=clean_env, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    said = dict(line.split(" ", 1) for line in ran.stdout.splitlines())
    assert json.loads(said["argv"]) == argv[2:]
    assert said["cwd"] == str(code)
    assert said["trial"] == "abc_00001"
    assert Path(said["python"]).parent == Path(sys.executable).parent
    assert said["state"] == "[]"  # a new, empty state folder
    assert json.loads(said["json"]) == {"lr": 0.1}


def test_validate_refuses_a_misspelled_script_in_one_line_before_ray(tmp_path: Path) -> None:
    (tmp_path / "train_gb.py").write_text("")
    config = tmp_path / "exp.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "gb",
                "trainable": {"command": "python trian_gb.py ${args}"},
                "metric": "loss",
                "search_space": {"lr": {"uniform": [0.1, 0.9]}},
                "storage_path": str(tmp_path / "results"),
            }
        )
    )
    done = run_cli("validate", str(config), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"raytune-hpo: error: {config}: trainable.command: the script 'trian_gb.py' does not "
        f"exist in {tmp_path} (the folder the command runs in); did you mean 'train_gb.py'?"
    ]
