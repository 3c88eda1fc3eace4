"""Private Ray used to read and name the output Ray forwards from workers.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

from collections.abc import Callable
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


def worker_log_file(pid: int) -> str | None:
    """The error log of the worker process ``pid`` of the Ray instance this driver joined, if
    that worker ran on this machine (a worker elsewhere keeps its logs on its own node).

    Relies on ``ray._private.worker._global_node.get_session_dir_path()`` and Ray's log file
    names ``logs/worker-<worker id>-<job id>-<pid>.err``.
    """
    import glob
    import os

    try:
        from ray._private.worker import _global_node

        session = _global_node.get_session_dir_path() if _global_node is not None else None
    except Exception:  # Ray Client, or a Ray without the call
        return None
    if not session:
        return None
    found = sorted(glob.glob(os.path.join(session, "logs", f"worker-*-{pid}.err")))
    return found[-1] if found else None


_print_to_stdstream: Any = None
"""Ray's own ``print_to_stdstream``, while :func:`drop_error_messages` stands in for it."""


def drop_error_messages(drop: Callable[[str], bool] | None) -> None:
    """Have this driver leave out the error messages Ray's raylet publishes to it (printed as
    ``(raylet) ...``) that ``drop`` matches; None: print them all again.

    Relies on ``ray._private.worker.print_to_stdstream(data, ignore_prefix)``, which the
    driver's ``listen_error_messages`` thread calls by its module-level name with
    ``data["pid"] == "raylet"``.
    """
    global _print_to_stdstream
    from ray._private import worker

    if _print_to_stdstream is None:
        _print_to_stdstream = worker.print_to_stdstream
    if drop is None:
        worker.print_to_stdstream = _print_to_stdstream
        return
    original = _print_to_stdstream

    def printing(data: dict[str, Any], ignore_prefix: bool) -> None:
        if data.get("pid") == "raylet":
            lines = [line for line in data.get("lines", []) if not drop(str(line))]
            if not lines:
                return
            data = {**data, "lines": lines}
        original(data, ignore_prefix)

    worker.print_to_stdstream = printing
