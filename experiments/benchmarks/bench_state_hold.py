"""How long a command trial is held per report while its state is taken, by state size.

A command trial's script is paused (SIGSTOP of its process group) from the moment the toolkit
reads its metric line until Ray Tune asks for the next result; meanwhile the state folder
``$RAYTUNE_HPO_CHECKPOINT_DIR`` is taken as the report's checkpoint (Ray copies it into the
trial's storage). This measures that hold end to end, as the script sees it, for a state of
0 MB (no state file: Ray's round trip alone), 1 MB and 100 MB, side by side in one run.

How: a tiny script, run as a command trial through ``raytune_hpo.run`` (one trial per size,
quiet output, its own local Ray), writes its state each round atomically (random bytes into a
temporary file in the state folder, then ``os.replace``), prints ``round=R loss=...`` and then
runs ``--sleep`` seconds of its own time in 1 ms sleeps, noting the longest gap between two
clock readings: the hold, which is one contiguous gap (a plain ``sleep`` would hide a hold
shorter than itself). Each trial makes ``--rounds`` + 1 reports and its first ``--rounds``
count: the last report lets the script run to its end instead of holding it. Sizes alternate
over ``--repeats``, the first rotating, to spread the noise of a shared machine. Printed: per
size the reports counted, the median and 95th percentile hold (ms), the median less the 0 MB
median, and the load average at the start and the end.

Run: ``.venv/bin/python experiments/benchmarks/bench_state_hold.py [--rounds 20 --repeats 2]``;
``--smoke``: 3 rounds, 0 and 1 MB, one repeat.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from _bench import finish, interleave, median, parse_args, print_header, scratch_dir

import raytune_hpo

SCRIPT = """
import os, sys, time
from pathlib import Path

args = dict(item.lstrip("-").split("=", 1) for item in sys.argv[1:])
size = int(float(args["size_mb"]) * 2**20)
state = Path(os.environ["RAYTUNE_HPO_CHECKPOINT_DIR"]) / "state.bin"
with open(args["out"], "a", buffering=1) as holds:
    for round in range(1, int(args["rounds"]) + 2):
        if size:
            state.with_suffix(".tmp").write_bytes(os.urandom(size))
            state.with_suffix(".tmp").replace(state)
        start = last = time.monotonic()
        print(f"round={round} loss={1 / round}", flush=True)
        longest = 0.0
        while last - start - longest < float(args["sleep"]):
            time.sleep(0.001)
            now = time.monotonic()
            longest, last = max(longest, now - last), now
        holds.write(f"{round} {longest - 0.001}\\n")
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--rounds", type=int, default=20, help="reports counted per trial")
    parser.add_argument("--repeats", type=int, default=2, help="trials per size, interleaved")
    parser.add_argument("--sleep", type=float, default=0.3, help="s the script runs per round")
    parser.add_argument(
        "--sizes", type=float, nargs="+", default=[0, 1, 100], help="state sizes in MB"
    )


@contextlib.contextmanager
def private_ray_tmpdir() -> Iterator[None]:
    """A Ray temp folder of our own for the block: the run starts its own local Ray rather
    than attach to one that ``ray start`` left on this shared machine; Ray is shut down and
    the folder removed afterwards."""
    import ray

    folder = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # short: Ray's socket paths are limited
    before = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = folder
    try:
        yield
    finally:
        ray.shutdown()
        if before is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = before
        shutil.rmtree(folder, ignore_errors=True)


def run_trial(root: Path, name: str, size_mb: float, args: argparse.Namespace) -> list[float]:
    """One command trial with a state of ``size_mb``; the holds (s) of its counted reports."""
    out = root / f"{name}.holds"
    config = {
        "name": name,
        "trainable": {"command": "python hold.py ${args}", "workdir": str(root / "code")},
        "metric": "loss",
        "mode": "min",
        "max_epochs": args.rounds + 1,
        "num_samples": 1,
        "search_space": {
            "size_mb": size_mb,
            "rounds": args.rounds,
            "sleep": args.sleep,
            "out": str(out),
        },
        "storage_path": str(root / "results"),
    }
    summary = io.StringIO()
    try:
        with contextlib.redirect_stdout(summary):
            raytune_hpo.run(config, output="quiet")
    except Exception:
        print(summary.getvalue())
        raise
    holds = [line.split() for line in out.read_text().splitlines()]
    counted = [float(hold) for round_, hold in holds if int(round_) <= args.rounds]
    if len(counted) != args.rounds:
        raise RuntimeError(f"{name}: {len(counted)} reports counted, {args.rounds} expected")
    shutil.rmtree(root / "results" / name, ignore_errors=True)  # 100 MB checkpoints
    return counted


def variants(
    root: Path, args: argparse.Namespace, holds: dict[str, list[float]]
) -> dict[str, Callable[[], float]]:
    """Size label -> one trial of that size, its holds added to ``holds``; its median (s)."""
    counter = iter(range(10**6))

    def trial(label: str, size_mb: float) -> Callable[[], float]:
        def one() -> float:
            found = run_trial(root, f"hold_{next(counter)}", size_mb, args)
            holds[label] += found
            return median(found)

        return one

    for size in args.sizes:
        holds[f"{size:g} MB"] = []
    return {f"{size:g} MB": trial(f"{size:g} MB", size) for size in args.sizes}


def print_table(holds: dict[str, list[float]]) -> dict[str, float]:
    """Per size: reports, median and p95 hold and the median less the first size's; figures."""
    base = median(holds[next(iter(holds))]) * 1000
    print(f"{'state':>9}{'reports':>9}{'median ms':>11}{'p95 ms':>9}{'extra ms':>10}")
    figures: dict[str, float] = {}
    for label, values in holds.items():
        ms = np.asarray(values) * 1000
        mid, p95 = float(np.median(ms)), float(np.percentile(ms, 95))
        print(f"{label:>9}{len(ms):>9}{mid:>11.1f}{p95:>9.1f}{mid - base:>10.1f}")
        key = label.replace(" ", "").lower()
        figures |= {f"hold_{key}_median_ms": mid, f"hold_{key}_p95_ms": p95}
        figures[f"hold_{key}_extra_ms"] = mid - base
    return figures


def load() -> str:
    """The load average over 1, 5 and 15 minutes."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    """Measure the hold per report for each state size, interleaved."""
    args = parse_args(__doc__, configure)
    if args.smoke:
        args.rounds, args.repeats, args.sizes = 3, 1, [0, 1]
    print_header("Command trials: hold per report while the state is taken, by state size")
    print(f"{args.rounds} reports x {args.repeats} trials per size, {args.sleep} s per round")
    print(f"load average at start: {load()}", flush=True)
    holds: dict[str, list[float]] = {}
    with scratch_dir() as root, private_ray_tmpdir():
        (root / "code").mkdir()
        (root / "code" / "hold.py").write_text(SCRIPT)
        interleave(variants(root, args, holds), args.repeats)
    print(f"load average at end: {load()}")
    figures = print_table(holds)
    finish(figures, f"hold_{args.sizes[-1]:g}mb_extra_ms")


if __name__ == "__main__":
    main()
