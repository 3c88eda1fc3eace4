"""What a study's page draws: the anytime comparison over seeds, the method table, the runs.

The same comparison ``raytune-hpo compare`` writes (:mod:`raytune_hpo.analysis.compare`), over
the study's run folders. A method none of whose runs has a result yet has no rank. A run whose
files are caught half written makes the page say so and try again on its next poll.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from raytune_hpo import storage
from raytune_hpo.analysis.compare import anytime_curves, load_comparison
from raytune_hpo.dashboard import folders
from raytune_hpo.dashboard.index import study_row
from raytune_hpo.errors import RaytuneHpoError
from raytune_hpo.storage.stamped import Store


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts, NaN as None."""
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


def ranked(methods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The method table's rows, a method without a result (no best value) left unranked."""
    return [{**row, "rank": None if row.get("best") is None else row["rank"]} for row in methods]


def study_data(store: Store, folder: str) -> dict[str, Any]:
    """Everything the study page shows, as JSON-ready values."""
    row = study_row(store, folder)
    runs = {  # where ``compare`` reads each run -> its name
        str(storage.as_location(location)): run
        for run in folders.experiments_in(store, folder)
        if (location := store.location(run)) is not None
    }
    if not runs:
        return {**row, "methods": [], "runs": [], "anytime": []}
    try:
        comparison = load_comparison(list(runs))
    except (ValueError, RaytuneHpoError, FileNotFoundError) as err:
        return {**row, "methods": [], "runs": [], "anytime": [], "error": str(err)}
    run_rows = records(comparison.runs.drop(columns=["path"]))
    for run, path in zip(run_rows, comparison.runs["path"], strict=True):
        run["url"] = f"/experiments/{runs.get(path, '')}"
    return {
        **row,
        "methods": ranked(records(comparison.methods)),
        "runs": run_rows,
        "anytime": records(anytime_curves(comparison.reports)),
    }
