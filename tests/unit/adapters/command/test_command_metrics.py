"""Reading a command trial's metrics: dict lines, steps, TensorBoard event files, messages."""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import tensorboardX
import torch
from tensorboard.compat.proto import event_pb2, summary_pb2
from torch.utils.tensorboard import SummaryWriter

from raytune_hpo.adapters.command.event_files import scalars
from raytune_hpo.adapters.command.formats import missing_metric_message
from raytune_hpo.adapters.command.line_reports import LineReports, parse_metric_line
from raytune_hpo.adapters.command.report_rules import KEYS_KEPT
from raytune_hpo.adapters.command.spec import MetricsFormat
from raytune_hpo.adapters.command.tensorboard_reports import TensorBoardReports

KEY_VALUE = MetricsFormat()
JSON = MetricsFormat(format="json")
TENSORBOARD = MetricsFormat(format="tensorboard")
HF5_EVAL = (
    "{'eval_loss': '0.6935', 'eval_runtime': '0.0621', 'eval_samples_per_second': '1611', "
    "'eval_steps_per_second': '16.11', 'epoch': '1'}"
)
HF5_TRAIN = "{'loss': '0.7012', 'grad_norm': '1.482', 'learning_rate': '5e-05', 'epoch': '1'}"
HF4_EVAL = "{'eval_loss': 0.6935, 'eval_runtime': 0.0621, 'epoch': 1.0}"
MNIST = [
    "Train Epoch: 1 [0/60000 (0%)]\tLoss: 2.305400",
    "Train Epoch: 1 [640/60000 (1%)]\tLoss: 1.359780",
    "Train Epoch: 1 [59520/60000 (99%)]\tLoss: 0.082512",
    "",
    "Test set: Average loss: 0.0474, Accuracy: 9842/10000 (98%)",
    "",
    "Train Epoch: 2 [0/60000 (0%)]\tLoss: 0.106539",
    "Train Epoch: 2 [640/60000 (1%)]\tLoss: 0.040284",
]


# --- dict lines -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [KEY_VALUE, JSON], ids=["key_value", "json"])
def test_hugging_face_5_dict_lines_with_quoted_numbers(fmt: MetricsFormat) -> None:
    found = parse_metric_line(HF5_EVAL + "\n", "eval_loss", fmt)
    assert found == {
        "eval_loss": 0.6935,
        "eval_runtime": 0.0621,
        "eval_samples_per_second": 1611,
        "eval_steps_per_second": 16.11,
        "epoch": 1,
    }
    assert isinstance(found["epoch"], int)
    assert parse_metric_line(HF5_TRAIN, "eval_loss", fmt) is None
    assert parse_metric_line(HF5_TRAIN, "learning_rate", fmt) == {
        "loss": 0.7012,
        "grad_norm": 1.482,
        "learning_rate": 5e-05,
        "epoch": 1,
    }


@pytest.mark.parametrize("fmt", [KEY_VALUE, JSON], ids=["key_value", "json"])
def test_hugging_face_4_dict_lines_with_plain_numbers(fmt: MetricsFormat) -> None:
    found = parse_metric_line(HF4_EVAL, "eval_loss", fmt)
    assert found == {"eval_loss": 0.6935, "eval_runtime": 0.0621, "epoch": 1.0}
    assert isinstance(found["epoch"], float)


def test_a_json_line_with_quoted_numbers_reads_as_with_plain_ones() -> None:
    quoted = parse_metric_line('{"val_loss": "0.5", "step": "3"}', "val_loss", JSON)
    assert quoted == parse_metric_line('{"val_loss": 0.5, "step": 3}', "val_loss", JSON)
    assert quoted == {"val_loss": 0.5, "step": 3}


def test_key_value_keeps_the_numbers_of_a_dict_and_json_keeps_every_key() -> None:
    line = "{'val_loss': 0.5, 'phase': 'eval', 'nested': {'a': 1}, 'best': True, 'lr': None}"
    assert parse_metric_line(line, "val_loss", KEY_VALUE) == {"val_loss": 0.5}
    assert parse_metric_line(line, "val_loss", JSON) == {
        "val_loss": 0.5,
        "phase": "eval",
        "nested": {"a": 1},
        "best": True,
        "lr": None,
    }


def test_key_value_reads_a_json_line() -> None:
    assert parse_metric_line('{"val_loss": 0.5, "epoch": 2}', "val_loss", KEY_VALUE) == {
        "val_loss": 0.5,
        "epoch": 2,
    }


