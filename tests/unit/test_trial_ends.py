"""The words of every trial end, the record of a run's ends, and the verdict on errored trials."""

from __future__ import annotations

import pytest

from raytune_hpo.experiment.ends_record import errored_trials_failure
from raytune_hpo.output_lines import crash_cause, error_headline, worker_death
from raytune_hpo.trial_ends import (
    BUDGET,
    ERRORED,
    FINISHED,
    INTERRUPTED,
    NEVER_STARTED,
    PAUSED,
    STOPPED_EARLY,
    RunEnds,
    TrialEnd,
    derive_end,
    end_of_run,
    errors_line,
)


@pytest.mark.parametrize(
    ("end", "words"),
    [
        (TrialEnd(FINISHED, 3, 3), "finished after 3 epochs"),
        (TrialEnd(FINISHED, 1, 3), "finished after 1 epoch"),
        (TrialEnd(STOPPED_EARLY, 1, 3, by="ASHA"), "stopped early by ASHA at epoch 1 of 3"),
        (TrialEnd(BUDGET, 2, 3), "stopped by the time budget at epoch 2 of 3"),
        (TrialEnd(BUDGET, 0, 3), "stopped by the time budget before its first report"),
        (TrialEnd(PAUSED, 4, 10), "paused when the time budget ended, at epoch 4 of 10"),
        (TrialEnd(ERRORED, 2, 3, error="ValueError: x"), "errored at epoch 3"),
        (TrialEnd(ERRORED, 0, 3, error="ValueError: x"), "errored before its first report"),
        (TrialEnd(ERRORED, 3, 3, error="ValueError: x"), "errored after epoch 3, its last"),
        (TrialEnd(INTERRUPTED, 1, 3), "interrupted at epoch 1 of 3"),
        (TrialEnd(NEVER_STARTED), "never started"),
    ],
)
def test_every_end_has_its_words(end: TrialEnd, words: str) -> None:
    assert end.words == words
    assert TrialEnd.from_json(end.to_json()) == end


def test_an_error_keeps_its_own_line() -> None:
    end = TrialEnd(ERRORED, 2, 3, error="ValueError: lost the gradient")
    assert end.sentence == "errored at epoch 3: ValueError: lost the gradient"


@pytest.mark.parametrize(
    ("epochs", "stopped", "out_of_time", "kind"),
    [
        (3, True, False, FINISHED),  # max_epochs reached
        (2, False, False, FINISHED),  # its code returned by itself
        (1, True, False, STOPPED_EARLY),
        (2, False, True, BUDGET),
    ],
)
def test_the_end_of_a_trial_ray_completed(
    epochs: int, stopped: bool, out_of_time: bool, kind: str
) -> None:
    end = end_of_run(epochs, 3, stopped=stopped, stopper="ASHA", out_of_time=out_of_time)
    assert end.kind == kind


def test_ends_derived_from_rays_state_for_runs_that_recorded_none() -> None:
    def derive(status: str, **changes: object) -> str:
        facts: dict = {"started": True, "epochs": 1, "max_epochs": 3, "stopper": None}
        facts |= {"budget": False, **changes}
        return derive_end(status, **facts).words

    assert derive("TERMINATED", started=False, epochs=0) == "never started"
    assert derive("TERMINATED", epochs=3) == "finished after 3 epochs"
    assert derive("TERMINATED", stopper="ASHA") == "stopped early by ASHA at epoch 1 of 3"
    assert derive("TERMINATED", epochs=0, budget=True) == (
        "stopped by the time budget before its first report"
    )
    assert derive("PAUSED", budget=True) == "paused when the time budget ended, at epoch 1 of 3"
    assert derive("ERROR", error="E: x").startswith("errored at epoch 2")
    assert derive("RUNNING") == "interrupted at epoch 1 of 3"


def _run(*kinds: str) -> RunEnds:
    ends = {
        f"t{index}": TrialEnd(kind, 1, 3, error="ValueError: boom" if kind == ERRORED else None)
        for index, kind in enumerate(kinds)
    }
    return RunEnds(ends, never_created=1)


def test_the_record_reads_back_and_counts_the_trials_never_created() -> None:
    run = _run(FINISHED, ERRORED, STOPPED_EARLY)
    assert RunEnds.from_text(run.to_text()) == run
    assert run.tally() == "1 finished, 1 stopped early, 1 errored, 1 never started"
    assert RunEnds.from_text("not json") is None


def test_errored_trials_fail_the_run_unless_max_failed_trials_tolerates_them() -> None:
    run = _run(FINISHED, ERRORED, ERRORED)
    failure = errored_trials_failure(run, 0)
    assert failure is not None and failure.exit_code == 1
    assert str(failure) == (
        "2 of 3 trials errored (max_failed_trials: 0 is exceeded); the first: trial t1 "
        "errored at epoch 2: ValueError: boom"
    )
    assert errored_trials_failure(run, 2) is None
    assert "(max_failed_trials: 2 tolerates them)" in str(errors_line(run.trials, 2))
    assert errored_trials_failure(_run(FINISHED, STOPPED_EARLY, BUDGET, PAUSED), 0) is None
    every = errored_trials_failure(_run(ERRORED, ERRORED), 5)  # nothing to name best
    assert str(every).startswith("every trial errored (2 of 2); the first: trial t0 ")


RAY_WORKER_DIED = """Failure # 1 (occurred at 2026-12-07_02-11-03)
The actor died unexpectedly before finishing this task.
\tclass_name: ImplicitFunc
\tactor_id: 9706b0c50276b2a5a4a0c4d801000000
\tpid: 12305
\tip: 192.0.2.2
The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR Worker \
exit detail: Worker unexpectedly exits with a connection error code 2. End of file. Some common \
causes include: (1) the process was killed by the OOM killer due to high memory usage.
"""


def test_a_worker_that_died_is_one_line() -> None:
    assert worker_death(RAY_WORKER_DIED) == (
        "12305",
        "192.0.2.2",
        "Worker unexpectedly exits with a connection error code 2.",
    )
    assert error_headline(RAY_WORKER_DIED) == (
        "the trial's worker process (pid 12305 on 192.0.2.2) died: Worker unexpectedly exits "
        "with a connection error code 2."
    )
    assert worker_death("ValueError: boom") is None
    log = "[...] logging.cc:474: *** SIGSEGV received at time=1 on cpu 0 ***\nFatal Python error"
    assert crash_cause(log) == "SIGSEGV, a segfault"
    assert crash_cause("Fatal Python error: Aborted") == "SIGABRT, an abort"
    assert crash_cause("nothing") is None
