"""Starting the dashboard: bad ports and hosts are one line, the printed URLs open it, a root
that is itself an experiment is served, a root without any says so, and a page opened before
its experiment exists waits for it."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from raytune_hpo.dashboard import folders
from raytune_hpo.dashboard.app import create_app
from raytune_hpo.dashboard.server import bind, start_path, urls
from raytune_hpo.errors import UserError
from raytune_hpo.layout import CONFIG_FILE
from raytune_hpo.storage.stamped import LocalStore


def experiment(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / CONFIG_FILE).write_text(f"name: {folder.name}\nmetric: loss\nmode: min\n")
    return folder


@pytest.mark.parametrize("port", [99999, -1, 65536])
def test_a_port_out_of_range_is_one_line(port: int) -> None:
    with pytest.raises(UserError, match=rf"^--port {port} is not a port: use 1 to 65535"):
        bind("127.0.0.1", port)


@pytest.mark.parametrize("host", ["no-such-host.invalid", "192.0.2.1"])
def test_a_host_that_is_not_this_machine_gets_no_port_hint(host: str) -> None:
    with pytest.raises(UserError, match=f"cannot listen on {host}:0: ") as raised:
        bind(host, 0)
    assert "--port" not in str(raised.value) and "--host takes" in str(raised.value)


def test_every_address_prints_urls_that_others_can_open() -> None:
    shown = urls("0.0.0.0", 8766)
    assert shown[0] == f"http://{socket.gethostname()}:8766/"
    assert not any("0.0.0.0" in url or "127." in url for url in shown), shown
    assert urls("::1", 80, "/x") == ["http://[::1]:80/x"]
    assert urls("127.0.0.1", 8766) == ["http://127.0.0.1:8766/"]


def test_the_command_says_a_bad_port_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "raytune_hpo.cli", "dashboard", str(tmp_path), "--port", "99999"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "raytune-hpo: error: --port 99999 is not a port: use 1 to 65535 (0: any free one)"
    ]


def test_a_root_that_is_an_experiment_is_served_under_its_name(tmp_path: Path) -> None:
    root = experiment(tmp_path / "results" / "quick")
    experiment(tmp_path / "results" / "beside")  # outside the root: never served
    store = folders.open_root(root)
    assert start_path(store) == ("/experiments/quick", None)
    client = TestClient(create_app(store))
    assert [row["name"] for row in client.get("/api/index").json()["rows"]] == ["quick"]
    assert client.get("/api/experiments/quick").json()["name"] == "quick"
    assert client.get("/experiments/quick").status_code == 200
    for path in ("/api/experiments/beside", "/api/experiments/quick/..", "/api/experiments/x"):
        assert client.get(path).status_code == 404, path


def test_a_root_without_experiments_says_so(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    path, note = start_path(folders.open_root(tmp_path))
    assert path == "/" and note is not None
    assert note.strip() == (
        f"no experiments or studies in {tmp_path} yet; the index lists them as runs write them"
    )
    assert start_path(LocalStore(experiment(tmp_path / "exp").parent)) == ("/", None)


def test_a_page_opened_before_its_experiment_exists_waits_for_it(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path))
    early = client.get("/experiments/later")
    assert early.status_code == 404 and 'data-page="experiment"' in early.text
    assert client.get("/api/experiments/later").status_code == 404  # the page polls it
    experiment(tmp_path / "later")
    assert client.get("/experiments/later").status_code == 200
    assert client.get("/api/experiments/later").json()["name"] == "later"
    refused = client.get("/experiments/%2e%2e")
    assert refused.status_code == 404 and refused.text == "not found"
