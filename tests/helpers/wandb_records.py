"""Reads W&B offline run files (``run-*.wandb``) for tests.

wandb no longer ships a Python reader. A ``.wandb`` file is a 7-byte header (``:W&B``, two
magic bytes, a version byte) followed by records in the LevelDB log format: 32 KiB blocks
of chunks, each with a 4-byte checksum, a 2-byte little-endian length and a 1-byte type
(full, first, middle, last); a record is one full chunk or a first, middles and a last.
Each record is a ``wandb.proto.wandb_internal_pb2.Record``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2 as pb

_FILE_HEADER = 7
_BLOCK = 32 * 1024
_CHUNK_HEADER = 7
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


@dataclass
class OfflineRun:
    """What an offline run recorded.

    Attributes:
        path: The run's folder.
        run_id: W&B run id.
        name: Display name.
        project: W&B project.
        group: Run group.
        job_type: Job type.
        config: Run config, values unwrapped from ``{"value": ...}``.
        history: One dict per ``log`` call; nested keys (a logged table, say) as nested dicts.
    """

    path: Path
    run_id: str = ""
    name: str = ""
    project: str = ""
    group: str = ""
    job_type: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


def iter_records(path: Path) -> Iterator[pb.Record]:
    """Yields the records of one ``.wandb`` file.

    Args:
        path: The ``.wandb`` file.

    Raises:
        ValueError: If the file does not start with the W&B header or a chunk is malformed.
    """
    data = path.read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a .wandb file: header {data[:_FILE_HEADER]!r}")
    pos, parts = _FILE_HEADER, []
    while pos + _CHUNK_HEADER <= len(data):
        left_in_block = _BLOCK - pos % _BLOCK
        if left_in_block < _CHUNK_HEADER:
            pos += left_in_block  # block trailer: zero padding
            continue
        _checksum, length, kind = struct.unpack_from("<IHB", data, pos)
        pos += _CHUNK_HEADER
        if kind == 0 and length == 0:
            break  # zero fill at the end of an unfinished block
        if pos + length > len(data):
            raise ValueError(f"{path}: chunk of {length} bytes runs past the end of the file")
        parts.append(data[pos : pos + length])
        pos += length
        if kind in (_FULL, _LAST):
            record = pb.Record()
            record.ParseFromString(b"".join(parts))
            parts = []
            yield record
        elif kind not in (_FIRST, _MIDDLE):
            raise ValueError(f"{path}: unknown chunk type {kind} at byte {pos - length}")


def _put(target: dict[str, Any], item: pb.ConfigItem | pb.HistoryItem, value: Any) -> None:
    """Stores value under item's key; a nested key fills nested dicts."""
    *parents, last = item.nested_key or [item.key]
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value


def _history_value(item: pb.HistoryItem) -> Any:
    kind = item.WhichOneof("value")
    if kind is None:
        return json.loads(item.value_json)
    if kind == "json":
        return json.loads(item.json)
    return None if kind == "none" else getattr(item, kind)


def _config_value(item: pb.ConfigItem) -> Any:
    value = json.loads(item.value_json)
    if isinstance(value, dict) and set(value) <= {"value", "desc"} and "value" in value:
        return value["value"]
    return value


def _update_config(config: dict[str, Any], record: pb.ConfigRecord) -> None:
    for item in record.update:
        _put(config, item, _config_value(item))
    for item in record.remove:
        *parents, last = item.nested_key or [item.key]
        target = config
        for name in parents:
            target = target.get(name, {})
        target.pop(last, None)


def read_offline_run(run_dir: Path) -> OfflineRun:
    """Reads the ``.wandb`` file of one offline run folder.

    Args:
        run_dir: An ``offline-run-*`` folder.

    Raises:
        FileNotFoundError: If the folder holds no ``run-*.wandb`` file.
    """
    files = sorted(Path(run_dir).glob("run-*.wandb"))
    if not files:
        raise FileNotFoundError(f"no run-*.wandb file in {run_dir}")
    run = OfflineRun(path=Path(run_dir))
    for record in iter_records(files[0]):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            r = record.run
            run.run_id, run.name = r.run_id, r.display_name
            run.project, run.group, run.job_type = r.project, r.run_group, r.job_type
            _update_config(run.config, r.config)
        elif kind == "config":
            _update_config(run.config, record.config)
        elif kind == "history":
            row: dict[str, Any] = {}
            for item in record.history.item:
                _put(row, item, _history_value(item))
            run.history.append(row)
    return run


def find_offline_runs(wandb_dir: Path) -> list[Path]:
    """Lists the ``offline-run-*`` folders directly under a ``wandb`` folder, sorted."""
    return sorted(p for p in Path(wandb_dir).glob("offline-run-*") if p.is_dir())
