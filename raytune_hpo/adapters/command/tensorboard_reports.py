"""The scalars a command writes to TensorBoard event files, turned into reports: the reader of
metrics format ``tensorboard``.

Pure and light (no Ray, no TensorFlow): the files are read by
:mod:`~raytune_hpo.adapters.command.event_files`, tags named by their folders
(:mod:`~raytune_hpo.adapters.command.metric_names`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from raytune_hpo.adapters.command.event_files import EventFile, event_files, scalars
from raytune_hpo.adapters.command.metric_names import SEPARATOR, names_ending_with, tag_name
from raytune_hpo.adapters.command.report_rules import Misnamed, NamesSeen, StepRule


class TensorBoardReports:
    """The scalars a command writes to TensorBoard event files, turned into reports.

    Every ``events.out.tfevents.*`` file below ``folder`` is read, in subfolders too and files
    that appear later (Lightning's ``lightning_logs/version_N/``), without TensorFlow
    (:class:`~raytune_hpo.adapters.command.event_files.EventFile`): each :meth:`poll` returns
    what was appended since the last one, in the order of the events' wall time and step across
    files. A record still being written is read once it is whole. Files present when the
    reader is made are taken as read (a restarted trial's earlier runs).

    A tag is named by its folder below ``folder`` and the tag, joined with ``/``, run-version
    folders left out (:func:`~raytune_hpo.adapters.command.metric_names.tag_name`):
    ``logs/validation/epoch_loss``; a report holds the latest value of every tag under its
    name. The metric names a tag by any trailing part of that name in whole folders
    (``validation/epoch_loss``, ``epoch_loss``) where that part names one tag alone; each new
    value of that tag is one report, which holds it under the metric's name too. Values logged
    after it at the same step (as Lightning logs ``epoch`` after ``val_loss``) join it while it
    waits for the poll's end.

    The metric's tag is settled at each poll before any of its values is reported, and the
    values of the poll that first finds it wait for one more poll (or the final one), so that
    files written one after the other (Keras's ``train/`` and ``validation/``) are all seen
    before the first report. Where the
    metric names several tags (``epoch_loss`` for ``logs/train/epoch_loss`` and
    ``logs/validation/epoch_loss``), or names none while a tag close to it (``val_loss`` for
    ``validation/epoch_loss``) got a second value or the command ended, the poll returns one
    report without the metric, the latest value of every tag: the experiment's metric check
    ends the run there with one line naming them. Nothing is reported after it.

    With ``step``, a value is a report only when the step grew past the last report's. ``step``
    names a tag as the metric does (the one in the metric's folder first); where the command
    logs no such tag (Keras logs ``epoch_loss`` at step ``epoch``), the events' own step
    counter stands in for it, reported under that name. Which of the two holds is settled by
    the first report, which therefore waits until the step's tag or an event of a later step
    arrives (or the final poll); later reports wait for the step's tag only, as writers may
    flush a step's values apart.

    Args:
        folder: The folder the command writes its logs below; it need not exist yet.
        metric: The experiment's metric: a tag's name or a trailing part of it.
        step: The tag (or, without such a tag, the events' step counter) that counts reports.
    """

    def __init__(self, folder: str | os.PathLike[str], metric: str, step: str | None = None):
        self.folder = Path(folder)
        self.metric = metric
        self._steps = StepRule(step)
        self._tags = NamesSeen()
        self._files: dict[str, EventFile] = {}
        self._folder_names: dict[str, list[str]] = {}
        self._names: set[str] = set()  # every tag's name
        self._latest: dict[str, int | float] = {}
        self._logged_at: dict[str, int] = {}  # the event step of each tag's latest value
        self._metric_tag: str | None = None
        self._step_tag: str | None = None
        self._pending: int | None = None  # the event step of a metric value not yet reported
        self._counter: bool | None = None  # whether the event step is the step; None: unknown
        self._misnamed = Misnamed(metric)
        self._held: list[tuple[float, int, str, int | float]] = []  # values read, not yet used
        self._ended = False
        for path in event_files(self.folder):  # files present now count as read
            self._file(path).read()

    def poll(self, final: bool = False) -> list[dict[str, Any]]:
        """The reports of the events written since the last poll, oldest first.

        Args:
            final: The command has ended: report a metric value still waiting for its step too.
        """
        if self._ended:
            return []
        values = sorted(self._held + self._new_values(), key=lambda value: value[:2])
        self._names.update(name for _, _, name, _ in values)
        self._tags.add(name for _, _, name, _ in values)
        if not self._resolve():
            return self._stop(values)
        if self._metric_tag is not None and not self._held and not self._misnamed.found:
            self._misnamed.found = True  # the first poll that finds it: one more poll first
            if not final:
                self._held = values
                return []
        self._held = []
        reports: list[dict[str, Any]] = []
        for index, (_, step, name, value) in enumerate(values):
            if self._pending is not None and (name == self._metric_tag or step != self._pending):
                reports += self._close()
            self._latest[name] = value
            self._logged_at[name] = step
            if name == self._metric_tag:
                self._pending = step
            elif self._metric_tag is None and self._misnamed.written_again([name]):
                return reports + self._stop(values[index + 1 :])
        if final or self._settled():
            reports += self._close()
        if final and self._metric_tag is None and self._misnamed.close_seen:
            return reports + self._stop([])
        return reports

    @property
    def tags_seen(self) -> list[str]:
        """The names of the scalar tags read so far, sorted (at most
        :data:`~raytune_hpo.adapters.command.report_rules.KEYS_KEPT`)."""
        return self._tags.sorted()

    def _resolve(self) -> bool:
        """Settle the tags the metric and the step name; False where the metric names several."""
        named = names_ending_with(self.metric, self._names)
        if len(named) > 1:
            return False
        if named:
            self._metric_tag = named[0]
        step = self._steps.name
        if step is not None:
            steps = names_ending_with(step, self._names)
            if self._metric_tag is not None and len(steps) > 1:
                folder = self._metric_tag.rpartition(SEPARATOR)[0]
                steps = [name for name in steps if name.rpartition(SEPARATOR)[0] == folder]
            self._step_tag = steps[0] if len(steps) == 1 else None
        return True

    def _stop(self, rest: list[tuple[float, int, str, int | float]]) -> list[dict[str, Any]]:
        """The report without the metric that ends the trial's reports: every tag's latest."""
        for _, _, name, value in rest:
            self._latest[name] = value
        self._ended = True
        return [dict(self._latest)]

    def _settled(self) -> bool:
        """Whether the open metric value's step is known without more events."""
        if self._steps.name is None or self._counter:
            return True
        return self._step_tag is not None and self._logged_at.get(self._step_tag) == self._pending

    def _close(self) -> list[dict[str, Any]]:
        """The report of the open metric value, if any and its step grew; closes it."""
        if self._pending is None or self._metric_tag is None:
            return []
        report: dict[str, Any] = dict(self._latest)
        report[self.metric] = self._latest[self._metric_tag]
        name = self._steps.name
        if name is not None:
            if self._counter is None:
                self._counter = self._step_tag is None
            if self._counter:
                report[name] = self._pending
            elif self._step_tag in self._latest:
                report[name] = self._latest[self._step_tag]
        self._pending = None
        return [report] if self._steps.advanced(report) else []

    def _new_values(self) -> list[tuple[float, int, str, int | float]]:
        """``(wall time, step, name, value)`` of every scalar appended to the event files
        below the folder since the last call, in the order of wall time and step."""
        values = []
        for path in event_files(self.folder):
            folders = self._folder_names.get(path)
            if folders is None:
                relative = Path(path).parent.relative_to(self.folder)
                folders = self._folder_names[path] = [p for p in relative.parts if p != "."]
            for event in self._file(path).read():
                for tag, value in scalars(event):
                    values.append((event.wall_time, event.step, tag_name(folders, tag), value))
        return sorted(values, key=lambda value: (value[0], value[1]))

    def _file(self, path: str) -> EventFile:
        if path not in self._files:
            self._files[path] = EventFile(path)
        return self._files[path]
