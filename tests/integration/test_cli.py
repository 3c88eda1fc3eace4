"""The ``raytune-hpo`` command line, run as a user runs it (a real subprocess, real Ray)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers.running import run_cli

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "configs" / "quickstart.yaml"


def cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run ``raytune-hpo ARGS`` from the repository root and capture its output."""
    return run_cli(*args, timeout=timeout, cwd=ROOT)


def test_validate_prints_resolved_config_and_builds_parts() -> None:
    result = cli("validate", str(QUICKSTART), "--set", "num_samples=3")
    assert result.returncode == 0, result.stderr
    assert "num_samples: 3" in result.stdout
    assert "searcher HyperOptSearch" in result.stdout
    assert "scheduler AsyncHyperBandScheduler" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "scheduler.grace_perod=1"], "scheduler.grace_perod"),
        (["--set", "dataset.name=cifar"], "dataset.name"),
        (["--set", "mode=up"], "mode"),
        (
            ["--set", "search_space.learning_rate={loguniform: [0, 1]}"],
            "search_space.learning_rate",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], expected: str) -> None:
    result = cli("validate", str(QUICKSTART), *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsearch_space: {lr: 0.1}\nmax_epoch: 3\n")
    result = cli("run", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"raytune-hpo: error: {bad}: max_epoch: unknown key")
    assert "did you mean 'max_epochs'" in result.stderr


def test_unknown_argument_exits_2_in_one_line() -> None:
    result = cli("run", str(QUICKSTART), "--no-such-flag")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.integration
def test_run_smoke_then_summary(tmp_path: Path) -> None:
    storage = tmp_path / "results"
    run = cli("run", str(QUICKSTART), "--smoke", "--storage-path", str(storage), "--name", "qs")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "best config:" in run.stdout
    assert "test_error" in run.stdout

    summary = cli("summary", str(storage / "qs"))
    assert summary.returncode == 0, summary.stderr
    assert "finished after 2 epochs" in summary.stdout
    # ASHA (grace period 1 in smoke mode) may stop the second trial at epoch 1 when it
    # reaches that rung after a better first trial: which one depends on timing alone.
    assert re.search(r"^trials: (2 finished|1 finished, 1 stopped early)$", summary.stdout, re.M), (
        summary.stdout
    )
    assert "best_validation_error" in summary.stdout
    assert (storage / "qs" / "best.json").exists()

    again = cli("run", str(QUICKSTART), "--smoke", "--storage-path", str(storage), "--name", "qs")
    assert again.returncode == 2
    assert "already holds an experiment" in again.stderr
