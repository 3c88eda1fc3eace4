"""Names a config accepts: experiment and study folder names, searcher and scheduler names."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from raytune_hpo.registry import Entry
from raytune_hpo.search.schedulers import SCHEDULERS
from raytune_hpo.search.searchers import SEARCHERS

_FOLDER_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
"""The characters of an experiment or study name: one folder name on any file system or URI."""
_DOT_FOLDERS = {".": "storage_path itself", "..": "the folder above storage_path"}


def check_folder_name(name: str) -> str:
    """``name`` if it names one folder inside its parent (``storage_path``), else an error.

    Only letters, digits and ``_ . + -`` are allowed, so that no separator can climb or
    descend; ``.`` (the parent itself) and ``..`` (the folder above it) are refused.

    Raises:
        ValueError: ``name`` would leave its folder, or holds another character.
    """
    allowed = "one folder name of letters, digits and _ . + -, other than '.' and '..'"
    if name in _DOT_FOLDERS:
        raise ValueError(f"{name!r} is {_DOT_FOLDERS[name]}; use {allowed}")
    if not _FOLDER_NAME.fullmatch(name):
        raise ValueError(f"must be {allowed}, got {name!r}")
    return name


def searcher_names() -> list[str]:
    """Names accepted by ``searcher.name``."""
    return list(SEARCHERS)


def scheduler_names() -> list[str]:
    """Names accepted by ``scheduler.name``."""
    return list(SCHEDULERS)


def method_name(searcher: Mapping[str, Any], scheduler: Mapping[str, Any]) -> str:
    """The method that groups experiments, from the searcher and scheduler sections as stored.

    Each part is its entry's label, left out beside the other where its traits say so (random
    search, FIFO) and given once where both are the same (BOHB): ``random`` + ``asha`` is
    ``asha``, ``hyperopt`` + ``fifo`` is ``hyperopt``, ``optuna`` (tpe) + ``asha`` is
    ``optuna-tpe+asha``, ``random`` + ``fifo`` is ``random``. A name this version does not know
    is its own label.
    """
    parts: list[tuple[str, bool]] = []
    for registry, section in ((SEARCHERS, searcher), (SCHEDULERS, scheduler)):
        entry: Entry[Any, Any, Any] | None = registry.get(section["name"])
        if entry is None:
            parts.append((section["name"], True))
        else:
            parts.append((entry.method_label(section), entry.traits.in_method_name))
    shown = dict.fromkeys(label for label, in_name in parts if in_name)
    return "+".join(shown) or parts[0][0]
