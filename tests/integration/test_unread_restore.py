"""A retried function trainable that ignores its checkpoint says so once, on a real Ray.

The user's file is written into a temporary folder and named as ``file.py:name``, as a YAML file
would name it; the experiment runs in this process on the session's shared Ray, with the
console in its normal mode (which hides what trials print but their warning lines).
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.config import anchor_paths, validate_config
from raytune_hpo.experiment.runner import run_experiment

pytestmark = pytest.mark.integration

SENTINEL = "raytune-hpo: warning: test: went on after its restore: trial "
USER_FILE = """
    import json
    import sys
    import tempfile
    from pathlib import Path

    from ray import tune

    def fail_once(config):
        \"\"\"Fails once at step 3; reads its checkpoint only if ``config["reads"]``.\"\"\"
        trial_id = tune.get_context().get_trial_id()
        marker = Path(config["markers"], trial_id)
        retried = marker.exists()
        start = 0
        if config["reads"]:
            checkpoint = tune.get_checkpoint()
            if checkpoint is not None:
                with checkpoint.as_directory() as folder:
                    start = json.loads(Path(folder, "state.json").read_text())["step"]
        for step in range(start + 1, 100):
            if step == 3 and not retried:
                marker.touch()
                raise RuntimeError("failing once at step 3")
            with tempfile.TemporaryDirectory() as folder:
                Path(folder, "state.json").write_text(json.dumps({"step": step}))
                checkpoint = tune.Checkpoint.from_directory(folder)
                tune.report({"score": step, "epoch": step}, checkpoint=checkpoint)
            if retried and step == start + 1:  # after a warning would have been printed
                print(SENTINEL + trial_id, file=sys.stderr, flush=True)
"""


def _console_until_sentinels(
    capfd: pytest.CaptureFixture[str], trial_ids: list[str], limit_s: float = 120.0
) -> list[str]:
    """What the console printed, read until each trial's line printed after its restore has
    come through (Ray forwards a worker's lines in order, but after a delay)."""
    text = ""
    deadline = time.monotonic() + limit_s
    while True:
        captured = capfd.readouterr()
        text += captured.out + captured.err
        if all(SENTINEL + trial_id in text for trial_id in trial_ids):
            return text.splitlines()
        if time.monotonic() > deadline:
            pytest.fail(f"no line after the restore came through in {limit_s:g} s:\n{text}")
        time.sleep(0.2)


def test_a_retried_trial_that_never_reads_its_checkpoint_warns_once(
    ray_session: None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "code"
    markers = tmp_path / "markers"
    code.mkdir()
    markers.mkdir()
    source = f"SENTINEL = {SENTINEL!r}\n" + textwrap.dedent(USER_FILE)
    (code / "restore_check_user.py").write_text(source)
    raw = {
        "name": "unread_restore",
        "trainable": "restore_check_user.py:fail_once",
        "metric": "score",
        "mode": "max",
        "max_epochs": 4,
        "num_samples": 1,
        "search_space": {"reads": {"grid": [False, True]}, "markers": str(markers)},
        "searcher": {"name": "grid"},
        "resources_per_trial": {"cpu": 0.5},
        "failure": {"max_failures": 1},
        "storage_path": str(tmp_path / "results"),
    }
    outcome = run_experiment(anchor_paths(validate_config(raw), code), search_paths=(code,))

    reports = load_experiment(outcome.path).reports
    trial_of = reports.groupby("config/reads")["trial_id"].first().to_dict()
    steps = reports.groupby("config/reads")["epoch"].apply(list).to_dict()
    assert sorted(p.name for p in markers.iterdir()) == sorted(trial_of.values()), "each failed"
    assert steps == {False: [1, 2, 1, 2], True: [1, 2, 3, 4]}
    lines = _console_until_sentinels(capfd, list(trial_of.values()))
    warned = [line for line in lines if "was restored from a checkpoint" in line]
    assert len(warned) == 1, warned
    assert (
        f"trial {trial_of[False]} was restored from a checkpoint (checkpoint_000001)" in warned[0]
    )
    assert "raytune-hpo: warning: " in warned[0]
    assert "checkpoint = tune.get_checkpoint()" in warned[0]
