"""The ``CHARTS`` registry: the "what matters" charts of an experiment's page, one entry each.

A chart is its data, built here from the experiment's trials, and its drawing, the entry of the
same name in ``CHARTS`` of ``static/analysis.js``; the page's JSON holds each chart's data under
its name. Adding a chart is one entry here and one there, its test, and its row in the docs'
table of charts (``docs/pages/dashboard.md``); a contract test checks that the two registries
and the table name the same charts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from raytune_hpo.dashboard.contour import contours
from raytune_hpo.dashboard.fronts_view import fronts_view
from raytune_hpo.dashboard.importance_view import importance_view
from raytune_hpo.dashboard.slices import slices
from raytune_hpo.dashboard.trials import Trials
from raytune_hpo.storage.stamped import Store


@dataclass(frozen=True)
class ChartInputs:
    """What a chart's data is built from.

    Attributes:
        store: The dashboard's files; no file outside its root is read.
        folder: The experiment folder, relative to the root.
        trials: The experiment's trials, their reports and ends.
        importance: The importance of each objective's hyperparameters (the ``importance``
            chart's data, which the contour reads to pick its two parameters).
    """

    store: Store
    folder: str
    trials: Trials
    importance: dict[str, Any]


@dataclass(frozen=True)
class Chart:
    """One chart of the "what matters" section.

    Attributes:
        build: Its data, JSON-ready, from the experiment (None: nothing to draw, e.g. the
            Pareto front of a one-objective run).
        shows: What it shows, the docs row's text.
    """

    build: Callable[[ChartInputs], Any]
    shows: str


CHARTS: dict[str, Chart] = {
    "importance": Chart(
        lambda inputs: inputs.importance,
        "each objective's hyperparameter importance, from `importance.json` or rated live "
        "with PED-ANOVA",
    ),
    "contours": Chart(
        lambda inputs: contours(inputs.trials, inputs.importance["ranked"]),
        "the objective over its two most important hyperparameters, the trials as dots",
    ),
    "slices": Chart(
        lambda inputs: slices(inputs.trials),
        "the objective against each hyperparameter that varies, log axes for log-uniform ones",
    ),
    "fronts": Chart(
        lambda inputs: fronts_view(inputs.store, inputs.folder, inputs.trials),
        "with several objectives, the Pareto scatter with the front and the hypervolume history",
    ),
}
"""Chart name (its key in the page's JSON and in ``static/analysis.js``) -> :class:`Chart`."""


def chart_data(store: Store, folder: str, trials: Trials) -> dict[str, Any]:
    """Every chart's data, by name."""
    inputs = ChartInputs(store, folder, trials, importance_view(store, folder, trials))
    return {name: chart.build(inputs) for name, chart in CHARTS.items()}
