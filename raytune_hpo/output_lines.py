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


_WORKER_DIED = re.compile(r"The actor died unexpectedly|its worker process has died")
"""Ray's text for a trial whose worker process died (a segfault, an abort, a kill)."""
_ACTOR_FIELD = re.compile(r"^\s*(pid|ip):\s*(\S+)\s*$", re.M)
_EXIT_DETAIL = re.compile(r"Worker exit detail: (.+?\.)(?:\s|$)")
_CRASHES = (
    (re.compile(r"\bSIGSEGV\b|Fatal Python error: Segmentation fault"), "SIGSEGV, a segfault"),
    (re.compile(r"\bSIGABRT\b|Fatal Python error: Aborted"), "SIGABRT, an abort"),
    (re.compile(r"\bSIGBUS\b|Fatal Python error: Bus error"), "SIGBUS"),
    (re.compile(r"\bSIGILL\b|Fatal Python error: Illegal instruction"), "SIGILL"),
    (re.compile(r"\bSIGFPE\b|Fatal Python error: Floating-point exception"), "SIGFPE"),
)
"""Signals a worker's log names as it dies, and how a line names them."""


def worker_death(text: str) -> tuple[str | None, str | None, str | None] | None:
    """``(pid, ip, Ray's exit detail)`` of an error text that says the trial's worker process
    died (Ray's multi-line "The actor died unexpectedly ..."); None for any other error."""
    if not _WORKER_DIED.search(text):
        return None
    fields = dict(_ACTOR_FIELD.findall(text))
    detail = _EXIT_DETAIL.search(text)
    return fields.get("pid"), fields.get("ip"), detail.group(1) if detail else None


def crash_cause(log: str) -> str | None:
    """The signal a dying worker's log names (``SIGSEGV, a segfault``); None if none."""
    for pattern, cause in _CRASHES:
        if pattern.search(log):
            return cause
    return None


def worker_death_line(
    pid: str | None, cause: str | None, log: str | None = None, ip: str | None = None
) -> str:
    """One line for a trial whose worker process died: the process, the cause, its log."""
    process = f"pid {pid}" + (f" on {ip}" if ip else "") if pid else None
    line = "the trial's worker process" + (f" ({process})" if process else "")
    line += f" died: {cause}" if cause else " died"
    return line + (f"; worker log: {log}" if log else "")


def error_headline(text: str) -> str:
    """The exception of an error file or traceback, as one line without its module path.

    The last line that names an exception (``CommandError: command exited with code 1: ...``),
    or else the last non-empty line: lines quoted after an exception's first line (a
    command's last output) do not hide it. Ray's text for a worker process that died becomes
    one line with the process and Ray's exit detail (:func:`worker_death_line`).
    """
    if (death := worker_death(text)) is not None:
        pid, ip, detail = death
        return worker_death_line(pid, detail, ip=ip)
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
