"""The folders under the dashboard's root: which are experiments or studies, and safe look-ups.

A name from a URL becomes a folder only when every part is a plain folder name and the folder,
symlinks resolved, lies inside the root: ``..``, its encodings (decoded before they get here)
and links out of the root all find nothing. A folder without the files of an experiment or a
study is not listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from raytune_hpo.layout import CONFIG_FILE, STUDY_FILE

MAX_DEPTH = 2
"""Parts of a name: an experiment (``exp``) or a run of a study (``study/run``)."""


def inside(root: Path, path: Path) -> Path | None:
    """``path`` with its links resolved when it exists inside ``root`` (resolved), else None."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return real if real == root or real.is_relative_to(root) else None


def is_experiment(folder: Path) -> bool:
    """Whether ``folder`` holds an experiment of this toolkit (its resolved config)."""
    return (folder / CONFIG_FILE).is_file()


def is_study(folder: Path) -> bool:
    """Whether ``folder`` holds a study (its ``study.json``)."""
    return (folder / STUDY_FILE).is_file()


def find(root: Path, name: str) -> Path | None:
    """The folder that ``name`` (``a`` or ``a/b``) names under ``root``, if it stays inside."""
    parts = name.split("/")
    if not 0 < len(parts) <= MAX_DEPTH:
        return None
    if any(part in {"", ".", ".."} or "\\" in part or "\0" in part for part in parts):
        return None
    folder = inside(root, root.joinpath(*parts))
    return folder if folder is not None and folder.is_dir() and folder != root else None


def subfolders(folder: Path, root: Path) -> Iterator[Path]:
    """The folders directly in ``folder`` that resolve inside ``root``, by name."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        if inside(root, entry) is not None:
            yield entry


def experiments_in(folder: Path, root: Path) -> list[Path]:
    """The experiment folders directly in ``folder`` (a root or a study)."""
    return [entry for entry in subfolders(folder, root) if is_experiment(entry)]


def name_of(folder: Path, root: Path) -> str:
    """The name of ``folder`` in URLs: its path relative to ``root``, with ``/``."""
    return folder.relative_to(root).as_posix()
