"""How fast the dashboard reads and draws huge experiments, and what TensorBoard costs per report.

Writes two experiment folders in the files' real format, 1,000 trials x 100 reports and 10,000
trials x 10 reports (``--smoke``: 50 x 10 and 200 x 5): ``raytune_hpo.yaml``, ``best.json``,
each trial's ``result.json`` (one JSON line per report, as Ray writes it) and an
``experiment_state-*.json`` whose ``trial_data`` rows hold the fields Ray writes, padded with
blobs as large as the pickled fields of a real state file (about 12 kB per trial, measured on a
real run). Then, for each, through the real Starlette app in process:

- the index (``/api/index``): first request (nothing cached) and the median of later ones;
- the experiment's page data (``/api/experiments/NAME``): first request and later ones, its
  size as sent with gzip and without, and how many curve points it holds of the reports';
- with ``--draw`` (needs Debian's ``chromium``): the page in headless Chromium, served by a real
  ``raytune-hpo dashboard``, from opening the tab to its first draw done (fetch, parse, charts
  and table), and the time a click on a table header takes to sort the trials table again.

The goals: the index in at most 1 s at 10,000 trials; the page data of 1,000 x 100 in at most
1 s on its first request, and its first draw in at most 3 s.

TensorBoard: the logger ``tensorboard_callbacks`` returns (Ray Tune's ``TBXLoggerCallback`` with
writers that write one event per report) logs the same reports for one trial, then Ray's own
logger does; the median time per report is each one's cost on the driver. The trial is a
stand-in with the three attributes the callback reads (a real ``Trial`` needs a running Ray
instance, whose start would dwarf what is measured).
"""

from __future__ import annotations

import importlib.util
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from _bench import finish, parse_args, print_header, timed
from ray.tune.logger import TBXLoggerCallback
from starlette.testclient import TestClient

from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.app import create_app
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE
from raytune_hpo.ray_compat import tensorboard_files

REPO = Path(__file__).resolve().parents[2]
SIZES = {"huge": (1000, 100), "wide": (10_000, 10)}
"""The experiments measured: name -> (trials, reports per trial)."""
SMOKE_SIZES = {"huge": (50, 10), "wide": (200, 5)}

PAD = "80059" * 2000
"""Stand-in for the hex of Ray's pickled fields in a state file row (about 10 kB)."""


def report(trial_id: str, epoch: int, config: dict[str, Any], value: float) -> dict[str, Any]:
    now = 1.8e9 + epoch
    return {
        "validation_error": value, "epoch": epoch, "report_time": now, "node_ip": "192.0.2.2",
        "gpu_ids": "", "timestamp": int(now), "checkpoint_dir_name": None, "done": False,
        "training_iteration": epoch, "trial_id": trial_id, "date": "2026-12-05_12-00-00",
        "time_this_iter_s": 1.0, "time_total_s": float(epoch), "pid": 1, "hostname": "vm",
        "config": config, "time_since_restore": float(epoch), "iterations_since_restore": epoch,
    }  # fmt: skip


