"""The one reader of Ray Tune's ``experiment_state-<time>.json``: every trial of an experiment
as Ray last saved it.

Ray Tune writes one state file per session of an experiment (a resumed run adds one) and
rewrites it every few seconds; the newest by the session time in its name is the current one
(Ray's end-of-run sync rewrites older ones too, so modification times say nothing). Its
``trial_data`` holds, per trial, two JSON documents: the trial (id, status, config, folder) and
its runtime metadata (start time, failures, error file, ``metric_analysis``).

When the time budget (or any stop of all trials) ends an experiment, Ray Tune marks the trials
still waiting ``TERMINATED``; only the missing start time tells that they never ran: their
status here is :data:`NOT_STARTED`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from raytune_hpo.layout import STATE_FILE_PREFIX, STATE_FILE_SUFFIX
from raytune_hpo.storage import access, json_text
from raytune_hpo.storage.locations import Location

NOT_STARTED = "NOT_STARTED"
"""Status of a trial the experiment ended before it ran (Ray Tune marks it TERMINATED)."""


@dataclass(frozen=True)
class TrialState:
    """One trial as Ray Tune's state file holds it.

    Attributes:
        trial_id: Ray's trial id.
        status: Ray's status (``RUNNING``, ``TERMINATED``, ``ERROR``, ...), or
            :data:`NOT_STARTED`.
        folder: The trial's folder, relative to the experiment folder.
        start_time: When it started (seconds since the epoch); None if it never did.
        num_failures: How often it failed.
        error_file: Its error file, relative to its folder; None unless it failed.
        config: Its hyperparameters as Ray stored them, without the values Ray could not write
            as JSON (its pickled stand-ins, dicts with a ``_type``).
        analysis: Ray's ``metric_analysis``: ``min``, ``max``, ``last``, ... per metric.
    """

    trial_id: str
    status: str
    folder: str | None = None
    start_time: float | None = None
    num_failures: int = 0
    error_file: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)


def is_state_file(name: str) -> bool:
    """Whether ``name`` is the name of a state file of Ray Tune."""
    return (
        name.startswith(STATE_FILE_PREFIX)
        and name.endswith(STATE_FILE_SUFFIX)
        and "/" not in name
        and len(name) > len(STATE_FILE_PREFIX) + len(STATE_FILE_SUFFIX)
    )


def newest_state_name(names: Iterable[str]) -> str | None:
    """The newest state file among ``names`` (by the session time in its name), if any."""
    return max((name for name in names if is_state_file(name)), default=None)


def parse_state(data: str | bytes) -> list[TrialState]:
    """The trials of a state file's text, in Ray's order.

    Raises:
        ValueError: The text is not a JSON object (a file caught while it is rewritten).
    """
    state = json_text.loads(data)
    if not isinstance(state, dict):
        raise ValueError("not a state file of Ray Tune: not a JSON object")
    trials = []
    for trial_json, runtime_json in state.get("trial_data") or []:
        trial, runtime = _object(trial_json), _object(runtime_json)
        started = runtime.get("start_time") is not None
        status = trial.get("status")
        trials.append(
            TrialState(
                trial_id=str(trial.get("trial_id")),
                status=NOT_STARTED if status == "TERMINATED" and not started else str(status),
                folder=trial.get("relative_logdir"),
                start_time=runtime.get("start_time"),
                num_failures=runtime.get("num_failures", 0),
                error_file=runtime.get("error_filename"),
                config=_plain_config(trial.get("config")),
                analysis=runtime.get("metric_analysis") or {},
            )
        )
    return trials


def newest_state_file(location: Location) -> str | None:
    """The name of the newest state file in experiment folder ``location``, if any."""
    return newest_state_name(name for name, _ in access.entries(location))


def read_state(location: Location) -> tuple[str | None, list[TrialState]]:
    """The newest state file of experiment folder ``location`` and its trials (no name and no
    trials before Ray wrote one).

    Raises:
        ValueError: The newest state file is not JSON.
        StorageError: The store behind a URI failed.
    """
    name = newest_state_file(location)
    if name is None:
        return None, []
    return name, parse_state(access.read_text(location, name))


def _object(document: Any) -> dict[str, Any]:
    """A JSON object given as its text (Ray's form) or parsed already; ``{}`` otherwise."""
    value = json_text.loads(document) if isinstance(document, str | bytes) else document
    return value if isinstance(value, dict) else {}


def _plain_config(config: Any) -> dict[str, Any]:
    """A trial's config without Ray's pickled stand-ins (``_type``)."""
    if not isinstance(config, dict):
        return {}
    return {k: v for k, v in config.items() if not (isinstance(v, dict) and "_type" in v)}
