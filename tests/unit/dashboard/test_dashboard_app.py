"""The app's routes in process (Starlette's test client; the real server and browser are in
tests/integration/test_dashboard.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from raytune_hpo.dashboard.app import create_app, json_body, json_response
from raytune_hpo.dashboard.server import bind, is_loopback
from raytune_hpo.errors import UserError
from raytune_hpo.layout import CONFIG_FILE


def test_pages_are_served_and_unknown_names_are_404(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / CONFIG_FILE).write_text("name: exp\nmetric: loss\nmode: min\n")
    client = TestClient(create_app(tmp_path))
    assert client.get("/").status_code == 200
    assert client.get("/experiments/exp").status_code == 200
    assert client.get("/api/experiments/exp").json()["trial_rows"] == []
    assert client.get("/api/index").json()["rows"][0]["name"] == "exp"
    assert client.get("/static/plotly.min.js").status_code == 200
    for path in (
        "/experiments/nope",
        "/studies/exp",
        "/static/app.py",
        "/static/page.html/..",
        "/api/experiments/x/y",
    ):
        assert client.get(path).status_code == 404, path


def test_json_has_no_nan() -> None:
    body = json_response({"a": [float("nan"), 1.5, {"b": float("inf")}]}).body
    assert body == b'{"a":[null,1.5,{"b":null}]}'


def test_json_writes_numbers_of_any_kind_as_numbers() -> None:
    class Seconds(float):
        pass

    body = json_body({"a": Seconds(1.5), "b": np.float32(0.25), "c": np.int64(3), "d": 2**70})
    assert json.loads(body) == {"a": 1.5, "b": 0.25, "c": 3, "d": 2**70}
    assert json.loads(json_body({"path": Path("/x"), 1: "key"})) == {"path": "/x", "1": "key"}


def test_only_loopback_hosts_count_as_local() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_a_taken_port_is_one_clear_error() -> None:
    with bind("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)


def test_a_uri_root_is_served_through_pyarrow(tmp_path: Path) -> None:
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / CONFIG_FILE).write_text("name: exp\nmetric: loss\nmode: min\n")
    client = TestClient(create_app(f"file://{tmp_path}"))
    index = client.get("/api/index").json()
    assert index["root"] == f"file://{tmp_path}"
    assert [row["name"] for row in index["rows"]] == ["exp"]
    assert client.get("/api/experiments/exp").json()["trial_rows"] == []
    for path in ("/experiments/nope", "/api/experiments/exp/..", "/api/experiments/%2e%2e"):
        assert client.get(path).status_code == 404, path
