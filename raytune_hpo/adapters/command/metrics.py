"""Reading a command trial's metrics: from its output lines or its TensorBoard event files.

Pure and light (no Ray): a config check runs :func:`check_readable` before anything starts; a
command trial feeds each output line to :class:`LineReports`, or polls :class:`TensorBoardReports`,
and explains a trial without reports with :func:`missing_metric_message`. Event files are read
without TensorFlow (:mod:`~raytune_hpo.adapters.command.event_files`), tags named by their
folders (:mod:`~raytune_hpo.adapters.command.metric_names`).
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeGuard

from raytune_hpo.adapters.command.event_files import EVENT_FILES, EventFile, event_files, scalars
from raytune_hpo.adapters.command.metric_names import (
    SEPARATOR,
    close_names,
    names_ending_with,
    tag_name,
)
from raytune_hpo.adapters.command.spec import MetricsFormat
from raytune_hpo.errors import UserError

KEYS_KEPT = 30
"""How many names of keys or tags seen a reader keeps for its error message."""
VALUE_GROUP = r"[-+.\deE]+"
"""A regex for a number, as suggested in messages."""

_NUMBER = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?i:nan|inf(?:inity)?))"
_NAME = r"[A-Za-z_][\w.\-/]*"
_PAIR = re.compile(
    rf"(?<![\w.\-/])(?P<name>{_NAME})\s*[=:]\s*(?P<value>{_NUMBER})(?:%(?!\|))?"
    r"(?=$|[\s,;|)\]}])"
)
_PERCENT = re.compile(rf"(?P<value>{_NUMBER})\s*%")
_INTEGER = re.compile(r"[-+]?\d+")
_NON_FINITE = ("nan", "inf", "NaN", "Infinity")


class UnreadableMetric(UserError, ValueError):
    """A metrics format that cannot read the experiment's metric or step.

    Attributes:
        key: The key at fault: ``metric`` (the experiment's), ``metrics.pattern`` or
            ``metrics.step``.
        message: What is wrong and the fix, in one line.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


# --- lines ------------------------------------------------------------------------------------


def parse_metric_line(line: str, metric: str, fmt: MetricsFormat) -> dict[str, Any] | None:
    """The metrics of one line of output, or None when it does not report ``metric``.

    - ``key_value``: every ``name=number`` or ``name: number`` on the line, names starting with
      a letter or ``_`` (``val/loss``, ``top-1``, ``eval.acc`` count), numbers such as ``3``,
      ``-0.5``, ``1e-3``, ``nan``, ``inf``, followed by a space, ``,;|)]}`` or the end (so
      ``12:30`` is no number); ``acc=93.5%`` reads 93.5, but a progress bar's ``45%|`` is no
      number. ``epoch 3: loss=0.4`` holds only ``loss``: a name must be followed by its ``=``
      or ``:``. A line that is a JSON object or a Python dict
      literal (``{'eval_loss': '0.69', 'epoch': 1.0}``, Hugging Face's ``Trainer``) brings the
      keys whose values are numbers; other values are left out.
    - ``json``: a line that is a JSON object, or a Python dict literal; all its keys.
    - ``regex``: the named groups of the pattern's first match.

    Strings that are numbers (``'0.69'``, ``"1e-3"``, ``'93.50%'`` as 93.5) become numbers,
    integers stay ``int``, other numbers are ``float``; a dict's bare ``nan`` and ``inf``
    count. The line reports ``metric`` when it holds it as a number.

    Raises:
        ValueError: The regex has no group named ``metric``, or the format is ``tensorboard``.
    """
    values = _line_values(line, metric, fmt)
    return values if is_number(values.get(metric)) else None


def is_number(value: Any) -> TypeGuard[int | float]:
    """Whether ``value`` is an int or float (a bool is not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _line_values(line: str, metric: str, fmt: MetricsFormat) -> dict[str, Any]:
    """Every value that ``line`` holds in format ``fmt``, whether or not it reports ``metric``."""
    text = line.rstrip("\r\n")
    if fmt.format == "regex":
        return _regex_groups(text, metric, str(fmt.pattern))
    if fmt.format == "tensorboard":
        raise ValueError("metrics format tensorboard reads event files, not output lines")
    mapping = _mapping(text)
    if fmt.format == "json":
        return mapping or {}
    if mapping is None:
        return {m["name"]: _number(m["value"]) for m in _PAIR.finditer(text)}
    return {key: value for key, value in mapping.items() if is_number(value)}


def _number(text: str) -> int | float:
    return int(text) if _INTEGER.fullmatch(text) else float(text)


def _unquoted(value: Any) -> Any:
    """``value``, or the number it spells when it is a string such as ``'0.69'`` or
    ``'93.50%'`` (93.5)."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(_NUMBER, text):
            return _number(text)
        if percent := _PERCENT.fullmatch(text):
            return _number(percent["value"])
    return value


def _mapping(text: str) -> dict[str, Any] | None:
    """The object a ``{...}`` line holds as JSON or as a Python dict literal; None if none."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        parsed = _python_literal(stripped)
    if not isinstance(parsed, dict):
        return None
    return {key: _unquoted(value) for key, value in parsed.items() if isinstance(key, str)}


def _python_literal(text: str) -> Any:
    """The Python literal ``text`` spells (the names ``nan`` and ``inf`` as floats), or None."""
    try:
        return ast.literal_eval(_NonFinite().visit(ast.parse(text, mode="eval")))
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        return None


class _NonFinite(ast.NodeTransformer):
    """Turns the names ``nan`` and ``inf``, as Python prints such floats, into constants."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id not in _NON_FINITE:
            return node
        return ast.copy_location(ast.Constant(float(node.id)), node)


def _regex_groups(text: str, metric: str, pattern: str) -> dict[str, Any]:
    compiled = re.compile(pattern)
    if metric not in compiled.groupindex:
        groups = ", ".join(compiled.groupindex)
        raise ValueError(
            f"metrics pattern {pattern!r} has no group named {metric!r} (the experiment's "
            f"metric); its groups: {groups}"
        )
    match = compiled.search(text)
    if match is None:
        return {}
    return {
        name: _unquoted(value) for name, value in match.groupdict().items() if value is not None
    }


def expected_line(metric: str, fmt: MetricsFormat) -> str:
    """An example of a line (or scalar) that reports ``metric`` in ``fmt``, for messages."""
    step = fmt.step
    if fmt.format == "key_value":
        return f"'{metric}=0.123'" if step is None else f"'{step}=1 {metric}=0.123'"
    if fmt.format == "json":
        example: dict[str, Any] = {metric: 0.123} if step is None else {step: 1, metric: 0.123}
        return f"'{json.dumps(example)}'"
    if fmt.format == "tensorboard":
        return f"a TensorBoard scalar named {metric!r}"
    groups = f"group {metric!r}" if step is None else f"groups {metric!r} and {step!r}"
    return f"a line matching {fmt.pattern!r} with {groups}"


class _Names:
    """The first :data:`KEYS_KEPT` distinct names added."""

    def __init__(self) -> None:
        self._names: set[str] = set()

    def add(self, names: Iterable[str]) -> None:
        for name in names:
            if len(self._names) < KEYS_KEPT:
                self._names.add(name)

    def sorted(self) -> list[str]:
        return sorted(self._names)


class _Steps:
    """Lets a report through when it has no step to check, or its step grew past the last one."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self._last: float | None = None

    def advanced(self, report: dict[str, Any], *, record: bool = True) -> bool:
        """Whether ``report`` counts; ``record``: its step becomes the last one if so."""
        if self.name is None:
            return True
        step = report.get(self.name)
        if not is_number(step) or math.isnan(step):
            return False
        if self._last is not None and not step > self._last:
            return False
        if record:
            self._last = step
        return True


class _Misnamed:
    """Watches for a metric name misspelled in the config: a name the command writes is close
    to it (:func:`~raytune_hpo.adapters.command.metric_names.close_names`), and the metric is
    never found.

    Such a name is taken as the one meant once it is written a second time (a second epoch:
    the metric did not come with the first) or the command ends; a name written once, before
    the metric comes on a later line, ends nothing (``episode_reward_max`` printed on the line
    before ``episode_reward_mean``).
    """

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.found = False
        """Whether the metric was found: nothing is watched any more."""
        self.close_seen = False
        """Whether a name close to the metric was written."""
        self._close: dict[str, bool] = {}
        self._written: set[str] = set()

    def written_again(self, names: Iterable[str]) -> bool:
        """Record ``names`` written (once each); whether one close to the metric was written
        before."""
        if self.found:
            return False
        close = [name for name in names if self._is_close(name)]
        again = any(name in self._written for name in close)
        self._written.update(close)
        self.close_seen = self.close_seen or bool(close)
        return again

    def _is_close(self, name: str) -> bool:
        if name not in self._close:
            self._close[name] = bool(close_names(self.metric, [name]))
        return self._close[name]


class LineReports:
    """A command's output lines, one at a time, turned into reports.

    A line is a report when it holds the metric as a number (:func:`parse_metric_line`) and,
    with ``fmt.step`` set, also the step as a number greater than the last report's step: with
    ``step: epoch``, per-batch lines that show the epoch and the metric report once per epoch.

    While the metric was never seen, a line whose numeric key is close to the metric's name
    (``val_loss`` for ``val_los``) and was seen on an earlier line is a report too, of that
    line's numbers, without the metric: the experiment's metric check ends the run there and
    names the key (``did you mean``). So is the last such line at the command's end
    (:meth:`finish`). Nothing is reported after it.

    Args:
        metric: The experiment's metric.
        fmt: How lines are read: format ``key_value``, ``json`` or ``regex``.

    Raises:
        UnreadableMetric: As :func:`check_readable`.
        ValueError: ``fmt`` is ``tensorboard``.
    """

    def __init__(self, metric: str, fmt: MetricsFormat) -> None:
        if fmt.format == "tensorboard":
            raise ValueError("metrics format tensorboard reads event files, not output lines")
        check_readable(metric, fmt)
        self.metric = metric
        self.fmt = fmt
        self._steps = _Steps(fmt.step)
        self._keys = _Names()
        self._misnamed = _Misnamed(metric)
        self._close_line: dict[str, Any] | None = None
        self._ended = False

    def feed(self, line: str) -> dict[str, Any] | None:
        """The report ``line`` makes, or None."""
        if self._ended:
            return None
        values = _line_values(line, self.metric, self.fmt)
        numbers = {key: value for key, value in values.items() if is_number(value)}
        self._keys.add(numbers)
        if is_number(values.get(self.metric)):
            self._misnamed.found = True
            return values if self._steps.advanced(values) else None
        if self._misnamed.written_again(numbers):
            self._ended = True
            return numbers
        if self._misnamed.close_seen and self._close_line is None:
            self._close_line = numbers
        return None

    def finish(self) -> dict[str, Any] | None:
        """At the command's end: the first line's numbers that held a key close to the metric,
        when the metric was never seen (a report without it, as in :meth:`feed`); else None."""
        if self._ended or self._misnamed.found or self._close_line is None:
            return None
        self._ended = True
        return self._close_line

    def reports(self, line: str) -> bool:
        """Whether ``line`` would be a report now, recording nothing (a look ahead)."""
        values = _line_values(line, self.metric, self.fmt)
        return is_number(values.get(self.metric)) and self._steps.advanced(values, record=False)

    @property
    def keys_seen(self) -> list[str]:
        """The names that held numbers on lines so far, sorted (:data:`KEYS_KEPT` at most)."""
        return self._keys.sorted()


# --- TensorBoard event files ------------------------------------------------------------------


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
        self._steps = _Steps(step)
        self._tags = _Names()
        self._files: dict[str, EventFile] = {}
        self._folder_names: dict[str, list[str]] = {}
        self._names: set[str] = set()  # every tag's name
        self._latest: dict[str, int | float] = {}
        self._logged_at: dict[str, int] = {}  # the event step of each tag's latest value
        self._metric_tag: str | None = None
        self._step_tag: str | None = None
        self._pending: int | None = None  # the event step of a metric value not yet reported
        self._counter: bool | None = None  # whether the event step is the step; None: unknown
        self._misnamed = _Misnamed(metric)
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
        """The names of the scalar tags read so far, sorted (at most :data:`KEYS_KEPT`)."""
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


# --- config checks and messages ---------------------------------------------------------------


def check_readable(metric: str, fmt: MetricsFormat) -> None:
    """Refuse a metrics format that can never read ``metric`` (or ``fmt.step``).

    A ``regex`` must have a group named like the metric (and the step); ``key_value`` names are
    a letter or ``_`` followed by letters, digits, ``_ . - /`` (no spaces). ``json`` keys and
    TensorBoard tags may be any string.

    Raises:
        UnreadableMetric: With the key at fault and the fix.
    """
    if fmt.format == "regex":
        groups = list(re.compile(str(fmt.pattern)).groupindex)
        if metric not in groups:
            raise UnreadableMetric(
                "metrics.pattern",
                f"pattern {fmt.pattern!r} has no group named {metric!r} (the experiment's "
                f"metric); its groups: {', '.join(groups)}; {_group_fix(metric)}",
            )
        if fmt.step is not None and fmt.step not in groups:
            raise UnreadableMetric(
                "metrics.step",
                f"{fmt.step!r} is no group of pattern {fmt.pattern!r}; its groups: "
                f"{', '.join(groups)}; {_group_fix(fmt.step, 'step')}",
            )
    elif fmt.format == "key_value":
        for key, name in (("metric", metric), ("metrics.step", fmt.step)):
            if name is not None and not re.fullmatch(_NAME, name):
                raise UnreadableMetric(
                    key,
                    f"{name!r} cannot be read in metrics format key_value, whose names are a "
                    "letter or _ followed by letters, digits or _ . - / (no spaces); "
                    f"read it with a regex instead: {_regex_fix(name, key)}",
                )


def _group_name(name: str) -> str:
    """``name`` made a regex group name: ``Average loss`` -> ``average_loss``."""
    group = re.sub(r"\W+", "_", name).strip("_").lower() or "value"
    return f"_{group}" if group[0].isdigit() else group


def _group_fix(name: str, setting: str = "metric") -> str:
    """How to name a group for ``name``; a rename when ``name`` cannot be a group name."""
    if name.isidentifier():
        return f"add a group named after it, e.g. (?P<{name}>{VALUE_GROUP})"
    group = _group_name(name)
    return (
        f"a group name is an identifier, so rename the {setting} too, e.g. {setting}: {group} "
        f"with (?P<{group}>{VALUE_GROUP})"
    )


def _regex_fix(name: str, key: str = "metric") -> str:
    """The settings that read ``<name>: <number>`` with a regex, for messages."""
    group = _group_name(name)
    label = re.escape(name).replace("\\ ", " ")
    pattern = f"pattern: '{label}: (?P<{group}>{VALUE_GROUP})'"
    if key == "metric":
        rename = "" if group == name else f"metric: {group} and "
        return f"{rename}trainable.metrics: {{format: regex, {pattern}}}"
    return (
        f"trainable.metrics: {{format: regex, step: {group}, {pattern}}} with a group for the "
        "metric too"
    )


def missing_metric_message(metric: str, fmt: MetricsFormat, keys_seen: Sequence[str]) -> str:
    """Why a command gave no report, in one line: the metric wanted, what was seen, the fix.

    Args:
        metric: The experiment's metric.
        fmt: How metrics were read.
        keys_seen: The names that held numbers on output lines (:attr:`LineReports.keys_seen`)
            or the TensorBoard tags seen (:attr:`TensorBoardReports.tags_seen`).
    """
    wanted = f"no report of the metric {metric!r} (metrics format {fmt.format}"
    wanted += f", step {fmt.step!r})" if fmt.step else ")"
    seen = ", ".join(keys_seen)
    if metric in keys_seen and fmt.step is not None:
        return (
            f"{wanted}: {metric!r} was seen, but never with the step {fmt.step!r} as a number "
            f"grown past the last report's; write {fmt.step} beside each {metric}, or remove "
            "trainable.metrics.step"
        )
    if fmt.format == "tensorboard":
        if keys_seen:
            return (
                f"{wanted}: no scalar's name (its folder and tag, e.g. validation/epoch_loss) "
                f"ends with {metric!r}; tags seen: {seen}; set metric to one of them, or to "
                "its end that names it alone"
            )
        return (
            f"{wanted}: no TensorBoard event file ({EVENT_FILES}) with scalars appeared; if the "
            "command prints its metrics, read them with trainable.metrics: "
            "{format: key_value} (or json, or regex)"
        )
    example = f"no output line held it, such as {expected_line(metric, fmt)}"
    fix = (
        "fix trainable.metrics.pattern to match the lines that show it"
        if fmt.format == "regex"
        else f"read it with a regex that matches the lines that show it, e.g. {_regex_fix(metric)}"
    )
    if keys_seen:
        return (
            f"{wanted}: {example}; numeric keys seen: {seen}; set metric to one of them, or {fix}"
        )
    return (
        f"{wanted}: {example}, and no other key held a number; if the command writes TensorBoard "
        f"event files, read them with trainable.metrics: {{format: tensorboard}}, else {fix}"
    )
