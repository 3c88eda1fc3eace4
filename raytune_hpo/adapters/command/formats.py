"""The metrics formats of command trials (``trainable.metrics.format``): one registry entry
each.

A format is one :class:`MetricFormat` of :data:`METRIC_FORMATS`, which holds side by side how it
reads the command's output (a parser of lines, or a reader of the files the command writes),
what the config check refuses, the example that messages show, its row of the docs' table and a
sample its contract test runs. The config's ``format`` values, :func:`check_readable`,
:func:`expected_line`, :func:`missing_metric_message`, the readers and the docs' table all come
from the registry, so adding a format is one entry here: nothing else tests a format's name.

Pure and light (no Ray): a config check runs :func:`check_readable` before anything starts; a
command trial reads lines with :class:`~raytune_hpo.adapters.command.line_reports.LineReports`
(:mod:`~raytune_hpo.adapters.command.line_formats`), or polls the reader of its files
(:class:`~raytune_hpo.adapters.command.tensorboard_reports.TensorBoardReports`), and explains a
trial without reports with :func:`missing_metric_message`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from raytune_hpo.adapters.command.event_files import EVENT_FILES, write_scalars
from raytune_hpo.adapters.command.line_formats import (
    NAME,
    json_values,
    key_value_values,
    regex_values,
)
from raytune_hpo.adapters.command.metric_messages import group_fix, regex_fix
from raytune_hpo.adapters.command.tensorboard_reports import TensorBoardReports
from raytune_hpo.errors import UserError

if TYPE_CHECKING:
    from raytune_hpo.adapters.command.spec import MetricsFormat

DEFAULT_FORMAT = "key_value"
"""The format of a ``trainable.metrics`` section that names none."""


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


LineParser = Callable[[str, str, "MetricsFormat"], dict[str, Any]]
"""Every value a line of output (its end of line stripped) holds, given the experiment's metric
and the ``trainable.metrics`` settings, whether or not the metric is among them."""


class FileReports(Protocol):
    """The reports of the files a command writes, read as they grow."""

    def poll(self, final: bool = False) -> list[dict[str, Any]]:
        """The reports of what was written since the last poll (``final``: the command ended)."""
        ...

    @property
    def tags_seen(self) -> list[str]:
        """The names of the values read so far, sorted, for messages."""
        ...


FileReader = Callable[[Path, str, "str | None"], FileReports]
"""The reader of the files a command writes below a folder: ``(folder, metric, step)``."""


@dataclass(frozen=True)
class Sample:
    """A format at work, for its contract test: what a command writes and what it reports.

    Attributes:
        metric: The experiment's metric.
        output: What the command writes that makes ``report``: the lines it prints, or, for a
            format that reads files, what ``write`` writes.
        report: The report ``output`` makes.
        without_metric: Output without the metric: it makes no report.
        settings: The ``trainable.metrics`` settings besides ``format`` (``pattern``).
        write: For a format that reads files: writes output into a folder.
    """

    metric: str
    output: tuple[Any, ...]
    report: Mapping[str, Any]
    without_metric: tuple[Any, ...]
    settings: Mapping[str, str] = field(default_factory=dict)
    write: Callable[[Path, Sequence[Any]], None] | None = None


Explain = Callable[[str, "MetricsFormat", Sequence[str]], str]
"""Why a command gave no report of the metric (what follows ``no report of ...:``), given the
metric, the settings and the names seen."""


def _no_pattern(fmt: MetricsFormat) -> None:
    """The settings check of a format without a ``pattern``."""
    if fmt.pattern is not None:
        takers = ", ".join(name for name, entry in METRIC_FORMATS.items() if entry.takes_pattern)
        raise ValueError(f"pattern applies to format {takers} only, not {fmt.format}")


def _any_name(metric: str, fmt: MetricsFormat) -> None:
    """The readability check of a format that reads any name."""


@dataclass(frozen=True)
class MetricFormat:
    """One metrics format: how it reads the command's output, what it refuses, its messages
    and its docs.

    Attributes:
        name: The ``format`` value.
        report_is: The docs' table: what makes a report (Markdown, one line).
        joined_by: The docs' table: the other values that join a report (Markdown, one line).
        example: An example of a line (or value) that reports the metric, for messages:
            ``(metric, settings) -> text``.
        explain_missing: Why the command gave no report, and the fix, in one line.
        sample: Its contract test's sample.
        parse_line: A format that reads the command's output lines: its parser.
        read_files: A format that reads files the command writes: their reader.
        takes_pattern: Whether it takes ``pattern``.
        check_settings: The check of the ``trainable.metrics`` section on its own (run by its
            pydantic model); raises ``ValueError``.
        check_names: The check that the metric and the step can be read at all
            (:func:`check_readable`); raises :class:`UnreadableMetric`.
    """

    name: str
    report_is: str
    joined_by: str
    example: Callable[[str, MetricsFormat], str]
    explain_missing: Explain
    sample: Sample
    parse_line: LineParser | None = None
    read_files: FileReader | None = None
    takes_pattern: bool = False
    check_settings: Callable[[MetricsFormat], None] = _no_pattern
    check_names: Callable[[str, MetricsFormat], None] = _any_name

    def __post_init__(self) -> None:
        if (self.parse_line is None) == (self.read_files is None):
            raise TypeError(f"metrics format {self.name}: give parse_line or read_files, one")

    @property
    def docs_row(self) -> str:
        """Its row of the docs' table of formats (:func:`docs_table`)."""
        default = " (default)" if self.name == DEFAULT_FORMAT else ""
        return f"| `{self.name}`{default} | {self.report_is} | {self.joined_by} |"


