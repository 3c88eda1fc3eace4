"""Serve the dashboard with uvicorn until Ctrl-C, over a local folder or a storage URI.

Bad input stops it at start with one line: a port outside 0-65535, a host that does not resolve
or is not this machine's, a port in use, a folder that does not exist, a store that does not
answer. It prints the URLs that open it: with ``--host 0.0.0.0`` (or ``::``) this machine's name
and addresses, which others can use; a root that is itself an experiment or a study opens on its
page; a root without any says so.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import sys
from pathlib import Path

import uvicorn

from raytune_hpo import storage
from raytune_hpo.dashboard import folders
from raytune_hpo.dashboard.app import create_app
from raytune_hpo.dashboard.index import URLS
from raytune_hpo.errors import UserError
from raytune_hpo.storage.stamped import Store

PORTS = range(0, 65536)
"""The ports a socket takes (0: any free one)."""
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
"""Hosts that listen on every address of this machine."""
PORT_TAKEN = frozenset({errno.EADDRINUSE, errno.EACCES})
"""Errors of a bind that another port avoids (in use, or below 1024 without the right)."""


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
        UserError: The port is not one, the host does not resolve or is not an address of
            this machine, or the address is taken.
    """
    if port not in PORTS:
        raise UserError(f"--port {port} is not a port: use 1 to 65535 (0: any free one)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno in PORT_TAKEN:
            hint = "try --port"
        else:  # a name that does not resolve, an address of another machine
            hint = "--host takes a name or an address of this machine (127.0.0.1, 0.0.0.0)"
        raise UserError(f"cannot listen on {host}:{port}: {err.strerror}; {hint}") from None
    sock.listen(128)
    return sock


def _own_addresses() -> list[str]:
    """This machine's addresses that others may reach (no loopback), best guess first."""
    found = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found += [str(info[4][0]) for info in infos]
    return [a for a in dict.fromkeys(found) if not ipaddress.ip_address(a).is_loopback]


def urls(host: str, port: int, path: str = "/") -> list[str]:
    """The URLs of ``path`` on ``host:port``; for a host that listens on every address,
    this machine's name and addresses instead (``0.0.0.0`` opens nothing elsewhere)."""
    hosts = [socket.gethostname(), *_own_addresses()] if host in WILDCARDS else [host]
    return [f"http://{f'[{h}]' if ':' in h else h}:{port}{path}" for h in hosts]


def start_path(store: Store) -> tuple[str, str | None]:
    """The page to open first (a root that is one experiment or study: its page), and a line
    for a root without any (None otherwise)."""
    if isinstance(store, folders.OneFolder):
        kind = "study" if folders.is_study(store, store.name) else "experiment"
        return f"/{URLS[kind]}/{store.name}", None
    if not folders.served(store):
        note = "the index lists them as runs write them"
        return "/", f"  no experiments or studies in {store.root} yet; {note}"
    return "/", None


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
    store = folders.open_root(root)
    if not is_loopback(host):
        print(
            f"raytune-hpo: warning: listening on {host}: anyone on that network can read "
            "these results",
            file=sys.stderr,
        )
    path, note = start_path(store)
    first, *others = urls(host, sock.getsockname()[1], path)
    print(f"raytune-hpo dashboard: {first} over {root}")
    for other in others:
        print(f"  also {other}")
    if note is not None:
        print(note)
    print("  Ctrl-C stops it", flush=True)
    config = uvicorn.Config(create_app(store), log_level="warning", access_log=False)
    # uvicorn stops on Ctrl-C, then raises it again for the caller: a normal end.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])
    print("raytune-hpo dashboard: stopped")
