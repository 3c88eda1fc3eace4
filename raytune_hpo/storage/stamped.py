"""Change-stamped, read-only access to the files below one root: a local folder or a URI.

The dashboard reads through it, polling files that a running experiment writes.

Every path is relative to the root, its parts joined with ``/`` (``""`` is the root). A file's
stamp (modification time in ns, size) tells a reader whether it changed since it was read.
:class:`LocalStore` reads a folder and never leaves it: a path whose links resolve outside the
root finds nothing. :class:`ArrowStore` reads a URI through ``pyarrow.fs`` (an object store has no
links): a path with ``..``, ``.`` or empty parts finds nothing. A name from a URL
(:meth:`Store.find`) is also held to :func:`plain_name`.
"""

from __future__ import annotations

import os
import stat
from abc import ABC, abstractmethod
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path

from pyarrow import fs

from raytune_hpo.storage.access import filesystem
from raytune_hpo.storage.locations import Location, Uri, as_location
from raytune_hpo.storage.store_errors import storage_errors

Stamp = tuple[int, int]
"""A file's modification time in nanoseconds and its size in bytes."""
MAX_DEPTH = 2
"""Parts of a name: an experiment (``exp``) or a run of a study (``study/run``)."""


def plain_parts(path: str) -> bool:
    """Whether every ``/``-part of ``path`` is a plain name (no ``..``, ``.``, ``\\``, NUL)."""
    return all(
        part not in {"", ".", ".."} and "\\" not in part and "\0" not in part
        for part in path.split("/")
    )


def plain_name(name: str) -> bool:
    """Whether ``name`` from a URL may name a folder: plain parts, at most :data:`MAX_DEPTH`."""
    return 0 < len(name.split("/")) <= MAX_DEPTH and plain_parts(name)


def join(*paths: str) -> str:
    """``paths`` joined with ``/``, the root's ``""`` left out."""
    return "/".join(path for path in paths if path)


def matches(relative: str, pattern: str) -> bool:
    """Whether ``relative`` matches ``pattern`` part by part (``*`` never spans a ``/``)."""
    parts, wanted = relative.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(map(fnmatchcase, parts, wanted))


class Store(ABC):
    """Read-only access to the files below one root."""

    def __init__(self, root: Location) -> None:
        self.root = root

    def find(self, name: str) -> str | None:
        """``name`` when it is a plain name of a folder below the root, else None."""
        return name if plain_name(name) and self.is_folder(name) else None

    @abstractmethod
    def location(self, path: str) -> Location | None:
        """Where ``path`` is, for readers outside the dashboard; None if it leaves the root."""

    @abstractmethod
    def is_folder(self, path: str) -> bool:
        """Whether ``path`` is a folder below the root."""

    @abstractmethod
    def stamp(self, path: str) -> Stamp | None:
        """The stamp of file ``path``; None when it is missing, not a file or outside."""

    @abstractmethod
    def read(self, path: str) -> bytes:
        """The bytes of file ``path``.

        Raises:
            OSError: It is missing, outside the root or cannot be read.
        """

    @abstractmethod
    def folders(self, path: str) -> list[str]:
        """The names of the folders directly in ``path``, sorted, hidden ones left out."""

    @abstractmethod
    def glob(self, path: str, pattern: str) -> dict[str, Stamp]:
        """The files below ``path`` that match ``pattern`` (such as ``*/result.json``), by
        their path relative to ``path``, with their stamps."""


def inside(root: Path, path: Path) -> Path | None:
    """``path`` with its links resolved when it exists inside ``root`` (resolved), else None."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return real if real == root or real.is_relative_to(root) else None


def _file_stamp(path: Path | str | os.DirEntry[str]) -> Stamp | None:
    """The stamp of a regular file (a directory entry's stat is the one ``scandir`` read)."""
    try:
        info = path.stat() if isinstance(path, Path | os.DirEntry) else os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size) if stat.S_ISREG(info.st_mode) else None


class LocalStore(Store):
    """A local folder; links are followed only while they stay inside it."""

    root: Path

    def __init__(self, root: Path) -> None:
        super().__init__(root.expanduser().resolve())

    def location(self, path: str) -> Path | None:
        return inside(self.root, self.root.joinpath(*path.split("/")))

    def is_folder(self, path: str) -> bool:
        real = self.location(path)
        return real is not None and real.is_dir()

    def stamp(self, path: str) -> Stamp | None:
        real = self.location(path)
        return _file_stamp(real) if real is not None else None

    def read(self, path: str) -> bytes:
        real = self.location(path)
        if real is None:
            raise FileNotFoundError(path)
        return real.read_bytes()

    def folders(self, path: str) -> list[str]:
        real = self.location(path)
        try:
            entries = sorted(real.iterdir()) if real is not None else []
        except OSError:
            return []
        return [
            entry.name
            for entry in entries
            if not entry.name.startswith(".") and entry.is_dir() and inside(self.root, entry)
        ]

    def glob(self, path: str, pattern: str) -> dict[str, Stamp]:
        real = self.location(path)
        if real is None:
            return {}
        found = {}
        matches = _local_matches(str(real), pattern.split("/"), "", linked=False)
        for relative, entry, linked in sorted(matches, key=lambda m: m[0].split("/")):
            if linked and inside(self.root, real / relative) is None:
                continue
            if (stamp := _file_stamp(entry)) is not None:
                found[relative] = stamp
        return found