# --- what the entries share -------------------------------------------------------------------


def _no_line(fix: Callable[[str, MetricsFormat], str]) -> Explain:
    """Why a line format gave no report: no line held the metric; ``fix`` says what to do."""

    def explain(metric: str, fmt: MetricsFormat, keys_seen: Sequence[str]) -> str:
        example = f"no output line held it, such as {expected_line(metric, fmt)}"
        if keys_seen:
            return (
                f"{example}; numeric keys seen: {', '.join(keys_seen)}; set metric to one of "
                f"them, or {fix(metric, fmt)}"
            )
        return (
            f"{example}, and no other key held a number; if the command writes TensorBoard "
            f"event files, read them with trainable.metrics: {{format: tensorboard}}, else "
            f"{fix(metric, fmt)}"
        )

    return explain


def _regex_instead(metric: str, fmt: MetricsFormat) -> str:
    return f"read it with a regex that matches the lines that show it, e.g. {regex_fix(metric)}"


def _line_formats_hint() -> str:
    """``{format: key_value} (or json, or regex)``: the formats that read lines."""
    first, *rest = (name for name, entry in METRIC_FORMATS.items() if entry.parse_line)
    others = f" (or {', or '.join(rest)})" if rest else ""
    return f"{{format: {first}}}{others}"


# --- key_value --------------------------------------------------------------------------------


def _key_value_names(metric: str, fmt: MetricsFormat) -> None:
    for key, name in (("metric", metric), ("metrics.step", fmt.step)):
        if name is not None and not re.fullmatch(NAME, name):
            raise UnreadableMetric(
                key,
                f"{name!r} cannot be read in metrics format key_value, whose names are a "
                "letter or _ followed by letters, digits or _ . - / (no spaces); "
                f"read it with a regex instead: {regex_fix(name, key)}",
            )


def _key_value_example(metric: str, fmt: MetricsFormat) -> str:
    return f"'{metric}=0.123'" if fmt.step is None else f"'{fmt.step}=1 {metric}=0.123'"


