"""``net.connect_error``: one bounded connection attempt to a real local socket."""

from __future__ import annotations

import socket

from raytune_hpo.net import connect_error


def test_a_listening_server_answers() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert connect_error("127.0.0.1", server.getsockname()[1], timeout_s=2.0) is None


def test_a_closed_port_is_refused() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert isinstance(connect_error("127.0.0.1", port, timeout_s=2.0), ConnectionRefusedError)


def test_a_name_that_cannot_resolve_is_an_error() -> None:
    error = connect_error("no-such-host.invalid", 443, timeout_s=2.0)
    assert isinstance(error, OSError)
    assert error.strerror
