"""A command trial's working directory: a folder of its own, its code folder's entries linked."""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterable
from pathlib import Path

from raytune_hpo.adapters.command.process_group import CommandError
from raytune_hpo.adapters.command.spec import CommandSpec

WORK_FOLDER = "work"
"""The command's working directory, inside its trial folder."""
NOT_LINKED = frozenset(
    {"lightning_logs", "runs", "wandb", "mlruns", "outputs", "multirun", "__pycache__"}
)
"""Folders of the code folder not linked into a trial's working directory: what frameworks
write there by default (Lightning, TensorBoard's ``SummaryWriter``, W&B, MLflow, Hydra) belongs
to each trial, not to a folder the trials share."""


def code_folder(spec: CommandSpec) -> Path:
    if spec.workdir is not None:
        folder = Path(spec.workdir)
    else:
        folder = Path(os.environ.get("TUNE_ORIG_WORKING_DIR") or os.getcwd())
    if not folder.is_dir():
        raise CommandError(f"workdir {folder} is no folder on {platform.node()}")
    return folder.resolve()


def link_code_folder(work: Path, code: Path) -> list[Path]:
    """Make ``work`` a working directory of its own that still reads ``code``'s files.

    Each entry of ``code`` gets a symbolic link of the same name in ``work``, except the
    framework output folders of :data:`NOT_LINKED`, names ``work`` already holds, and a folder
    that holds ``work`` itself (results kept inside the code folder). What the command writes
    into ``work`` stays the trial's own; a write *into* a linked folder reaches the shared one.

    Returns:
        The links made, for :func:`unlink`.
    """
    work.mkdir(parents=True, exist_ok=True)
    links = []
    for entry in sorted(code.iterdir()):
        link = work / entry.name
        if entry.name in NOT_LINKED or link.is_symlink() or link.exists():
            continue
        if work.resolve().is_relative_to(entry.resolve()):
            continue
        link.symlink_to(entry)
        links.append(link)
    return links


def remove_code_links(experiment: Path, code: Path) -> None:
    """Remove what :func:`link_code_folder` linked into the working directories of
    ``experiment``'s trials: a trial that the experiment's end overtook had no time to."""
    code = code.resolve()
    for work in experiment.glob(f"*/{WORK_FOLDER}"):
        for entry in work.iterdir():
            if entry.is_symlink() and Path(os.readlink(entry)) == code / entry.name:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()


def unlink(links: Iterable[Path]) -> None:
    """Remove the links :func:`link_code_folder` made: the trial folder keeps what the command
    wrote, not the code folder's contents."""
    for link in links:
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
