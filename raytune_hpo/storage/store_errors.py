"""The errors of a store behind a URI, each in one line (:class:`StorageError`): a bucket that
does not exist, an endpoint that cannot be reached, a request refused (missing credentials
named)."""

from __future__ import annotations

import os
import re
import socket
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from raytune_hpo.errors import UserError
from raytune_hpo.storage.locations import Uri

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


class StorageError(UserError):
    """The store behind a URI refused or failed a request; ``str()`` is one line."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{uri}: {reason}")
        self.uri = uri
        self.reason = reason


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
