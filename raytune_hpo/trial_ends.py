"""How a trial ended, named once: the words the console, ``summary``, ``best.json``'s trials
table and the dashboard all use.

Imports nothing of ours, so that reading results never pulls in Ray Tune. A
:class:`TrialEnd` is one of :data:`KINDS`:

- ``finished``: its code ran to the end (``max_epochs`` reports, or it returned by itself);
- ``stopped early``: the scheduler (ASHA, HyperBand, ...) stopped it at an epoch;
- ``diverged``: its metric became NaN or infinite and the run stopped it;
- ``stopped by the time budget``: the budget ended while it ran;
- ``paused``: the budget ended while a scheduler had paused it (PBT, HyperBand);
- ``errored``: it raised (or its worker died) and no retry was left;
- ``interrupted``: Ctrl-C stopped the run while it ran (``resume`` continues it);
- ``never started``: the run ended before it ran.

:func:`derive_end` names the end of a trial from Ray's state file alone, for experiments
written before the runner recorded their trials' ends (:data:`TRIAL_ENDS_FILE` of
:mod:`raytune_hpo.layout`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

FINISHED = "finished"
STOPPED_EARLY = "stopped early"
DIVERGED = "diverged"
BUDGET = "stopped by the time budget"
PAUSED = "paused"
ERRORED = "errored"
INTERRUPTED = "interrupted"
NEVER_STARTED = "never started"
KINDS = (FINISHED, STOPPED_EARLY, DIVERGED, BUDGET, PAUSED, ERRORED, INTERRUPTED, NEVER_STARTED)
"""Every kind of end, in the order a tally lists them."""
WELL = frozenset({FINISHED, STOPPED_EARLY, DIVERGED, BUDGET, PAUSED})
"""Ends that are no error: the trial's reports are results."""


def epochs_text(epochs: int) -> str:
    """``1 epoch``, ``3 epochs``."""
    return f"{epochs} epoch{'' if epochs == 1 else 's'}"


@dataclass(frozen=True)
class TrialEnd:
    """How one trial ended.

    Attributes:
        kind: One of :data:`KINDS`.
        epochs: Reports (epochs) the trial made.
        max_epochs: The experiment's epochs per trial, if known.
        by: Who stopped it early, as a sentence names it (``ASHA``), for ``stopped early``.
        error: The exception's own line, for ``errored``.
        log: Where its error file is, for ``errored``.
    """

    kind: str
    epochs: int = 0
    max_epochs: int | None = None
    by: str | None = None
    error: str | None = None
    log: str | None = None

    @property
    def errored(self) -> bool:
        """Whether the trial ended in an error."""
        return self.kind == ERRORED

    @property
    def words(self) -> str:
        """The end as a phrase: ``stopped early by ASHA at epoch 1 of 3``.

        An error's own line is not part of it (see :attr:`sentence`).
        """
        of = f" of {self.max_epochs}" if self.max_epochs else ""
        at = f"at epoch {self.epochs}{of}" if self.epochs else "before its first report"
        if self.kind == FINISHED:
            return f"finished after {epochs_text(self.epochs)}"
        if self.kind == STOPPED_EARLY:
            return f"stopped early by {self.by or 'the scheduler'} {at}"
        if self.kind == DIVERGED:
            return f"diverged {at}"
        if self.kind == BUDGET:
            return f"stopped by the time budget {at}"
        if self.kind == PAUSED:
            return f"paused when the time budget ended, {at}"
        if self.kind == ERRORED:  # in the epoch after its last report, if there was one
            if not self.epochs:
                return "errored before its first report"
            if self.max_epochs and self.epochs >= self.max_epochs:
                return f"errored after epoch {self.epochs}, its last"
            return f"errored at epoch {self.epochs + 1}"
        if self.kind == INTERRUPTED:
            return f"interrupted {at}"
        return NEVER_STARTED

    @property
    def sentence(self) -> str:
        """:attr:`words`, with an error's own line: ``errored at epoch 3: ValueError: boom``."""
        return f"{self.words}: {self.error}" if self.error else self.words

    def to_json(self) -> dict[str, Any]:
        """The end as a JSON object: its fields, and its :attr:`words`."""
        return {**{k: v for k, v in asdict(self).items() if v is not None}, "words": self.words}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrialEnd:
        """The end :meth:`to_json` wrote (keys it does not know are left out)."""
        fields = ("kind", "epochs", "max_epochs", "by", "error", "log")
        return cls(**{k: data[k] for k in fields if k in data})


def end_of_run(
    epochs: int,
    max_epochs: int,
    *,
    stopped: bool,
    stopper: str | None,
    diverged: bool = False,
    out_of_time: bool = False,
) -> TrialEnd:
    """The end of a trial that Ray Tune completed without an error.

    Args:
        epochs: Epochs (reports) the trial ran.
        max_epochs: The experiment's epochs per trial.
        stopped: Ray Tune stopped the trial after its last report (it marks that report
            ``done``); otherwise its code returned by itself.
        stopper: The early-stopping scheduler, as a sentence names it; None for the others.
        diverged: Its metric was NaN or infinite at its last report.
        out_of_time: The experiment's time budget had run out.
    """
    if diverged:
        return TrialEnd(DIVERGED, epochs, max_epochs)
    if epochs >= max_epochs or not (stopped or out_of_time):
        return TrialEnd(FINISHED, epochs, max_epochs)
    if out_of_time:
        return TrialEnd(BUDGET, epochs, max_epochs)
    return TrialEnd(STOPPED_EARLY, epochs, max_epochs, by=stopper)


