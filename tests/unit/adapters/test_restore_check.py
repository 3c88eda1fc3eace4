"""A restored function trainable that ignores its checkpoint warns once (``restore_check``).

The functions run in Ray Tune's own ``FunctionTrainable`` in this process, without a Ray
instance: trained, saved, stopped, and restored into a new trainable as Ray Tune restores a
trial on a new actor (``Trainable.restore`` before the first ``train``). The session's working
folder, which Ray puts in its session folder, goes under ``tmp_path`` instead.
"""

from __future__ import annotations

import inspect
import json
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ray import tune
from ray.train._internal import session as train_session
from ray.train._internal.storage import StorageContext
from ray.tune.trainable.function_trainable import wrap_function

from raytune_hpo.adapters import import_paths
from raytune_hpo.adapters.restore_check import unread_restore_message, warn_unread_restore
from raytune_hpo.output_lines import TRIAL_WARNING_PREFIX

Train = Callable[[dict[str, Any]], Any]


def _report(step: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "state.json").write_text(json.dumps({"step": step}))
        tune.report({"step": step}, checkpoint=tune.Checkpoint.from_directory(folder))


def _start_step(checkpoint: tune.Checkpoint | None) -> int:
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as folder:
        return int(json.loads(Path(folder, "state.json").read_text())["step"])


def never_reads(config: dict[str, Any]) -> None:
    for step in range(1, 100):
        _report(step)


def reads(config: dict[str, Any]) -> None:
    for step in range(_start_step(tune.get_checkpoint()) + 1, 100):
        _report(step)


def reads_too_late(config: dict[str, Any]) -> None:
    _report(1)
    tune.get_checkpoint()
    for step in range(2, 100):
        _report(step)


def never_reads_with(config: dict[str, Any], offset: int) -> None:
    for step in range(1 + offset, 100):
        _report(step)


def yields_steps(config: dict[str, Any]) -> Iterator[None]:
    for step in range(1, 100):
        _report(step)
        yield None  # Ray reports what a generator yields, and nothing for None


@pytest.fixture
def trainable_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Train], Any]]:
    """Builds a Ray Tune trainable of a function, wrapped as the runner wraps it, after stopping
    the one built before (a process holds one session at a time)."""
    monkeypatch.setenv("RAY_CHDIR_TO_TRIAL_DIR", "0")
    monkeypatch.setenv("TUNE_DISABLE_RESOURCE_CHECKS", "1")
    monkeypatch.setattr(
        "ray.train._internal.storage._get_ray_train_session_dir", lambda: str(tmp_path / "ray")
    )
    current: list[Any] = []

    def build(train_fn: Train) -> Any:
        while current:
            current.pop().stop()
        storage = StorageContext(
            storage_path=str(tmp_path), experiment_dir_name="exp", trial_dir_name="trial"
        )
        current.append(wrap_function(warn_unread_restore(train_fn))(config={}, storage=storage))
        return current[-1]

    yield build
    while current:
        current.pop().stop()


def _warnings(capsys: pytest.CaptureFixture[str]) -> list[str]:
    err = capsys.readouterr().err
    return [line for line in err.splitlines() if line.startswith(TRIAL_WARNING_PREFIX)]


def _restored(trainable_of: Callable[[Train], Any], train_fn: Train, steps: int = 3) -> list[int]:
    """Train ``train_fn`` for 2 reports, then restore it on a new trainable and train on."""
    first = trainable_of(train_fn)
    first.train()
    first.train()
    saved = first.save()
    second = trainable_of(train_fn)
    second.restore(saved)
    return [second.train().get("step") for _ in range(steps)]


def test_a_restored_function_that_never_reads_its_checkpoint_warns_once(
    trainable_of: Callable[[Train], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _restored(trainable_of, never_reads) == [1, 2, 3], "it started from scratch"

    warnings = _warnings(capsys)
    assert warnings == [
        TRIAL_WARNING_PREFIX + unread_restore_message("default", "checkpoint_000001")
    ]


def test_a_restored_function_that_reads_its_checkpoint_says_nothing(
    trainable_of: Callable[[Train], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _restored(trainable_of, reads) == [3, 4, 5], "it went on from step 2"
    assert _warnings(capsys) == []


def test_reading_after_the_first_report_is_too_late(
    trainable_of: Callable[[Train], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _restored(trainable_of, reads_too_late)
    assert len(_warnings(capsys)) == 1


def test_a_fresh_start_says_nothing(
    trainable_of: Callable[[Train], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    trainable = trainable_of(never_reads)
    assert [trainable.train()["step"] for _ in range(3)] == [1, 2, 3]
    assert _warnings(capsys) == []


def test_the_session_gets_its_class_back_at_the_first_report(
    trainable_of: Callable[[Train], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    _restored(trainable_of, never_reads, steps=1)
    assert type(train_session.get_session()) is train_session._TrainSession


def test_functions_with_parameters_and_generators_are_checked(
    trainable_of: Callable[[Train], Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with_parameters = tune.with_parameters(never_reads_with, offset=10)
    assert _restored(trainable_of, with_parameters) == [11, 12, 13]
    assert _restored(trainable_of, yields_steps) == [1, 2, 3]
    assert len(_warnings(capsys)) == 2


def test_outside_a_session_the_function_just_runs() -> None:
    assert warn_unread_restore(lambda config: config["x"] + 1)({"x": 1}) == 2


def test_the_wrapper_keeps_what_ray_reads_of_the_function() -> None:
    resourced = tune.with_resources(never_reads, {"cpu": 0.5})
    for train_fn in (never_reads, yields_steps, tune.with_parameters(never_reads_with, offset=1)):
        wrapped = warn_unread_restore(train_fn)
        assert wrapped.__name__ == train_fn.__name__
        assert inspect.signature(wrapped) == inspect.signature(train_fn)
        assert inspect.isgeneratorfunction(wrapped) == inspect.isgeneratorfunction(train_fn)
        assert import_paths.trainable_kind(wrapped) == "function"
    assert warn_unread_restore(resourced)._resources == resourced._resources  # type: ignore[attr-defined]


def test_the_wrapped_function_of_a_file_loads_in_a_fresh_process(tmp_path: Path) -> None:
    source = """
        from ray import tune

        def train_from_file(config):
            tune.report({"score": config["x"]})
    """
    path = tmp_path / "restore_check_user_file.py"
    path.write_text(textwrap.dedent(source))
    train_fn = import_paths.load_trainable(f"{path}:train_from_file")
    import_paths.check_loads_elsewhere(warn_unread_restore(train_fn))


def test_the_message_is_one_line_naming_the_trial_and_checkpoint() -> None:
    message = unread_restore_message("3f2a_00001", "checkpoint_000004")
    assert "\n" not in message
    assert message.startswith("trial 3f2a_00001 was restored from a checkpoint (checkpoint_000004)")
    assert message.endswith("checkpoint = tune.get_checkpoint()")
