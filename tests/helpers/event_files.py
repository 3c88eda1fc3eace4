"""TensorBoard event files read back in tests, without TensorFlow and without the package's own
reader: the TFRecord framing (a ``uint64`` length, its CRC, the data, its CRC) and TensorBoard's
protocol buffers. TensorBoard's ``EventFileLoader`` would import TensorFlow where it is installed
(the frameworks extra installs it for Keras), which is slow and may crash a process that
imported torch."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from tensorboard.compat.proto import event_pb2


def read_events(path: Path) -> list[Any]:
    """Every ``Event`` of one event file, in order."""
    data = path.read_bytes()
    events = []
    start = 0
    while start + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[start : start + 8])
        events.append(event_pb2.Event.FromString(data[start + 12 : start + 12 + length]))
        start += 12 + length + 4
    return events


def scalar_number(value: Any) -> float:
    """The number of a scalar summary value: ``simple_value``, or a float32 tensor's."""
    if value.WhichOneof("value") == "simple_value":
        return float(value.simple_value)
    tensor = value.tensor
    if tensor.tensor_content:
        return float(struct.unpack("<f", tensor.tensor_content)[0])
    return float(tensor.float_val[0])


def scalar_points(folder: Path, tag: str, *, below: bool = False) -> list[tuple[int, float]]:
    """The ``(step, value)`` of ``tag`` in the event files of ``folder`` (``below``: in its
    subfolders too), sorted by step."""
    pattern = "events.out.tfevents.*"
    paths = folder.rglob(pattern) if below else folder.glob(pattern)
    points = [
        (event.step, scalar_number(value))
        for path in sorted(paths)
        for event in read_events(path)
        for value in event.summary.value
        if value.tag == tag
    ]
    return sorted(points)
