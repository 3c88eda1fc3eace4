"""When the first trials all fail before reporting, the experiment stops (:class:`FailFast`).

Driven through Ray Tune's callback hooks with stand-ins for Ray's ``Trial`` (a real one runs
only inside a Tune loop); the real loop is tested in tests/integration/test_trial_isolation.py.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from raytune_hpo.experiment.trial_checks import (
    FailFast,
    TrialEnd,
)

ERROR = (
    "Failure # 1\nTraceback (most recent call last):\n  ...\n"
    "raytune_hpo.adapters.command.process_group.CommandError: no report of the metric 'loss'\n"
    "last lines:\nboom\n"
)


def _trial(tmp_path: Path, trial_id: str, *, epochs: int = 0) -> SimpleNamespace:
    error_file = tmp_path / f"{trial_id}_error.txt"
    error_file.write_text(ERROR)
    return SimpleNamespace(
        trial_id=trial_id,
        last_result={"training_iteration": epochs} if epochs else {},
        error_file=str(error_file),
        path=f"/results/exp/{trial_id}",
    )


def _end(fail_fast: FailFast, trial: SimpleNamespace, *, failed: bool = True) -> None:
    hook = fail_fast.on_trial_error if failed else fail_fast.on_trial_complete
    hook(iteration=1, trials=[], trial=trial)


def test_the_first_three_failures_before_a_report_stop_the_experiment(tmp_path: Path) -> None:
    fail_fast = FailFast()
    fail_fast.setup(total_num_samples=12)
    stopper = TrialEnd("loss", 10, fail_fast)
    for index in range(2):
        _end(fail_fast, _trial(tmp_path, f"t{index}"))
        assert fail_fast.reason is None and not stopper.stop_all()
    _end(fail_fast, _trial(tmp_path, "t2"))
    assert stopper.stop_all()
    assert fail_fast.reason == (
        "the first 3 trials failed before their first report, so the experiment stopped; the "
        "first: trial t0: CommandError: no report of the metric 'loss' "
        "(log: /results/exp/t0/t0_error.txt)"
    )


def test_a_trial_that_ended_well_or_reported_first_keeps_the_experiment_going(
    tmp_path: Path,
) -> None:
    finished = FailFast()
    finished.setup(total_num_samples=12)
    _end(finished, _trial(tmp_path, "t0"), failed=False)
    reported = FailFast()
    reported.setup(total_num_samples=12)
    _end(reported, _trial(tmp_path, "t0", epochs=2))
    for fail_fast in (finished, reported):
        for index in range(1, 6):
            _end(fail_fast, _trial(tmp_path, f"t{index}"))
        assert fail_fast.reason is None


def test_an_experiment_of_two_trials_stops_after_two_failures(tmp_path: Path) -> None:
    fail_fast = FailFast()
    fail_fast.setup(total_num_samples=2)
    _end(fail_fast, _trial(tmp_path, "t0"))
    assert fail_fast.reason is None
    _end(fail_fast, _trial(tmp_path, "t1"))
    assert fail_fast.reason is not None and "the first 2 trials" in fail_fast.reason
    assert not TrialEnd("loss", 10).stop_all()  # without a FailFast, never
