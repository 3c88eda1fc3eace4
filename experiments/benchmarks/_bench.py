"""What the benchmarks in this folder share: arguments, machine facts, interleaved timing,
medians, synthetic FashionMNIST-sized data, a quiet Ray session and the closing report.

Every benchmark prints its figures, the command line that produced them, and last a headline
``name: value`` line that scripts (and the smoke test) read.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from raytune_hpo import os_processes
from raytune_hpo.cluster import warm
from raytune_hpo.demos.datasets import IMAGE_SIZE, DatasetArrays

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
"""The repository root (configs/ lives there)."""

FASHION_SIZES = {"train": 54_000, "val": 6_000, "test": 10_000}
"""FashionMNIST's 60,000 training images split 90/10 as the toolkit does, and its test split."""


def parse_args(
    description: str, configure: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """Parse ``--smoke`` and the benchmark's own options.

    Args:
        description: The ``--help`` text (the script's docstring).
        configure: Adds the script's own arguments.
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    if configure is not None:
        configure(parser)
    return parser.parse_args()


def command_line() -> str:
    """The command that started this script, as one could type it again."""
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(Path.cwd())
    return shlex.join(["python", str(script), *sys.argv[1:]])


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else the platform's answer)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def gpu_model() -> str:
    """The first GPU's name, or ``no GPU``.

    Asked of torch when the script imported it already, else of ``nvidia-smi``: a script whose
    trials need no torch does not pay seconds for importing it to print this line.
    """
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return "no GPU"
    listed = subprocess.run(
        [smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True
    )
    names = listed.stdout.strip().splitlines() if listed.returncode == 0 else []
    return names[0] if names else "no GPU"


def machine() -> str:
    """One line: CPUs, CPU model, GPU, and the versions that matter."""
    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}), {gpu_model()}, Python "
        f"{platform.python_version()}, torch {metadata.version('torch')}, "
        f"ray {metadata.version('ray')}"
    )


def print_header(title: str) -> None:
    """Title, date, machine and command, before any measurement."""
    print(f"== {title}")
    print(f"date: {dt.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine: {machine()}")
    print(f"command: {command_line()}", flush=True)


def timed(function: Callable[[], T]) -> tuple[float, T]:
    """Wall-clock seconds of one call and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


@dataclasses.dataclass(frozen=True)
class CommandRun:
    """One command run to its exit: wall seconds, the process's own peak RSS, its stdout lines,
    its own CPU seconds and the whole machine's while it ran (Ray's services and workers too)."""

    seconds: float
    peak_rss_mb: float
    stdout_lines: int
    cpu_s: float = 0.0
    machine_cpu_s: float = 0.0


TICKS = os.sysconf("SC_CLK_TCK")
"""Clock ticks per second, the unit of ``/proc``'s CPU times."""


def process_cpu_s(pid: int) -> float | None:
    """User and system CPU seconds of a running process (``/proc/PID/stat``), without its
    children."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return None


def machine_cpu_s() -> float:
    """CPU seconds every core of the machine has been busy since boot (``/proc/stat``: all but
    idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


def peak_rss_mb(pid: int) -> float | None:
    """Linux's high-water mark of a process's resident memory (``VmHWM``), in MB, while it runs."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def run_command(args: Sequence[str], env: Mapping[str, str], poll_s: float = 0.2) -> CommandRun:
    """Run ``args`` from the repository root to its exit; raise if it fails.

    The peak RSS and CPU seconds are those of the started process alone (the driver, not Ray's
    services or workers), read from ``/proc`` every ``poll_s`` until it exits: both only grow,
    so the last reading misses at most the final ``poll_s``; the machine's CPU seconds count
    every process (on a shared machine, others' too). Stdout goes to a file (a pipe, not a
    terminal, as in a CI log) whose lines are counted; stderr is dropped.
    """
    with tempfile.TemporaryFile("w+") as stdout:
        start, busy = time.perf_counter(), machine_cpu_s()
        process = subprocess.Popen(
            list(args), cwd=REPO, env=dict(env), stdout=stdout, stderr=subprocess.DEVNULL
        )
        peak = cpu = 0.0
        while process.poll() is None:
            peak = max(peak, peak_rss_mb(process.pid) or 0.0)
            cpu = process_cpu_s(process.pid) or cpu
            time.sleep(poll_s)
        seconds, busy = time.perf_counter() - start, machine_cpu_s() - busy
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, list(args))
        stdout.seek(0)
        return CommandRun(seconds, peak, sum(1 for _ in stdout), cpu, busy)


def interleave(
    variants: Mapping[str, Callable[[], float]], repeats: int, offset: int = 0
) -> dict[str, list[float]]:
    """Measure every variant ``repeats`` times, round-robin, rotating who goes first.

    Each callable runs once and returns its measurement (e.g. seconds). Interleaving spreads
    the load of a shared machine evenly over the variants; compare their medians.

    Args:
        variants: Name -> one measurement.
        repeats: Rounds.
        offset: Rotation of the first round (callers that loop over rounds themselves).
    """
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = (repeat + offset) % len(names)
        for name in names[shift:] + names[:shift]:
            value = variants[name]()
            samples[name].append(value)
            print(f"  repeat {repeat + 1}/{repeats} {name}: {value:.3f}", flush=True)
    return samples


def median(values: Sequence[float]) -> float:
    """The median (``nan`` for no values)."""
    return statistics.median(values) if values else math.nan


def paired_ratio(samples: Mapping[str, Sequence[float]], numerator: str, denominator: str) -> float:
    """Median over repetitions of ``numerator[i] / denominator[i]``.

    The two runs of one repetition ran back to back, so on a machine whose load comes and goes
    their ratio is steadier than the ratio of the two medians.
    """
    pairs = zip(samples[numerator], samples[denominator], strict=True)
    return median([a / b for a, b in pairs])


def print_samples(samples: Mapping[str, Sequence[float]], unit: str) -> None:
    """One line per variant: median, min, max and count."""
    for name, values in samples.items():
        print(
            f"{name}: median {median(values):.3f} {unit} "
            f"(min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"
        )


def finish(figures: Mapping[str, float], headline: str) -> None:
    """Print the figures, the command line again, and last ``headline: value``.

    Args:
        figures: Named figures, printed in order; must contain ``headline``.
        headline: The figure printed last, the one scripts read.
    """
    print("-- figures")
    for name, value in figures.items():
        if name != headline:
            print(f"{name}: {value:.4g}")
    print(f"command: {command_line()}")
    print(f"{headline}: {figures[headline]:.4g}", flush=True)


# --- data -------------------------------------------------------------------------------------


def synthetic_images(count: int, seed: int, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Learnable 28x28 ``uint8`` images: one random template per class plus noise.

    Returns:
        Images ``(count, 28, 28)`` as ``uint8`` (as torchvision stores MNIST) and int64 labels.
    """
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(num_classes, IMAGE_SIZE, IMAGE_SIZE))
    labels = rng.integers(0, num_classes, size=count)
    noise = rng.integers(0, 256, size=(count, IMAGE_SIZE, IMAGE_SIZE))
    images = (0.6 * templates[labels] + 0.4 * noise).astype(np.uint8)
    return images, labels.astype(np.int64)


def to_float_images(images: np.ndarray) -> np.ndarray:
    """``uint8 (N, 28, 28)`` -> ``float32 (N, 1, 28, 28)`` in [0, 1], the toolkit's layout."""
    return np.ascontiguousarray(images[:, None].astype(np.float32) / np.float32(255.0))


def synthetic_dataset(train: int, val: int, test: int, seed: int = 0) -> DatasetArrays:
    """A :class:`DatasetArrays` of synthetic images in the toolkit's layout."""
    x, y = synthetic_images(train + val + test, seed)
    x = to_float_images(x)
    cut = (train, train + val)
    return DatasetArrays(
        x_train=x[: cut[0]],
        y_train=y[: cut[0]],
        x_val=x[cut[0] : cut[1]],
        y_val=y[cut[0] : cut[1]],
        x_test=x[cut[1] :],
        y_test=y[cut[1] :],
        num_classes=10,
    )


# --- Ray --------------------------------------------------------------------------------------


@contextlib.contextmanager
def ray_session(
    num_cpus: int | None = None, num_gpus: int | None = None, *, preload_torch: bool = True
) -> Iterator[float]:
    """A fresh local Ray instance, set up as the toolkit starts one, for the ``with`` block.

    Args:
        num_cpus: CPUs Ray may use; None: all.
        num_gpus: GPUs Ray may use; None: all.
        preload_torch: Every worker imports torch as it starts, as for the built-in trainables
            that need it; off for trials without torch (``sleep``, commands), as the toolkit
            starts its own Ray for those.

    Yields the seconds ``ray.init`` took.
    """
    import ray

    from raytune_hpo.cluster import LOCAL_SYSTEM_CONFIG
    from raytune_hpo.layout import PRELOAD_ENV

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ[PRELOAD_ENV] = "1" if preload_torch else "0"  # the workers inherit it
    seconds, _ = timed(
        lambda: ray.init(
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            include_dashboard=False,
            logging_level="ERROR",
            log_to_driver=False,
            _system_config=LOCAL_SYSTEM_CONFIG,
        )
    )
    try:
        yield seconds
    finally:
        ray.shutdown()


def settle_ray(timeout_s: float = 10.0) -> None:
    """Wait (at most ``timeout_s``) until every CPU and GPU of Ray is free again.

    Ray hands back a finished experiment's resources a moment after ``fit`` returns; a run
    started at once would find one worker slot still taken and start its workers staggered.
    Each measured run starts from a settled instance.
    """
    import ray

    total = ray.cluster_resources()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        free = ray.available_resources()
        if all(free.get(key, 0) >= total.get(key, 0) for key in ("CPU", "GPU")):
            return
        time.sleep(0.05)


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temporary folder for experiment storage and data, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="raytune_hpo_bench_") as name:
        yield Path(name)


