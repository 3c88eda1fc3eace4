"""Big experiments: curves with fewer points than reports (the shape kept), and JSON sent
gzip-compressed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from raytune_hpo.dashboard.app import create_app
from raytune_hpo.dashboard.curves import curve
from raytune_hpo.dashboard.downsample import (
    MAX_POINTS,
    MIN_POINTS,
    kept_indices,
    points_per_curve,
)
from raytune_hpo.layout import CONFIG_FILE, RESULT_FILE


def test_a_short_curve_keeps_every_point() -> None:
    assert kept_indices([3.0, 1.0, None, 2.0], limit=4) == [0, 1, 2, 3]


def test_a_long_curve_keeps_its_ends_and_each_buckets_extremes() -> None:
    values: list[float | None] = [float(i % 7) for i in range(1000)]
    values[500], values[501] = -50.0, 99.0  # a dip and a peak next to each other
    kept = kept_indices(values, limit=40)
    assert len(kept) <= 40 and kept == sorted(set(kept))
    assert kept[0] == 0 and kept[-1] == 999
    assert 500 in kept and 501 in kept
    assert {values[i] for i in kept} >= {0.0, 6.0}  # each bucket's low and high


def test_indices_asked_for_stay_and_missing_values_are_never_picked_over_present_ones() -> None:
    values: list[float | None] = [None if i % 2 else float(i) for i in range(200)]
    kept = kept_indices(values, limit=10, keep=[7, 1000])
    assert 7 in kept and 1000 not in kept
    assert all(values[i] is not None for i in kept if i not in (7, 199))


def test_a_limit_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="limit=1"):
        kept_indices([1.0, 2.0, 3.0], limit=1)


@pytest.mark.parametrize(
    ("curves", "points"), [(1, MAX_POINTS), (100, 400), (1000, 40), (100_000, MIN_POINTS)]
)
def test_the_points_of_a_chart_are_shared_out_among_its_curves(curves: int, points: int) -> None:
    assert points_per_curve(curves) == points


def report(epoch: int, since_restore: int, lr: float) -> dict[str, Any]:
    return {
        "trial_id": "t",
        "training_iteration": epoch,
        "iterations_since_restore": since_restore,
        "loss": 1.0 / epoch,
        "timestamp": 1000 + epoch,
        "config": {"lr": lr},
    }


def test_a_downsampled_curve_keeps_its_restart_and_exploit_where_they_are() -> None:
    reports = [report(e, e if e < 60 else e - 59, 0.1 if e < 60 else 0.2) for e in range(1, 201)]
    whole = curve("t", reports, "loss", 1000.0)
    short = curve("t", reports, "loss", 1000.0, limit=20)
    assert len(whole["value"]) == whole["reports"] == short["reports"] == 200
    assert len(short["value"]) < 30
    assert short["epoch"][0] == 1 and short["epoch"][-1] == 200
    (restart,) = short["restarts"]
    (exploit,) = short["exploits"]
    assert short["epoch"][restart] == 60 and short["epoch"][exploit["index"]] == 60
    assert short["epoch"][restart - 1] == 59  # the line breaks right where it did
    assert exploit["change"] == {"lr": [0.1, 0.2]}
    assert short["elapsed_s"][restart] == 60.0


def test_json_goes_gzip_compressed_to_a_client_that_accepts_it(tmp_path: Path) -> None:
    (tmp_path / "exp" / "trial_t").mkdir(parents=True)
    (tmp_path / "exp" / CONFIG_FILE).write_text("name: exp\nmetric: loss\nmode: min\n")
    lines = [json.dumps(report(epoch, epoch, 0.1)) for epoch in range(1, 101)]
    (tmp_path / "exp" / "trial_t" / RESULT_FILE).write_text("\n".join(lines) + "\n")
    client = TestClient(create_app(tmp_path))
    url = "/api/experiments/exp"
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert zipped.json() == json.loads(plain.content)
