"""A name from a URL finds a folder only inside the root; other folders are not listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytune_hpo.dashboard import folders
from raytune_hpo.layout import CONFIG_FILE, STUDY_FILE
from raytune_hpo.storage.stamped import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    base = tmp_path / "root"
    for name in ("exp", "study/run", "plain"):
        (base / name).mkdir(parents=True)
    (base / "exp" / CONFIG_FILE).write_text("name: exp\n")
    (base / "study" / "run" / CONFIG_FILE).write_text("name: run\n")
    (base / "study" / STUDY_FILE).write_text("{}")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / CONFIG_FILE).write_text("name: outside\n")
    (base / "out").symlink_to(tmp_path / "outside")
    (base / "alias").symlink_to(base / "exp")
    return LocalStore(base)


@pytest.mark.parametrize("name", ["exp", "study/run", "alias"])
def test_names_inside_the_root_find_their_folder(store: LocalStore, name: str) -> None:
    assert store.find(name) == name
    location = store.location(name)
    assert location is not None and location.is_relative_to(store.root)


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../root/exp", "exp/..", "exp/../exp", "out", "a/b/c", "exp\\x", "nope"]
)
def test_other_names_find_nothing(store: LocalStore, name: str) -> None:
    assert store.find(name) is None


def test_only_experiments_and_studies_inside_are_listed(store: LocalStore) -> None:
    assert folders.subfolders(store, "") == ["alias", "exp", "plain", "study"]  # not "out"
    assert folders.experiments_in(store, "") == ["alias", "exp"]
    assert folders.experiments_in(store, "study") == ["study/run"]
    assert folders.is_study(store, "study") and not folders.is_experiment(store, "plain")


def test_files_outside_the_root_are_neither_stamped_nor_read(store: LocalStore) -> None:
    assert store.stamp(f"exp/{CONFIG_FILE}") is not None
    assert store.stamp(f"out/{CONFIG_FILE}") is None
    assert store.stamp(f"exp/../../outside/{CONFIG_FILE}") is None
    assert store.glob("", f"*/{CONFIG_FILE}").keys() == {
        f"alias/{CONFIG_FILE}",
        f"exp/{CONFIG_FILE}",
    }
    with pytest.raises(OSError):
        store.read(f"out/{CONFIG_FILE}")