def write_experiment(folder: Path, trials: int, reports: int) -> None:
    """A finished experiment of ``trials`` x ``reports`` in the real files' format."""
    rng = random.Random(0)
    folder.mkdir(parents=True)
    config = {"name": folder.name, "metric": "validation_error", "mode": "min",
              "searcher": {"name": "random"}, "scheduler": {"name": "asha"}}  # fmt: skip
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(config))
    rows, best = [], (2.0, "")
    for index in range(trials):
        trial_id = f"bench_{index:05d}"
        params = {
            "learning_rate": rng.uniform(0.01, 1.0),
            "activation": rng.choice(["relu", "tanh"]),
        }
        values = [rng.random() / epoch for epoch in range(1, reports + 1)]
        logdir = f"train_{trial_id}_{index}"
        (folder / logdir).mkdir()
        lines = [json.dumps(report(trial_id, e, params, v)) for e, v in enumerate(values, 1)]
        (folder / logdir / "result.json").write_text("\n".join(lines) + "\n")
        trial = {
            "trial_id": trial_id,
            "status": "TERMINATED",
            "config": params,
            "relative_logdir": logdir,
            "storage": PAD,
            "placement_group_factory": PAD[:800],
        }
        runtime = {"start_time": 1.8e9, "num_failures": 0, "error_filename": None,
                   "last_result": report(trial_id, reports, params, values[-1]),
                   "metric_analysis": {"validation_error": {"min": min(values), "max": max(values),
                                                            "last": values[-1]}},
                   "metric_n_steps": PAD[:1200]}  # fmt: skip
        rows.append([json.dumps(trial), json.dumps(runtime)])
        best = min(best, (min(values), trial_id))
    state = {"trial_data": rows, "runner_data": "{}", "stats": "{}"}
    (folder / "experiment_state-2026-12-05_12-00-00.json").write_text(json.dumps(state))
    (folder / BEST_FILE).write_text(json.dumps({"trial_id": best[1], "validation_error": best[0]}))


