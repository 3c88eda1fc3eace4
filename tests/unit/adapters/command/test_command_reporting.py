"""How a command's output is read: lines as a text stream ends them, and the lines ahead."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from raytune_hpo.adapters.command.line_reports import LineReports
from raytune_hpo.adapters.command.reporting import Drain, LinesAhead
from raytune_hpo.adapters.command.spec import MetricsFormat


def drained(tmp_path: Path, chunks: list[bytes]) -> list[tuple[str, list[str]]]:
    """Each line a :class:`Drain` hands on, with the lines it saw ahead, for ``chunks`` written
    into a real pipe before it reads (so that they wait in the pipe together)."""
    read_end, write_end = os.pipe()
    for chunk in chunks:
        os.write(write_end, chunk)
    os.close(write_end)
    seen: list[tuple[str, list[str]]] = []

    def on_line(line: str, lines_ahead: LinesAhead) -> None:
        seen.append((line, lines_ahead()))

    with os.fdopen(read_end, encoding="utf-8") as pipe:
        drain = Drain(pipe, tmp_path / "stdout.log", sys.stdout, on_line=on_line)
        drain.join()
    return seen


def test_lines_end_at_newlines_and_carriage_returns_as_in_a_text_stream(tmp_path: Path) -> None:
    seen = drained(tmp_path, [b"a\r\nb\rc\n 50%|##\r", b"\nlast"])
    assert [line for line, _ in seen] == ["a\n", "b\n", "c\n", " 50%|##\n", "last"]
    assert (tmp_path / "stdout.log").read_text() == "a\nb\nc\n 50%|##\nlast\n"


def test_a_start_killed_mid_line_leaves_the_next_start_a_line_of_its_own(tmp_path: Path) -> None:
    drained(tmp_path, [b"round=7 eta=0.3\n[6]\tval-logloss:0.12"])  # killed before its newline
    drained(tmp_path, [b"continuing booster.json after round 6\n"])  # the restart, same log
    assert (tmp_path / "stdout.log").read_text().splitlines() == [
        "round=7 eta=0.3",
        "[6]\tval-logloss:0.12",
        "continuing booster.json after round 6",
    ]


def test_a_line_still_being_printed_counts_as_ahead(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"round=1 loss=0.5\nround=2 lo")  # the next report half printed
    seen: list[list[str]] = []

    def on_line(line: str, lines_ahead: LinesAhead) -> None:
        seen.append(lines_ahead())
        if len(seen) == 1:
            os.write(write_end, b"ss=0.4\n")
            os.close(write_end)

    with os.fdopen(read_end, encoding="utf-8") as pipe:
        Drain(pipe, tmp_path / "stdout.log", sys.stdout, on_line=on_line).join()
    assert seen[0] == ["round=2 lo"]


def test_a_line_sees_what_the_command_printed_after_it(tmp_path: Path) -> None:
    seen = drained(tmp_path, [b"round=1 loss=0.5\n", b"round=2 loss=0.4\nsaving\n"])
    assert seen[0] == ("round=1 loss=0.5\n", ["round=2 loss=0.4\n", "saving\n"])
    assert seen[-1] == ("saving\n", [])


def test_a_report_ahead_is_told_apart_from_other_output_without_counting_it(
    tmp_path: Path,
) -> None:
    reader = LineReports("loss", MetricsFormat(step="round"))
    assert reader.feed("round=1 loss=0.5") is not None
    assert reader.reports("round=2 loss=0.4") and not reader.reports("saving model")
    assert reader.feed("round=2 loss=0.4") is not None  # the look ahead recorded nothing
    assert not reader.reports("round=2 loss=0.3")  # no step past the last report's
