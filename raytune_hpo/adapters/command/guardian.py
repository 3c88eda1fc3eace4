"""The guardian of a Ray worker's command trials, run as ``python -I -S guardian.py``.

It forks once (no child of the worker, which Ray may kill with its children), then reads JSON
lines from stdin, the worker's pipe: ``["end", PGID, GRACE_S]``, ``["remove", FOLDER]``,
``["drop", PGID or FOLDER]``. When the pipe closes (the worker is gone, however it ended), it
ends the process groups still listed (SIGTERM and SIGCONT, then SIGKILL after the longest
grace) and removes the folders (a symbolic link: the link). Standard library only.
"""

import json
import os
import shutil
import signal
import sys
import time


def main() -> None:
    if os.fork():
        os._exit(0)
    groups: dict[int, float] = {}
    folders: set[str] = set()
    for line in sys.stdin:
        verb, key, *grace = json.loads(line)
        if verb == "end":
            groups[key] = grace[0]
        elif verb == "remove":
            folders.add(key)
        else:
            groups.pop(key, None)
            folders.discard(key)

    def send(signum: int) -> None:
        for pgid in list(groups):
            try:
                os.killpg(pgid, signum)
            except ProcessLookupError:
                groups.pop(pgid)

    send(signal.SIGTERM)
    send(signal.SIGCONT)
    deadline = time.monotonic() + max(groups.values(), default=0.0)
    while groups and time.monotonic() < deadline:
        time.sleep(0.05)
        send(0)
    send(signal.SIGKILL)
    for folder in folders:
        if os.path.islink(folder):
            try:
                os.unlink(folder)
            except OSError:
                pass
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
