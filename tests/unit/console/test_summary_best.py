"""The best trial's lines of ``summary``, from ``best.json``."""

from __future__ import annotations

import pytest

from raytune_hpo.console.summary import print_best


def test_the_best_trial_its_config_and_test_split(capsys: pytest.CaptureFixture[str]) -> None:
    best = {"trial_id": "t1", "loss": 0.25, "config": {"lr": 0.1}, "test": {"loss": 0.3}}
    print_best(best, "loss")
    assert capsys.readouterr().out.splitlines() == [
        "best trial t1: loss = 0.25",
        "best config: {'lr': 0.1}",
        "test split: loss = 0.3",
    ]


def test_a_best_json_without_a_config_still_names_the_trial(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_best({"trial_id": "t1", "loss": 0.25}, "loss")
    assert capsys.readouterr().out.splitlines() == ["best trial t1: loss = 0.25"]