def test_bare_nan_and_inf_as_python_prints_them() -> None:
    found = parse_metric_line("{'loss': nan, 'grad_norm': inf, 'x': -inf}", "loss", KEY_VALUE)
    assert found is not None
    assert math.isnan(found["loss"])
    assert found["grad_norm"] == math.inf
    assert found["x"] == -math.inf


@pytest.mark.parametrize(
    "line",
    ["{'val_loss': True}", "{'val_loss': '0.5x'}", "{'val_loss': [0.5]}", "{1: 0.5}", "{}"],
)
def test_dict_lines_without_the_metric_as_a_number_report_nothing(line: str) -> None:
    assert parse_metric_line(line, "val_loss", KEY_VALUE) is None
    assert parse_metric_line(line, "val_loss", JSON) is None


def test_a_braced_line_that_is_no_literal_is_read_as_pairs() -> None:
    assert parse_metric_line("{epoch: 3, val_loss: 0.5}", "val_loss", KEY_VALUE) == {
        "epoch": 3,
        "val_loss": 0.5,
    }
    assert parse_metric_line("{epoch: 3, val_loss: 0.5}", "val_loss", JSON) is None


def test_tensorboard_format_reads_no_lines() -> None:
    with pytest.raises(ValueError, match="tensorboard reads files, not output lines"):
        parse_metric_line("val_loss=0.5", "val_loss", TENSORBOARD)
    with pytest.raises(ValueError, match="tensorboard reads files, not output lines"):
        LineReports("val_loss", TENSORBOARD)


# --- line reports and steps -------------------------------------------------------------------


def feed_all(reader: LineReports, lines: list[str]) -> list[dict[str, Any]]:
    return [report for line in lines if (report := reader.feed(line + "\n")) is not None]


def test_without_step_every_metric_line_is_a_report() -> None:
    assert len(feed_all(LineReports("Loss", KEY_VALUE), MNIST)) == 5


def test_with_step_batch_lines_of_one_epoch_report_once() -> None:
    reports = feed_all(LineReports("Loss", MetricsFormat(step="Epoch")), MNIST)
    assert reports == [{"Epoch": 1, "Loss": 2.3054}, {"Epoch": 2, "Loss": 0.106539}]


def test_a_step_must_grow_past_the_last_reported_one() -> None:
    reader = LineReports("val_loss", MetricsFormat(step="epoch"))
    lines = [
        "val_loss=0.9",
        "epoch=1 val_loss=0.8",
        "epoch=1 val_loss=0.7",
        "epoch=0 val_loss=0.6",
        "epoch=nan val_loss=0.5",
        "epoch=1.5 val_loss=0.4",
        "epoch=3",
        "epoch=2 val_loss=0.3",
    ]
    assert feed_all(reader, lines) == [
        {"epoch": 1, "val_loss": 0.8},
        {"epoch": 1.5, "val_loss": 0.4},
        {"epoch": 2, "val_loss": 0.3},
    ]


def test_hugging_face_logs_report_once_per_epoch_with_step() -> None:
    reader = LineReports("eval_loss", MetricsFormat(format="json", step="epoch"))
    lines = [HF5_TRAIN, HF5_EVAL, HF5_EVAL, HF5_EVAL.replace("'epoch': '1'", "'epoch': '2'")]
    assert [report["epoch"] for report in feed_all(reader, lines)] == [1, 2]


def test_regex_step_group() -> None:
    fmt = MetricsFormat(
        format="regex",
        pattern=r"Train Epoch: (?P<epoch>\d+) .*Loss: (?P<loss>\S+)",
        step="epoch",
    )
    assert feed_all(LineReports("loss", fmt), MNIST) == [
        {"epoch": 1, "loss": 2.3054},
        {"epoch": 2, "loss": 0.106539},
    ]


def test_keys_seen_are_the_numeric_keys_of_every_line_sorted_and_capped() -> None:
    reader = LineReports("val_loss", KEY_VALUE)
    feed_all(reader, MNIST + [HF5_TRAIN, "phase: eval"])
    assert reader.keys_seen == ["Epoch", "Loss", "epoch", "grad_norm", "learning_rate", "loss"]
    feed_all(reader, [f"k{index:03}=1" for index in range(2 * KEYS_KEPT)])
    assert len(reader.keys_seen) == KEYS_KEPT
    assert reader.keys_seen == sorted(reader.keys_seen)


# --- TensorBoard event files ------------------------------------------------------------------


@contextmanager
def torch_writer(folder: Path, **options: Any) -> Iterator[Any]:
    writer = SummaryWriter(str(folder), **options)
    try:
        yield writer
    finally:
        writer.close()


def write(writer: Any, step: int, **scalars: float) -> None:
    for tag, value in scalars.items():
        writer.add_scalar(tag, value, step)
    writer.flush()


