"""Serve the dashboard with uvicorn until Ctrl-C, over a local folder or a storage URI."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
from pathlib import Path

import uvicorn

from raytune_hpo import storage
from raytune_hpo.dashboard.app import create_app
from raytune_hpo.errors import UserError


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one).

    Raises:
        UserError: The address is taken or cannot be used.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port}: {err.strerror}; try --port") from None
    sock.listen(128)
    return sock


def serve(root: str | Path, host: str, port: int) -> None:
    """Serve the dashboard over ``root`` (a folder or a URI) on ``host:port``; returns after
    Ctrl-C.

    A host other than loopback serves the network: one warning line says so.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        StorageError: The URI's store does not answer, or its bucket does not exist.
        UserError: The address cannot be used.
    """
    root = storage.as_location(root)
    if isinstance(root, Path) and not root.is_dir():
        raise FileNotFoundError(f"{root}: no such folder")
    storage.check_store(root)
    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    if not is_loopback(host):
        print(
            f"raytune-hpo: warning: listening on {host}: anyone on that network can read "
            "these results",
            file=sys.stderr,
        )
    print(f"raytune-hpo dashboard: http://{shown}:{sock.getsockname()[1]}/ over {root}")
    print("  Ctrl-C stops it", flush=True)
    config = uvicorn.Config(create_app(root), log_level="warning", access_log=False)
    # uvicorn stops on Ctrl-C, then raises it again for the caller: a normal end.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    print("raytune-hpo dashboard: stopped")
