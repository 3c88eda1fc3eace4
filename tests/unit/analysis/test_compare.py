"""Comparison of experiments on synthetic folders whose answers are known by hand.

The folders hold the files ``raytune-hpo run`` writes (``raytune_hpo.yaml``, Ray's
``experiment_state-*.json`` and each trial's ``result.json``), with made-up reports at chosen
times, so every incumbent, ranking and time to target below is computed by hand.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from raytune_hpo import cli
from raytune_hpo.analysis import comparison_plots as plots
from raytune_hpo.analysis.compare import (
    ANYTIME_PNG,
    CURVES_PNG,
    HYPERVOLUME_PNG,
    anytime_curves,
    load_comparison,
    write_comparison,
)
from raytune_hpo.analysis.fronts import FROM_CONFIG, WORST_SEEN
from raytune_hpo.config import ConfigError, validate_config
from tests.helpers.experiment_folders import METRIC, Trials, write_experiment

RANDOM_SEED0: Trials = {
    "r0a": ("TERMINATED", [(1.0, 0.5, 0.9), (2.0, 0.3, 0.8)]),
    "r0b": ("TERMINATED", [(1.5, 0.4, 1.2), (3.0, 0.35, 1.1)]),
}
RANDOM_SEED1: Trials = {
    "r1a": ("TERMINATED", [(1.0, 0.6, 1.0), (4.0, 0.5, 1.0)]),
    "r1b": ("ERROR", [(2.5, 0.9, 2.0)]),
}
ASHA_SEED0: Trials = {
    "a0a": ("TERMINATED", [(0.5, 0.2, 0.5)]),
    "a0b": ("TERMINATED", [(1.0, 0.7, 0.7)]),
    "a0c": ("TERMINATED", []),  # never started: a time budget ended the experiment first
}
ASHA_SEED1: Trials = {"a1a": ("TERMINATED", [(2.0, 0.25, 1.5)])}


def _config(name: str, seed: int, scheduler: dict[str, Any], mode: str = "min") -> dict:
    raw = {
        "name": name,
        "seed": seed,
        "mode": mode,
        "search_space": {"learning_rate": {"loguniform": [0.01, 1.0]}},
        "scheduler": scheduler,
    }
    return validate_config(raw).model_dump()


@pytest.fixture
def folders(tmp_path: Path) -> list[Path]:
    """Two methods (random, asha) x two seeds."""
    asha = {"name": "asha", "grace_period": 1}
    return [
        write_experiment(tmp_path, _config("random_s0", 0, {"name": "fifo"}), RANDOM_SEED0),
        write_experiment(tmp_path, _config("random_s1", 1, {"name": "fifo"}), RANDOM_SEED1),
        write_experiment(tmp_path, _config("asha_s0", 0, asha), ASHA_SEED0),
        write_experiment(tmp_path, _config("asha_s1", 1, asha), ASHA_SEED1),
    ]


def test_runs_hold_final_incumbent_counts_and_time_to_target(folders: list[Path]) -> None:
    runs = load_comparison(folders, target=0.3).runs.set_index("experiment")

    assert runs["method"].to_dict() == {
        "random_s0": "random",
        "random_s1": "random",
        "asha_s0": "asha",
        "asha_s1": "asha",
    }
    assert runs["seed"].to_dict() == {"random_s0": 0, "random_s1": 1, "asha_s0": 0, "asha_s1": 1}
    assert runs["final"].to_dict() == pytest.approx(
        {"random_s0": 0.3, "random_s1": 0.5, "asha_s0": 0.2, "asha_s1": 0.25}
    )
    assert runs.loc["random_s1", ["trials_started", "trials_finished", "epochs"]].tolist() == [
        2,
        1,
        3,
    ]
    assert runs.loc["asha_s0", ["trials_started", "trials_finished", "epochs"]].tolist() == [
        2,
        2,
        2,
    ]
    assert runs["trials_errored"].to_dict() == {
        "random_s0": 0,
        "random_s1": 1,
        "asha_s0": 0,
        "asha_s1": 0,
    }
    assert runs.loc["random_s0", "worker_time_s"] == pytest.approx(4.0)
    assert runs.loc["random_s1", "wall_time_s"] == pytest.approx(4.0)
    assert runs.loc["random_s0", "time_to_target_s"] == pytest.approx(2.0)
    assert math.isnan(runs.loc["random_s1", "time_to_target_s"])
    assert runs.loc["asha_s0", "time_to_target_s"] == pytest.approx(0.5)


def test_method_table_ranks_by_mean_final_incumbent(folders: list[Path]) -> None:
    methods = load_comparison(folders, target=0.3).methods.set_index("method")

    assert methods["rank"].to_dict() == {"asha": 1, "random": 2}
    assert methods.loc["asha", ["runs", "best", "mean"]].tolist() == pytest.approx([2, 0.2, 0.225])
    assert methods.loc["random", ["best", "mean"]].tolist() == pytest.approx([0.3, 0.4])
    assert methods.loc["random", "std"] == pytest.approx(math.sqrt(0.02))
    assert methods.loc["random", "trials_started"] == pytest.approx(2.0)
    assert methods.loc["random", "trials_finished"] == pytest.approx(1.5)
    assert methods.loc["random", "epochs"] == pytest.approx(3.5)
    assert methods.loc["random", "reached_target"] == 1
    assert methods.loc["random", "time_to_target_s"] == pytest.approx(2.0)
    assert methods.loc["asha", "reached_target"] == 2
    assert methods.loc["asha", "time_to_target_s"] == pytest.approx(1.25)


def test_max_mode_ranks_the_other_way(tmp_path: Path) -> None:
    folders = [
        write_experiment(tmp_path, _config("low", 0, {"name": "fifo"}, "max"), RANDOM_SEED0),
        write_experiment(tmp_path, _config("high", 0, {"name": "asha"}, "max"), RANDOM_SEED1),
    ]
    comparison = load_comparison(folders)
    # 0.9 is the report of r1b, which errored: an errored trial is never the best
    assert comparison.runs.set_index("experiment")["final"].to_dict() == pytest.approx(
        {"low": 0.5, "high": 0.6}
    )
    assert comparison.methods["method"].tolist() == ["asha", "random"]


def test_tidy_reports_carry_running_incumbent(folders: list[Path]) -> None:
    reports = load_comparison(folders).reports
    seed0 = reports[reports["experiment"] == "random_s0"]
    assert seed0["elapsed_s"].tolist() == pytest.approx([1.0, 1.5, 2.0, 3.0])
    assert seed0["incumbent"].tolist() == pytest.approx([0.5, 0.4, 0.3, 0.3])
    assert set(reports["method"]) == {"random", "asha"}
    assert len(reports) == 3 + 4 + 2 + 1


def test_anytime_curves_on_a_common_grid(folders: list[Path]) -> None:
    curves = anytime_curves(load_comparison(folders).reports, points=5)
    random = curves[curves["method"] == "random"]
    asha = curves[curves["method"] == "asha"]

    # Grid 0, 1, 2, 3, 4 s; a method appears once all its seeds have reported.
    assert random["elapsed_s"].tolist() == pytest.approx([1.0, 2.0, 3.0, 4.0])
    assert random["mean"].tolist() == pytest.approx([0.55, 0.45, 0.45, 0.4])
    assert random["lo"].tolist() == pytest.approx([0.5, 0.3, 0.3, 0.3])
    assert random["hi"].tolist() == pytest.approx([0.6, 0.6, 0.6, 0.5])
    assert asha["elapsed_s"].tolist() == pytest.approx([2.0, 3.0, 4.0])
    assert asha["mean"].tolist() == pytest.approx([0.225] * 3)
    assert set(curves["runs"]) == {2}


def _assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert np.ptp(pixels[..., :3]) > 0.5, "the image is blank"


def test_plots_return_figures_with_one_line_per_method_and_trial(
    folders: list[Path], tmp_path: Path
) -> None:
    comparison = load_comparison(folders)
    curves = anytime_curves(comparison.reports, points=5)

    anytime = plots.plot_anytime(curves, METRIC, "min")
    assert isinstance(anytime, Figure)
    lines = {line.get_label(): line for line in anytime.axes[0].get_lines()}
    assert set(lines) == {"asha (2 seeds)", "random (2 seeds)"}
    assert list(lines["random (2 seeds)"].get_ydata()) == pytest.approx([0.55, 0.45, 0.45, 0.4])

    curves_figure = plots.plot_learning_curves(comparison.reports, METRIC)
    drawn = curves_figure.axes[0].get_lines()
    assert len(drawn) == 7  # every trial with a report
    colors = plots.method_colors(["random", "asha"])
    assert sum(line.get_color() == colors["asha"] for line in drawn) == 3

    for name, figure in (("a.png", anytime), ("c.png", curves_figure)):
        _assert_png(plots.save_figure(figure, tmp_path / name))


def test_plots_of_empty_frames_still_draw(tmp_path: Path) -> None:
    empty = anytime_curves(pd.DataFrame())
    _assert_png(plots.save_figure(plots.plot_anytime(empty, METRIC, "min"), tmp_path / "a.png"))
    figure = plots.plot_learning_curves(pd.DataFrame(), METRIC)
    _assert_png(plots.save_figure(figure, tmp_path / "c.png"))


def test_write_comparison_report_embeds_plots(folders: list[Path], tmp_path: Path) -> None:
    written = write_comparison(load_comparison(folders, target=0.3), tmp_path / "out")
    for key in ("anytime", "learning_curves"):
        _assert_png(written[key])
    report = written["report"].read_text()
    assert f"]({ANYTIME_PNG})" in report and f"]({CURVES_PNG})" in report
    assert "| 1 | asha | 2 | 0.2 | 0.225 |" in report
    tidy = pd.read_csv(written["reports"])
    assert len(tidy) == 10 and set(tidy["method"]) == {"random", "asha"}
    assert pd.read_csv(written["methods"])["method"].tolist() == ["asha", "random"]


def test_cli_compare_writes_report(
    folders: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cli_out"
    assert cli.main(["compare", *map(str, folders), "--out", str(out), "--target", "0.3"]) == 0
    assert "asha" in capsys.readouterr().out
    assert (out / "report.md").exists() and (out / "runs.csv").exists()


def test_cli_compare_rejects_a_folder_that_is_no_experiment(
    folders: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stray = tmp_path / "stray"
    stray.mkdir()
    assert cli.main(["compare", str(folders[0]), str(stray), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(stray) in err[0] and "not an experiment folder" in err[0]


def test_mixed_metrics_are_refused(folders: list[Path], tmp_path: Path) -> None:
    other = write_experiment(
        tmp_path / "other", _config("maxed", 0, {"name": "fifo"}, "max"), RANDOM_SEED0
    )
    with pytest.raises(ConfigError, match=r"maxed/raytune_hpo.yaml: metric: .*\(max\) differs"):
        load_comparison([folders[0], other])


def test_an_experiment_without_reports_is_listed_not_ranked_first(
    folders: list[Path], tmp_path: Path
) -> None:
    silent = write_experiment(
        tmp_path / "silent", _config("silent", 0, {"name": "median"}), {"m0": ("TERMINATED", [])}
    )
    comparison = load_comparison([*folders, silent])
    row = comparison.runs.set_index("experiment").loc["silent"]
    assert math.isnan(row["final"]) and row["trials_started"] == 0 and row["epochs"] == 0
    assert comparison.methods["method"].tolist() == ["asha", "random", "median"]
    written = write_comparison(comparison, tmp_path / "out")
    assert "| 3 | median | 1 | - | - |" in written["report"].read_text()


def test_errors_over_decades_are_drawn_on_a_log_axis() -> None:
    curves = pd.DataFrame(
        {
            "method": ["random"] * 3,
            "elapsed_s": [1.0, 2.0, 3.0],
            "mean": [0.9, 0.1, 0.03],
            "lo": [0.85, 0.08, 0.02],
            "hi": [0.95, 0.2, 0.05],
            "runs": [2, 2, 2],
        }
    )
    axes = plots.plot_anytime(curves, METRIC, "min").axes[0]
    assert axes.get_yscale() == "log" and axes.get_ylabel().endswith("log scale")
    scores = curves.assign(mean=[2.0, 4.0, 6.0], lo=[1.5, 3.5, 5.5], hi=[2.5, 4.5, 6.5])
    assert plots.plot_anytime(scores, "inception_score", "max").axes[0].get_yscale() == "linear"
    assert not plots.spans_decades([0.0, 0.5])  # zero: no log axis
    assert not plots.spans_decades([])


def _two_objectives(name: str, seed: int, scheduler: dict[str, Any], **extra: Any) -> dict:
    config = {**_config(name, seed, scheduler), **extra}
    return {**config, "metric": ["loss", "latency"], "mode": ["min", "min"]}


def _points(*reports: tuple[float, float, float]) -> list[tuple[float, dict[str, float], float]]:
    """Reports at (elapsed_s, loss, latency), one second of work each."""
    return [(at, {"loss": loss, "latency": latency}, 1.0) for at, loss, latency in reports]


def _two_objective_folders(root: Path, **extra: Any) -> list[Path]:
    """random (FIFO) and asha, two seeds each; the worst seen is loss 4, latency 4."""
    asha = {"name": "asha", "grace_period": 1}
    fifo = {"name": "fifo"}
    runs = (
        ("random_s0", 0, fifo, {"a": ("TERMINATED", _points((1, 2, 2))),
                                "b": ("TERMINATED", _points((2, 1, 3))),
                                "z": ("ERROR", _points((1.5, 0, 0)))}),
        ("random_s1", 1, fifo, {"c": ("TERMINATED", _points((1, 3, 1)))}),
        ("asha_s0", 0, asha, {"d": ("TERMINATED", _points((1, 0, 4))),
                              "e": ("TERMINATED", _points((3, 4, 0)))}),
        ("asha_s1", 1, asha, {"f": ("TERMINATED", _points((2, 1, 2)))}),
    )  # fmt: skip
    return [
        write_experiment(root, _two_objectives(name, seed, scheduler, **extra), trials)
        for name, seed, scheduler, trials in runs
    ]


def test_hypervolume_of_several_objectives_against_the_worst_seen_by_any_run(
    tmp_path: Path,
) -> None:
    comparison = load_comparison(_two_objective_folders(tmp_path))
    hypervolumes = comparison.hypervolumes
    assert hypervolumes is not None
    assert hypervolumes.reference == ((4.0, 4.0), WORST_SEEN)  # the errored trial's 0s left out
    final = comparison.runs.set_index("experiment")["hypervolume"].to_dict()
    # random_s0: (2,2) covers 2 x 2, (1,3) adds 1 x 1; asha_s0's points lie on the reference.
    assert final == pytest.approx({"random_s0": 5.0, "random_s1": 3.0, "asha_s0": 0.0,
                                   "asha_s1": 6.0})  # fmt: skip
    history = hypervolumes.history
    random_s0 = history[history["experiment"] == "random_s0"]
    assert random_s0["elapsed_s"].tolist() == [1.0, 2.0]
    assert random_s0["hypervolume"].tolist() == pytest.approx([4.0, 5.0])

    methods = comparison.methods.set_index("method")
    # asha's first objective is better (mean best loss 0.5 against 2), its hypervolume worse.
    assert comparison.methods["method"].tolist() == ["random", "asha"]
    assert methods.loc["random", "hypervolume"] == pytest.approx(4.0)
    assert methods.loc["asha", "hypervolume"] == pytest.approx(3.0)
    assert methods.loc["asha", "hypervolume_std"] == pytest.approx(math.sqrt(18.0))
    assert methods.loc["asha", "mean"] == pytest.approx(0.5)


def test_hypervolume_against_the_configs_reference_point(tmp_path: Path) -> None:
    comparison = load_comparison(_two_objective_folders(tmp_path, reference_point=[5.0, 5.0]))
    assert comparison.hypervolumes is not None
    assert comparison.hypervolumes.reference == ((5.0, 5.0), FROM_CONFIG)
    final = comparison.runs.set_index("experiment")["hypervolume"]
    assert final["random_s0"] == pytest.approx(9.0 + 8.0 - 6.0)
    assert final["asha_s0"] == pytest.approx(5.0 + 5.0 - 1.0)


def test_a_comparison_of_several_objectives_writes_the_hypervolume_plot(tmp_path: Path) -> None:
    comparison = load_comparison(_two_objective_folders(tmp_path / "runs"))
    written = write_comparison(comparison, tmp_path / "out")
    _assert_png(written["hypervolume"])
    history = pd.read_csv(written["hypervolume_history"])
    assert len(history) == 6 and set(history["method"]) == {"random", "asha"}
    report = written["report"].read_text()
    assert "## Hypervolume" in report and f"]({HYPERVOLUME_PNG})" in report
    assert "reference point (4, 4), the worst value seen per objective" in report
    assert "| 1 | random | 2 |" in report

    hypervolumes = comparison.hypervolumes
    assert hypervolumes is not None
    curves = anytime_curves(hypervolumes.history, points=5, column="hypervolume")
    figure = plots.plot_hypervolume(curves, hypervolumes.reference)
    lines = {line.get_label(): line for line in figure.axes[0].get_lines()}
    assert set(lines) == {"asha (2 seeds)", "random (2 seeds)"}
    # Grid 0, 0.75, ..., 3 s; from 1.5 s both seeds reported: random's mean (4+3)/2, (5+3)/2.
    assert list(lines["random (2 seeds)"].get_ydata()) == pytest.approx([3.5, 4.0, 4.0])


def test_one_objective_and_two_are_not_compared(tmp_path: Path) -> None:
    two = _two_objective_folders(tmp_path / "two")
    one = write_experiment(tmp_path / "one", _config("single", 0, {"name": "fifo"}), RANDOM_SEED0)
    said = r"validation_error \(min\) differs from loss \(min\), latency"
    with pytest.raises(ConfigError, match=said):
        load_comparison([two[0], one])
