"""Which hyperparameters mattered, per objective, as the experiment page draws it.

``importance.json``, once ``raytune-hpo summary`` has written it, is shown as it is (its
evaluator: PED-ANOVA, or fANOVA with ``--importance fanova``). Without it, the page rates the
hyperparameters itself, as ``summary`` does by default (:mod:`raytune_hpo.analysis.importance`:
Optuna's PED-ANOVA on each trial's last report, the errored trials left out): it takes about
0.2 s for 1,000 trials, done again only when a trial reports (:mod:`~raytune_hpo.dashboard.
derived`); the first time, Optuna's importance module loads (about 3 s, once per process).
"""

from __future__ import annotations

from typing import Any

from raytune_hpo.dashboard import files
from raytune_hpo.dashboard.derived import derived
from raytune_hpo.dashboard.report_frame import reports_frame
from raytune_hpo.dashboard.trials import Trials, number
from raytune_hpo.layout import IMPORTANCE_FILE
from raytune_hpo.storage.stamped import Store, join

FROM_FILE = f"From {IMPORTANCE_FILE}, written by raytune-hpo summary."
COMPUTED = (
    "Rated by the page with PED-ANOVA from each trial's last report, as raytune-hpo summary rates "
    "them by default."
)


def _ranked(importance: Any) -> list[tuple[str, float]]:
    """``{param: importance}`` as (param, importance) pairs, most important first (values that
    are not numbers left out)."""
    if not isinstance(importance, dict):
        return []
    pairs = [(str(k), number(v)) for k, v in importance.items()]
    return sorted(((k, v) for k, v in pairs if v is not None), key=lambda pair: -pair[1])


def _saved(trials: Trials, saved: dict[str, Any]) -> dict[str, Any]:
    names = [o.name for o in trials.objectives]
    return {
        "source": FROM_FILE,
        "ranked": {name: _ranked(saved[name]) for name in names if name in saved},
        "missing": {
            name: f"{IMPORTANCE_FILE} rates no {name}: too few trials held it when it was written"
            for name in names
            if name not in saved
        },
    }


def _computed(trials: Trials) -> dict[str, Any]:
    from raytune_hpo.analysis.importance import trials_importance

    names = [o.name for o in trials.objectives]
    try:
        found = trials_importance(reports_frame(trials, names, last_only=True), trials.config)
    except ValueError as err:  # a search space it cannot read (SearchSpaceError, ...)
        return {"source": COMPUTED, "ranked": {}, "missing": dict.fromkeys(names, str(err))}
    if found is None:
        nothing = "the search space samples no hyperparameter"
        return {"source": COMPUTED, "ranked": {}, "missing": dict.fromkeys(names, nothing)}
    return {
        "source": COMPUTED,
        "ranked": {o.objective: _ranked(o.importance) for o in found.objectives if not o.missing},
        "missing": {o.objective: o.missing for o in found.objectives if o.missing},
    }


def importance_view(store: Store, folder: str, trials: Trials) -> dict[str, Any]:
    """Each objective's importance: ``source`` (where it comes from, in words), ``ranked``
    (objective -> (param, importance) pairs, most important first) and ``missing`` (objective
    -> why it has none, in one line)."""
    saved = files.json_document(store, join(folder, IMPORTANCE_FILE))
    if isinstance(saved, dict) and saved:
        return _saved(trials, saved)
    if not trials.objectives:
        return {"source": COMPUTED, "ranked": {}, "missing": {}}
    return derived("importance", store, folder, trials, lambda: _computed(trials))
