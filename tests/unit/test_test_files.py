"""The suite's own layout: pytest imports each test file by its name alone (rootdir import
mode), so two test files of one name anywhere under tests/ stop the whole collection."""

from __future__ import annotations

from collections import defaultdict

from tests.helpers.paths import ROOT


def test_no_two_test_files_share_a_name() -> None:
    places: defaultdict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        places[path.name].append(str(path.relative_to(ROOT)))
    shared = {name: where for name, where in places.items() if len(where) > 1}
    assert not shared, f"test files sharing a name (rename one of each): {shared}"
