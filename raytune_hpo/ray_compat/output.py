"""Private Ray used to read and name the output Ray forwards from workers.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

from typing import Any

UNHANDLED_ERROR_LOGGER = "ray._private.worker"
"""Ray's logger of a task's error that nobody fetched (``Unhandled error ...``)."""


ACTOR_NAME_MARKER = ":actor_name:"
"""Ray's log monitor takes a worker output line ``:actor_name:NAME`` as the name of the lines
after it and does not forward it (``ray._private.ray_constants.LOG_PREFIX_ACTOR_NAME``)."""


def worker_output_dispatcher() -> Any:
    """Where Ray's driver sends the lines its workers print.

    Relies on ``ray._private.worker.global_worker_stdstream_dispatcher``: ``handlers`` (name ->
    printer), ``add_handler(name, printer)``, ``remove_handler(name)``; Ray's own printer is the
    handler ``ray_print_logs``.
    """
    from ray._private.worker import global_worker_stdstream_dispatcher

    return global_worker_stdstream_dispatcher


def output_name_line(name: str) -> bytes:
    """The line that has Ray's log monitor name the worker output after it ``name``."""
    return f"{ACTOR_NAME_MARKER}{name}\n".encode()
