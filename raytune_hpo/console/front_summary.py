"""What ``summary`` prints of an experiment with several objectives: its Pareto front as a
table, the front's hypervolume and its reference point, and the Pareto plot it saves."""

from __future__ import annotations

from typing import Any

from raytune_hpo.number_format import format_number


def print_front(experiment: Any) -> None:
    """The front of an experiment folder (read back by ``analysis.results``), sorted by the
    first objective, best first; nothing for an experiment with one objective.

    Each trial's last report counts; trials that errored or break a constraint are never on
    it. The hypervolume is measured against the config's ``reference_point``, else the worst
    value of each objective seen in any report (said which). The Pareto plot is saved into the
    experiment folder.
    """
    from raytune_hpo.analysis.fronts import (
        FEASIBLE,
        Objectives,
        front_hypervolume,
        front_table,
        reference_point,
        reports_without_errors,
        trial_points,
    )

    objectives = Objectives.from_config(experiment.config)
    if not objectives.many:
        return  # one objective: no front, and no matplotlib imported
    from raytune_hpo.analysis.pareto_plots import save_pareto_plot

    reports = reports_without_errors(experiment)
    points = trial_points(reports, objectives)
    shown = front_table(points, objectives)
    print(f"\nPareto front ({len(shown)} of {len(points)} trials; each trial's last report):")
    print(_table(shown) if not shown.empty else "no trial on it")
    if objectives.constraints and not points.empty:
        broken = int((~points[FEASIBLE].astype(bool)).sum())
        print(f"constraints: {broken} of {len(points)} trials break one (never on the front)")
    reference = reference_point([reports], objectives)
    if reference is None:
        print("hypervolume: no reference point (an objective has no finite value)")
    else:
        point, source = reference
        volume = front_hypervolume(points, objectives, point)
        corner = ", ".join(format_number(v) for v in point)
        print(f"hypervolume {format_number(volume)} against ({corner}), {source}")
    print(f"Pareto plot: {save_pareto_plot(points, objectives, experiment.path)}")


def _table(frame: Any) -> str:
    import pandas as pd

    formatters = {column: format_number for column in frame.select_dtypes("float").columns}
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        return str(frame.to_string(index=False, formatters=formatters))
