"""The file-system seam: every read and write of an experiment folder's files, local or behind
a URI, through ``pyarrow.fs`` for a URI and plain file calls for a local folder.

A folder is a :data:`~raytune_hpo.storage.locations.Location`; a file is named by its folder
and its name (or a ``/``-joined path below the folder). Nothing is copied or cached: every call
reads or writes in place. The store's errors become one line
(:class:`~raytune_hpo.storage.store_errors.StorageError`); a missing file raises
``FileNotFoundError`` where a caller asked to read it.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG

from pyarrow import fs

from raytune_hpo.layout import PARTIAL_SUFFIX, REPLACED_SUFFIX
from raytune_hpo.storage.locations import Location, Uri
from raytune_hpo.storage.store_errors import StorageError, no_bucket, probe_endpoint, storage_errors


@dataclass(frozen=True)
class FileStat:
    """A file's modification time in nanoseconds and its size in bytes."""

    mtime_ns: int
    size: int


def filesystem(location: Location) -> tuple[fs.FileSystem, str]:
    """The ``pyarrow`` file system of ``location`` and the folder's path on it.

    Raises:
        StorageError: ``pyarrow`` cannot open the URI or reach its store.
    """
    if isinstance(location, Path):
        return fs.LocalFileSystem(), str(location)
    with storage_errors(location):
        return fs.FileSystem.from_uri(location)


def check_store(location: Location) -> None:
    """Prove that the store of ``location`` answers and, for a bucket, that it exists.

    Raises:
        StorageError: No such bucket, an unreachable endpoint, a refused request.
    """
    if isinstance(location, Path):
        return
    probe_endpoint(location)
    filesystem_, path = filesystem(location)
    bucket = path.split("/", 1)[0]
    if filesystem_.type_name not in ("s3", "gcs") or not bucket:
        return
    with storage_errors(location):
        found = filesystem_.get_file_info(bucket).type != fs.FileType.NotFound
    if not found:
        raise StorageError(location, no_bucket(bucket))


def exists(location: Location, filename: str) -> bool:
    """Whether ``location/filename`` exists."""
    if isinstance(location, Path):
        return (location / filename).exists()
    filesystem_, path = filesystem(location)
    with storage_errors(location):
        return filesystem_.get_file_info(f"{path}/{filename}").type != fs.FileType.NotFound


def stat(location: Location, filename: str) -> FileStat | None:
    """The modification time and size of file ``location/filename``; None when it is missing
    or not a file."""
    if isinstance(location, Path):
        try:
            info = (location / filename).stat()
        except OSError:
            return None
        return FileStat(info.st_mtime_ns, info.st_size) if S_ISREG(info.st_mode) else None
    filesystem_, path = filesystem(location)
    with storage_errors(location):
        info = filesystem_.get_file_info(f"{path}/{filename}")
    if info.type != fs.FileType.File:
        return None
    return FileStat(info.mtime_ns or 0, info.size or 0)


def read_bytes(location: Location, filename: str, start: int = 0) -> bytes:
    """The bytes of ``location/filename`` from byte ``start`` on.

    Raises:
        FileNotFoundError: The file does not exist.
    """
    if isinstance(location, Path):
        with (location / filename).open("rb") as handle:
            handle.seek(start)
            return handle.read()
    filesystem_, path = filesystem(location)
    with storage_errors(location), filesystem_.open_input_file(f"{path}/{filename}") as stream:
        stream.seek(start)
        return bytes(stream.read())


def read_text(location: Location, filename: str, errors: str = "strict") -> str:
    """The text of ``location/filename`` (``errors`` as ``bytes.decode`` takes it).

    Raises:
        FileNotFoundError: The file does not exist.
    """
    if isinstance(location, Path):
        return (location / filename).read_text(errors=errors)
    filesystem_, path = filesystem(location)
    with storage_errors(location), filesystem_.open_input_stream(f"{path}/{filename}") as stream:
        return bytes(stream.read()).decode(errors=errors)


