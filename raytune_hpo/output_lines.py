"""What a person reads of a trial's output and errors: meaningful lines, the exception's line.

Pure and light (no Ray): a command trial quotes the end of its command's output with
:func:`meaningful_lines`, and the console reads an error file with :func:`error_headline` and
:func:`error_details`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

_ESCAPE = re.compile(r"\x1b(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
"""Terminal escape sequences: colours, cursor moves, window titles."""
_PROGRESS = re.compile(
    r"(\d+%\|)|(\|\s*\d+/\d+\s*\[)|([█▏▎▍▌▋▊▉━╸╺]{3,})|(\d+(\.\d+)?\s*(it|s)/(s|it)\b)"
)
"""Marks of a progress bar (tqdm, rich): ``42%|``, ``| 3/10 [``, block characters, ``it/s``."""
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w]*\.)*(?P<name>[A-Za-z_]\w*(?:Error|Exception))(?::|$)")
"""The line that names a Python exception: ``ValueError: ...``, ``pkg.mod.CommandError: ...``."""
TRIAL_WARNING_PREFIX = "raytune-hpo: warning: "
"""Starts a line a trial prints for the person running the experiment (:func:`warn_from_trial`):
the console shows it even where it hides the trials' own output."""


def warn_from_trial(message: str) -> None:
    """Print ``message`` from inside a trial as one warning line the console always shows."""
    print(TRIAL_WARNING_PREFIX + " ".join(message.split()), file=sys.stderr, flush=True)


def is_trial_warning(line: str) -> bool:
    """Whether a line of a trial's output is a :func:`warn_from_trial` warning."""
    return clean_line(line).startswith(TRIAL_WARNING_PREFIX)


def clean_line(line: str) -> str:
    """``line`` as a terminal shows it: no escapes, only what follows its last ``\\r``."""
    text = _ESCAPE.sub("", line.rstrip("\r\n"))
    return text.rsplit("\r", 1)[-1].rstrip()


def is_progress_line(line: str) -> bool:
    """Whether ``line`` (cleaned) is a progress bar's drawing rather than a message."""
    return _PROGRESS.search(line) is not None


def meaningful_lines(lines: Iterable[str], count: int) -> list[str]:
    """The last ``count`` lines that say something: no escapes, progress bars or blank lines."""
    kept = [text for text in map(clean_line, lines) if text.strip() and not is_progress_line(text)]
    return kept[-count:] if count > 0 else []


def error_headline(text: str) -> str:
    """The exception of an error file or traceback, as one line without its module path.

    The last line that names an exception (``CommandError: command exited with code 1: ...``),
    or else the last non-empty line: lines quoted after an exception's first line (a
    command's last output) do not hide it.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        match = _EXCEPTION.match(line)
        if match:
            return line[match.start("name") :]
    return lines[-1] if lines else "no error message"


def error_details(text: str, count: int) -> list[str]:
    """Up to ``count`` meaningful lines that follow the exception's first line (see
    :func:`error_headline`): what a command error quotes of the command's output."""
    lines = text.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if _EXCEPTION.match(lines[index].strip()):
            return meaningful_lines(lines[index + 1 :], count)
    return []
