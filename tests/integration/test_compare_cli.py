"""``raytune-hpo compare``, end to end on real tiny experiments.

The experiments run as a user runs them: ``raytune-hpo run --smoke`` in subprocesses, each with
its own Ray. ``compare`` then runs in this process (through the same entry point and argument
list) to spare the seconds of starting Python again. The study command: test_study_runs.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from raytune_hpo import cli

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LENET = ROOT / "configs" / "lenet"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 5_000, path


def test_run_two_methods_then_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    storage = tmp_path / "results"
    # The two experiments are independent: run them at once, each with its own Ray.
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "raytune_hpo.cli",
                "run",
                str(LENET / f"{method}.yaml"),
                "--smoke",
                "--set",
                "dataset.name=digits",
                "--storage-path",
                str(storage),
                "--name",
                method,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for method in ("random", "asha")
    ]
    try:
        outputs = [process.communicate(timeout=300) for process in runs]
    finally:
        for process in runs:
            if process.poll() is None:
                process.kill()
    for process, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert process.returncode == 0, stdout[-2000:] + stderr[-3000:]
    out = tmp_path / "comparison"
    dirs = [str(storage / "random"), str(storage / "asha")]
    assert cli.main(["compare", *dirs, "--out", str(out), "--target", "0.99"]) == 0
    assert f"report: {out / 'report.md'}" in capsys.readouterr().out
    for name in ("anytime.png", "learning_curves.png"):
        _assert_png(out / name)
    tidy = pd.read_csv(out / "reports.csv")
    assert set(tidy["method"]) == {"random", "asha"}
    assert tidy.groupby("method")["trial_id"].nunique().to_dict() == {"random": 2, "asha": 2}
    methods = pd.read_csv(out / "methods.csv")
    assert sorted(methods["method"]) == ["asha", "random"]
    assert (methods["trials_started"] == 2).all() and (methods["reached_target"] == 1).all()
    report = (out / "report.md").read_text()
    assert "![" in report and "(anytime.png)" in report and "| asha |" in report
