"""The one reader of Ray Tune's ``experiment_state-*.json``, on a local folder and, through a
moto server of the test's own, in a bucket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from raytune_hpo import storage
from raytune_hpo.storage import ray_state
from raytune_hpo.storage.ray_state import NOT_STARTED, TrialState
from tests.helpers.s3_server import BUCKET, S3Server


def state_text(*trials: tuple[dict[str, Any], dict[str, Any]]) -> str:
    """A state file as Ray writes it: each trial and its runtime metadata as JSON text."""
    return json.dumps(
        {"trial_data": [[json.dumps(t), json.dumps(r)] for t, r in trials], "runner_data": {}}
    )


FINISHED = (
    {
        "trial_id": "a1",
        "status": "TERMINATED",
        "relative_logdir": "trial_a1",
        "config": {"lr": 0.1, "act": "relu", "model": {"_type": "CLOUDPICKLE_FALLBACK"}},
    },
    {
        "start_time": 100.0,
        "num_failures": 1,
        "error_filename": None,
        "metric_analysis": {"loss": {"min": 0.2, "max": 0.9, "last": 0.2}},
    },
)
NEVER_RAN = (
    {"trial_id": "b2", "status": "TERMINATED", "relative_logdir": "trial_b2", "config": {}},
    {"start_time": None},
)
ERRORED = (
    {"trial_id": "c3", "status": "ERROR", "relative_logdir": "trial_c3", "config": {"lr": 1}},
    {"start_time": 101.0, "error_filename": "error.txt"},
)


def test_each_trial_as_ray_saved_it() -> None:
    finished, never_ran, errored = ray_state.parse_state(state_text(FINISHED, NEVER_RAN, ERRORED))
    assert finished == TrialState(
        trial_id="a1",
        status="TERMINATED",
        folder="trial_a1",
        start_time=100.0,
        num_failures=1,
        error_file=None,
        config={"lr": 0.1, "act": "relu"},  # Ray's pickled stand-in left out
        analysis={"loss": {"min": 0.2, "max": 0.9, "last": 0.2}},
    )
    assert never_ran.status == NOT_STARTED and never_ran.start_time is None
    assert (errored.status, errored.error_file, errored.num_failures) == ("ERROR", "error.txt", 0)


def test_a_state_without_trials_and_a_half_written_one() -> None:
    assert ray_state.parse_state(b'{"trial_data": []}') == []
    assert ray_state.parse_state("{}") == []
    with pytest.raises(ValueError):
        ray_state.parse_state('{"trial_data": [["{\\"trial_id')
    with pytest.raises(ValueError, match="not a JSON object"):
        ray_state.parse_state("[1, 2]")


def test_the_newest_state_file_is_the_newest_by_its_name() -> None:
    names = [
        "experiment_state-2026-12-01_10-00-00.json",
        "experiment_state-2026-12-02_09-00-00.json",
        "experiment_state-2026-12-03_08-00-00.json.partial",
        "basic-variant-state-2026-12-04_08-00-00.json",
        "trial_a1",
    ]
    assert ray_state.newest_state_name(names) == names[1]
    assert ray_state.newest_state_name(["best.json"]) is None


def test_read_state_of_a_local_folder(tmp_path: Path) -> None:
    assert ray_state.read_state(tmp_path) == (None, [])
    (tmp_path / "experiment_state-2026-12-01_10-00-00.json").write_text(state_text(NEVER_RAN))
    (tmp_path / "experiment_state-2026-12-02_10-00-00.json").write_text(state_text(FINISHED))
    name, trials = ray_state.read_state(tmp_path)
    assert name == "experiment_state-2026-12-02_10-00-00.json"
    assert [t.trial_id for t in trials] == ["a1"]
    assert ray_state.newest_state_file(tmp_path) == name


def test_read_state_in_a_bucket(s3: S3Server) -> None:
    location = storage.as_location(s3.uri(f"{BUCKET}/state-test/exp"))
    assert ray_state.read_state(location) == (None, [])
    storage.write_text(location, "experiment_state-2026-12-01_10-00-00.json", state_text(ERRORED))
    name, trials = ray_state.read_state(location)
    assert name == "experiment_state-2026-12-01_10-00-00.json"
    assert [(t.trial_id, t.status) for t in trials] == [("c3", "ERROR")]
