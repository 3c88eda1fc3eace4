"""The dashboard as its tests run it: a real ``raytune-hpo dashboard`` subprocess on a free port,
plain HTTP statuses, and the run files they edit."""

from __future__ import annotations

import contextlib
import http.client
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from raytune_hpo.layout import CONFIG_FILE
from tests.helpers.browser import CHROMIUM

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium on PATH (.ci/run installs it)"
)
TRIAL_ID = re.compile(r"^(\w+_\d{5}) ", re.MULTILINE)
"""A trial id at the start of a line of ``summary``'s table, as the console prints it."""


def edit_config(folder: Path, **changes: Any) -> None:
    """Change top-level keys of the experiment config in ``folder``."""
    config = yaml.safe_load((folder / CONFIG_FILE).read_text())
    (folder / CONFIG_FILE).write_text(yaml.safe_dump({**config, **changes}))


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def dashboard(root: str) -> Iterator[str]:
    """``raytune-hpo dashboard ROOT`` on a free port; Ctrl-C at the end must exit cleanly."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "raytune_hpo.cli", "dashboard", root, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(f"raytune-hpo dashboard: http://127.0.0.1:{port}/"), first
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err, err


def status_of(url: str) -> int:
    """The HTTP status of ``url``'s path, sent as written (no client-side normalising)."""
    host, _, path = url.removeprefix("http://").partition("/")
    connection = http.client.HTTPConnection(host, timeout=10)
    connection.putrequest("GET", "/" + path, skip_accept_encoding=True)
    connection.endheaders()
    status = connection.getresponse().status
    connection.close()
    return status
