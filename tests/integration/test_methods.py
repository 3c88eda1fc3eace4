"""Optuna, BOHB and PB2 end to end: each from a YAML file, 8 trials of the user's own function,
on the session's shared real Ray instance.

The function is ``climb`` of ``tests/user_code/tunable.py`` (its score grows by ``lr`` per step;
it checkpoints every step), named by file path as a user's YAML file names it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.config import load_config
from raytune_hpo.experiment.runner import ExperimentOutcome, run_experiment
from raytune_hpo.layout import PBT_HISTORY_FILE
from raytune_hpo.search.pbt_history import read_history
from tests.helpers.user_code import USER_MODULE

pytestmark = pytest.mark.integration

TRIALS = 8

METHODS = {
    "optuna-tpe+asha": """
searcher: {name: optuna, sampler: tpe, n_startup_trials: 3, multivariate: true}
scheduler: {name: asha, grace_period: 1, reduction_factor: 2}
""",
    "bohb": """
searcher: {name: bohb, min_points_in_model: 3}
scheduler: {name: bohb, reduction_factor: 2}
""",
    "random+pb2": """
scheduler:
  name: pb2
  perturbation_interval: 2
  hyperparam_bounds: {lr: [0.01, 3.0]}
""",
}
"""The method each YAML section gives, and the section."""
OVERRIDES = {"random+pb2": ("max_epochs=6", "search_space.seconds_per_step=0.3")}
"""PB2 exploits only trials that train side by side: steps of 0.3 s keep the population
together on a loaded machine, where trials of 0.02 s steps would run one after another."""


def write_config(folder: Path, name: str, methods: str, code: Path, function: str) -> Path:
    """A YAML experiment file tuning ``function`` of the user's file ``code`` by ``methods``."""
    text = f"""
name: {name}
trainable: {code}:{function}
metric: score
mode: max
max_epochs: 4
num_samples: {TRIALS}
seed: 3
search_space:
  lr: {{uniform: [0.01, 3.0]}}
  seconds_per_step: 0.02
resources_per_trial: {{cpu: 0.5}}
checkpoint: {{num_to_keep: 1}}
storage_path: {folder / "results"}
{methods}
"""
    path = folder / f"{name}.yaml"
    path.write_text(text)
    assert yaml.safe_load(text)["name"] == name
    return path


@pytest.fixture(scope="module")
def runs(
    ray_session: None, user_code_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ExperimentOutcome]:
    """One run per method of :data:`METHODS`."""
    folder = tmp_path_factory.mktemp("methods")
    code = user_code_dir / f"{USER_MODULE}.py"
    outcomes = {}
    for index, (method, section) in enumerate(METHODS.items()):
        path = write_config(folder, f"method{index}", section, code, "climb")
        cfg = load_config(path, OVERRIDES.get(method, ()))
        outcomes[method] = run_experiment(cfg, search_paths=(user_code_dir,))
    return outcomes


@pytest.mark.parametrize("method", list(METHODS))
def test_every_trial_of_each_method_reports(
    runs: dict[str, ExperimentOutcome], method: str
) -> None:
    experiment = load_experiment(runs[method].path)
    reports = experiment.reports
    assert reports["trial_id"].nunique() == TRIALS
    assert experiment.config["searcher"]["name"] in method
    assert runs[method].best is not None
    assert runs[method].best["metrics"]["score"] > 0


def test_optuna_sampled_lr_from_the_space(runs: dict[str, ExperimentOutcome]) -> None:
    reports = load_experiment(runs["optuna-tpe+asha"].path).reports
    assert reports.groupby("trial_id")["lr_seen"].nunique().eq(1).all()
    assert reports["lr_seen"].between(0.01, 3.0).all()
    assert reports["lr_seen"].nunique() == TRIALS


def test_bohb_stops_or_pauses_weak_trials_before_max_epochs(
    runs: dict[str, ExperimentOutcome],
) -> None:
    reports = load_experiment(runs["bohb"].path).reports
    epochs = reports.groupby("trial_id")["training_iteration"].max()
    assert (epochs < 4).any(), epochs.to_dict()


def test_pb2_records_its_perturbations_like_pbt(runs: dict[str, ExperimentOutcome]) -> None:
    path = runs["random+pb2"].path
    # The history file is kept from the start. Whether PB2 exploits at all depends on which
    # trials report when (on a loaded machine a run may have no exploit); every exploit it
    # makes must hold what follows.
    assert (path / PBT_HISTORY_FILE).exists()
    history = read_history(path)
    assert set(history["param"]) <= {"lr"}
    reports = load_experiment(path).reports
    for exploit in history.itertuples(index=False):
        assert 0.01 <= exploit.new <= 3.0
        # The exploited trial went on from the donor's state with the new value (Ray asks no
        # scheduler at a trial's last epoch, so every exploit has a report after it).
        own = reports[reports["trial_id"] == exploit.trial_id]
        after = own[
            (own["restored_from"] == exploit.donor_id) & np.isclose(own["lr_seen"], exploit.new)
        ]
        assert not after.empty, f"{exploit.trial_id} never went on from {exploit.donor_id}'s state"


def test_pb2_without_checkpoints_warns_as_pbt_does(
    ray_session: None,
    user_code_dir: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    code = user_code_dir / f"{USER_MODULE}.py"
    section = METHODS["random+pb2"].replace("perturbation_interval: 2", "perturbation_interval: 1")
    path = write_config(tmp_path, "nockpt", section, code, "climb_without_checkpoints")
    cfg = load_config(path, ["num_samples=2", "max_epochs=3"])
    run_experiment(cfg, search_paths=(user_code_dir,))

    err = capfd.readouterr().err
    warnings = [line for line in err.splitlines() if "without a checkpoint" in line]
    assert len(warnings) == 1, warnings
    assert "exploited trials will start from scratch" in warnings[0]
