"""``summary`` of an experiment with several objectives: the front's table, its hypervolume
and reference point, the Pareto plot, and the tables W&B logs; on a made-up folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.image
import pytest

from raytune_hpo.analysis.fronts import front_tables
from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.config import validate_config
from raytune_hpo.console.summary import print_summary
from raytune_hpo.layout import PARETO_PNG
from tests.helpers.experiment_folders import write_experiment


def _report(at: float, loss: float, latency: float, memory: float = 0.0) -> tuple:
    return (at, {"loss": loss, "latency": latency, "memory": memory}, 1.0)


def _folder(root: Path, **extra: Any) -> Path:
    config = validate_config(
        {
            "name": "two_goals",
            "trainable": "my_code:train",
            "searcher": {"name": "random"},
            "search_space": {"learning_rate": {"loguniform": [0.01, 1.0]}},
            "metric": ["loss", "latency"],
            "mode": ["min", "min"],
            "constraints": {"memory": {"max": 1.0}},
            **extra,
        }
    ).model_dump()
    trials = {
        "slow": ("TERMINATED", [_report(1, 3.0, 3.0), _report(2, 1.0, 3.0)]),  # last counts
        "fast": ("TERMINATED", [_report(1, 3.0, 1.0)]),
        "middling": ("TERMINATED", [_report(2, 3.5, 3.5)]),
        "greedy": ("TERMINATED", [_report(3, 0.0, 0.0, memory=5.0)]),  # breaks memory
        "crashed": ("ERROR", [_report(3, 0.0, 0.5)]),
    }
    return write_experiment(root, config, trials)


def test_summary_prints_the_front_its_hypervolume_and_saves_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _folder(tmp_path)
    print_summary(path)
    out = capsys.readouterr().out
    lines = out.splitlines()
    start = lines.index("Pareto front (2 of 4 trials; each trial's last report):")
    header, first, second = lines[start + 1 : start + 4]
    assert header.split() == ["trial_id", "loss", "latency", "memory", "learning_rate"]
    assert first.split()[:3] == ["slow", "1", "3"] and second.split()[:3] == ["fast", "3", "1"]
    assert "constraints: 1 of 4 trials break one (never on the front)" in lines
    # Worst seen: loss 3.5, latency 3.5; slow covers 2.5 x 0.5, fast 0.5 x 2.5, overlap 0.25.
    assert "hypervolume 2.25 against (3.5, 3.5), the worst value seen per objective" in lines
    assert f"Pareto plot: {path / PARETO_PNG}" in lines
    assert matplotlib.image.imread(path / PARETO_PNG).shape[0] > 100


def test_the_configs_reference_point_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    print_summary(_folder(tmp_path, reference_point=[4, 4]))
    assert "hypervolume 5 against (4, 4), the config's reference_point" in capsys.readouterr().out


def test_w_and_b_gets_the_front_and_where_the_hypervolume_changed(tmp_path: Path) -> None:
    tables = front_tables(load_experiment(_folder(tmp_path)))
    assert tables["pareto_front"]["trial_id"].tolist() == ["slow", "fast"]
    history = tables["hypervolume"]
    # At 1 s: slow (3, 3) and fast (3, 1), 0.5 x 2.5; at 2 s slow's (1, 3) and middling's
    # (3.5, 3.5) the same second: 2.25; greedy at 3 s breaks memory and changes nothing.
    assert history["elapsed_s"].tolist() == [1.0, 2.0]
    assert history["hypervolume"].tolist() == pytest.approx([1.25, 2.25])


def test_one_objective_prints_no_front(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _folder(tmp_path, metric="loss", mode="min")
    print_summary(path)
    assert "Pareto front" not in capsys.readouterr().out
    assert not (path / PARETO_PNG).exists()
    assert front_tables(load_experiment(path)) == {}
