"""The dashboard's pictures in ``docs/pages/dashboard.md``, taken from real runs.

Runs a small experiment (a function of the user's, ASHA over 10 trials, one of which raises) and
a small study (random search and ASHA over the ``sleep`` trainable, two seeds each), serves
``raytune-hpo dashboard`` over them and saves a PNG of each page type with headless Chromium:
the index, the experiment, one trial and the study. Each PNG is cut to the top of its page and
reduced to 256 colours, so that it stays well under 300 KB.

Usage, from the repository root (needs Debian's ``chromium`` on PATH; about five minutes on
two cores)::

    python -m docs.screenshots           # writes docs/pages/img/dashboard*.png
    python -m docs.screenshots --out DIR
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from PIL import Image

from tests.helpers.browser import Browser, Page
from tests.helpers.dashboard import dashboard

IMG = Path(__file__).resolve().parent / "pages" / "img"
"""Where the docs' pictures live."""
WIDTH = 1280
"""The browser window's width in pixels; each picture is this wide."""
PICTURES = {
    # file -> (page path, what shows it is drawn, height in pixels; None: the whole page)
    "dashboard-index.png": ("/", '#rows a[href="/studies/study"]', 250),
    "dashboard.png": ("/experiments/descent", "#parcoords svg.parallel-axes", None),
    "dashboard-trial.png": ("/experiments/descent/trials/{trial}", "#metrics .main-svg", 660),
    "dashboard-study.png": ("/studies/study", "#anytime .main-svg", 880),
}
"""Each picture: its page, a CSS selector that is there once the page is drawn, its height."""

TRAINABLE = '''"""A user's training function: a noisy descent whose floor depends on its
hyperparameters; a rate above 0.6 with little momentum blows up at epoch 3."""

import math
import random
import time

from ray import tune


def descend(config):
    lr, momentum, width = config["learning_rate"], config["momentum"], config["width"]
    rng = random.Random(round(lr * 1e6))
    floor = 0.05 + 0.08 * (math.log10(lr) + 1.2) ** 2 + 0.1 * (1 - momentum) + 8 / width
    loss = 2.5
    for epoch in range(1, 1000):
        if lr > 0.6 and momentum < 0.5 and epoch == 3:
            raise RuntimeError(f"loss exploded at epoch {epoch}: lr={lr:.3f}")
        loss = floor + (loss - floor) * (0.55 + 0.25 * (1 - lr)) + rng.gauss(0, 0.01)
        time.sleep(1.0)  # Ray stamps each report with whole seconds
        tune.report({"validation_error": loss, "epoch": epoch})
'''


def write_yaml(path: Path, spec: dict) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def cli(*args: str) -> None:
    """``raytune-hpo ARGS``; an exit code of 1 (trials errored) is part of the picture."""
    done = subprocess.run([sys.executable, "-m", "raytune_hpo.cli", *args], check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"raytune-hpo {' '.join(args)} exited {done.returncode}")


def run_experiment(work: Path, root: Path) -> None:
    """The experiment ``descent``: ASHA over 10 trials of the user's ``descend``."""
    (work / "descent.py").write_text(TRAINABLE)
    spec = {
        "name": "descent",
        "trainable": f"{work / 'descent.py'}:descend",
        "metric": "validation_error",
        "mode": "min",
        "max_epochs": 10,
        "num_samples": 10,
        "seed": 3,
        "max_failed_trials": 2,
        "search_space": {
            "learning_rate": {"loguniform": [0.01, 1.0]},
            "momentum": {"uniform": [0.0, 0.95]},
            "width": {"choice": [32, 64, 128]},
        },
        "searcher": {"name": "random"},
        "scheduler": {"name": "asha", "grace_period": 3, "reduction_factor": 2},
        "resources_per_trial": {"cpu": 0.5},
        "storage_path": str(root),
    }
    cli("run", str(write_yaml(work / "descent.yaml", spec)), "--quiet")


def run_study(work: Path, root: Path, *flags: str) -> None:
    """The study ``study``: random search and ASHA over the ``sleep`` trainable, two seeds;
    ``flags`` go to ``raytune-hpo study`` (``--mlflow``)."""
    base = {
        "trainable": "sleep",
        "trainable_options": {"seconds_per_epoch": 0.3},
        "dataset": {"name": "digits", "data_dir": str(work / "data")},
        "max_epochs": 8,
        "num_samples": 8,
        "search_space": {"learning_rate": {"loguniform": [0.02, 1.0]}},
        "resources_per_trial": {"cpu": 0.5},
    }
    configs = [
        write_yaml(work / f"{name}.yaml", {**base, "name": name, "scheduler": scheduler})
        for name, scheduler in (
            ("random", {"name": "fifo"}),
            ("asha", {"name": "asha", "grace_period": 1, "reduction_factor": 2}),
        )
    ]
    cli("study", *map(str, configs), "--seeds", "2", "--budget-s", "30", "--name", "study",
        "--storage-path", str(root), "--quiet", *flags)  # fmt: skip


def best_trial(page: Page) -> str:
    """The best trial's id, as the experiment page marks it."""
    return str(page.evaluate('document.querySelector("tr.best .trial-id").textContent'))


def save(page: Page, drawn: str, path: Path, height: int | None) -> None:
    """The top ``height`` pixels of the page (None: all of it) once ``drawn`` is there, in 256
    colours."""
    page.wait_for(f"document.querySelector({drawn!r}) !== null", timeout_s=60)
    page.evaluate("new Promise(done => setTimeout(done, 1500))")  # plotly's transitions
    page.screenshot(path, height=height)
    with Image.open(path) as shot:
        reduced = shot.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)
    print(f"{path}: {path.stat().st_size // 1024} KB")


def take(root: Path, out: Path) -> None:
    """Serve the dashboard over ``root`` and save every picture of :data:`PICTURES`."""
    out.mkdir(parents=True, exist_ok=True)
    with dashboard(str(root)) as url, Browser(width=WIDTH, height=900) as browser:
        experiment = browser.open(url + "/experiments/descent")
        experiment.wait_for('document.querySelector("tr.best .trial-id") !== null', 60)
        trial = best_trial(experiment)
        for name, (path, drawn, height) in PICTURES.items():
            page = browser.open(url + path.format(trial=trial))
            save(page, drawn, out / name, height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG, help="folder of the PNGs (the docs')")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as temp:
        work = Path(temp)
        root = work / "results"
        run_experiment(work, root)
        run_study(work, root)
        take(root, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
