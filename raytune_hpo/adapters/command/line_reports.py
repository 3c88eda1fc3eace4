"""A command's output lines, one at a time, turned into reports, in a format that reads lines
(:data:`~raytune_hpo.adapters.command.formats.METRIC_FORMATS`, parsed by
:mod:`~raytune_hpo.adapters.command.line_formats`).

Pure and light (no Ray).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from raytune_hpo.adapters.command.formats import LineParser, check_readable, metric_format
from raytune_hpo.adapters.command.report_rules import Misnamed, NamesSeen, StepRule, is_number

if TYPE_CHECKING:
    from raytune_hpo.adapters.command.spec import MetricsFormat


def line_parser(fmt: MetricsFormat) -> LineParser:
    """The parser of ``fmt``'s lines.

    Raises:
        ValueError: ``fmt`` is a format that reads files, not lines.
    """
    parse = metric_format(fmt.format).parse_line
    if parse is None:
        raise ValueError(f"metrics format {fmt.format} reads files, not output lines")
    return parse


def parse_metric_line(line: str, metric: str, fmt: MetricsFormat) -> dict[str, Any] | None:
    """The metrics of one line of output, or None when it does not report ``metric``: the
    values ``fmt``'s parser finds (:mod:`~raytune_hpo.adapters.command.line_formats`), when they
    hold ``metric`` as a number.

    Raises:
        ValueError: The regex has no group named ``metric``, or the format reads files.
    """
    values = line_parser(fmt)(line.rstrip("\r\n"), metric, fmt)
    return values if is_number(values.get(metric)) else None


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
        fmt: How lines are read: a format that reads lines (``key_value``, ``json``,
            ``regex``).

    Raises:
        UnreadableMetric: As :func:`~raytune_hpo.adapters.command.formats.check_readable`.
        ValueError: ``fmt`` reads files, not lines (``tensorboard``).
    """

    def __init__(self, metric: str, fmt: MetricsFormat) -> None:
        self._parse = line_parser(fmt)
        check_readable(metric, fmt)
        self.metric = metric
        self.fmt = fmt
        self._steps = StepRule(fmt.step)
        self._keys = NamesSeen()
        self._misnamed = Misnamed(metric)
        self._close_line: dict[str, Any] | None = None
        self._ended = False

    def feed(self, line: str) -> dict[str, Any] | None:
        """The report ``line`` makes, or None."""
        if self._ended:
            return None
        values = self._parse(line.rstrip("\r\n"), self.metric, self.fmt)
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
        values = self._parse(line.rstrip("\r\n"), self.metric, self.fmt)
        return is_number(values.get(self.metric)) and self._steps.advanced(values, record=False)

    @property
    def keys_seen(self) -> list[str]:
        """The names that held numbers on lines so far, sorted (at most
        :data:`~raytune_hpo.adapters.command.report_rules.KEYS_KEPT`)."""
        return self._keys.sorted()