@contextlib.contextmanager
def kept_warm_ray() -> Iterator[tuple[str, str]]:
    """A Ray started with ``raytune-hpo warm`` (2 CPUs) in a Ray temp folder of its own.

    Yields that folder (``RAY_TMPDIR`` of the commands that should find the Ray) and the Ray's
    address; ``raytune-hpo warm --stop`` ends it after the block, and anything left of it is
    killed.
    """
    temp = tempfile.mkdtemp(prefix="rk", dir="/tmp")  # short: Ray's socket paths are limited
    env = {**os.environ, "RAY_TMPDIR": temp}
    command = [sys.executable, "-m", "raytune_hpo.cli", "warm"]
    try:
        started = subprocess.run(
            [*command, "--num-cpus=2"], env=env, capture_output=True, text=True, timeout=300
        )
        if started.returncode != 0:
            raise RuntimeError(f"raytune-hpo warm failed:\n{started.stdout}{started.stderr}")
        print(started.stdout.strip(), flush=True)
        record = json.loads((Path(temp) / "ray" / warm.RECORD).read_text())
        yield temp, record["address"]
    finally:
        subprocess.run([*command, "--stop"], env=env, capture_output=True, timeout=120)
        os_processes.end(os_processes.with_descendants(os_processes.processes_naming(temp)), 0.0)
        shutil.rmtree(temp, ignore_errors=True)


