"""What a person reads of a trial's output and errors (:mod:`raytune_hpo.output_lines`)."""

from __future__ import annotations

import pytest

from raytune_hpo.output_lines import (
    clean_line,
    error_details,
    error_headline,
    is_progress_line,
    meaningful_lines,
)

TRACEBACK = "Failure # 1 (occurred at 2026-11-30)\nTraceback (most recent call last):\n  ...\n"
COMMAND_ERROR = (
    TRACEBACK
    + "ray::ImplicitFunc.train() (pid=1, ip=10.0.0.1)\n"
    + "raytune_hpo.adapters.command.process_group.CommandError: command exited with code 1: "
    "python train.py\n"
    + "last lines of stderr (/r/t/stderr.log):\n"
    + "Epoch 0:  40%|████      | 4/10 [00:01<00:02,  3.1it/s]\r"
    + "Epoch 0: 100%|██████████| 10/10 [00:02<00:00,  4.2it/s]\n"
    + "\x1b[31mValueError: lr must be positive\x1b[0m\n"
)


def test_the_error_is_the_exception_line_even_when_output_follows_it() -> None:
    assert error_headline(TRACEBACK + "RuntimeError: boom\n\n") == "RuntimeError: boom"
    assert error_headline(COMMAND_ERROR) == (
        "CommandError: command exited with code 1: python train.py"
    )
    assert error_headline("") == "no error message"
    assert error_headline("something odd\n") == "something odd"


def test_the_details_are_the_meaningful_lines_after_the_exception() -> None:
    assert error_details(COMMAND_ERROR, 5) == [
        "last lines of stderr (/r/t/stderr.log):",
        "ValueError: lr must be positive",
    ]
    assert error_details(TRACEBACK + "RuntimeError: boom\n", 5) == []
    assert error_details(COMMAND_ERROR, 0) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\x1b[1;32mloss=0.3\x1b[0m\n", "loss=0.3"),
        ("10%|#  | 1/10\rdone  \r\n", "done"),
        ("\x1b]0;title\x07text", "text"),
        ("plain", "plain"),
    ],
)
def test_a_line_as_a_terminal_leaves_it(raw: str, clean: str) -> None:
    assert clean_line(raw) == clean


@pytest.mark.parametrize(
    ("line", "progress"),
    [
        ("Epoch 3:  42%|████▏     | 5/12 [00:01<00:02,  3.50it/s, v_num=0]", True),
        ("Epoch 7/7 ━━━━━━━━━━━━━━━━ 10/10 0:00:01 • 0:00:00 12.50it/s v_num: 1.000", True),
        (" 33%|███▎      | 2/6 [00:00<00:01,  3.02s/it]", True),
        ("{'eval_loss': '0.6935', 'epoch': '1'}", False),
        ("[3]\tval-logloss:0.21618\tval-error:0.02797", False),
        ("Test set: Average loss: 0.0479, Accuracy: 9846/10000 (98%)", False),
    ],
)
def test_progress_bars_are_told_from_messages(line: str, progress: bool) -> None:
    assert is_progress_line(line) is progress


def test_meaningful_lines_keep_the_last_messages_only() -> None:
    lines = ["start", "", " 50%|█████     | 1/2 [00:00<00:00]", "\x1b[2Kloss=1", "end"]
    assert meaningful_lines(lines, 2) == ["loss=1", "end"]
    assert meaningful_lines(lines, 10) == ["start", "loss=1", "end"]