def derive_end(
    status: str,
    *,
    started: bool,
    epochs: int,
    max_epochs: int | None,
    stopper: str | None,
    budget: bool,
    diverged: bool = False,
    error: str | None = None,
    log: str | None = None,
) -> TrialEnd:
    """The end of a trial as Ray's state file tells it, for a run that recorded none.

    Args:
        status: Ray Tune's status of the trial (``TERMINATED``, ``ERROR``, ``PAUSED``, ...).
        started: Ray gave it a start time, or it reported.
        epochs: Its reports.
        max_epochs: The experiment's epochs per trial, if known.
        stopper: The config's early-stopping scheduler, as a sentence names it, if any.
        budget: The experiment had a time budget.
        diverged: Its metric was NaN or infinite at its last report.
        error: The exception's own line, for ``ERROR``.
        log: Its error file, for ``ERROR``.
    """
    if status == "ERROR":
        return TrialEnd(ERRORED, epochs, max_epochs, error=error, log=log)
    if not started and not epochs:
        return TrialEnd(NEVER_STARTED, 0, max_epochs)
    if status == "PAUSED":
        return TrialEnd(PAUSED if budget else INTERRUPTED, epochs, max_epochs)
    if status in {"RUNNING", "PENDING"}:
        return TrialEnd(INTERRUPTED, epochs, max_epochs)
    if diverged:
        return TrialEnd(DIVERGED, epochs, max_epochs)
    if max_epochs is None or epochs >= max_epochs or not (stopper or budget):
        return TrialEnd(FINISHED, epochs, max_epochs)
    if stopper is not None:
        # With a budget as well, the state cannot tell which of the two stopped it.
        return TrialEnd(STOPPED_EARLY, epochs, max_epochs, by=stopper)
    return TrialEnd(BUDGET, epochs, max_epochs)


def tally(ends: Mapping[str, TrialEnd]) -> str:
    """``5 finished, 2 stopped early, 1 errored``: the trials by their end, in :data:`KINDS`
    order (none: ``no trials``)."""
    counts = {kind: 0 for kind in KINDS}
    for end in ends.values():
        counts[end.kind] = counts.get(end.kind, 0) + 1
    parts = [f"{count} {kind}" for kind, count in counts.items() if count]
    return ", ".join(parts) if parts else "no trials"


def first_error(ends: Mapping[str, TrialEnd]) -> tuple[str, TrialEnd] | None:
    """The first errored trial (by trial id) and its end; None when none errored."""
    errored = sorted((trial_id, end) for trial_id, end in ends.items() if end.errored)
    return errored[0] if errored else None


def errors_line(ends: Mapping[str, TrialEnd], tolerated: int) -> str | None:
    """One line on the errored trials: how many, and the first one's end and log; None when no
    trial errored.

    Args:
        ends: Every trial's end, by trial id.
        tolerated: ``max_failed_trials``: errored trials the run accepts.
    """
    first = first_error(ends)
    if first is None:
        return None
    count = sum(end.errored for end in ends.values())
    if count == len(ends):
        how_many = f"every trial errored ({count} of {count})"
    else:
        allowed = "tolerates them" if count <= tolerated else "is exceeded"
        how_many = (
            f"{count} of {len(ends)} trials errored (max_failed_trials: {tolerated} {allowed})"
        )
    trial_id, end = first
    log = f" (log: {end.log})" if end.log else ""
    return f"{how_many}; the first: trial {trial_id} {end.sentence}{log}"


@dataclass(frozen=True)
class RunEnds:
    """The contents of an experiment's trial-ends file (``trial_ends.json``).

    Attributes:
        trials: Every trial's end, by trial id.
        complete: The run ended (False: Ctrl-C interrupted it; ``resume`` continues it).
        state_file: The name of Ray Tune's state file of the session that wrote it: a run
            resumed since has a newer one.
        never_created: Trials the run ended before Ray Tune created them (never started).
    """

    trials: dict[str, TrialEnd]
    complete: bool = True
    state_file: str | None = None
    never_created: int = 0

    def tally(self) -> str:
        """:func:`tally` of the trials, with those never created among ``never started``."""
        ends = dict(self.trials)
        for index in range(self.never_created):
            ends[f"\0{index}"] = TrialEnd(NEVER_STARTED)
        return tally(ends)

    def to_text(self) -> str:
        """The file's text: a JSON document."""
        document = {
            "complete": self.complete,
            "state_file": self.state_file,
            "never_created": self.never_created,
            "tally": self.tally(),
            "trials": {trial_id: end.to_json() for trial_id, end in sorted(self.trials.items())},
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_text(cls, text: str) -> RunEnds | None:
        """What :meth:`to_text` wrote; None for text that is not such a document."""
        try:
            document = json.loads(text)
            trials = {str(k): TrialEnd.from_json(v) for k, v in document["trials"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return cls(
            trials,
            complete=bool(document.get("complete", True)),
            state_file=document.get("state_file"),
            never_created=int(document.get("never_created") or 0),
        )
