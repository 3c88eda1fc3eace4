"""An S3-compatible server of the test's own: moto's server mode, as a subprocess on one address.

A subprocess, not a thread, because Ray's workers are other processes (on a cluster, other
network namespaces): they reach it through ``AWS_ENDPOINT_URL`` or the URI's query. Moto accepts
any credentials unless started with ``auth=True`` (then it checks them against its own IAM and
refuses requests without them). Started in a network namespace, it serves the nodes that reach
that namespace's address (see ``tests/helpers/netns_cluster.py``). :func:`two_climbs` is the
experiment the storage tests run there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.user_code import USER_MODULE, climb_config

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""Dummy credentials and a region, and no instance-metadata look-up (it waits for a timeout)."""
BUCKET = "hpo-results"
"""The bucket of the ``s3`` fixture's server."""
NETNS_PORT = 9000
"""The port in a network namespace of the test's own, where nothing else listens."""
START_TIMEOUT_S = 30

# Waits until the server answers on argv[1]:argv[2], then creates the buckets argv[3:].
_PREPARE = """
import socket, sys, time
from pyarrow import fs
host, port, buckets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
deadline = time.monotonic() + float(TIMEOUT)
while True:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"moto's server did not answer on {host}:{port}")
        time.sleep(0.1)
store = fs.S3FileSystem(endpoint_override=f"{host}:{port}", scheme="http", access_key="testing",
                        secret_key="testing", region="us-east-1", allow_bucket_creation=True)
for bucket in buckets:
    store.create_dir(bucket)
""".replace("TIMEOUT", str(START_TIMEOUT_S))


@dataclass(frozen=True)
class S3Server:
    """A running server: ``host:port``, reachable over plain HTTP."""

    host: str
    port: int

    @property
    def endpoint(self) -> str:
        """The endpoint URL, as ``AWS_ENDPOINT_URL`` takes it."""
        return f"http://{self.host}:{self.port}"

    def uri(self, path: str, *, query: bool = True) -> str:
        """``s3://PATH``, with the endpoint in the query (pyarrow's form) or without it."""
        params = f"?endpoint_override={self.host}:{self.port}&scheme=http" if query else ""
        return f"s3://{path}{params}"


def free_port(host: str) -> int:
    """A TCP port free on ``host`` (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def s3_server(
    host: str = "127.0.0.1",
    *,
    buckets: tuple[str, ...] = (),
    auth: bool = False,
    netns: str | None = None,
) -> Iterator[S3Server]:
    """Start moto's S3 server on ``host`` with ``buckets``; stop its whole session afterwards.

    Args:
        host: The address it listens on.
        buckets: Buckets to create once it answers.
        auth: Check credentials (moto's IAM); requests without them are refused.
        netns: A network namespace to run it in (``host`` is an address there).
    """
    prefix = ["ip", "netns", "exec", netns] if netns else []
    port = NETNS_PORT if netns else free_port(host)
    env = {**os.environ, **({"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if auth else {})}
    server = subprocess.Popen(
        [*prefix, sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        subprocess.run(
            [*prefix, sys.executable, "-c", _PREPARE, host, str(port), *buckets],
            check=True,
            timeout=START_TIMEOUT_S + 30,
        )
        yield S3Server(host, port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)


def two_climbs(folder: Path, user_code_dir: Path, name: str, steps: int, **changes: Any) -> Path:
    """A config file of two trials of the user's ``climb`` (a checkpoint every step), one CPU
    and 0.4 s a step each, ``steps`` steps; ``changes`` replace or add top-level keys."""
    spec = climb_config(
        folder,
        name,
        f"{user_code_dir / USER_MODULE}.py:climb",
        max_epochs=steps,
        num_samples=2,
        searcher={"name": "random"},
        search_space={"lr": {"uniform": [0.1, 1.0]}, "seconds_per_step": 0.4},
        resources_per_trial={"cpu": 1},
        **changes,
    )
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path
