"""Where experiment folders live: a local folder, or a URI such as ``s3://bucket/results``.

A local ``storage_path`` is expanded and resolved; a URI (any that ``pyarrow.fs`` opens,
``s3://``, ``gs://``, with or without query parameters such as
``?endpoint_override=HOST:PORT&scheme=http``) is left as it is and handed to Ray Tune, which
writes trial results and checkpoints there through ``pyarrow.fs``. Every command reads and writes
the toolkit's files through the same file systems, in place: nothing is copied or cached. A path
joined to a URI goes before its query (:class:`Uri`), so every folder keeps the query.

Errors of the store become one line (:class:`StorageError`): a bucket that does not exist, an
endpoint that cannot be reached, a request refused (missing credentials named).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyarrow import fs

from raytune_hpo.errors import UserError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NO_BUCKET = re.compile(r"Bucket '([^']+)' not found|NoSuchBucket|NO_SUCH_BUCKET")
_UNREACHABLE = re.compile(r"NETWORK_CONNECTION|curlCode|Could not connect|Could not resolve")
_DENIED = re.compile(r"ACCESS_DENIED|HTTP status 403|InvalidAccessKeyId|SignatureDoesNotMatch")
PROBE_TIMEOUT_S = 5.0
"""How long a store's endpoint may take to accept a connection."""
_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


class Uri(str):
    """A storage URI whose ``/`` joins a path before the query, which the result keeps.

    ``Uri("s3://b/hpo?scheme=http") / "exp"`` is ``s3://b/hpo/exp?scheme=http``; a trailing
    ``/`` of the path is dropped.
    """

    def __new__(cls, text: str) -> Uri:
        base, mark, query = text.partition("?")
        return super().__new__(cls, base.rstrip("/") + mark + query)

    @property
    def base(self) -> str:
        """The URI without its query."""
        return self.partition("?")[0]

    @property
    def query(self) -> str:
        """The query with its ``?``, or an empty string."""
        base, mark, query = self.partition("?")
        return mark + query

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self.base.rsplit("/", 1)[-1]

    def __truediv__(self, name: str) -> Uri:
        return Uri(f"{self.base}/{name}{self.query}")

    def with_name(self, name: str) -> Uri:
        """The sibling folder ``name``."""
        return Uri(f"{self.base.rsplit('/', 1)[0]}/{name}{self.query}")


Location = Path | Uri
"""An experiment folder: a local ``Path`` or a :class:`Uri`."""


