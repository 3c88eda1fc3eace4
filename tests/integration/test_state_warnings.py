"""What the console says when a command's state cannot be what its report needs.

One real ``raytune-hpo run`` (its own Ray, real subprocesses) of two trials of one script:
``forget`` crashes once at epoch 3 and, retried from its checkpoint, ignores it and starts over;
``partial`` holds its state file open for writing while it prints each epoch (as a script that
saves after it prints, in place, would be caught mid-write). Each gets one warning line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.running import run_cli

pytestmark = pytest.mark.integration

SCRIPT = r"""
import argparse, json, os, sys, time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--mode", required=True)
parser.add_argument("--x", type=float, required=True)
args = parser.parse_args()
state = Path(os.environ["RAYTUNE_HPO_CHECKPOINT_DIR"]) / "state.json"
crashed = Path(os.environ["RAYTUNE_HPO_CODE_DIR"]) / f"crashed_{args.x}"
for epoch in range(1, 7):
    time.sleep(0.3)
    if args.mode == "forget" and epoch == 3 and not crashed.exists():
        crashed.write_text("")
        sys.exit("simulated crash")
    if args.mode == "partial":
        with open(state, "w") as out:
            out.write("{")
            out.flush()
            print(f"epoch={epoch} loss={args.x / epoch}", flush=True)
            time.sleep(0.1)
            out.write(json.dumps({"epoch": epoch})[1:])
    else:
        state.write_text(json.dumps({"epoch": epoch}))
        print(f"epoch={epoch} loss={args.x / epoch}", flush=True)
"""
WARNING = re.compile(r"^\(trial (\S+)\) raytune-hpo: warning: trial (\S+)(:| was) (.*)$")


def test_a_script_that_starts_over_and_one_caught_mid_write_get_one_warning_each(
    tmp_path: Path,
) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    config = {
        "name": "state_warnings",
        "trainable": {"command": f"{sys.executable} train.py ${{args}}"},
        "metric": "loss",
        "mode": "min",
        "max_epochs": 6,
        "search_space": {"mode": {"grid": ["forget", "partial"]}, "x": 1.0},
        "num_samples": 1,
        "failure": {"max_failures": 1},
        "resources_per_trial": {"cpu": 1},
        "storage_path": str(tmp_path / "results"),
    }
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(config))
    done = run_cli("run", str(tmp_path / "exp.yaml"), timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = (done.stdout + done.stderr).splitlines()
    warnings = [match for line in output if (match := WARNING.match(line))]
    assert len(warnings) == 2, "\n".join(output)
    said = {match.group(4) for match in warnings}
    assert all(match.group(1) == match.group(2) for match in warnings)  # named by its trial
    restart = next(text for text in said if text.startswith("restored"))
    assert "(epoch 2)" in restart and "reported epoch 1 next: it started over" in restart
    partial = next(text for text in said if text.startswith("report"))
    assert "state.json in $RAYTUNE_HPO_CHECKPOINT_DIR was being written" in partial
    # Nothing else of what the trials print reaches the console.
    assert not any(line.startswith("(trial ") and "warning" not in line for line in output)
