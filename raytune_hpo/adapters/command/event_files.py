"""TensorBoard event files read without TensorFlow: their records and scalars.

An event file is a sequence of TFRecords, each a little-endian ``uint64`` length, a ``uint32``
masked CRC-32C of that length, the data and a ``uint32`` masked CRC-32C of the data; each
data is an ``Event`` protocol buffer. TensorBoard's own loader imports TensorFlow when it is
installed, which is slow and, with ``KERAS_BACKEND=torch`` in a process that imported torch,
can crash it; this reader parses the framing itself and the events with the protocol buffers
TensorBoard ships (``tensorboard.compat.proto``, which import no TensorFlow). NumPy and those
protocol buffers are imported only when a file is read.
"""

from __future__ import annotations

import fnmatch
import os
import struct
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

EVENT_FILES = "events.out.tfevents.*"
"""The names of TensorBoard event files."""

_HEADER = 12
"""Bytes before a record's data: its length and the length's masked CRC."""
_FOOTER = 4
"""Bytes after a record's data: the data's masked CRC."""
_MASK_DELTA = 0xA282EAD8
_CRC32C_TABLE: list[int] = []

_DTYPES = {
    1: "float32",  # DT_FLOAT
    2: "float64",  # DT_DOUBLE
    3: "int32",
    4: "uint8",
    5: "int16",
    6: "int8",
    9: "int64",
    17: "uint16",
    19: "float16",  # DT_HALF
    22: "uint32",
    23: "uint64",
}
"""TensorFlow's numeric ``DataType`` numbers and their NumPy types (``types.proto``)."""


def _crc32c(data: bytes) -> int:
    """The CRC-32C (Castagnoli) of ``data``; used on 8-byte lengths only, so kept simple."""
    if not _CRC32C_TABLE:
        for byte in range(256):
            crc = byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
            _CRC32C_TABLE.append(crc)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The CRC that TFRecords store: the CRC-32C of ``data``, rotated and offset."""
    crc = _crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


class EventFile:
    """One event file, read as it grows: each :meth:`read` returns the events appended since.

    A record still being written (shorter than its length says) is left for a later read. A
    record whose length fails its checksum ends the reading of the file (it is damaged from
    there on); one whose data is no ``Event`` is skipped.

    Args:
        path: The file.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._offset = 0
        self._damaged = False

    def read(self) -> list[Any]:
        """The ``Event`` messages of the whole records appended since the last read; none when
        the file is gone."""
        from tensorboard.compat.proto import event_pb2  # type: ignore[import-untyped]

        if self._damaged:
            return []
        try:
            with open(self.path, "rb") as file:
                file.seek(self._offset)
                data = file.read()
        except OSError:  # removed since it was listed
            return []
        events = []
        start = 0
        while len(data) - start >= _HEADER:
            header = data[start : start + 8]
            (length,) = struct.unpack("<Q", header)
            (crc,) = struct.unpack("<I", data[start + 8 : start + _HEADER])
            if crc != masked_crc32c(header):
                self._damaged = True
                break
            end = start + _HEADER + length + _FOOTER
            if end > len(data):
                break
            try:
                events.append(event_pb2.Event.FromString(data[start + _HEADER : end - _FOOTER]))
            except Exception:  # noqa: BLE001 (protobuf's DecodeError, whatever its module)
                pass
            start = end
        self._offset += start
        return events


def event_files(folder: Path) -> list[str]:
    """The event files below ``folder``, sorted; none when it does not exist (yet)."""
    return sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in fnmatch.filter(names, EVENT_FILES)
    )


def scalars(event: Any) -> list[tuple[str, int | float]]:
    """The (tag, number) pairs of an event's scalar summaries, as ``simple_value`` or tensor."""
    found = []
    for value in event.summary.value:
        kind = value.WhichOneof("value")
        number = (
            float32(value.simple_value)
            if kind == "simple_value"
            else tensor_number(value.tensor)
            if kind == "tensor"
            else None
        )
        if number is not None:
            found.append((value.tag, number))
    return found


def float32(value: float) -> float:
    """A float32 as the shortest decimal that reads back as it (``0.6935``, not ``0.69349998``)."""
    import numpy as np

    return float(str(np.float32(value)))


def tensor_number(tensor: Any) -> int | float | None:
    """The number a one-element numeric ``TensorProto`` holds; None for any other tensor."""
    import numpy as np

    name = _DTYPES.get(tensor.dtype)
    if name is None or any(dim.size != 1 for dim in tensor.tensor_shape.dim):
        return None
    dtype = np.dtype(name).newbyteorder("<")
    if tensor.tensor_content:
        array = np.frombuffer(tensor.tensor_content, dtype=dtype)
    elif name == "float16":  # half_val holds the bits
        array = np.array(list(tensor.half_val), dtype=np.uint16).view(np.float16)
    else:
        field = {
            "float32": tensor.float_val,
            "float64": tensor.double_val,
            "int64": tensor.int64_val,
            "uint32": tensor.uint32_val,
            "uint64": tensor.uint64_val,
        }.get(name, tensor.int_val)
        array = np.array(list(field), dtype=dtype)
    if array.size != 1:
        return None
    scalar = array[0]
    if array.dtype.kind != "f":
        return int(scalar)
    return float32(scalar) if array.dtype.itemsize <= 4 else float(scalar)


def write_scalars(path: str | os.PathLike[str], points: Iterable[tuple[str, int, float]]) -> None:
    """Append an event of each ``(tag, step, value)`` to the event file ``path``, as
    TensorBoard's writers frame them (a sample of format ``tensorboard``, for tests)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2

    with open(path, "ab") as file:
        for tag, step, value in points:
            summary = summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
            )
            data = event_pb2.Event(wall_time=time.time(), step=step, summary=summary)
            record = data.SerializeToString()
            header = struct.pack("<Q", len(record))
            file.write(header + struct.pack("<I", masked_crc32c(header)))
            file.write(record + struct.pack("<I", masked_crc32c(record)))
