"""Peak memory of 2 concurrent LeNet trials against 1: is the data set held once?

Memory is the sum of PSS (proportional set size, from ``/proc/PID/smaps_rollup``) over the
driver and every process it started: Ray's services, its object store and the trial workers.
PSS splits each shared page among the processes that map it, so the object-store pages that
trials read without copying count once in the sum, and a copy per trial would count per trial.
It is sampled while the experiment runs, as the peak above the sum at its start; each
measurement has a fresh Ray instance (with ``--smoke``, one instance serves them all, and only
the tiny data set runs).

Each of 1 and 2 trials (1 epoch, 1 CPU each) runs on FashionMNIST-sized synthetic data and on
a tiny data set with the same batches (``TINY``). A second trial always costs one more worker
process (Python, torch, Ray); the tiny runs measure that cost, and what the second trial adds
because of the data is

    (peak 2 trials - peak 1 trial on full data) - (the same on tiny data).

The headline is that amount as a fraction of the data set's size (0 = held once, 1 = copied).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import threading
from collections.abc import Callable
from pathlib import Path

from _bench import (
    FASHION_SIZES,
    finish,
    fit_on_arrays,
    interleave,
    median,
    parse_args,
    print_header,
    print_samples,
    ray_session,
    scratch_dir,
    synthetic_dataset,
    synthetic_lenet_config,
)

MB = 2**20
TINY = {"train": 2048, "val": 2048, "test": 100}
"""The tiny data set: as many validation images as one evaluation batch (2048), so that a
trial's working memory (training and evaluation batches) is the same as on the full set."""


def descendants(root: int) -> list[int]:
    """``root`` and every process below it, from the parent ids in ``/proc``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def pss_bytes(pid: int) -> int:
    """PSS of one process in bytes (0 if it has exited)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_pss(root: int) -> int:
    """PSS summed over ``root`` and its descendants, in bytes."""
    return sum(pss_bytes(pid) for pid in descendants(root))


class PeakMemory(threading.Thread):
    """Samples the PSS sum of this process tree every ``interval`` seconds.

    Attributes:
        baseline: The sum when the ``with`` block was entered.
        peak: The largest sum seen.
    """

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.baseline = self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.peak = max(self.peak, tree_pss(self.root))

    def __enter__(self) -> PeakMemory:
        self.baseline = self.peak = tree_pss(self.root)
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_event.set()
        self.join()


def peak_mb(sizes: dict[str, int], trials: int, root: Path, fresh_ray: bool) -> Callable[[], float]:
    """Peak MB above the start of ``trials`` one-epoch trials side by side.

    Args:
        sizes: Image counts of ``train``, ``val`` and ``test``.
        trials: Trials that run at once.
        root: Scratch folder.
        fresh_ray: Start (and count) a fresh Ray instance; else use the running one.
    """
    counter = itertools.count()

    def run() -> float:
        data = synthetic_dataset(sizes["train"], sizes["val"], sizes["test"])
        cfg = synthetic_lenet_config(
            f"memory_{trials}_{sizes['train']}_{next(counter)}", root, trials, 1, {"cpu": 1}
        )
        session = ray_session(num_cpus=2) if fresh_ray else contextlib.nullcontext()
        with PeakMemory(os.getpid()) as sampler, session:
            fit_on_arrays(cfg, data)
        return (sampler.peak - sampler.baseline) / MB

    return run


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of this benchmark."""
    parser.add_argument("--repeats", type=int, default=2)


def main() -> None:
    """Measure 1 and 2 trials on full and tiny data and print the data's share."""
    args = parse_args(__doc__, configure)
    full = {k: v // (30 if args.smoke else 1) for k, v in FASHION_SIZES.items()}
    tiny = {k: min(v, TINY[k]) for k, v in full.items()}
    repeats, fresh_ray = (1, False) if args.smoke else (args.repeats, True)
    data_mb = synthetic_dataset(full["train"], full["val"], full["test"]).nbytes / MB
    print_header("Peak memory: 2 concurrent trials vs 1, data set shared or copied")
    print(f"data set: {full} images, {data_mb:.1f} MB; tiny: {tiny}; {repeats} repeats")
    shared_ray = contextlib.nullcontext() if fresh_ray else ray_session(num_cpus=2)
    # A smoke run's "full" set is the tiny one's size: it measures the tiny set alone, for both.
    data_sets = {"tiny": tiny} if args.smoke else {"full": full, "tiny": tiny}
    with scratch_dir() as root, shared_ray:
        samples = interleave(
            {
                f"{n}_trial_{label}": peak_mb(sizes, n, root, fresh_ray)
                for label, sizes in data_sets.items()
                for n in (1, 2)
            },
            repeats,
        )
    print_samples(samples, "MB above start")
    peaks = {name: median(values) for name, values in samples.items()}
    if args.smoke:
        peaks |= {f"{n}_trial_full": peaks[f"{n}_trial_tiny"] for n in (1, 2)}
    added = peaks["2_trial_full"] - peaks["1_trial_full"]
    worker = peaks["2_trial_tiny"] - peaks["1_trial_tiny"]
    finish(
        {
            "dataset_mb": data_mb,
            "second_trial_adds_mb": added,
            "second_worker_without_data_mb": worker,
            "second_trial_adds_for_data_mb": added - worker,
            "second_trial_adds_fraction_of_dataset": added / data_mb,
            "second_trial_data_fraction": (added - worker) / data_mb,
        },
        "second_trial_data_fraction",
    )


if __name__ == "__main__":
    main()
