"""No two modules of the package share a file name: a name says which module it is."""

from __future__ import annotations

from collections import Counter

from tests.helpers.package_imports import PACKAGE


def test_no_two_modules_of_the_package_share_a_file_name() -> None:
    names = Counter(path.name for path in PACKAGE.rglob("*.py") if path.name != "__init__.py")
    assert len(names) > 100
    assert sorted(name for name, count in names.items() if count > 1) == []