KEY_VALUE = MetricFormat(
    name="key_value",
    report_is="a stdout line holding `<metric>=<number>` or `<metric>: <number>`, or a Python "
    "dict or JSON object line holding the metric (numbers quoted or not: the HF `Trainer`'s "
    "lines)",
    joined_by="every other `name=number` / `name: number` on the line, or the dict's other numbers",
    parse_line=key_value_values,
    check_names=_key_value_names,
    example=_key_value_example,
    explain_missing=_no_line(_regex_instead),
    sample=Sample(
        metric="val_loss",
        output=("epoch 3: train_loss=0.41 val_loss=0.52",),
        report={"train_loss": 0.41, "val_loss": 0.52},
        without_metric=("epoch 3: train_loss=0.41",),
    ),
)


# --- json -------------------------------------------------------------------------------------


def _json_example(metric: str, fmt: MetricsFormat) -> str:
    example: dict[str, Any] = {metric: 0.123} if fmt.step is None else {fmt.step: 1, metric: 0.123}
    return f"'{json.dumps(example)}'"


JSON = MetricFormat(
    name="json",
    report_is="a line that is a JSON object (or a Python dict) holding the metric",
    joined_by="its other keys",
    parse_line=json_values,
    example=_json_example,
    explain_missing=_no_line(_regex_instead),
    sample=Sample(
        metric="val_loss",
        output=('{"epoch": 3, "val_loss": 0.52, "note": "best"}',),
        report={"epoch": 3, "val_loss": 0.52, "note": "best"},
        without_metric=('{"epoch": 3, "train_loss": 0.41}',),
    ),
)


# --- regex ------------------------------------------------------------------------------------


def _regex_settings(fmt: MetricsFormat) -> None:
    if not fmt.pattern:
        raise ValueError("format regex needs a pattern with named groups")
    try:
        compiled = re.compile(fmt.pattern)
    except re.error as err:
        raise ValueError(f"pattern is no valid regex: {err}") from None
    if not compiled.groupindex:
        raise ValueError(f"pattern needs named groups like (?P<loss>...), got {fmt.pattern!r}")


def _regex_groups(metric: str, fmt: MetricsFormat) -> None:
    groups = list(re.compile(str(fmt.pattern)).groupindex)
    if metric not in groups:
        raise UnreadableMetric(
            "metrics.pattern",
            f"pattern {fmt.pattern!r} has no group named {metric!r} (the experiment's "
            f"metric); its groups: {', '.join(groups)}; {group_fix(metric)}",
        )
    if fmt.step is not None and fmt.step not in groups:
        raise UnreadableMetric(
            "metrics.step",
            f"{fmt.step!r} is no group of pattern {fmt.pattern!r}; its groups: "
            f"{', '.join(groups)}; {group_fix(fmt.step, 'step')}",
        )


def _regex_example(metric: str, fmt: MetricsFormat) -> str:
    step = fmt.step
    groups = f"group {metric!r}" if step is None else f"groups {metric!r} and {step!r}"
    return f"a line matching {fmt.pattern!r} with {groups}"


def _fix_pattern(metric: str, fmt: MetricsFormat) -> str:
    return "fix trainable.metrics.pattern to match the lines that show it"


REGEX = MetricFormat(
    name="regex",
    report_is="a line the `pattern` matches, with a group named like the metric",
    joined_by="the pattern's other named groups",
    parse_line=regex_values,
    takes_pattern=True,
    check_settings=_regex_settings,
    check_names=_regex_groups,
    example=_regex_example,
    explain_missing=_no_line(_fix_pattern),
    sample=Sample(
        metric="val_acc",
        settings={"pattern": r"epoch (?P<epoch>\d+): val acc (?P<val_acc>\S+)"},
        output=("epoch 3: val acc 93.50%",),
        report={"epoch": 3, "val_acc": 93.5},
        without_metric=("epoch 3: train loss 0.41",),
    ),
)


# --- tensorboard ------------------------------------------------------------------------------


def _no_scalar(metric: str, fmt: MetricsFormat, tags_seen: Sequence[str]) -> str:
    if tags_seen:
        return (
            f"no scalar's name (its folder and tag, e.g. validation/epoch_loss) ends with "
            f"{metric!r}; tags seen: {', '.join(tags_seen)}; set metric to one of them, or to "
            "its end that names it alone"
        )
    return (
        f"no TensorBoard event file ({EVENT_FILES}) with scalars appeared; if the command "
        f"prints its metrics, read them with trainable.metrics: {_line_formats_hint()}"
    )


