"""Command trials without Ray: macros in, metric lines out."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from raytune_hpo.adapters.command.args import expand_command, format_value
from raytune_hpo.adapters.command.formats import expected_line
from raytune_hpo.adapters.command.line_reports import parse_metric_line
from raytune_hpo.adapters.command.spec import CommandSpec, MetricsFormat

JSON_FILE = Path("/trial/config.json")
KEY_VALUE = MetricsFormat()
JSON = MetricsFormat(format="json")


def expand(command: str | list[str], config: dict[str, Any]) -> list[str]:
    return expand_command(CommandSpec(command=command), config, JSON_FILE)


# --- macros -----------------------------------------------------------------------------------


def test_args_become_one_argument_per_hyperparameter_sorted_by_name() -> None:
    argv = expand("python train.py ${args} --epochs 3", {"lr": 0.01, "batch_size": 64})
    assert argv == ["python", "train.py", "--batch_size=64", "--lr=0.01", "--epochs", "3"]


def test_args_no_hyphens_are_hydra_overrides() -> None:
    argv = expand(["python", "train.py", "${args_no_hyphens}"], {"model.depth": 4, "lr": 1e-4})
    assert argv == ["python", "train.py", "lr=0.0001", "model.depth=4"]


def test_json_file_and_single_values_also_inside_an_argument() -> None:
    argv = expand("run --config=${args_json_file} --lr=${lr} ${lr}", {"lr": 0.5, "unused": "x"})
    assert argv == ["run", f"--config={JSON_FILE}", "--lr=0.5", "0.5"]


def test_a_list_command_keeps_spaces_inside_arguments() -> None:
    argv = expand(["sh", "-c", "echo lr is ${lr}"], {"lr": 2})
    assert argv == ["sh", "-c", "echo lr is 2"]


def test_double_dollar_is_a_literal_dollar() -> None:
    assert expand(["sh", "-c", "echo $${HOME} $$1"], {}) == ["sh", "-c", "echo ${HOME} $1"]


def test_an_empty_config_expands_args_to_nothing() -> None:
    assert expand("train ${args}", {}) == ["train"]


def test_an_unknown_macro_names_it_and_the_known_ones() -> None:
    with pytest.raises(ValueError) as caught:
        expand("train --lr=${learning_rate}", {"lr": 0.1, "momentum": 0.9})
    message = str(caught.value)
    assert "${learning_rate}" in message
    assert "${args}, ${args_no_hyphens}, ${args_json_file}" in message
    assert "lr, momentum" in message


def test_boolean_flags_are_bare_when_true_and_left_out_when_false() -> None:
    spec = CommandSpec(command="train ${args} -- ${args_no_hyphens} ${accel}", booleans="flag")
    config = {"no-accel": False, "accel": np.bool_(True), "lr": 0.1}
    assert expand_command(spec, config, JSON_FILE) == [
        "train",
        "--accel",
        "--lr=0.1",
        "--",
        "accel=True",
        "lr=0.1",
        "no-accel=False",
        "True",
    ]


def test_booleans_are_values_by_default() -> None:
    assert expand("train ${args}", {"accel": True, "cuda": False}) == [
        "train",
        "--accel=True",
        "--cuda=False",
    ]


def test_args_inside_a_larger_argument_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\$\{args\} expands to several arguments"):
        expand("train --flags=${args}", {"lr": 0.1})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1, "0.1"),
        (1e-5, "1e-05"),
        (3.0, "3.0"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (7, "7"),
        (True, "True"),
        (False, "False"),
        (None, "None"),
        ("relu", "relu"),
        ("two words", "two words"),
        ([64, 32], "[64, 32]"),
        (("a", 1), '["a", 1]'),
        ({"depth": 2}, '{"depth": 2}'),
        (np.float64(0.25), "0.25"),
        (np.int64(32), "32"),
        (np.bool_(True), "True"),
        (np.array([1, 2]), "[1, 2]"),
    ],
)
def test_values_are_written_so_that_a_script_reads_them_back(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_floats_survive_the_round_trip_through_argparse_float() -> None:
    for value in (0.1, 1 / 3, 1e-300, 123456789.123456789):
        assert float(format_value(value)) == value


# --- metric lines: key_value ------------------------------------------------------------------


def parse(line: str, metric: str = "val_loss", fmt: MetricsFormat = KEY_VALUE) -> Any:
    return parse_metric_line(line, metric, fmt)


def test_a_line_with_the_metric_brings_every_pair_on_it() -> None:
    line = "epoch 3: train_loss=0.41 val_loss=0.52\n"
    assert parse(line) == {"train_loss": 0.41, "val_loss": 0.52}


def test_epoch_followed_by_a_number_then_a_colon_is_no_pair() -> None:
    assert parse("epoch 3: val_loss=0.52", "epoch") is None
    assert parse("epoch: 3 val_loss: 0.52") == {"epoch": 3, "val_loss": 0.52}


def test_colon_and_equals_forms_with_spaces_and_separators() -> None:
    line = "Epoch 2/10 - loss: 0.3 - val_loss : 0.25, acc=0.9; lr = 1e-3 | top-1=0.7 (eval.f1=0.5)"
    assert parse(line) == {
        "loss": 0.3,
        "val_loss": 0.25,
        "acc": 0.9,
        "lr": 1e-3,
        "top-1": 0.7,
        "eval.f1": 0.5,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 1e-3),
        ("-2.5E+2", -250.0),
        (".5", 0.5),
        ("3.", 3.0),
        ("+4", 4),
        ("inf", math.inf),
        ("-Infinity", -math.inf),
    ],
)
def test_numbers(text: str, value: float) -> None:
    assert parse(f"val_loss={text}") == {"val_loss": value}


def test_nan_is_a_number() -> None:
    assert math.isnan(parse("val_loss=NaN")["val_loss"])


def test_integers_stay_integers() -> None:
    found = parse("step=100 val_loss=2")
    assert found == {"step": 100, "val_loss": 2}
    assert isinstance(found["step"], int)


def test_names_with_slashes_and_the_last_of_two_values() -> None:
    assert parse("val/loss=0.1 val/loss=0.2", "val/loss") == {"val/loss": 0.2}


@pytest.mark.parametrize(
    "line",
    [
        "training started at time: 12:30:01",
        "val_loss: 95%|###  | 95/100",  # a progress bar's percentage
        "val_loss=0.5/epoch",
        "val_loss=abc",
        "my_val_loss=0.5",
        "--val_loss=0.5",
        "",
        "loss=0.5 acc=0.9",
        '{"val_loss": "high"}',
    ],
)
def test_lines_without_the_metric_as_a_number_report_nothing(line: str) -> None:
    assert parse(line) is None


def test_other_numbers_of_a_metric_line_that_are_no_pairs_are_ignored() -> None:
    assert parse("[12:30:01] step 5 val_loss=0.5 time: 12:30") == {"val_loss": 0.5}


# --- metric lines: json and regex -------------------------------------------------------------


def test_json_line_brings_all_its_keys() -> None:
    line = '  {"val_loss": 0.5, "epoch": 3, "phase": "eval", "nested": {"a": 1}}\n'
    assert parse(line, fmt=JSON) == {
        "val_loss": 0.5,
        "epoch": 3,
        "phase": "eval",
        "nested": {"a": 1},
    }


@pytest.mark.parametrize(
    "line",
    [
        '{"loss": 0.5}',
        '{"val_loss": "low"}',
        '{"val_loss": null}',
        '{"val_loss": true}',
        "[0.5]",
        "{not json",
        "val_loss=0.5",
    ],
)
def test_json_lines_without_a_numeric_metric_report_nothing(line: str) -> None:
    assert parse(line, fmt=JSON) is None


def test_json_accepts_nan_as_python_writes_it() -> None:
    assert math.isnan(parse('{"val_loss": NaN}', fmt=JSON)["val_loss"])


def test_regex_named_groups_numbers_become_numbers() -> None:
    fmt = MetricsFormat(
        format="regex", pattern=r"\[(?P<phase>\w+)\] it (?P<it>\d+) err (?P<val_loss>\S+)"
    )
    assert parse("[eval] it 7 err 1e-2 (best)", fmt=fmt) == {
        "phase": "eval",
        "it": 7,
        "val_loss": 0.01,
    }
    assert parse("[train] it 7", fmt=fmt) is None


def test_regex_metric_group_that_is_no_number_reports_nothing() -> None:
    fmt = MetricsFormat(format="regex", pattern=r"val_loss (?P<val_loss>\w+)")
    assert parse("val_loss high", fmt=fmt) is None


def test_regex_optional_metric_group_that_did_not_match_reports_nothing() -> None:
    fmt = MetricsFormat(format="regex", pattern=r"loss (?P<loss>\S+)( val (?P<val_loss>\S+))?")
    assert parse("loss 0.3", fmt=fmt) is None
    assert parse("loss 0.3 val 0.4", fmt=fmt) == {"loss": 0.3, "val_loss": 0.4}


def test_regex_without_a_group_for_the_metric_says_so() -> None:
    fmt = MetricsFormat(format="regex", pattern=r"loss (?P<loss>\S+)")
    with pytest.raises(ValueError, match=r"no group named 'val_loss'.*its groups: loss"):
        parse("loss 0.3", fmt=fmt)


def test_expected_line_shows_the_format() -> None:
    assert expected_line("val_loss", KEY_VALUE) == "'val_loss=0.123'"
    assert expected_line("val_loss", JSON) == """'{"val_loss": 0.123}'"""
    assert "group 'acc'" in expected_line(
        "acc", MetricsFormat(format="regex", pattern="(?P<acc>.)")
    )
