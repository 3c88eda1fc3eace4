"""Storage: the one way to experiment files, in a local folder or behind a URI (``pyarrow.fs``).

Every read and write of an experiment's or a study's files goes through this package; no module
outside it (but :mod:`raytune_hpo.ray_compat`, for Ray's own checkpoint calls) imports
``pyarrow``. The names of those files live in :mod:`raytune_hpo.layout`.

- :mod:`~raytune_hpo.storage.locations`: a folder or a URI (:class:`Uri` keeps its query);
- :mod:`~raytune_hpo.storage.store_errors`: a store's errors in one line (:class:`StorageError`);
- :mod:`~raytune_hpo.storage.access`: the file-system seam: read, write, append, list, stat;
- :mod:`~raytune_hpo.storage.stamped`: change-stamped, read-only readers of a root (the
  dashboard's), which never leave it;
- :mod:`~raytune_hpo.storage.json_text`: JSON text parsed fast (``orjson``), ``NaN`` included;
- :mod:`~raytune_hpo.storage.ray_state`: the one parser of Ray Tune's ``experiment_state*.json``;
- :mod:`~raytune_hpo.storage.ray_storage`: the folders Ray Tune hands to its callbacks and
  schedulers (a ``pyarrow`` file system and a path).

The names below are the ones most callers need: ``from raytune_hpo import storage`` then
``storage.read_text(location, name)``.

May import: the shared top-level modules (``layout``, ``errors``, ...) and third-party
libraries. It never imports ``analysis``, ``dashboard``, ``experiment``, ``console``, ``search``,
``tracking``, ``cli`` or any other subpackage.
"""

from __future__ import annotations

from raytune_hpo.storage.access import (
    FileStat,
    append_text,
    check_store,
    create_empty,
    entries,
    exists,
    filesystem,
    probe_writable,
    read_bytes,
    read_file_text,
    read_text,
    remove,
    set_aside,
    stat,
    upload,
    write_bytes,
    write_text,
)
from raytune_hpo.storage.locations import (
    Location,
    Uri,
    as_location,
    experiment_location,
    is_uri,
    storage_root,
)
from raytune_hpo.storage.store_errors import (
    PROBE_TIMEOUT_S,
    StorageError,
    credentials_found,
    describe,
    endpoint,
    no_bucket,
    probe_endpoint,
    storage_errors,
)

__all__ = [
    "PROBE_TIMEOUT_S",
    "FileStat",
    "Location",
    "StorageError",
    "Uri",
    "append_text",
    "as_location",
    "check_store",
    "create_empty",
    "credentials_found",
    "describe",
    "endpoint",
    "entries",
    "exists",
    "experiment_location",
    "filesystem",
    "is_uri",
    "no_bucket",
    "probe_endpoint",
    "probe_writable",
    "read_bytes",
    "read_file_text",
    "read_text",
    "remove",
    "set_aside",
    "stat",
    "storage_errors",
    "storage_root",
    "upload",
    "write_bytes",
    "write_text",
]