def _write_event_file(folder: Path, points: Sequence[tuple[str, int, float]]) -> None:
    write_scalars(folder / "events.out.tfevents.1.sample", points)


TENSORBOARD = MetricFormat(
    name="tensorboard",
    report_is="a new value of the scalar the metric names ([tag names](#tensorboard-tag-names)), "
    "in any `events.out.tfevents.*` file the command writes below its working directory (read "
    "while it runs, without TensorFlow)",
    joined_by="the latest value of every other tag, under its name",
    read_files=TensorBoardReports,
    example=lambda metric, fmt: f"a TensorBoard scalar named {metric!r}",
    explain_missing=_no_scalar,
    sample=Sample(
        metric="val_loss",
        output=(("train_loss", 1, 0.75), ("val_loss", 1, 0.5)),
        report={"train_loss": 0.75, "val_loss": 0.5},
        without_metric=(("train_loss", 1, 0.75),),
        write=_write_event_file,
    ),
)


# --- the registry -----------------------------------------------------------------------------

METRIC_FORMATS: dict[str, MetricFormat] = {
    entry.name: entry for entry in (KEY_VALUE, JSON, REGEX, TENSORBOARD)
}
"""Every metrics format by name, in the order the docs list them."""


def metric_format(name: str) -> MetricFormat:
    """The entry of format ``name``.

    Raises:
        ValueError: ``name`` is no format; the message lists the known ones.
    """
    try:
        return METRIC_FORMATS[name]
    except KeyError:
        known = ", ".join(METRIC_FORMATS)
        raise ValueError(f"unknown metrics format {name!r}; known: {known}") from None


def check_readable(metric: str, fmt: MetricsFormat) -> None:
    """Refuse a metrics format that can never read ``metric`` (or ``fmt.step``).

    A ``regex`` must have a group named like the metric (and the step); ``key_value`` names are
    a letter or ``_`` followed by letters, digits, ``_ . - /`` (no spaces). ``json`` keys and
    TensorBoard tags may be any string.

    Raises:
        UnreadableMetric: With the key at fault and the fix.
    """
    metric_format(fmt.format).check_names(metric, fmt)


def expected_line(metric: str, fmt: MetricsFormat) -> str:
    """An example of a line (or scalar) that reports ``metric`` in ``fmt``, for messages."""
    return metric_format(fmt.format).example(metric, fmt)


def missing_metric_message(metric: str, fmt: MetricsFormat, keys_seen: Sequence[str]) -> str:
    """Why a command gave no report, in one line: the metric wanted, what was seen, the fix.

    Args:
        metric: The experiment's metric.
        fmt: How metrics were read.
        keys_seen: The names that held numbers on output lines
            (:attr:`~raytune_hpo.adapters.command.line_reports.LineReports.keys_seen`) or the
            names the file reader saw (:attr:`FileReports.tags_seen`).
    """
    wanted = f"no report of the metric {metric!r} (metrics format {fmt.format}"
    wanted += f", step {fmt.step!r})" if fmt.step else ")"
    if metric in keys_seen and fmt.step is not None:
        return (
            f"{wanted}: {metric!r} was seen, but never with the step {fmt.step!r} as a number "
            f"grown past the last report's; write {fmt.step} beside each {metric}, or remove "
            "trainable.metrics.step"
        )
    return f"{wanted}: {metric_format(fmt.format).explain_missing(metric, fmt, keys_seen)}"


DOCS_TABLE_HEAD = "| `format` | a report is | other values joining it |\n| --- | --- | --- |"


def docs_table() -> str:
    """The docs' table of formats (``docs/pages/your-code.md``): one row per entry."""
    return "\n".join([DOCS_TABLE_HEAD, *(entry.docs_row for entry in METRIC_FORMATS.values())])