def test_torch_writer_polled_incrementally(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss")
    assert reader.poll() == []
    with torch_writer(tmp_path / "run") as writer:
        write(writer, 0, train_loss=0.9)
        write(writer, 1, val_loss=0.6935, acc=0.5)
        # Every tag under its folder and name, the metric under its own name too.
        first = {"run/train_loss": 0.9, "run/val_loss": 0.6935, "run/acc": 0.5}
        assert first_reports(reader) == [{**first, "val_loss": 0.6935}]
        assert reader.poll() == []
        writer.add_histogram("weights", torch.tensor([0.1, 0.2, 0.3]), 2)
        writer.add_text("note", "hello", 2)
        write(writer, 2, val_loss=0.5)
        write(writer, 3, val_loss=0.25)
        assert reader.poll() == [
            {**first, "run/val_loss": 0.5, "val_loss": 0.5},
            {**first, "run/val_loss": 0.25, "val_loss": 0.25},
        ]
    assert reader.tags_seen == ["run/acc", "run/train_loss", "run/val_loss"]


def first_reports(reader: TensorBoardReports) -> list[dict[str, Any]]:
    """The first reports: the values of the poll that first finds the metric wait for the next
    poll (so that files written one after the other are all seen)."""
    assert reader.poll() == []
    return reader.poll()


def poll_until(reader: TensorBoardReports, count: int) -> list[dict[str, Any]]:
    """Poll until ``count`` reports came (tensorboardX's flush leaves writing to a thread)."""
    reports: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(reports) < count and time.monotonic() < deadline:
        reports += reader.poll()
        time.sleep(0.02)
    return reports


def test_tensorboardx_writer(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val/loss", step="epoch")
    writer = tensorboardX.SummaryWriter(str(tmp_path / "tbx"), flush_secs=1)
    try:
        write(writer, 10, **{"val/loss": 0.5, "epoch": 1})
        first = {"tbx/val/loss": 0.5, "tbx/epoch": 1}
        assert poll_until(reader, 1) == [{**first, "val/loss": 0.5, "epoch": 1}]
        write(writer, 20, **{"val/loss": 0.4, "epoch": 2})
        second = {"tbx/val/loss": 0.4, "tbx/epoch": 2}
        assert poll_until(reader, 1) == [{**second, "val/loss": 0.4, "epoch": 2}]
    finally:
        writer.close()
    assert reader.poll() == []


def test_tensor_summaries_as_tf2_writes_them(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss")
    with torch_writer(tmp_path) as writer:
        writer.add_scalar("val_loss", 0.6935, 1, new_style=True)
        writer.add_scalar("lr", 0.001, 1, new_style=True, double_precision=True)
        writer.flush()
        assert first_reports(reader) == [{"val_loss": 0.6935, "lr": 0.001}]


def test_simple_values_and_tensors_are_both_read() -> None:
    simple = summary_pb2.Summary.Value(tag="a", simple_value=0.1)
    event = event_pb2.Event(step=1, summary=summary_pb2.Summary(value=[simple]))
    assert scalars(event) == [("a", 0.1)]


def test_files_present_at_creation_are_skipped(tmp_path: Path) -> None:
    with torch_writer(tmp_path / "lightning_logs" / "version_0") as writer:
        write(writer, 1, val_loss=0.9)
    reader = TensorBoardReports(tmp_path, "val_loss")
    assert reader.poll() == []
    assert reader.tags_seen == []
    with torch_writer(tmp_path / "lightning_logs" / "version_1") as writer:
        write(writer, 1, val_loss=0.8)
        assert first_reports(reader) == [{"val_loss": 0.8}]


def test_a_folder_that_does_not_exist_yet(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path / "logs", "val_loss")
    assert reader.poll() == []
    with torch_writer(tmp_path / "logs" / "lightning_logs" / "version_0") as writer:
        write(writer, 1, val_loss=0.8)
        assert first_reports(reader) == [{"val_loss": 0.8}]


def test_values_at_the_metric_step_join_its_report(tmp_path: Path) -> None:
    """Lightning logs ``epoch`` after ``val_loss`` at the same step."""
    reader = TensorBoardReports(tmp_path, "val_loss", step="epoch")
    with torch_writer(tmp_path) as writer:
        write(writer, 4, train_loss=0.9, epoch=0)
        write(writer, 9, val_loss=0.7, epoch=0)
        write(writer, 14, train_loss=0.6, epoch=1)
        write(writer, 19, val_loss=0.5, epoch=1)
        write(writer, 24, train_loss=0.4, epoch=2)
        assert first_reports(reader) == [
            {"train_loss": 0.9, "epoch": 0, "val_loss": 0.7},
            {"train_loss": 0.6, "epoch": 1, "val_loss": 0.5},
        ]


def test_step_rule_with_a_tag(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss", step="epoch")
    with torch_writer(tmp_path) as writer:
        write(writer, 1, epoch=1, val_loss=0.9)
        write(writer, 2, val_loss=0.8, epoch=1)
        write(writer, 3, val_loss=0.7)
        write(writer, 4, val_loss=0.6, epoch=2)
        assert [report["val_loss"] for report in first_reports(reader)] == [0.9, 0.6]


def test_step_rule_with_the_event_step_when_no_tag_has_its_name(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss", step="global_step")
    with torch_writer(tmp_path) as writer:
        write(writer, 1, val_loss=0.9)
        write(writer, 1, val_loss=0.8)
        write(writer, 0, val_loss=0.7)
        write(writer, 5, val_loss=0.6)
        assert first_reports(reader) == [
            {"val_loss": 0.9, "global_step": 1},
            {"val_loss": 0.6, "global_step": 5},
        ]


def test_a_metric_value_waits_for_its_step_tag_in_a_later_poll(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss", step="epoch")
    with torch_writer(tmp_path) as writer:
        for epoch, step in enumerate((9, 19)):
            write(writer, step, val_loss=1 / (epoch + 1))
            assert reader.poll() == []
            write(writer, step, epoch=epoch)
            assert reader.poll() == [{"val_loss": 1 / (epoch + 1), "epoch": epoch}]


def test_the_final_poll_reports_a_value_still_waiting_for_its_step(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "epoch_loss", step="epoch")
    with torch_writer(tmp_path) as writer:
        write(writer, 0, epoch_loss=0.5)
    assert reader.poll() == []
    assert reader.poll(final=True) == [{"epoch_loss": 0.5, "epoch": 0}]


def test_events_of_several_files_in_order_of_wall_time(tmp_path: Path) -> None:
    reader = TensorBoardReports(tmp_path, "val_loss")
    with torch_writer(tmp_path / "a") as first, torch_writer(tmp_path / "b") as second:
        first.add_scalar("val_loss", 1.0, 1, walltime=100.0)
        first.add_scalar("val_loss", 3.0, 3, walltime=300.0)
        second.add_scalar("lr", 0.5, 2, walltime=150.0)
        second.add_scalar("lr", 0.25, 2, walltime=250.0)
        first.flush()
        second.flush()
        assert first_reports(reader) == [
            {"a/val_loss": 1.0, "val_loss": 1.0},
            {"a/val_loss": 3.0, "b/lr": 0.25, "val_loss": 3.0},
        ]


def test_a_record_cut_short_is_read_once_it_is_whole(tmp_path: Path) -> None:
    source = tmp_path / "source"
    with torch_writer(source) as writer:
        for step in range(1, 4):
            write(writer, step, val_loss=1 / step)
    (original,) = source.glob("events.out.tfevents.*")
    data = original.read_bytes()
    watched = tmp_path / "watched"
    reader = TensorBoardReports(watched, "val_loss")
    watched.mkdir()
    copy = watched / original.name
    copy.write_bytes(data[:-7])
    assert [report["val_loss"] for report in first_reports(reader)] == [1.0, 0.5]
    assert reader.poll() == []
    with copy.open("ab") as out:
        out.write(data[-7:])
    assert [report["val_loss"] for report in reader.poll()] == [pytest.approx(1 / 3)]
    shutil.rmtree(watched)
    assert reader.poll() == []


# --- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "keys", "fragments"),
    [
        (KEY_VALUE, [], ("'val_loss'", "'val_loss=0.123'", "{format: tensorboard}", "regex")),
        (KEY_VALUE, ["acc", "loss"], ("numeric keys seen: acc, loss", "set metric")),
        (
            MetricsFormat(step="epoch"),
            ["epoch", "val_loss"],
            ("step 'epoch'", "remove trainable.metrics.step"),
        ),
        (TENSORBOARD, [], ("events.out.tfevents.*", "{format: key_value}")),
        (TENSORBOARD, ["train_loss"], ("tags seen: train_loss",)),
        (
            MetricsFormat(format="regex", pattern=r"loss (?P<val_loss>\S+)"),
            [],
            ("fix trainable.metrics.pattern",),
        ),
    ],
)
def test_missing_metric_message_is_one_line_with_a_fix(
    fmt: MetricsFormat, keys: list[str], fragments: tuple[str, ...]
) -> None:
    message = missing_metric_message("val_loss", fmt, keys)
    assert "\n" not in message
    assert message.startswith("no report of the metric 'val_loss'")
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"
