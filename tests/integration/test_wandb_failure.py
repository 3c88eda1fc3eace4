"""A W&B that fails to start leaves the experiment's results as they are without W&B.

No mock: ``wandb.init`` really raises. W&B refuses a tag longer than 64 characters when a run
starts, and the config passes ``wandb.tags`` to it unchecked, so such a tag makes every
``wandb.init`` of the experiment raise.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.helpers.lenet import run_lenet
from tests.helpers.wandb_records import find_offline_runs

pytestmark = pytest.mark.integration

REFUSED_TAG = "t" * 65
"""W&B allows tags of 1 to 64 characters."""


def test_a_failing_wandb_init_leaves_results_identical(
    tiny_lenet_config: dict[str, Any],
    ray_session: None,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = {**tiny_lenet_config, "num_samples": 1, "max_epochs": 2, "seed": 5}
    off = run_lenet({**raw, "name": "wandb_off"})
    failing = {"enabled": True, "mode": "offline", "tags": [REFUSED_TAG]}
    with caplog.at_level(logging.WARNING, logger="raytune_hpo.tracking.wandb_runs"):
        on = run_lenet({**raw, "name": "wandb_failing", "wandb": failing})

    pd.testing.assert_frame_equal(on, off)
    assert list(on["training_iteration"]) == [1, 2]
    warnings = [r.getMessage() for r in caplog.records if "W&B" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "the experiment goes on without it" in warnings[0] and "64 characters" in warnings[0]
    # After the failure no trial run is started, so no trial waits for W&B.
    assert find_offline_runs(tmp_path / "results" / "wandb_failing" / "wandb") == []