def _local_matches(
    base: str, parts: list[str], prefix: str, linked: bool
) -> Iterator[tuple[str, os.DirEntry[str] | str, bool]]:
    """The paths below ``base``/``prefix`` that match ``parts`` (one ``fnmatch`` pattern per
    level): each path relative to ``base``, its directory entry (its full path, for a part
    without wildcards) and whether a link lies on the way. ``os.scandir``: no stat per entry."""
    folder = os.path.join(base, prefix) if prefix else base
    here, rest = parts[0], parts[1:]
    if not any(c in here for c in "*?["):  # a plain name: no listing of the folder
        full = os.path.join(folder, here)
        relative = f"{prefix}/{here}" if prefix else here
        link = linked or os.path.islink(full)
        if not rest:
            yield relative, full, link
        elif os.path.isdir(full):
            yield from _local_matches(base, rest, relative, link)
        return
    try:
        with os.scandir(folder) as entries:
            listing = [entry for entry in entries if fnmatchcase(entry.name, here)]
    except OSError:
        return
    for entry in listing:
        relative = f"{prefix}/{entry.name}" if prefix else entry.name
        link = linked or entry.is_symlink()
        if not rest:
            yield relative, entry, link
        elif entry.is_dir():
            yield from _local_matches(base, rest, relative, link)


class ArrowStore(Store):
    """A storage URI, read through ``pyarrow.fs``; a failing store raises
    :class:`~raytune_hpo.storage.store_errors.StorageError`."""

    root: Uri

    def __init__(self, root: Uri) -> None:
        super().__init__(root)
        self.filesystem, self.base = filesystem(root)

    def _key(self, path: str) -> str | None:
        """The path on the file system, None unless ``path`` has plain parts only."""
        if not path:
            return self.base
        return f"{self.base}/{path}" if plain_parts(path) else None

    def _info(self, path: str) -> fs.FileInfo | None:
        key = self._key(path)
        if key is None:
            return None
        with storage_errors(self.root):
            return self.filesystem.get_file_info(key)

    def _listing(self, key: str, recursive: bool) -> list[fs.FileInfo]:
        selector = fs.FileSelector(key, allow_not_found=True, recursive=recursive)
        with storage_errors(self.root):
            return list(self.filesystem.get_file_info(selector))

    def location(self, path: str) -> Uri | None:
        return self.root / path if self._key(path) is not None else None

    def is_folder(self, path: str) -> bool:
        info = self._info(path)
        return info is not None and info.type == fs.FileType.Directory

    def stamp(self, path: str) -> Stamp | None:
        info = self._info(path)
        return _arrow_stamp(info) if info is not None else None

    def read(self, path: str) -> bytes:
        key = self._key(path)
        if key is None:
            raise FileNotFoundError(path)
        with storage_errors(self.root), self.filesystem.open_input_stream(key) as stream:
            return bytes(stream.read())

    def folders(self, path: str) -> list[str]:
        key = self._key(path)
        infos = self._listing(key, recursive=False) if key is not None else []
        return sorted(
            info.base_name
            for info in infos
            if info.type == fs.FileType.Directory and not info.base_name.startswith(".")
        )

    def glob(self, path: str, pattern: str) -> dict[str, Stamp]:
        key = self._key(path)
        if key is None:
            return {}
        found = {}
        for info in self._listing(key, recursive="/" in pattern):
            relative = info.path[len(key) + 1 :]
            stamp = _arrow_stamp(info)
            if stamp is not None and matches(relative, pattern):
                found[relative] = stamp
        return dict(sorted(found.items()))


def _arrow_stamp(info: fs.FileInfo) -> Stamp | None:
    if info.type != fs.FileType.File:
        return None
    return info.mtime_ns or 0, info.size or 0


def open_store(root: str | Path) -> Store:
    """The store of a folder or URI given on the command line."""
    location = as_location(root)
    return LocalStore(location) if isinstance(location, Path) else ArrowStore(location)
