"""Python's cyclic garbage collector waits while the dashboard builds a page's JSON
(:mod:`raytune_hpo.gc_pause`), and runs again once no request is in flight."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from raytune_hpo.dashboard.app import create_app
from raytune_hpo.gc_pause import gc_paused
from raytune_hpo.storage.stamped import LocalStore


@pytest.fixture(autouse=True)
def collector_running() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_waits_inside_and_runs_after() -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_requests_resume_it_only_when_the_last_ends() -> None:
    first_in, second_done = threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_done.wait(timeout=30)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=first)
    thread.start()
    first_in.wait(timeout=30)
    with gc_paused():
        pass
    seen.append(gc.isenabled())  # the first request is still in flight
    second_done.set()
    thread.join(timeout=30)

    assert seen == [False, False]
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


class RecordingStore(LocalStore):
    """A local folder that notes whether the collector ran as each file was read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.collector_on_at_reads: list[bool] = []

    def read(self, path: str) -> bytes:
        self.collector_on_at_reads.append(gc.isenabled())
        return super().read(path)


def test_the_pages_json_is_read_with_the_collector_paused(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "raytune_hpo.yaml").write_text("name: exp\nmetric: loss\nmode: min\n")
    (folder / "t1").mkdir()
    (folder / "t1" / "result.json").write_text(
        '{"trial_id": "t1", "training_iteration": 1, "loss": 0.5}\n'
    )
    store = RecordingStore(tmp_path)
    client = TestClient(create_app(store))

    response = client.get("/api/experiments/exp")

    assert response.status_code == 200, response.text
    assert response.json()["trial_rows"][0]["trial_id"] == "t1"
    assert store.collector_on_at_reads and not any(store.collector_on_at_reads)
    assert gc.isenabled()
