"""Whether a TCP server answers: one connection attempt, bounded in time, name lookup included."""

from __future__ import annotations

import errno
import socket
import threading


def connect_error(host: str, port: int, timeout_s: float) -> OSError | None:
    """None when a TCP connection to ``host:port`` opens within ``timeout_s``, else why not.

    The attempt runs in a daemon thread: ``socket.create_connection`` bounds the connection but
    not the name lookup, which can hang on a machine without DNS.
    """
    outcome: list[OSError | None] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                outcome.append(None)
        except OSError as err:
            outcome.append(err)

    thread = threading.Thread(target=attempt, name=f"connect {host}:{port}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if not outcome:
        return TimeoutError(errno.ETIMEDOUT, f"no answer within {timeout_s:g} s")
    return outcome[0]