class StorageError(UserError):
    """The store behind a URI refused or failed a request; ``str()`` is one line."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{uri}: {reason}")
        self.uri = uri
        self.reason = reason


def is_uri(path: str | Path) -> bool:
    """Whether ``path`` names remote or URI storage (``s3://``, ``gs://``, ``file://`` ...)."""
    return isinstance(path, str) and bool(_SCHEME.match(path))


def storage_root(storage_path: str) -> str:
    """The ``RunConfig.storage_path`` of ``storage_path``: a resolved folder, or the URI."""
    return str(as_location(storage_path))


def experiment_location(storage_path: str, name: str) -> Location:
    """The folder of experiment ``name`` under ``storage_path``."""
    return as_location(storage_path) / name


def as_location(path: str | Path) -> Location:
    """A folder given in a config or on the command line: a URI, or a resolved local folder."""
    return Uri(str(path)) if is_uri(path) else Path(path).expanduser().resolve()


def filesystem(location: Location) -> tuple[fs.FileSystem, str]:
    """The ``pyarrow`` file system of ``location`` and the folder's path on it.

    Raises:
        StorageError: ``pyarrow`` cannot open the URI or reach its store.
    """
    if isinstance(location, Path):
        return fs.LocalFileSystem(), str(location)
    with storage_errors(location):
        return fs.FileSystem.from_uri(location)


@contextmanager
def storage_errors(uri: str) -> Iterator[None]:
    """Turn the store's errors inside the block into one-line :class:`StorageError`.

    A missing file (``FileNotFoundError``) passes through unchanged.
    """
    try:
        yield
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as err:
        raise StorageError(uri, describe(uri, str(err))) from None


def describe(uri: str, message: str) -> str:
    """What a ``pyarrow`` error about ``uri`` means, in one line."""
    detail = message.splitlines()[0] if message else "unknown error"
    if bucket := _NO_BUCKET.search(message):
        return no_bucket(bucket.group(1) or Uri(uri).base.split("://", 1)[-1].split("/", 1)[0])
    if _UNREACHABLE.search(message):
        curl = re.search(r"curlCode: \d+, ([^;]+)", message)
        reason = curl.group(1) if curl else detail.rsplit(": ", 1)[-1]
        where = endpoint(uri) or "(the default endpoint)"
        return f"cannot reach the storage endpoint {where} ({reason})"
    scheme = uri.split("://", 1)[0].lower()
    if scheme == "s3" and not credentials_found():
        status = re.search(r"HTTP status (\d+)", message)
        return (
            "no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
            "AWS_PROFILE); the store refused the request"
            + (f" (HTTP {status.group(1)})" if status else f": {detail}")
        )
    if _DENIED.search(message):
        return f"access denied: the credentials in use may not read or write there ({detail})"
    if "filesystem type" in message:
        return f"not a storage URI that pyarrow opens ({detail})"
    return detail


def no_bucket(name: str) -> str:
    """The reason for a bucket that does not exist."""
    return f"bucket {name!r} does not exist; create it, or correct the URI"


def endpoint(uri: str) -> str | None:
    """The endpoint a URI's requests go to: its ``endpoint_override``, else
    ``AWS_ENDPOINT_URL``; None for the store's default."""
    found = re.search(r"[?&]endpoint_override=([^&]+)", uri)
    return found.group(1) if found else os.environ.get("AWS_ENDPOINT_URL") or None


def probe_endpoint(uri: str) -> None:
    """Fail at once when the endpoint named for an ``s3://`` URI takes no connections (the
    client would retry for seconds first).

    Raises:
        StorageError: Nothing answers at the endpoint.
    """
    address = endpoint(uri)
    if not uri.lower().startswith("s3://") or address is None:
        return
    parts = urllib.parse.urlsplit(address if "://" in address else f"//{address}")
    plain = address.startswith("http://") or re.search(r"[?&]scheme=http(&|$)", uri)
    try:
        port = parts.port or (80 if plain else 443)
        socket.create_connection((parts.hostname, port), timeout=PROBE_TIMEOUT_S).close()
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise StorageError(uri, f"cannot reach the storage endpoint {address} ({reason})") from None


def credentials_found() -> bool:
    """Whether the environment or the AWS files name credentials (an instance role is not
    seen here, so this only adds a hint to an error that already happened)."""
    if any(os.environ.get(name) for name in _CREDENTIAL_VARIABLES):
        return True
    home = Path.home() / ".aws"
    files = (
        os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / "credentials",
        os.environ.get("AWS_CONFIG_FILE") or home / "config",
    )
    return any(Path(file).is_file() for file in files)


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


def read_text(location: Location, filename: str) -> str:
    """The text of ``location/filename``.

    Raises:
        FileNotFoundError: The file does not exist.
    """
    if isinstance(location, Path):
        return (location / filename).read_text()
    filesystem_, path = filesystem(location)
    with storage_errors(location), filesystem_.open_input_stream(f"{path}/{filename}") as stream:
        return bytes(stream.read()).decode()


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
        partial = location / f"{filename}.partial"
        partial.write_bytes(data)
        partial.replace(location / filename)
        return
    filesystem_, path = filesystem(location)
    with storage_errors(location):
        filesystem_.create_dir(path, recursive=True)
        with filesystem_.open_output_stream(f"{path}/{filename}") as stream:
            stream.write(data)


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
    suffix = f".replaced-{time.strftime('%Y%m%d-%H%M%S')}"
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
    return location.with_name(location.name + suffix)
