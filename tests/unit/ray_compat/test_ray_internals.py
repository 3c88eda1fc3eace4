"""The private Ray API of :mod:`raytune_hpo.ray_compat` against the installed Ray.

Fails loudly, naming both versions, when the installed Ray is not the minor the module was
written for, and names each private name that a Ray release removed.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import ray
from ray import tune
from ray._private import ray_constants
from ray.air.integrations.wandb import WandbLoggerCallback
from ray.tune.experiment import Trial

from raytune_hpo.adapters.command import event_files
from raytune_hpo.ray_compat import (
    output,
    pbt_log,
    tensorboard_files,
    tune_loop,
    version,
    wandb_actors,
)
from tests.helpers.paths import ROOT

PYPROJECT = ROOT / "pyproject.toml"


def test_installed_ray_is_the_minor_the_internals_were_written_for() -> None:
    version.check_ray_version()


def test_another_minor_fails_with_both_versions_named() -> None:
    with pytest.raises(version.RayVersionError) as error:
        version.check_ray_version("2.61.0")
    message = str(error.value)
    assert "2.61.0" in message
    assert f"Ray {version.RAY_MINOR}.x" in message
    version.check_ray_version(f"{version.RAY_MINOR}.7")


def test_requirement_is_pinned_to_the_same_minor() -> None:
    major, minor = version.RAY_MINOR.split(".")
    pin = f'"ray[tune]>={major}.{minor},<{major}.{int(minor) + 1}"'
    assert pin in PYPROJECT.read_text()


def test_every_private_name_still_exists() -> None:
    assert version.missing_internals() == [], f"Ray {ray.__version__} lacks these"


def test_ray_init_takes_a_system_config() -> None:
    # connecting.start_local_instance hands local_system_config to this private keyword.
    source = inspect.getsource(inspect.unwrap(ray.init))
    assert 'kwargs.pop("_system_config", None)' in source


def test_instance_attributes_of_the_wandb_classes() -> None:
    callback = WandbLoggerCallback(project="internals", mode="offline")
    assert wandb_actors.wandb_open_trials(callback) == []
    assert isinstance(callback._trial_logging_futures, dict)  # read by wandb_logging_future
    actor_init = inspect.getsource(wandb_actors.wandb_logging_actor_base().__init__)
    assert "self._wandb = wandb" in actor_init  # read by actor_wandb


def test_attributes_of_a_trial_and_a_tuner(tmp_path: Path) -> None:
    trial = Trial("__fake", stub=True)
    assert tune_loop.trial_started(trial) is False
    assert tune_loop.trial_actor(trial) is None
    run_config = tune.RunConfig(name="internals", storage_path=str(tmp_path))
    tuner = tune.Tuner(lambda config: None, run_config=run_config)
    assert tune_loop.tuner_run_config(tuner).name == "internals"


def test_a_trials_tensorboard_file_has_one_event_a_report_and_syncs_at_most_every_few_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ray.tune.logger import TBXLoggerCallback
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    callback = tensorboard_files.tensorboard_logger()
    assert callback._summary_writer_cls is tensorboard_files.throttled_summary_writer
    assert "self._summary_writer_cls(" in inspect.getsource(TBXLoggerCallback.log_trial_start)
    syncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (syncs.append(fd), real_fsync(fd))[1])
    writer = tensorboard_files.throttled_summary_writer(str(tmp_path), flush_secs=30)
    for step in (1, 2, 3):  # a flush after each report, as Ray's logger does: one sync
        writer.add_scalar("loss", 1.0 / step, global_step=step)
        writer.add_scalar("epoch", np.int64(step), global_step=step)
        writer.flush()
    writer.add_scalar("loss", 0.25, global_step=4)  # a trial's end closes without a flush
    assert len(syncs) == 1
    writer.close()
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [(event.step, event.value) for event in events.Scalars("loss")] == [
        (1, 1.0),
        (2, 0.5),
        (3, pytest.approx(1 / 3)),
        (4, 0.25),
    ]
    assert [(event.step, event.value) for event in events.Scalars("epoch")] == [
        (1, 1.0),
        (2, 2.0),
        (3, 3.0),
    ]
    (path,) = event_files.event_files(tmp_path)
    reports = [event for event in event_files.EventFile(path).read() if event.summary.value]
    assert [len(event.summary.value) for event in reports] == [2, 2, 2, 1]  # one event a report


def test_marker_and_pbt_line_match_ray() -> None:
    assert ray_constants.LOG_PREFIX_ACTOR_NAME == output.ACTOR_NAME_MARKER
    line = json.dumps(["3_lr=0.1", "1_lr=0.2@perturbed[lr=0.3]", 4, 5, {"lr": 0.2}, {"lr": 0.3}])
    parsed = pbt_log.parse_pbt_log_line(line)
    assert parsed.target_tag == "3_lr=0.1"
    assert pbt_log.original_tag(parsed.donor_tag) == "1_lr=0.2"
    assert (parsed.target_iteration, parsed.donor_iteration) == (4, 5)
    assert parsed.new_config == {"lr": 0.3}


def test_no_module_outside_ray_compat_touches_ray_private_names() -> None:
    package = Path(version.__file__).parents[1]
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "ray_compat" not in path.parts and "ray._private" in path.read_text()
    ]
    assert offenders == []


def test_callbacks_counted_by_name_as_ray_counts_them() -> None:
    from ray.air._internal import usage
    from ray.tune.logger import CSVLoggerCallback, LoggerCallback

    class OwnLogger(LoggerCallback):
        pass

    callbacks = [
        WandbLoggerCallback(project="internals", mode="offline"),
        CSVLoggerCallback(),
        OwnLogger(),
        tune.Callback(),
        tune.Callback(),
        object(),
    ]
    before = usage._count_callbacks  # Ray's own, or ours when a run in this process set it
    try:
        tune_loop.count_callbacks_by_name()
        by_name = usage._count_callbacks(callbacks)
        rays_own = usage._count_callbacks.rays_own  # type: ignore[attr-defined]
    finally:
        usage._count_callbacks = before
    assert rays_own.__module__ == "ray.air._internal.usage"
    assert dict(by_name) == dict(rays_own(callbacks))
    assert by_name == {
        "WandbLoggerCallback": 1,
        "CSVLoggerCallback": 1,
        "CustomLoggerCallback": 1,
        "CustomCallback": 2,
    }


def test_counting_callbacks_by_name_imports_no_wandb() -> None:
    code = (
        "import sys; from ray import tune; from ray.air._internal import usage; "
        "from raytune_hpo.ray_compat import tune_loop; "
        "tune_loop.count_callbacks_by_name(); "
        "usage._count_callbacks([tune.Callback()]); print('wandb' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
