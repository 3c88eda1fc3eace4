"""The dashboard's docs page shows a picture of each page type, as ``docs/screenshots.py``
takes them from real runs, each small enough for the docs."""

from __future__ import annotations

import re

from docs.screenshots import IMG, PICTURES
from tests.helpers.paths import ROOT

PAGE = ROOT / "docs" / "pages" / "dashboard.md"
MAX_BYTES = 300_000


def test_the_page_shows_every_picture_the_script_takes() -> None:
    shown = set(re.findall(r"!\[[^\]]+\]\(img/([\w.-]+\.png)\)", PAGE.read_text()))
    assert shown == set(PICTURES)
    assert {path for path, _, _ in PICTURES.values()} >= {"/", "/studies/study"}
    for name in PICTURES:
        assert 10_000 < (IMG / name).stat().st_size < MAX_BYTES, name