def load_config_file(relative: str, overrides: Sequence[str], smoke: bool) -> Any:
    """An experiment config from a file of ``configs/`` with ``--set`` style overrides.

    Args:
        relative: Path below the repository root, e.g. ``configs/lenet/asha.yaml``.
        overrides: ``KEY=VALUE`` strings.
        smoke: Shrink it as ``raytune-hpo run --smoke`` does.
    """
    from raytune_hpo.config import load_config
    from raytune_hpo.config import smoke as smoke_config

    cfg = load_config(REPO / relative, overrides)
    return smoke_config(cfg) if smoke else cfg


def synthetic_lenet_config(
    name: str, root: Path, trials: int, epochs: int, resources: Mapping[str, float]
) -> Any:
    """A LeNet experiment with fixed hyperparameters, for runs on :func:`synthetic_dataset`.

    Args:
        name: Experiment name (folder under ``root/results``).
        root: Scratch folder.
        trials: ``num_samples``: trials that run side by side when resources allow.
        epochs: Epochs per trial; one checkpoint, at the end.
        resources: ``resources_per_trial``, e.g. ``{"cpu": 1, "gpu": 0.25}``.
    """
    from raytune_hpo.config import validate_config

    return validate_config(
        {
            "name": name,
            "trainable": "lenet",
            "max_epochs": epochs,
            "num_samples": trials,
            "search_space": {"learning_rate": 0.1, "batch_size": 128},
            "resources_per_trial": dict(resources),
            "storage_path": str(root / "results"),
            "checkpoint": {"frequency": epochs, "num_to_keep": 1},
        }
    )


def fit_on_arrays(cfg: Any, data: DatasetArrays) -> Any:
    """Run ``cfg``'s Tuner, as the runner builds it, on arrays given here; the ResultGrid."""
    from raytune_hpo.experiment.runner import build_trainable, build_tuner

    settle_ray()
    return build_tuner(cfg, build_trainable(cfg, data)).fit()
