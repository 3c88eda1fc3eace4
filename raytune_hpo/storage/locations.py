"""Where experiment folders live: a local folder, or a URI such as ``s3://bucket/results``.

A local ``storage_path`` is expanded and resolved; a URI (any that ``pyarrow.fs`` opens,
``s3://``, ``gs://``, with or without query parameters such as
``?endpoint_override=HOST:PORT&scheme=http``) is left as it is and handed to Ray Tune. A path
joined to a URI goes before its query (:class:`Uri`), so every folder keeps the query.
"""

from __future__ import annotations

import re
from pathlib import Path

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


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


def is_uri(path: str | Path) -> bool:
    """Whether ``path`` names remote or URI storage (``s3://``, ``gs://``, ``file://`` ...)."""
    return isinstance(path, str) and bool(_SCHEME.match(path))


def as_location(path: str | Path) -> Location:
    """A folder given in a config or on the command line: a URI, or a resolved local folder."""
    return Uri(str(path)) if is_uri(path) else Path(path).expanduser().resolve()


def storage_root(storage_path: str) -> str:
    """The ``RunConfig.storage_path`` of ``storage_path``: a resolved folder, or the URI."""
    return str(as_location(storage_path))


def experiment_location(storage_path: str, name: str) -> Location:
    """The folder of experiment ``name`` under ``storage_path``."""
    return as_location(storage_path) / name
