"""How fast the dashboard reads a huge experiment, and what TensorBoard files cost per report.

Writes one experiment folder of 1,000 trials x 100 reports (``--smoke``: 50 x 10) in the files'
real format: ``raytune_hpo.yaml``, ``best.json``, each trial's ``result.json`` (one JSON line per
report, as Ray writes it) and an ``experiment_state-*.json`` whose ``trial_data`` rows hold the
fields Ray writes, padded with blobs as large as the pickled fields of a real state file (about
12 kB per trial, measured on a real run). Then, through the real Starlette app in process:

- the index (``/api/index``): first request (nothing cached) and the median of later ones;
- the experiment's page data (``/api/experiments/NAME``): first request and later ones.

The goal is an index under 2 s: it reads the state file and ``best.json``, never the reports.

TensorBoard: Ray Tune's ``TBXLoggerCallback`` (what ``tensorboard_callbacks`` returns) logs the
same reports for one trial; the median time per report is its cost on the driver. The trial is a
stand-in with the three attributes the callback reads (a real ``Trial`` needs a running Ray
instance, whose start would dwarf what is measured).
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from _bench import finish, parse_args, print_header, timed
from starlette.testclient import TestClient

from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.app import create_app
from raytune_hpo.layout import BEST_FILE, CONFIG_FILE

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


def tensorboard_per_report(folder: Path, reports: int) -> float:
    """Median seconds ``TBXLoggerCallback`` takes to log one report of one trial."""
    from ray.tune.logger import TBXLoggerCallback

    params = {"learning_rate": 0.1, "activation": "relu"}
    trial = StandInTrial(str(folder / "tb_trial"), params)
    callback = TBXLoggerCallback()
    callback.log_trial_start(trial)  # type: ignore[arg-type]
    times = []
    for epoch in range(1, reports + 1):
        result = report("tb_00000", epoch, params, 1.0 / epoch)
        start = time.perf_counter()
        callback.log_trial_result(epoch, trial, result)  # type: ignore[arg-type]
        times.append(time.perf_counter() - start)
    callback.log_trial_end(trial)  # type: ignore[arg-type]
    return statistics.median(times)


def main() -> None:
    args = parse_args(__doc__)
    trials, reports, repeats = (50, 10, 2) if args.smoke else (1000, 100, 5)
    print_header(f"dashboard over {trials} trials x {reports} reports")
    with tempfile.TemporaryDirectory(prefix="bench_dashboard-") as scratch:
        root = Path(scratch)
        written, _ = timed(lambda: write_experiment(root / "huge", trials, reports))
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20
        print(f"wrote {size:.0f} MB in {written:.1f} s")
        client = TestClient(create_app(root))

        def get(path: str) -> Callable[[], Any]:
            def request() -> Any:
                response = client.get(path)
                response.raise_for_status()
                return response.json()

            return request

        rows = get("/api/index")()["rows"]
        assert rows[0]["trials"] == trials, rows
        index_first, index_later = first_and_later(get("/api/index"), repeats)
        page_first, page_later = first_and_later(get("/api/experiments/huge"), repeats)
        tb = tensorboard_per_report(root, 20 if args.smoke else 200)
    print(f"index: first {index_first:.3f} s, later {index_later:.3f} s (goal: under 2 s)")
    print(f"experiment page data: first {page_first:.3f} s, later {page_later:.3f} s")
    print(f"TensorBoard: {tb * 1e3:.3f} ms per report per trial (TBXLoggerCallback)")
    finish(
        {
            "index_later_s": index_later,
            "page_first_s": page_first,
            "page_later_s": page_later,
            "tensorboard_ms_per_report": tb * 1e3,
            "index_first_s": index_first,
        },
        "index_first_s",
    )


if __name__ == "__main__":
    main()
