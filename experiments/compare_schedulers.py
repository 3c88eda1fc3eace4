"""Schedulers side by side: a matrix of methods x seeds, each run with the same wall-clock budget.

Every config (default: the five LeNet seed-study configs, on the offline ``digits`` data) runs
once per seed through ``run_experiment``; then ``raytune_hpo.compare`` writes the anytime plot,
learning curves, CSVs and a Markdown report. The last line printed is the headline figure.

    python experiments/compare_schedulers.py                  # 5 methods x 3 seeds, 60 s each
    python experiments/compare_schedulers.py --smoke          # tiny data, 2 seeds: for CI
    python experiments/compare_schedulers.py --wandb          # also log to W&B, one group
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from raytune_hpo import console
from raytune_hpo.cli import add_output_flags
from raytune_hpo.compare import load_comparison, write_comparison
from raytune_hpo.config import ConfigError, ExperimentConfig, load_config, read_yaml, smoke
from raytune_hpo.layout import CONFIG_FILE
from raytune_hpo.runner import experiment_path, run_experiment, start_ray
from raytune_hpo.storage import exists, is_uri

ROOT = Path(__file__).resolve().parents[1]
METHOD_FILES = ("random", "hyperopt", "asha", "hyperopt_asha", "pbt")
DEFAULT_CONFIGS = [ROOT / "configs" / "lenet" / f"{stem}.yaml" for stem in METHOD_FILES]
DEFAULT_OVERRIDES = ("dataset.name=digits", "trainable_options.activation=relu")
"""For LeNet configs only: offline data; ReLU because LeNet's classic sigmoid needs far more
steps than digits offers. Configs of other trainables (the user's code) run as written."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of the study."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configs",
        nargs="+",
        type=Path,
        default=DEFAULT_CONFIGS,
        metavar="FILE",
        help="experiment YAMLs, one per method (default: configs/lenet/*.yaml)",
    )
    parser.add_argument("--seeds", type=int, help="seeds 0..N-1 per method (default 3, smoke 2)")
    parser.add_argument(
        "--budget-s",
        type=float,
        default=60.0,
        help="wall-clock budget of every run, seconds (default %(default)s; smoke: none)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value of every config (after digits and relu for LeNet)",
    )
    parser.add_argument("--name", default="compare_schedulers", help="study name and W&B group")
    parser.add_argument("--storage-path", default="~/raytune_hpo_results", help="results root")
    parser.add_argument("--out", type=Path, help="report folder (default: STORAGE/NAME/comparison)")
    parser.add_argument("--target", type=float, help="metric value to reach (time to target)")
    parser.add_argument("--smoke", action="store_true", help="tiny data, 2 epochs, 2 trials")
    parser.add_argument("--wandb", action="store_true", help="log every run to W&B, one group")
    parser.add_argument("--address", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT")
    parser.add_argument("--overwrite", action="store_true", help="reuse earlier run folders")
    add_output_flags(
        parser,
        verbose_help="Ray Tune's own output for every run",
        quiet_help="per run only errors; the progress lines and results of the study stay",
    )
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = 2 if args.smoke else 3
    if args.seeds < 1 or args.budget_s <= 0:
        parser.error("--seeds and --budget-s must be positive")
    if is_uri(args.storage_path):
        parser.error("--storage-path must be a local folder: the comparison reads it back")
    return args


def study_root(args: argparse.Namespace) -> Path:
    """The folder that holds the study's experiment folders."""
    return Path(args.storage_path).expanduser().resolve() / args.name


def trains_lenet(path: Path) -> bool:
    """Whether the config file tunes the built-in LeNet (the default trainable)."""
    return read_yaml(path).get("trainable", "lenet") == "lenet"


def build_matrix(args: argparse.Namespace) -> list[ExperimentConfig]:
    """One validated config per (config file, seed), named ``<file stem>_seed<seed>``."""
    matrix = []
    for path in args.configs:
        for seed in range(args.seeds):
            overrides = [
                *(DEFAULT_OVERRIDES if trains_lenet(path) else ()),
                *args.set,
                f"seed={seed}",
                f"name={path.stem}_seed{seed}",
                f"storage_path={study_root(args)}",
                f"time_budget_s={args.budget_s}",
            ]
            if args.wandb:
                overrides += ["wandb.enabled=true", f"wandb.group={args.name}"]
            cfg = load_config(path, overrides)
            matrix.append(smoke(cfg) if args.smoke else cfg)
    return matrix


def check_free(matrix: Sequence[ExperimentConfig], overwrite: bool) -> None:
    """Refuse before running anything if two runs share a folder or one holds an experiment."""
    names = [cfg.name for cfg in matrix]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ConfigError("--configs", f"two config files share a name ({', '.join(twice)})")
    for cfg in matrix:
        if not overwrite and exists(experiment_path(cfg), CONFIG_FILE):
            raise ConfigError(
                "--name",
                f"{experiment_path(cfg)} already holds an experiment; "
                "choose another --name or pass --overwrite",
            )


def run_matrix(matrix: Sequence[ExperimentConfig], args: argparse.Namespace) -> list[Path]:
    """Run every config in turn, printing progress; returns the experiment folders."""
    console.configure(args.output)
    start_ray(args.address)
    paths = []
    for index, cfg in enumerate(matrix, 1):
        tag = f"[{index}/{len(matrix)}] {cfg.method} seed {cfg.seed}"
        print(f"{tag}: running {cfg.name}", flush=True)
        started = time.monotonic()
        outcome = run_experiment(
            cfg, address=args.address, overwrite=args.overwrite, output=args.output
        )
        best = outcome.best.get(cfg.metric) if outcome.best else None
        value = math.nan if best is None else float(best)
        print(
            f"{tag}: done in {time.monotonic() - started:.1f} s, best {cfg.metric} {value:.4f}",
            flush=True,
        )
        paths.append(outcome.path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Run the study and write its comparison; exit 2 on bad input."""
    args = parse_args(argv)
    try:
        matrix = build_matrix(args)
        check_free(matrix, args.overwrite)
    except ConfigError as err:
        print(f"compare_schedulers: error: {err}", file=sys.stderr)
        return 2
    print(f"{len(args.configs)} methods x {args.seeds} seeds = {len(matrix)} runs", flush=True)
    paths = run_matrix(matrix, args)
    comparison = load_comparison(paths, target=args.target)
    written = write_comparison(comparison, args.out or study_root(args) / "comparison")
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(comparison.methods.to_string(index=False))
    print(f"report: {written['report']}")
    best = comparison.methods.iloc[0]
    print(f"best method: {best['method']}")
    print(f"best_mean_final_{comparison.metric}: {best['mean']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
