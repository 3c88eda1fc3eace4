"""The PBT history callback resolves the tags in Ray's log to trial ids, before and after a restore.

No Ray run: a ``pbt_global.txt`` line written as Ray's PBT writes it, and stand-ins for the
trials holding the five attributes the callback reads (a real ``Trial`` finds its folders only
inside a Tune run; ``tests/integration/test_pbt_resume.py`` runs one); their experiment folder
(``storage``) is a real local one, read through pyarrow as Ray's ``StorageContext`` reads it.
A fresh run logs a trial's first tag; a restored run rebuilds PBT's state from the trials'
current tags and logs them with their ``@perturbed[...]`` suffix, as that integration run shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from raytune_hpo.layout import PBT_LOG_FILE
from raytune_hpo.search.pbt_history import PbtHistoryCallback, read_records
from tests.helpers.pbt import TAGS, stand_in_trial


def _exploit(folder: Path, target: str, donor: str) -> list[dict[str, Any]]:
    """Ray's log line of trial a_0 exploiting a_1 under these tags; the records written."""
    # The trials' current tags: perturbed ones carry the suffix Ray logs after a restore.
    trials = [stand_in_trial("a_0", target, folder, 0.5), stand_in_trial("a_1", donor, folder, 3.0)]
    line = [target, donor, 3, 4, {"lr": 3.0}, {"lr": 2.0}]
    (folder / PBT_LOG_FILE).write_text(json.dumps(line) + "\n")
    result = {"config": {"lr": 0.5}, "training_iteration": 3}
    PbtHistoryCallback(["lr"]).on_trial_result(0, trials, trials[0], result)
    return read_records(folder)


def test_fresh_tags_resolve_to_trial_ids(tmp_path: Path) -> None:
    (record,) = _exploit(tmp_path, TAGS["a_0"], TAGS["a_1"])
    assert (record["trial_id"], record["donor_id"]) == ("a_0", "a_1")
    assert (record["old"], record["donor"], record["new"]) == (
        {"lr": 0.5},
        {"lr": 3.0},
        {"lr": 2.0},
    )


def test_perturbed_tags_after_a_restore_resolve_to_trial_ids(tmp_path: Path) -> None:
    target = f"{TAGS['a_0']}@perturbed[lr=2.0000]"
    donor = f"{TAGS['a_1']}@perturbed[lr=3.0000]"
    (record,) = _exploit(tmp_path, target, donor)
    assert (record["trial_id"], record["donor_id"]) == ("a_0", "a_1")
    assert record["old"] == {"lr": 0.5}
