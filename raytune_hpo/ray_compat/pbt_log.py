"""What Ray's PBT writes of its perturbations, as it writes it.

Part of :mod:`raytune_hpo.ray_compat`: each function says which private name it relies on.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

PERTURBED_TAG = "@perturbed["
"""What Ray's PBT appends to a trial's ``experiment_tag`` when it perturbs the trial."""


class PbtLogLine(NamedTuple):
    """One exploit as Ray's PBT logs it in :data:`~raytune_hpo.layout.PBT_LOG_FILE`."""

    target_tag: str
    donor_tag: str
    target_iteration: Any
    donor_iteration: Any
    donor_config: dict[str, Any]
    new_config: dict[str, Any]


def parse_pbt_log_line(line: str) -> PbtLogLine:
    """One line of :data:`~raytune_hpo.layout.PBT_LOG_FILE`.

    Relies on Ray's format: a JSON list ``[trial tag, donor tag, trial iteration, donor
    iteration, donor config, new config]``.
    """
    return PbtLogLine(*json.loads(line))


def original_tag(tag: str) -> str:
    """A trial's tag as PBT first saw it, before Ray appended ``@perturbed[...]`` to it."""
    return tag.split(PERTURBED_TAG, 1)[0]