def first_and_later(get: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Seconds of the first call (nothing cached) and the median of ``repeats`` later calls."""
    files.clear()
    first, _ = timed(get)
    return first, statistics.median(timed(get)[0] for _ in range(repeats))


@dataclass(eq=False)
class StandInTrial:
    """What ``TBXLoggerCallback`` reads of a trial."""

    local_path: str
    evaluated_params: dict[str, Any] = field(default_factory=dict)

    def init_local_path(self) -> None:
        Path(self.local_path).mkdir(parents=True, exist_ok=True)


def tensorboard_per_report(folder: Path, reports: int, callback: Any) -> float:
    """Median seconds a ``TBXLoggerCallback`` takes to log one report of one trial."""
    params = {"learning_rate": 0.1, "activation": "relu"}
    trial = StandInTrial(str(folder / f"tb_trial_{id(callback)}"), params)
    callback.log_trial_start(trial)  # type: ignore[arg-type]
    times = []
    for epoch in range(1, reports + 1):
        result = report("tb_00000", epoch, params, 1.0 / epoch)
        start = time.perf_counter()
        callback.log_trial_result(epoch, trial, result)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    callback.log_trial_end(trial)  # type: ignore[arg-type]
    return statistics.median(times)


def browser_module() -> Any:
    """The tests' headless Chromium driver (``tests/helpers/browser.py``, stdlib only), loaded
    from its file: the benchmarks run as scripts, outside the tests' package."""
    spec = importlib.util.spec_from_file_location("browser", REPO / "tests/helpers/browser.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def draw_seconds(root: Path, names: list[str]) -> dict[str, tuple[float, float]]:
    """Per experiment: seconds from opening its page in headless Chromium to its first draw
    done, and seconds a click on the trials table's first header takes to sort it again; served
    by a real ``raytune-hpo dashboard`` (nothing cached when each page opens)."""
    browser = browser_module()
    command = [sys.executable, "-m", "raytune_hpo.cli", "dashboard", str(root), "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        url = first.split(": ", 1)[1].split()[0].rstrip("/")
        found = {}
        with browser.Browser(width=1400, height=1000) as chromium:
            for name in names:
                start = time.perf_counter()
                page = chromium.open(f"{url}/experiments/{name}")
                page.wait_for("document.body.dataset.updates === '1'", timeout_s=300)
                drawn = time.perf_counter() - start
                sort = page.evaluate(
                    "(() => { const t = performance.now();"
                    " document.querySelector('#trials th').click();"
                    " return (performance.now() - t) / 1000; })()"
                )
                found[name] = (drawn, float(sort))
        return found
    finally:
        server.terminate()
        server.wait(timeout=30)


def page_figures(client: TestClient, name: str, repeats: int) -> dict[str, float]:
    """The page data of experiment ``name``: first and later request, bytes with and without
    gzip, curve points sent and reports read."""

    def get() -> Any:
        response = client.get(f"/api/experiments/{name}")
        response.raise_for_status()
        return response

    first, later = first_and_later(get, repeats)
    zipped = get()
    plain = client.get(f"/api/experiments/{name}", headers={"Accept-Encoding": "identity"})
    data = plain.json()
    points = sum(len(c["value"]) for c in data["curves"])
    reports = sum(t["epochs"] for t in data["trial_rows"])
    return {
        "first_s": first,
        "later_s": later,
        "gzip_mb": int(zipped.headers.get("content-length", len(zipped.content))) / 1e6,
        "plain_mb": len(plain.content) / 1e6,
        "encoding": 1.0 if zipped.headers.get("content-encoding") == "gzip" else 0.0,
        "points": points,
        "reports": reports,
    }


def parse_options() -> Any:
    return parse_args(
        __doc__,
        lambda parser: parser.add_argument(
            "--draw", action="store_true", help="draw each page in headless Chromium too"
        ),
    )


def measure(root: Path, name: str, sizes: dict[str, tuple[int, int]], repeats: int) -> dict:
    """The index (of experiment ``name`` alone: the others moved aside meanwhile) and the page
    data of ``name``, through the app in process."""
    aside = [other for other in sizes if other != name]
    for other in aside:
        (root / other).rename(root.parent / f"{root.name}-{other}")
    client = TestClient(create_app(root))

    def index() -> Any:
        response = client.get("/api/index")
        response.raise_for_status()
        return response.json()

    rows = index()["rows"]
    assert rows[0]["trials"] == sizes[name][0], rows
    index_first, index_later = first_and_later(index, repeats)
    page = page_figures(client, name, repeats)
    for other in aside:
        (root.parent / f"{root.name}-{other}").rename(root / other)
    print(
        f"{name}: index first {index_first:.3f} s, later {index_later:.3f} s; page data"
        f" first {page['first_s']:.3f} s, later {page['later_s']:.3f} s,"
        f" {page['gzip_mb']:.2f} MB gzip ({page['plain_mb']:.2f} MB plain),"
        f" {page['points']:.0f} curve points of {page['reports']:.0f} reports"
    )
    return {"index_first_s": index_first, "index_later_s": index_later} | {
        f"page_{key}": value for key, value in page.items()
    }


def main() -> None:
    args = parse_options()
    sizes, repeats = (SMOKE_SIZES, 2) if args.smoke else (SIZES, 5)
    shapes = ", ".join(f"{name}: {t} trials x {r} reports" for name, (t, r) in sizes.items())
    print_header(f"dashboard over {shapes}")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench_dashboard-") as scratch:
        root = Path(scratch)
        for name, (trials, reports) in sizes.items():
            folder = root / name
            written, _ = timed(partial(write_experiment, folder, trials, reports))
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
            print(f"{name}: wrote {size:.0f} MB in {written:.1f} s")
        for name in sizes:
            figures |= {f"{name}_{k}": v for k, v in measure(root, name, sizes, repeats).items()}
        if args.draw:
            for name, (drawn, sort) in draw_seconds(root, list(sizes)).items():
                print(f"{name}: first draw in Chromium {drawn:.2f} s, a sort {sort:.3f} s")
                figures |= {f"{name}_draw_s": drawn, f"{name}_sort_s": sort}
        reports = 20 if args.smoke else 200
        tb = tensorboard_per_report(root, reports, tensorboard_files.tensorboard_logger())
        rays_tb = tensorboard_per_report(root, reports, TBXLoggerCallback())
    print(
        f"TensorBoard: {tb * 1e3:.3f} ms per report per trial (Ray's own TBXLoggerCallback"
        f" {rays_tb * 1e3:.3f} ms)"
    )
    figures["tensorboard_ms_per_report"] = tb * 1e3
    figures["rays_tensorboard_ms_per_report"] = rays_tb * 1e3
    figures["huge_page_first_s"] = figures.pop("huge_page_first_s")
    finish(figures, "huge_page_first_s")


if __name__ == "__main__":
    main()
