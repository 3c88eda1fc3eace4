"""``net.connect_error``: one bounded connection attempt to a real local socket."""

from __future__ import annotations

from raytune_hpo.cluster.tcp_probe import connect_error


def test_a_listening_server_answers(listening_port: int) -> None:
    assert connect_error("127.0.0.1", listening_port, timeout_s=2.0) is None


def test_a_closed_port_is_refused(closed_port: int) -> None:
    error = connect_error("127.0.0.1", closed_port, timeout_s=2.0)
    assert isinstance(error, ConnectionRefusedError)


def test_a_name_that_cannot_resolve_is_an_error() -> None:
    error = connect_error("no-such-host.invalid", 443, timeout_s=2.0)
    assert isinstance(error, OSError)
    assert error.strerror
