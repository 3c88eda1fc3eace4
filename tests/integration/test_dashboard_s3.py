"""``raytune-hpo dashboard s3://...`` over the test's own S3-compatible server (moto).

One real run (the ``sleep`` trainable, 2 trials of 2 epochs) is uploaded to a bucket beside a
study of two copies of it; the dashboard, a real subprocess, serves the bucket by its URI with
the endpoint in the query. A trial uploaded later shows on the next poll. The server, with its
bucket and dummy credentials, is the ``s3`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from pyarrow import fs

from raytune_hpo.layout import CONFIG_FILE, STUDY_FILE
from tests.helpers.browser import Browser
from tests.helpers.dashboard import TRIAL_ID, dashboard, edit_config, needs_chromium, status_of
from tests.helpers.running import run_cli, write_sleep_config
from tests.helpers.s3_server import BUCKET, S3Server

pytestmark = pytest.mark.integration


def bucket_fs(s3: S3Server) -> fs.S3FileSystem:
    """The test's own client of the server."""
    return fs.S3FileSystem(
        endpoint_override=f"{s3.host}:{s3.port}",
        scheme="http",
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
    )


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, s3: S3Server) -> Path:
    """The real run ``quick``, uploaded to ``BUCKET/hpo/quick``, and a study of two copies."""
    base = tmp_path_factory.mktemp("dashboard_s3")
    config = write_sleep_config(base, "quick", str(base / "results"), epochs=2, trials=2)
    done = run_cli("run", str(config), "--quiet")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    quick = base / "results" / "quick"
    (quick / "printed_trial_ids.txt").write_text("\n".join(sorted(TRIAL_ID.findall(done.stdout))))
    store = bucket_fs(s3)
    fs.copy_files(str(quick), f"{BUCKET}/hpo/quick", destination_filesystem=store)
    study = base / "study"
    for run, scheduler in (("random_seed0", "fifo"), ("asha_seed0", "asha")):
        shutil.copytree(quick, study / run)
        edit_config(study / run, name=run, seed=0, scheduler={"name": scheduler})
    record = {"settings": {"configs": ["random.yaml", "asha.yaml"], "seeds": 1}, "finished": {}}
    (study / STUDY_FILE).write_text(json.dumps(record))
    fs.copy_files(str(study), f"{BUCKET}/hpo/study", destination_filesystem=store)
    return quick


@pytest.fixture(scope="module")
def server(s3: S3Server, local: Path) -> Iterator[str]:
    with dashboard(s3.uri(f"{BUCKET}/hpo")) as url:
        yield url


def get_json(url: str) -> Any:
    with urlopen(url, timeout=20) as response:
        return json.load(response)


def test_index_experiment_and_study_read_the_bucket(server: str, local: Path) -> None:
    rows = {row["name"]: row for row in get_json(server + "/api/index")["rows"]}
    assert set(rows) == {"quick", "study"}
    assert (rows["quick"]["status"], rows["quick"]["trials"]) == ("finished", 2)
    assert (rows["study"]["runs"], rows["study"]["trials"]) == (2, 4)
    data = get_json(server + "/api/experiments/quick")
    printed = (local / "printed_trial_ids.txt").read_text().split()
    assert [t["trial_id"] for t in data["trial_rows"]] == printed
    assert all(t["epochs"] == 2 for t in data["trial_rows"])
    assert data["best_trial"] == json.loads((local / "best.json").read_text())["trial_id"]
    study = get_json(server + "/api/studies/study")
    assert sorted(m["method"] for m in study["methods"]) == ["asha", "random"]
    assert {run["url"] for run in study["runs"]} == {
        "/experiments/study/random_seed0",
        "/experiments/study/asha_seed0",
    }
    assert status_of(server + "/experiments/study/asha_seed0") == 200


def test_a_trial_uploaded_later_shows_on_the_next_poll(
    server: str, s3: S3Server, local: Path
) -> None:
    store = bucket_fs(s3)
    first, second = sorted(p.parent for p in local.glob("*/result.json"))
    with store.open_output_stream(f"{BUCKET}/hpo/live/{CONFIG_FILE}") as out:
        out.write((local / CONFIG_FILE).read_bytes())
    fs.copy_files(str(first), f"{BUCKET}/hpo/live/{first.name}", destination_filesystem=store)
    polled = get_json(server + "/api/experiments/live")
    assert [t["status"] for t in polled["trial_rows"]] == ["running"]
    assert polled["status"] == "running"
    fs.copy_files(str(second), f"{BUCKET}/hpo/live/{second.name}", destination_filesystem=store)
    again = get_json(server + "/api/experiments/live")
    trial_ids = (local / "printed_trial_ids.txt").read_text().split()
    assert [t["trial_id"] for t in again["trial_rows"]] == trial_ids


@pytest.mark.parametrize(
    "path",
    [
        "/experiments/../../etc/passwd",
        "/experiments/%2e%2e/%2e%2e/etc/passwd",
        "/api/experiments/%2E%2E%2Fhpo%2Fquick",
        "/api/experiments/quick/..",
        "/api/experiments/quick/.",
        "/api/experiments/study//asha_seed0",
        "/api/experiments/study/asha_seed0/x",
        "/api/studies/quick",
        "/experiments/nope",
    ],
)
def test_names_outside_the_root_get_404(server: str, path: str) -> None:
    assert status_of(server + path) == 404


@needs_chromium
def test_a_browser_draws_the_experiment_from_the_bucket(server: str) -> None:
    with Browser() as browser:
        page = browser.open(server + "/experiments/quick")
        page.wait_for('document.querySelectorAll(".trial-id").length === 2')
        page.wait_for('document.querySelectorAll("#by-epoch .main-svg").length > 0')


@pytest.mark.parametrize("case", ["no_bucket", "unreachable"])
def test_a_store_that_fails_is_one_line_and_exit_2(s3: S3Server, case: str) -> None:
    uri = {
        "no_bucket": s3.uri("nobucket/hpo"),
        "unreachable": f"s3://{BUCKET}/hpo?endpoint_override=127.0.0.1:9&scheme=http",
    }[case]
    done = subprocess.run(
        [sys.executable, "-m", "raytune_hpo.cli", "dashboard", uri, "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    expected = {
        "no_bucket": "bucket 'nobucket' does not exist; create it, or correct the URI",
        "unreachable": "cannot reach the storage endpoint 127.0.0.1:9 (Connection refused)",
    }[case]
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"raytune-hpo: error: {uri}: {expected}\n"
    assert done.stdout == ""
