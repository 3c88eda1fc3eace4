"""The picture of MLflow's UI in ``docs/pages/tracking.md``, taken from a real study.

Runs the dashboard pictures' small study with ``--mlflow`` (random search and ASHA over the
``sleep`` trainable, two seeds each, logged into the study folder's local MLflow store), serves
``mlflow ui`` over that store on 127.0.0.1 and saves its runs page with headless Chromium, cut
to the table and reduced to 256 colours (well under 300 KB).

Usage, from the repository root (needs the ``mlflow`` extra and Debian's ``chromium`` on PATH;
about four minutes on two cores)::

    python -m docs.mlflow_screenshot           # writes docs/pages/img/mlflow_study.png
    python -m docs.mlflow_screenshot --out DIR
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from docs.screenshots import IMG, WIDTH, run_study, save
from tests.helpers.browser import Browser

PICTURE = "mlflow_study.png"
HEIGHT = 620
"""The picture's height in pixels: the runs table with its first rows."""


def study_store(work: Path, root: Path) -> Path:
    """The study ``study`` of the dashboard's pictures, logged to MLflow; the SQLite file of
    its local store."""
    run_study(work, root, "--mlflow")
    return root / "study" / "mlflow" / "mlflow.db"


@contextlib.contextmanager
def mlflow_ui(database: Path) -> Iterator[str]:
    """``mlflow ui`` over ``database`` on a free loopback port; its URL while the block runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [str(Path(sys.executable).with_name("mlflow")), "ui", "--backend-store-uri"]
    server = subprocess.Popen(
        [*command, f"sqlite:///{database}", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def take(database: Path, out: Path) -> None:
    """Serve ``mlflow ui`` over ``database`` and save the study's runs page."""
    from mlflow import MlflowClient

    out.mkdir(parents=True, exist_ok=True)
    with mlflow_ui(database) as url, Browser(width=WIDTH, height=900) as browser:
        experiment = MlflowClient(url).get_experiment_by_name("study")
        runs = f"{url}/#/experiments/{experiment.experiment_id}/runs"
        page = browser.open(f"{runs}?workflowType=machine_learning")  # not GenAI's traces
        drawn = 'document.body.innerText.includes("random_seed1")'
        page.wait_for(drawn, timeout_s=90)
        page.evaluate("new Promise(done => setTimeout(done, 2000))")
        save(page, "body", out / PICTURE, HEIGHT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder of the PNG (the docs')")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mlflow-screenshot-") as temp:
        take(study_store(Path(temp), Path(temp, "results")), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
