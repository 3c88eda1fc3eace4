"""A name from a URL finds a folder only inside the root; other folders are not listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytune_hpo.dashboard import folders
from raytune_hpo.layout import CONFIG_FILE, STUDY_FILE


@pytest.fixture
def root(tmp_path: Path) -> Path:
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
    return base.resolve()


@pytest.mark.parametrize("name", ["exp", "study/run", "alias"])
def test_names_inside_the_root_find_their_folder(root: Path, name: str) -> None:
    found = folders.find(root, name)
    assert found is not None and found.is_relative_to(root)


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../root/exp", "exp/..", "exp/../exp", "out", "a/b/c", "exp\\x", "nope"]
)
def test_other_names_find_nothing(root: Path, name: str) -> None:
    assert folders.find(root, name) is None


def test_only_experiments_and_studies_inside_are_listed(root: Path) -> None:
    listed = [p.name for p in folders.subfolders(root, root)]
    assert listed == ["alias", "exp", "plain", "study"]  # "out" leads outside
    assert [p.name for p in folders.experiments_in(root, root)] == ["alias", "exp"]
    assert folders.is_study(root / "study") and not folders.is_experiment(root / "plain")
    assert folders.name_of(root / "study" / "run", root) == "study/run"
