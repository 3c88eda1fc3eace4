"""TensorBoard tags named by their folders, metric names that name several tags, names close to
a misspelled metric, and numbers with a trailing ``%``."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import (  # type: ignore[import-untyped]
    masked_crc32c as tensorboard_crc,
)
from torch.utils.tensorboard import SummaryWriter

from raytune_hpo.adapters.command.event_files import EventFile, masked_crc32c
from raytune_hpo.adapters.command.line_reports import LineReports, parse_metric_line
from raytune_hpo.adapters.command.metric_names import (
    close_names,
    names_ending_with,
    tag_name,
)
from raytune_hpo.adapters.command.spec import MetricsFormat
from raytune_hpo.adapters.command.tensorboard_reports import TensorBoardReports

KEY_VALUE = MetricsFormat()
KERAS_TAGS = ("epoch_loss", "epoch_accuracy")


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folders", "name"),
    [
        ("", "val_loss"),
        ("logs/validation", "logs/validation/val_loss"),
        ("lightning_logs/version_3", "val_loss"),
        ("tb/my_model/version_0", "tb/my_model/val_loss"),
        ("outputs/2026-12-07/14-03-59", "val_loss"),
        ("outputs/2026-12-07/14-03-59/logs", "logs/val_loss"),
        ("multirun/2026-12-07/14-03-59/3", "val_loss"),
        ("logs/fit/20261207-140359/train", "logs/fit/train/val_loss"),
        ("runs/Dec07_14-03-59_host", "val_loss"),
        ("outputs/final", "outputs/final/val_loss"),
        ("2024", "2024/val_loss"),
    ],
)
def test_a_tag_is_named_by_its_folders_less_run_versions(folders: str, name: str) -> None:
    assert tag_name([part for part in folders.split("/") if part], "val_loss") == name


def test_a_metric_names_a_tag_by_a_trailing_part_in_whole_folders() -> None:
    names = ["logs/train/epoch_loss", "logs/validation/epoch_loss", "logs/validation/x_loss"]
    assert names_ending_with("validation/epoch_loss", names) == ["logs/validation/epoch_loss"]
    assert names_ending_with("epoch_loss", names) == names[:2]
    assert names_ending_with("loss", names) == []
    assert names_ending_with("logs/train/epoch_loss", names) == ["logs/train/epoch_loss"]


@pytest.mark.parametrize(
    ("metric", "names", "meant"),
    [
        ("val_los", ["epoch", "train_loss", "val_loss"], ["val_loss"]),
        ("val_loss", ["epoch", "val_los"], ["val_los"]),
        ("val_loss", ["Val/Loss", "train_loss"], ["Val/Loss"]),
        ("accuracy", ["acuracy"], ["acuracy"]),
        ("val_loss", ["logs/train/epoch_loss", "logs/validation/epoch_loss"], None),
        ("loss", ["logs/train/epoch_loss", "logs/validation/epoch_loss"], None),
        ("validation/epoch_los", ["logs/validation/epoch_loss"], None),
        ("val_loss", ["train_loss", "val_acc", "loss", "val_loss_epoch"], []),
        ("val_loss", ["val_loss", "val_los"], []),  # the metric is there
    ],
)
def test_close_names(metric: str, names: list[str], meant: list[str] | None) -> None:
    if meant is None:  # Keras's names for what it prints as val_loss and loss
        wanted = "validation" if metric.startswith("val") else "train"
        meant = [f"logs/{wanted}/epoch_loss"]
    assert close_names(metric, names) == meant


# --- lines: a misspelled metric ---------------------------------------------------------------


def feed(reader: LineReports, lines: list[str]) -> list[dict[str, float]]:
    return [report for line in lines if (report := reader.feed(line + "\n")) is not None]


def test_a_key_close_to_the_metric_seen_twice_is_reported_without_it() -> None:
    reader = LineReports("val_los", KEY_VALUE)
    lines = ["epoch=1 val_loss=0.9 acc=0.5", "epoch=2 val_loss=0.8 acc=0.6", "epoch=3 val_loss=0.7"]
    # At the second epoch: its numbers, without the metric; nothing after it.
    assert feed(reader, lines) == [{"epoch": 2, "val_loss": 0.8, "acc": 0.6}]
    assert reader.finish() is None


def test_a_key_close_to_the_metric_seen_once_is_reported_at_the_end() -> None:
    reader = LineReports("accuracy", KEY_VALUE)
    assert feed(reader, ["training", "acuracy=0.93 f1=0.9", "done"]) == []
    assert reader.finish() == {"acuracy": 0.93, "f1": 0.9}
    assert reader.finish() is None


def test_close_keys_on_lines_before_the_metric_end_nothing() -> None:
    reader = LineReports("episode_reward_mean", KEY_VALUE)
    lines = []
    for step in (1, 2):
        lines += [f"episode_reward_max: {step}", f"episode_reward_mean: {step / 2}"]
    assert [r["episode_reward_mean"] for r in feed(reader, lines)] == [0.5, 1.0]
    assert reader.finish() is None


def test_no_close_key_reports_nothing() -> None:
    reader = LineReports("val_loss", KEY_VALUE)
    assert feed(reader, ["train_loss=0.5", "train_loss=0.4"]) == []
    assert reader.finish() is None


# --- numbers with a trailing % ----------------------------------------------------------------


def test_a_number_with_a_trailing_percent_is_read_as_its_number() -> None:
    regex = MetricsFormat(format="regex", pattern=r"val acc (?P<val_acc>\S+)")
    assert parse_metric_line("epoch 3 val acc 93.50%", "val_acc", regex) == {"val_acc": 93.5}
    assert parse_metric_line("val_acc=93.50% loss=0.2", "val_acc", KEY_VALUE) == {
        "val_acc": 93.5,
        "loss": 0.2,
    }
    assert parse_metric_line("{'acc': '95%'}", "acc", KEY_VALUE) == {"acc": 95}
    # A progress bar's percentage is no value of its label.
    assert parse_metric_line("train: 45%|####  | 45/100", "train", KEY_VALUE) is None


# --- event files --------------------------------------------------------------------------------


def write_keras_like(folder: Path, epochs: int) -> dict[str, list[float]]:
    """What ``keras.callbacks.TensorBoard(folder)`` writes: the same tags under ``train/`` and
    ``validation/``, one value per epoch at step ``epoch``; the values by folder."""
    values: dict[str, list[float]] = {"train": [], "validation": []}
    writers = {part: SummaryWriter(str(folder / part)) for part in values}
    try:
        for epoch in range(epochs):
            for part, writer in writers.items():
                for tag in KERAS_TAGS:
                    value = round(1.0 / (epoch + 2) + (0.5 if part == "train" else 0.0), 4)
                    writer.add_scalar(tag, value, epoch, new_style=True)
                values[part].append(value)
                writer.flush()
    finally:
        for writer in writers.values():
            writer.close()
    return values


def test_keras_validation_tag_by_its_folder(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "validation/epoch_loss", step="epoch")
    values = write_keras_like(tmp_path / "logs", epochs=3)
    reports = reader.poll(final=True)
    assert [r["validation/epoch_loss"] for r in reports] == values["validation"]
    assert [r["logs/train/epoch_loss"] for r in reports] == values["train"]
    assert [r["epoch"] for r in reports] == [0, 1, 2]
    assert reader.tags_seen == sorted(
        f"logs/{part}/{tag}" for part in ("train", "validation") for tag in KERAS_TAGS
    )


def test_a_bare_tag_in_two_folders_is_one_report_without_the_metric(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "epoch_loss")
    write_keras_like(tmp_path / "logs", epochs=2)
    (report,) = reader.poll()
    assert "epoch_loss" not in report
    assert {"logs/train/epoch_loss", "logs/validation/epoch_loss"} <= set(report)
    write_keras_like(tmp_path / "more", epochs=1)
    assert reader.poll(final=True) == []


def test_a_second_folder_written_just_after_the_first_is_seen_before_any_report(
    tmp_path: Path,
) -> None:
    reader = TensorBoardReports(tmp_path, "epoch_loss")
    with SummaryWriter(str(tmp_path / "logs" / "train")) as writer:
        writer.add_scalar("epoch_loss", 0.9, 0)
    assert reader.poll() == []  # one tag of that name so far: its value waits
    with SummaryWriter(str(tmp_path / "logs" / "validation")) as writer:
        writer.add_scalar("epoch_loss", 0.8, 0)
    assert reader.poll() == [{"logs/train/epoch_loss": 0.9, "logs/validation/epoch_loss": 0.8}]


def test_a_tag_close_to_the_metric_ends_at_its_second_value(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss")
    write_keras_like(tmp_path / "logs", epochs=1)
    assert reader.poll() == []
    write_keras_like(tmp_path / "logs2", epochs=1)  # another run, same names at the end
    assert reader.poll() == []
    write_keras_like(tmp_path / "logs", epochs=1)
    (report,) = reader.poll()
    assert "val_loss" not in report and "logs/validation/epoch_loss" in report
    assert reader.poll(final=True) == []


def test_a_tag_close_to_the_metric_ends_at_the_final_poll(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss")
    write_keras_like(tmp_path / "logs", epochs=1)
    assert reader.poll() == []
    (report,) = reader.poll(final=True)
    assert set(report) == {
        f"logs/{part}/{tag}" for part in ("train", "validation") for tag in KERAS_TAGS
    }


def test_run_version_folders_of_restarts_share_names(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss")
    for version in (0, 1):
        with SummaryWriter(str(tmp_path / "lightning_logs" / f"version_{version}")) as writer:
            writer.add_scalar("val_loss", 0.5 - version / 10, 1)
    assert reader.poll() == []  # the values of the poll that first finds the metric wait
    assert reader.poll() == [{"val_loss": 0.5}, {"val_loss": 0.4}]


def test_masked_crc_matches_tensorboards() -> None:
    for data in (b"", b"\x00" * 8, struct.pack("<Q", 123456789), bytes(range(256))):
        assert masked_crc32c(data) == tensorboard_crc(data)


def test_a_damaged_length_ends_the_reading_of_its_file(tmp_path: Path) -> None:
    with SummaryWriter(str(tmp_path)) as writer:
        for step in range(3):
            writer.add_scalar("x", step, step)
    (path,) = tmp_path.glob("events.out.tfevents.*")
    assert len(EventFile(path).read()) == 4  # the file's version, then three scalars
    data = bytearray(path.read_bytes())
    last = 0
    for _ in range(3):
        last += 12 + struct.unpack("<Q", data[last : last + 8])[0] + 4
    data[last] ^= 0xFF  # in the last record's length
    path.write_bytes(bytes(data))
    reader = EventFile(path)
    assert len(reader.read()) == 3
    assert reader.read() == []


READ_WITHOUT_TENSORFLOW = """
import shutil, sys
import torch  # as a trial's process that imported torch before reading
from raytune_hpo.adapters.command.tensorboard_reports import TensorBoardReports
reader = TensorBoardReports(sys.argv[2], "validation/epoch_loss")
shutil.copytree(sys.argv[1], sys.argv[2] + "/logs")
reports = reader.poll(final=True)
print(len(reports), "tensorflow" in sys.modules)
"""


def test_reading_event_files_never_imports_tensorflow(tmp_path: Path) -> None:
    # Installed with the frameworks extra, so that this checks something (not imported here:
    # with torch imported and KERAS_BACKEND=torch, importing it may crash this process).
    assert importlib.util.find_spec("tensorflow") is not None
    write_keras_like(tmp_path / "written", epochs=2)
    args = [str(tmp_path / "written"), str(tmp_path / "trial")]
    done = subprocess.run(
        [sys.executable, "-c", READ_WITHOUT_TENSORFLOW, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["2", "False"]


# --- the experiment's metric check ------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "reported", "fragments"),
    [
        (
            "epoch_loss",
            ["logs/train/epoch_loss", "logs/validation/epoch_loss"],
            ("2 keys that end with it: logs/train/epoch_loss, logs/validation/epoch_loss",),
        ),
        ("val_los", ["epoch", "val_loss"], ("did you mean 'val_loss'?", "epoch, val_loss")),
        (
            "val_loss",
            ["logs/validation/epoch_loss"],
            ("did you mean 'logs/validation/epoch_loss'",),
        ),
        ("loss", ["train/loss"], ("did you mean 'train/loss'",)),
        ("accuracy", ["epoch", "score"], ("it reported: epoch, score", "tune.report")),
    ],
)
def test_missing_metric_names_what_was_meant_in_one_line(
    metric: str, reported: list[str], fragments: tuple[str, ...]
) -> None:
    from raytune_hpo.experiment.trial_checks import MissingMetric

    message = str(MissingMetric("t_1", metric, reported))
    assert "\n" not in message
    assert message.startswith(f"trial t_1 reported no {metric!r} (the experiment's metric)")
    for fragment in fragments:
        assert fragment in message, message
    assert ("did you mean" in message) == ("did you mean" in " ".join(fragments))
