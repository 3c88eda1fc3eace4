"""The folders under the dashboard's root that are experiments or studies.

Folders are paths of a :class:`~raytune_hpo.storage.stamped.Store`, relative to its root; the
store keeps every look-up inside the root. A folder without the files of an experiment or a
study is not listed. A root that is itself an experiment or a study is served as the one folder
of its name (:class:`OneFolder`), still without reading anything outside it.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from raytune_hpo.layout import CONFIG_FILE, STUDY_FILE
from raytune_hpo.storage.locations import Location
from raytune_hpo.storage.stamped import Stamp, Store, join, open_store


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


def served(store: Store) -> list[str]:
    """The experiment and study folders directly under the root: what the index lists."""
    return [
        entry
        for entry in subfolders(store, "")
        if is_study(store, entry) or is_experiment(store, entry)
    ]


class OneFolder(Store):
    """A store whose root is itself an experiment or a study, seen as the one folder ``name``
    of a root that holds nothing else: ``name/x`` is the inner store's ``x``."""

    def __init__(self, inner: Store, name: str) -> None:
        super().__init__(inner.root)
        self.inner, self.name = inner, name

    def _inner(self, path: str) -> str | None:
        """``path`` in the inner store; None for the outer root and anything beside ``name``."""
        head, _, rest = path.partition("/")
        return rest if head == self.name else None

    def location(self, path: str) -> Location | None:
        inner = self._inner(path)
        return self.inner.location(inner) if inner is not None else None

    def is_folder(self, path: str) -> bool:
        inner = self._inner(path)
        return path == "" or (inner is not None and self.inner.is_folder(inner))

    def stamp(self, path: str) -> Stamp | None:
        inner = self._inner(path)
        return self.inner.stamp(inner) if inner is not None else None

    def read(self, path: str) -> bytes:
        inner = self._inner(path)
        if inner is None:
            raise FileNotFoundError(path)
        return self.inner.read(inner)

    def folders(self, path: str) -> list[str]:
        if path == "":
            return [self.name]
        inner = self._inner(path)
        return self.inner.folders(inner) if inner is not None else []

    def glob(self, path: str, pattern: str) -> dict[str, Stamp]:
        inner = self._inner(path)
        if inner is not None:
            return self.inner.glob(inner, pattern)
        head, _, rest = pattern.partition("/")
        if path or not rest or not fnmatchcase(self.name, head):
            return {}
        return {join(self.name, k): v for k, v in self.inner.glob("", rest).items()}


def open_root(root: str | Path) -> Store:
    """The dashboard's store over ``root``, a folder or a URI: its experiment and study folders,
    or, when ``root`` is itself one, that folder under its own name."""
    store = open_store(root)
    if is_experiment(store, "") or is_study(store, ""):
        return OneFolder(store, store.root.name or "root")
    return store
