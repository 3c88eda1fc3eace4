"""The folders under the dashboard's root that are experiments or studies.

Folders are paths of a :class:`~raytune_hpo.storage.stamped.Store`, relative to its root; the
store keeps every look-up inside the root. A folder without the files of an experiment or a
study is not listed.
"""

from __future__ import annotations

from raytune_hpo.layout import CONFIG_FILE, STUDY_FILE
from raytune_hpo.storage.stamped import Store, join


def is_experiment(store: Store, folder: str) -> bool:
    """Whether ``folder`` holds an experiment of this toolkit (its resolved config)."""
    return store.stamp(join(folder, CONFIG_FILE)) is not None


def is_study(store: Store, folder: str) -> bool:
    """Whether ``folder`` holds a study (its ``study.json``)."""
    return store.stamp(join(folder, STUDY_FILE)) is not None


def subfolders(store: Store, folder: str) -> list[str]:
    """The folders directly in ``folder`` (``""``: the root), as paths from the root."""
    return [join(folder, name) for name in store.folders(folder)]


def experiments_in(store: Store, folder: str) -> list[str]:
    """The experiment folders directly in ``folder`` (the root or a study)."""
    return [entry for entry in subfolders(store, folder) if is_experiment(store, entry)]
