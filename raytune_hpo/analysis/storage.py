"""Where experiment folders live: a local folder, or a URI such as ``s3://bucket/results``.

A local ``storage_path`` is expanded and resolved; a URI is left as it is and handed to Ray Tune,
which writes trial results and checkpoints there through ``pyarrow.fs``. The toolkit's own small
files (the resolved config, ``best.json``) go through the same file systems.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from pyarrow import fs

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

Location = Path | str
"""An experiment folder: a local ``Path`` or a URI string."""


def is_uri(path: str | Path) -> bool:
    """Whether ``path`` names remote or URI storage (``s3://``, ``gs://``, ``file://`` ...)."""
    return isinstance(path, str) and bool(_SCHEME.match(path))


def storage_root(storage_path: str) -> str:
    """The ``RunConfig.storage_path`` of ``storage_path``: a resolved folder, or the URI."""
    if is_uri(storage_path):
        return storage_path.rstrip("/")
    return str(Path(storage_path).expanduser().resolve())


def experiment_location(storage_path: str, name: str) -> Location:
    """The folder of experiment ``name`` under ``storage_path``."""
    root = storage_root(storage_path)
    return f"{root}/{name}" if is_uri(root) else Path(root) / name


def as_location(path: str | Path) -> Location:
    """An experiment folder given on the command line: a URI, or a resolved local folder."""
    return str(path).rstrip("/") if is_uri(path) else Path(path).expanduser().resolve()


def exists(location: Location, filename: str) -> bool:
    """Whether ``location/filename`` exists."""
    if isinstance(location, Path):
        return (location / filename).exists()
    filesystem, path = fs.FileSystem.from_uri(f"{location}/{filename}")
    return filesystem.get_file_info(path).type != fs.FileType.NotFound


def read_text(location: Location, filename: str) -> str:
    """The text of ``location/filename``.

    Raises:
        FileNotFoundError: The file does not exist.
    """
    if isinstance(location, Path):
        return (location / filename).read_text()
    if not exists(location, filename):
        raise FileNotFoundError(f"{location}/{filename}")
    filesystem, path = fs.FileSystem.from_uri(f"{location}/{filename}")
    with filesystem.open_input_stream(path) as stream:
        return stream.read().decode()


def write_text(location: Location, filename: str, text: str) -> None:
    """Write ``text`` to ``location/filename``, creating the folder."""
    if isinstance(location, Path):
        location.mkdir(parents=True, exist_ok=True)
        (location / filename).write_text(text)
        return
    filesystem, path = fs.FileSystem.from_uri(location)
    filesystem.create_dir(path, recursive=True)
    with filesystem.open_output_stream(f"{path}/{filename}") as stream:
        stream.write(text.encode())


def set_aside(location: Location) -> Location | None:
    """Rename an existing experiment folder to ``NAME.replaced-TIMESTAMP`` (nothing is deleted).

    Returns:
        Where the old folder went, or None when there was nothing to move.
    """
    suffix = f".replaced-{time.strftime('%Y%m%d-%H%M%S')}"
    if isinstance(location, Path):
        if not location.exists():
            return None
        target = location.with_name(location.name + suffix)
        location.rename(target)
        return target
    filesystem, path = fs.FileSystem.from_uri(location)
    if filesystem.get_file_info(path).type == fs.FileType.NotFound:
        return None
    filesystem.move(path, path + suffix)
    return location + suffix
