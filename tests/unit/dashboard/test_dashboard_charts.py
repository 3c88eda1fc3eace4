"""The "what matters" charts are one registry on each side of the wire: ``CHARTS`` in
``raytune_hpo/dashboard/charts.py`` builds each chart's data, ``CHARTS`` in
``static/analysis.js`` draws it, and the dashboard page's table names each one."""

from __future__ import annotations

import re
from pathlib import Path

from raytune_hpo.dashboard import charts
from raytune_hpo.dashboard.charts import CHARTS, chart_data
from raytune_hpo.dashboard.trials import read_trials
from raytune_hpo.storage.stamped import LocalStore
from tests.helpers.paths import ROOT
from tests.unit.dashboard.test_dashboard_what_matters import write_experiment

ANALYSIS_JS = Path(charts.__file__).parent / "static" / "analysis.js"
DASHBOARD_PAGE = ROOT / "docs" / "pages" / "dashboard.md"


def drawn_charts() -> list[str]:
    """The names of ``CHARTS`` in analysis.js, in their order."""
    source = ANALYSIS_JS.read_text()
    block = source[
        source.index("const CHARTS = {") : source.index("\n};", source.index("const CHARTS = {"))
    ]
    return re.findall(r"^  (\w+): \{", block, flags=re.MULTILINE)


def test_every_chart_is_built_and_drawn_under_one_name_in_one_order() -> None:
    assert drawn_charts() == list(CHARTS)
    assert "importance" in CHARTS and "fronts" in CHARTS


def test_every_chart_has_its_row_in_the_docs() -> None:
    rows = re.findall(r"^  \| `(\w+)` \| (.+) \|$", DASHBOARD_PAGE.read_text(), flags=re.MULTILINE)
    assert rows == [(name, chart.shows) for name, chart in CHARTS.items()]


def test_the_page_data_holds_each_chart_under_its_name(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path, "what", {"metric": "validation_error", "mode": "min"})
    store = LocalStore(tmp_path)
    data = chart_data(store, folder.name, read_trials(store, folder.name))
    assert list(data) == list(CHARTS)
    assert set(data["importance"]) >= {"ranked", "source"}
    assert set(data["slices"]["values"]) == {"validation_error"}
    assert data["fronts"] is None  # one objective: no Pareto front