def read_file_text(path: str | Path, errors: str = "replace") -> str | None:
    """The text of the local file at ``path`` (a full path, as Ray names a trial's error
    file); None when it is missing or not a file."""
    try:
        return Path(path).read_text(errors=errors)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def probe_writable(folder: Path) -> None:
    """Create the local ``folder`` if needed and prove that a file can be written in it (a
    real file, written and removed: permission bits say nothing about read-only file systems
    or a process running as root).

    Raises:
        OSError: The folder cannot be created or written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
        pass


def write_text(location: Location, filename: str, text: str) -> None:
    """Write ``text`` to ``location/filename`` whole, creating the folder (:func:`write_bytes`)."""
    write_bytes(location, filename, text.encode())


def write_bytes(location: Location, filename: str, data: bytes) -> None:
    """Write ``data`` to ``location/filename`` whole, creating the folder.

    A local file is written beside and renamed over the old one, so a reader never sees half
    of it (an object store replaces an object whole by itself).
    """
    if isinstance(location, Path):
        location.mkdir(parents=True, exist_ok=True)
        partial = location / f"{filename}{PARTIAL_SUFFIX}"
        partial.write_bytes(data)
        partial.replace(location / filename)
        return
    filesystem_, path = filesystem(location)
    with storage_errors(location):
        filesystem_.create_dir(path, recursive=True)
        with filesystem_.open_output_stream(f"{path}/{filename}") as stream:
            stream.write(data)


def append_text(location: Location, filename: str, text: str) -> None:
    """Add ``text`` at the end of ``location/filename``, creating the file (and folder).

    A local file is appended to in place, so a reader may see the new text in part; an object
    store has no appends, so its object is read and written again whole.
    """
    if isinstance(location, Path):
        location.mkdir(parents=True, exist_ok=True)
        with (location / filename).open("a") as out:
            out.write(text)
        return
    try:
        before = read_bytes(location, filename)
    except FileNotFoundError:
        before = b""
    write_bytes(location, filename, before + text.encode())


def create_empty(location: Location, filename: str) -> None:
    """Create ``location/filename`` as an empty file unless it exists (and the folder)."""
    if exists(location, filename):
        return
    write_bytes(location, filename, b"")


def remove(location: Location, filename: str) -> None:
    """Delete ``location/filename``; a file that is already gone is no error."""
    if isinstance(location, Path):
        (location / filename).unlink(missing_ok=True)
        return
    filesystem_, path = filesystem(location)
    with contextlib.suppress(FileNotFoundError), storage_errors(location):
        filesystem_.delete_file(f"{path}/{filename}")


def upload(folder: Path, location: Location) -> dict[str, Location]:
    """Copy the files of the local ``folder`` (not its subfolders) into ``location``.

    Returns:
        Each file's name and where it went.
    """
    copied: dict[str, Location] = {}
    for file in sorted(p for p in folder.iterdir() if p.is_file()):
        write_bytes(location, file.name, file.read_bytes())
        copied[file.name] = location / file.name
    return copied


def entries(location: Location) -> list[tuple[str, bool]]:
    """The names in folder ``location`` with whether each is a folder; none if it is missing."""
    if isinstance(location, Path):
        if not location.is_dir():
            return []
        return sorted((p.name, p.is_dir()) for p in location.iterdir())
    filesystem_, path = filesystem(location)
    selector = fs.FileSelector(path, allow_not_found=True)
    with storage_errors(location):
        infos = filesystem_.get_file_info(selector)
    return sorted((info.base_name, info.type == fs.FileType.Directory) for info in infos)


def set_aside(location: Location) -> Location | None:
    """Rename an existing experiment folder to ``NAME.replaced-TIMESTAMP`` (nothing is deleted).

    An object store has no folders to rename: each file is copied under the new name, then
    the old ones are removed.

    Returns:
        Where the old folder went, or None when there was nothing to move.
    """
    suffix = f"{REPLACED_SUFFIX}{time.strftime('%Y%m%d-%H%M%S')}"
    if isinstance(location, Path):
        if not location.exists():
            return None
        target = location.with_name(location.name + suffix)
        location.rename(target)
        return target
    filesystem_, path = filesystem(location)
    with storage_errors(location):
        if filesystem_.get_file_info(path).type == fs.FileType.NotFound:
            return None
        if filesystem_.type_name == "local":
            filesystem_.move(path, path + suffix)
        else:
            fs.copy_files(path, path + suffix, filesystem_, filesystem_)
            filesystem_.delete_dir(path)
    return Uri(location).with_name(location.name + suffix)
