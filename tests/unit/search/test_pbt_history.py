"""The PBT history file read back, tabled and plotted (synthetic records and reports)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from matplotlib.figure import Figure

from raytune_hpo.analysis.pbt_history_plot import plot_pbt_history, save_pbt_plot
from raytune_hpo.layout import PBT_HISTORY_FILE, PBT_HISTORY_PLOT
from raytune_hpo.search.pbt_history import COLUMNS, history_callbacks, history_table, read_history
from raytune_hpo.search.schedulers import stored_perturbation

RECORDS = [
    {
        "time": 1000.0,
        "trial_id": "t0",
        "donor_id": "t1",
        "training_iteration": 2,
        "donor_iteration": 2,
        "old": {"lr": 0.01, "act": "relu"},
        "donor": {"lr": 0.1, "act": "tanh"},
        "new": {"lr": 0.08, "act": "relu"},
    },
    {
        "time": 1010.0,
        "trial_id": "t1",
        "donor_id": "t0",
        "training_iteration": 4,
        "donor_iteration": 3,
        "old": {"lr": 0.1, "act": "tanh"},
        "donor": {"lr": 0.08, "act": "relu"},
        "new": {"lr": 0.096, "act": "tanh"},
    },
]


def _write(folder: Path) -> None:
    (folder / PBT_HISTORY_FILE).write_text("".join(json.dumps(r) + "\n" for r in RECORDS))


def _reports() -> pd.DataFrame:
    rows = []
    for trial, lrs in {"t0": [0.01, 0.01, 0.08, 0.08], "t1": [0.1, 0.1, 0.1, 0.096]}.items():
        for epoch, lr in enumerate(lrs, start=1):
            rows.append(
                {
                    "trial_id": trial,
                    "training_iteration": epoch,
                    "score": epoch * lr,
                    "config/lr": lr,
                    "config/act": "relu" if trial == "t0" else "tanh",
                }
            )
    return pd.DataFrame(rows)


def test_history_is_one_row_per_perturbed_parameter(tmp_path: Path) -> None:
    _write(tmp_path)
    history = read_history(tmp_path)
    assert list(history.columns) == COLUMNS
    assert len(history) == 4
    lr = history[history["param"] == "lr"]
    assert list(lr["old"]) == [0.01, 0.1]
    assert list(lr["donor_value"]) == [0.1, 0.08]
    assert list(lr["new"]) == [0.08, 0.096]
    assert list(lr["trial_id"]) == ["t0", "t1"]


def test_no_file_means_no_perturbation(tmp_path: Path) -> None:
    history = read_history(tmp_path)
    assert history.empty and list(history.columns) == COLUMNS
    assert history_table(history).empty


def test_table_has_one_row_per_perturbation(tmp_path: Path) -> None:
    _write(tmp_path)
    table = history_table(read_history(tmp_path))
    assert list(table["trial_id"]) == ["t0", "t1"]
    assert list(table["lr"]) == ["0.01 -> 0.08", "0.1 -> 0.096"]
    assert list(table["act"]) == ["relu -> relu", "tanh -> tanh"]


def test_plot_has_a_panel_per_parameter_and_the_metric(tmp_path: Path) -> None:
    _write(tmp_path)
    history = read_history(tmp_path)
    figure = plot_pbt_history(_reports(), history, ["lr", "act"], "score")
    assert isinstance(figure, Figure)
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["lr", "act", "score"]
    lr_axis, _, metric_axis = figure.axes
    assert len(metric_axis.get_lines()) == 2
    # One step line per trial plus one marker per perturbation of the parameter.
    assert len(lr_axis.get_lines()) == 2 + 2
    path = save_pbt_plot(_reports(), history, ["lr", "act"], "score", tmp_path)
    assert path == tmp_path / PBT_HISTORY_PLOT and path.stat().st_size > 5_000


@pytest.mark.parametrize(
    ("scheduler", "keys"),
    [
        ({"name": "pbt", "hyperparam_mutations": {"lr": {"uniform": [0, 1]}}}, ["lr"]),
        ({"name": "pb2", "hyperparam_bounds": {"lr": [0, 1], "m": [0, 0.9]}}, ["lr", "m"]),
        ({"name": "asha"}, None),
        ({"name": "fifo"}, None),
    ],
)
def test_only_perturbing_schedulers_get_a_history_callback(
    scheduler: dict[str, Any], keys: list[str] | None
) -> None:
    perturbation = stored_perturbation(scheduler)
    if keys is None:
        assert perturbation is None and history_callbacks(perturbation) == []
        return
    (callback,) = history_callbacks(perturbation)
    assert callback.keys == keys and callback.on_record is None
    (told,) = history_callbacks(perturbation, on_record=print)
    assert told.on_record is print


@pytest.mark.parametrize("as_uri", [False, True])
def test_the_summary_prints_and_plots_the_history_where_the_experiment_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_uri: bool
) -> None:
    """A local folder, or the same folder as a ``file://`` URI read through pyarrow as an
    ``s3://`` one is (the S3 server's tests run whole experiments)."""
    from raytune_hpo import storage
    from raytune_hpo.console.summary import print_pbt_history

    _write(tmp_path)
    scheduler = {"name": "pb2", "hyperparam_bounds": {"lr": [0.001, 1.0]}}
    experiment = SimpleNamespace(
        config={"scheduler": scheduler},
        path=storage.as_location(f"file://{tmp_path}" if as_uri else tmp_path),
        reports=_reports(),
        metric="score",
    )
    print_pbt_history(experiment)
    out = capsys.readouterr().out
    assert "PB2 perturbations (2):" in out
    assert "0.01 -> 0.08" in out
    assert f"PB2 history plot: {experiment.path / PBT_HISTORY_PLOT}" in out
    assert (tmp_path / PBT_HISTORY_PLOT).stat().st_size > 5_000
