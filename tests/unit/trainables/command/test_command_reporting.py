"""How a command's output is read: lines as a text stream ends them, and the lines ahead."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from raytune_hpo.trainables.command.metrics import LineReports
from raytune_hpo.trainables.command.reporting import Drain, LinesAhead
from raytune_hpo.trainables.command.spec import MetricsFormat


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
    assert (tmp_path / "stdout.log").read_text() == "a\nb\nc\n 50%|##\nlast"


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
