"""Every benchmark of experiments/benchmarks/ runs in ``--smoke`` form, ends with ``name: value``.

No timing is asserted: the figures of a smoke run mean nothing, only that the script still works
end to end and that its headline line can be read by scripts.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "experiments" / "benchmarks"
SCRIPTS = sorted(path.name for path in BENCHMARKS.glob("bench_*.py"))
HEADLINE = re.compile(r"^(?P<name>[A-Za-z0-9_.+-]+): (?P<value>\S+)$")


def test_every_benchmark_is_covered() -> None:
    assert {
        "bench_epoch.py",
        "bench_epoch_breakdown.py",
        "bench_overhead.py",
        "bench_memory.py",
        "bench_gpu.py",
        "bench_time_to_target.py",
        "bench_scaling.py",
        "bench_command_overhead.py",
        "bench_latency.py",
        "bench_scale.py",
        "bench_vs_optuna.py",
        "bench_state_hold.py",
        "bench_dashboard.py",
        "bench_throughput.py",
    } <= set(SCRIPTS)


@pytest.mark.integration
@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_smoke(script: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert any(
        line.startswith(f"command: python experiments/benchmarks/{script} --smoke")
        for line in lines
    )
    match = HEADLINE.match(lines[-1])
    assert match, f"last line is not 'name: value': {lines[-1]!r}"
    assert math.isfinite(float(match["value"])), lines[-1]
