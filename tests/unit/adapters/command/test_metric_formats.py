"""The contract every metrics format of the registry keeps, run over each entry: it reads its
own sample into the sample's report, reports nothing for output without the metric, accepts
its settings, gives one-line messages, and has its row in the docs' table of formats.

A new format (an entry of ``METRIC_FORMATS``) is tested here without a line of test code; its
own quirks get tests of their own beside it (``test_command_metrics.py``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from raytune_hpo.adapters.command.formats import (
    DEFAULT_FORMAT,
    METRIC_FORMATS,
    MetricFormat,
    check_readable,
    docs_table,
    expected_line,
    metric_format,
    missing_metric_message,
)
from raytune_hpo.adapters.command.line_reports import LineReports
from raytune_hpo.adapters.command.spec import MetricsFormat

REPO = Path(__file__).resolve().parents[4]
FORMATS_PAGE = REPO / "docs" / "pages" / "your-code.md"
ENTRIES = list(METRIC_FORMATS.values())


def entries() -> Any:
    return pytest.mark.parametrize("entry", ENTRIES, ids=list(METRIC_FORMATS))


def settings(entry: MetricFormat) -> MetricsFormat:
    return MetricsFormat(format=entry.name, **entry.sample.settings)


def reports_of(entry: MetricFormat, output: tuple[Any, ...], folder: Path) -> list[dict[str, Any]]:
    """The reports a command that writes ``output`` makes, read as ``entry`` reads."""
    fmt = settings(entry)
    metric = entry.sample.metric
    if entry.read_files is None:
        lines = LineReports(metric, fmt)
        found = [report for line in output if (report := lines.feed(line + "\n")) is not None]
        last = lines.finish()
        return found if last is None else [*found, last]
    files = entry.read_files(folder, metric, fmt.step)
    assert entry.sample.write is not None, f"{entry.name}: a format that reads files writes them"
    entry.sample.write(folder, output)
    return files.poll() + files.poll(final=True)


@entries()
def test_a_format_reads_its_sample_into_its_report(entry: MetricFormat, tmp_path: Path) -> None:
    check_readable(entry.sample.metric, settings(entry))
    assert reports_of(entry, entry.sample.output, tmp_path) == [dict(entry.sample.report)]


@entries()
def test_a_format_reports_nothing_without_the_metric(entry: MetricFormat, tmp_path: Path) -> None:
    assert reports_of(entry, entry.sample.without_metric, tmp_path) == []


@entries()
def test_a_format_reads_lines_or_files_and_its_messages_are_one_line(entry: MetricFormat) -> None:
    assert (entry.parse_line is None) != (entry.read_files is None)
    fmt = settings(entry)
    metric = entry.sample.metric
    assert metric in expected_line(metric, fmt)
    for seen in ([], ["other_key"]):
        message = missing_metric_message(metric, fmt, seen)
        assert "\n" not in message
        assert message.startswith(f"no report of the metric {metric!r} (metrics format")
        assert entry.name in message


@entries()
def test_a_format_has_its_row_in_the_docs_table(entry: MetricFormat) -> None:
    assert "\n" not in entry.docs_row
    assert entry.docs_row.startswith(f"| `{entry.name}`")
    page = FORMATS_PAGE.read_text()
    assert entry.docs_row in page, f"{FORMATS_PAGE.name} lacks the row of {entry.name}"


def test_the_docs_table_of_formats_is_the_registrys() -> None:
    page = FORMATS_PAGE.read_text()
    # Followed by a blank line: no row of a format that is gone below it.
    assert docs_table() + "\n\n" in page, (
        f"{FORMATS_PAGE.name}'s table of metrics formats differs from the registry's; "
        f"write it as:\n{docs_table()}"
    )


def test_the_config_takes_exactly_the_registrys_formats() -> None:
    assert MetricsFormat().format == DEFAULT_FORMAT in METRIC_FORMATS
    for entry in ENTRIES:
        assert settings(entry).format == entry.name
    with pytest.raises(ValidationError) as caught:
        MetricsFormat(format="csv")
    for name in METRIC_FORMATS:
        assert repr(name) in str(caught.value)
    with pytest.raises(ValueError, match="unknown metrics format 'csv'; known: key_value, json"):
        metric_format("csv")


def test_a_pattern_goes_with_the_formats_that_take_one() -> None:
    takers = [entry for entry in ENTRIES if entry.takes_pattern]
    assert takers
    for entry in ENTRIES:
        if entry.takes_pattern:
            continue
        with pytest.raises(ValidationError, match=f"applies to format .* only, not {entry.name}"):
            MetricsFormat(format=entry.name, pattern="(?P<loss>.*)")


FORMAT_TEST = re.compile(r"""\.format\s*(==|!=|\bin\b)\s*[("'\[]""")
"""A test of a ``MetricsFormat``'s name: ``fmt.format == "regex"``, ``spec.metrics.format in``."""


def test_no_module_but_the_registry_tests_a_formats_name() -> None:
    tests = [
        f"{path.relative_to(REPO)}:{number}"
        for path in sorted((REPO / "raytune_hpo").rglob("*.py"))
        if path.name != "formats.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if FORMAT_TEST.search(line)
    ]
    assert not tests, "a format's name is tested outside its registry entry: " + ", ".join(tests)
