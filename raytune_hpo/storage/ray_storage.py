"""The experiment folder as Ray Tune names it to code that runs inside Ray Tune (callbacks,
schedulers): a ``pyarrow`` file system and a path on it, from a trial's ``StorageContext``
(``storage_filesystem`` with ``experiment_fs_path`` or ``trial_fs_path``) or a
``Checkpoint`` (``filesystem`` and ``path``).

Ray Tune opened that file system itself (a local folder or any URI), so these functions take it
as it is; the file systems are typed ``Any`` here so that their callers need no ``pyarrow``.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from pyarrow import fs


def read_bytes(filesystem: Any, path: str) -> bytes | None:
    """The bytes of file ``path``; None when it does not exist."""
    if filesystem.get_file_info(path).type == fs.FileType.NotFound:
        return None
    with filesystem.open_input_stream(path) as stream:
        return bytes(stream.read())


def create_empty(filesystem: Any, folder: str, name: str) -> None:
    """Create ``folder/name`` as an empty file unless it exists (and the folder)."""
    path = f"{folder}/{name}"
    if filesystem.get_file_info(path).type != fs.FileType.NotFound:
        return
    filesystem.create_dir(folder, recursive=True)
    with filesystem.open_output_stream(path):
        pass


def is_local(filesystem: Any) -> bool:
    """Whether ``filesystem`` is the local disk (its paths are the machine's own)."""
    return bool(filesystem.type_name == "local")


def copy_folder(source_filesystem: Any, source: str, filesystem: Any, target: str) -> None:
    """Copy folder ``source`` to ``target`` (replaced if there), from one file system to
    another; on a local disk the files are hard links where it can make them (for folders whose
    files never change, such as checkpoints)."""
    if is_local(filesystem) and is_local(source_filesystem):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, copy_function=_link_or_copy)
        return
    filesystem.delete_dir_contents(target, missing_dir_ok=True)
    fs.copy_files(
        source,
        target,
        source_filesystem=source_filesystem,
        destination_filesystem=filesystem,
    )


def _link_or_copy(source: str, target: str) -> None:
    """A hard link, or a copy where the file system has none."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
