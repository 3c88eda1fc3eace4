"""Where the console's lines go: the terminal or pipe, above the progress bar when there is one."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


class Screen:
    """Writes lines to the console, above the progress bar when there is one.

    Args:
        stream: Where lines and the bar go (``sys.stdout``).
        bar: A tqdm bar drawn on ``stream``, or None.
    """

    def __init__(self, stream: TextIO, bar: tqdm | None = None) -> None:
        self.stream = stream
        self.bar = bar
        self._lock = threading.Lock()

    def line(self, text: str, *, err: bool = False) -> None:
        """Print ``text`` on stdout (``err``: stderr) without breaking the bar."""
        target = sys.stderr if err else self.stream
        with self._lock:
            if self.bar is not None:
                tqdm.write(text, file=target)
            else:
                print(text, file=target, flush=True)

    def foreign(self, write: Callable[[], None]) -> None:
        """Let ``write`` print by itself, with the bar cleared meanwhile."""
        with self._lock:
            if self.bar is None:
                write()
                return
            with tqdm.external_write_mode(file=self.stream):
                write()
