"""Real DCGAN experiments on a digits slice: PBT exploits, restores and records; the FIFO and
HyperOpt+ASHA configs run in smoke mode (PBT's is the run below, configs/dcgan/pbt*.yaml are
built by tests/test_configs.py).

In the PBT run the two trials take turns (each needs both CPUs), so each report is compared with
the other trial's score and the lower one clones the higher: exploits happen on any machine. A
grid puts one trial at a learning rate too small to learn anything, so it is the one that trails.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from raytune_hpo.analysis.results import load_experiment, read_trials
from raytune_hpo.cli import main
from raytune_hpo.config import load_config, smoke, validate_config
from raytune_hpo.experiment.runner import run_experiment
from raytune_hpo.layout import PBT_HISTORY_PLOT, PBT_LOG_FILE
from raytune_hpo.search import search_space
from raytune_hpo.search.pbt_history import read_history, read_records

pytestmark = pytest.mark.integration

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "dcgan"
MUTATIONS: dict[str, Any] = {
    "lr_g": {"loguniform": [1.0e-5, 1.0e-2]},
    "beta1": {"uniform": [0.3, 0.9]},
    "batch_size": {"choice": [32, 64]},
}
TINY_OPTIONS = {
    "latent_size": 16,
    "generator_features": 8,
    "discriminator_features": 8,
    "steps_per_report": 4,
    "inception_samples": 100,
}


def _tiny_dcgan(name: str, storage: Path, data_dir: Path, **changes: Any) -> dict[str, Any]:
    return {
        "name": name,
        "trainable": "dcgan",
        "trainable_options": dict(TINY_OPTIONS),
        "dataset": {
            "name": "digits",
            "data_dir": str(data_dir),
            "train_size": 200,
            "test_size": 100,
        },
        "metric": "inception_score",
        "mode": "max",
        "max_epochs": 2,
        "num_samples": 1,
        "seed": 0,
        "storage_path": str(storage),
        **changes,
    }


@pytest.fixture(scope="module")
def pbt_run(
    tmp_path_factory: pytest.TempPathFactory, data_dir: Path, ray_session: None
) -> tuple[Any, Path]:
    raw = _tiny_dcgan(
        "dcgan_pbt",
        tmp_path_factory.mktemp("dcgan_pbt"),
        data_dir,
        max_epochs=5,
        searcher={"name": "grid"},
        search_space={
            "lr_g": {"grid": [1.0e-5, 3.0e-3]},
            "lr_d": 2.0e-3,
            "beta1": {"uniform": [0.3, 0.9]},
            "batch_size": {"choice": [32, 64]},
        },
        scheduler={
            "name": "pbt",
            "perturbation_interval": 1,
            "quantile_fraction": 0.5,
            "resample_probability": 0.25,
            "hyperparam_mutations": MUTATIONS,
        },
        checkpoint={"frequency": 1, "num_to_keep": 4},
        # One trial at a time: at each perturbation PBT pauses the running trial for the one
        # waiting, so the two take turns and every report meets the other's score, however
        # fast or slow the machine is.
        resources_per_trial={"cpu": 2},
    )
    cfg = validate_config(raw)
    return cfg, run_experiment(cfg).path


def _result_rows(trial_dir: str) -> list[dict[str, Any]]:
    lines = (Path(trial_dir) / "result.json").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _final_state(path: Path) -> dict[str, dict[str, Any]]:
    """trial_id -> the trial's final config and tag, from Ray's experiment state."""
    state = sorted(path.glob("experiment_state-*.json"), key=lambda p: p.stat().st_mtime)[-1]
    trials = [json.loads(t) for t, _ in json.loads(state.read_text())["trial_data"]]
    return {t["trial_id"]: t for t in trials}


def test_pbt_exploits_and_records_what_ray_did(pbt_run: tuple[Any, Path]) -> None:
    _, path = pbt_run
    ray_lines = [json.loads(x) for x in (path / PBT_LOG_FILE).read_text().splitlines() if x.strip()]
    records = read_records(path)
    assert ray_lines, "PBT never exploited"
    assert len(records) == len(ray_lines)
    state = _final_state(path)
    tag_of = {tid: t["experiment_tag"].split("@perturbed[")[0] for tid, t in state.items()}
    for record, (target, donor, _, donor_iteration, donor_config, new_config) in zip(
        records, ray_lines, strict=True
    ):
        assert tag_of[record["trial_id"]] == target
        assert tag_of[record["donor_id"]] == donor
        assert record["donor_id"] != record["trial_id"]
        assert record["donor_iteration"] == donor_iteration
        assert record["donor"] == {k: donor_config[k] for k in MUTATIONS}
        assert record["new"] == {k: new_config[k] for k in MUTATIONS}
    times = [r["time"] for r in records]
    assert times == sorted(times)
    # Each exploited trial ends with the config of its last recorded perturbation.
    for trial_id in {r["trial_id"] for r in records}:
        last = [r for r in records if r["trial_id"] == trial_id][-1]
        assert {k: state[trial_id]["config"][k] for k in MUTATIONS} == last["new"]


def test_restored_trials_train_with_their_new_config(pbt_run: tuple[Any, Path]) -> None:
    cfg, path = pbt_run
    records = read_records(path)
    trials = read_trials(path).set_index("trial_id")
    continued = 0
    for trial_id, trial in trials.iterrows():
        rows = _result_rows(trial["trial_dir"])
        for row in rows:
            config = row["config"]
            # The optimizers use the trial's current config, not the checkpoint's values.
            assert math.isclose(row["lr_g_actual"], config["lr_g"], rel_tol=1e-9)
            assert math.isclose(row["beta1_actual"], config["beta1"], rel_tol=1e-9)
            for key, spec in MUTATIONS.items():
                assert search_space.contains(key, spec, config[key]), row
        own = [r for r in records if r["trial_id"] == trial_id]
        for index, record in enumerate(own):
            # The report that triggered the exploit ran with the recorded old values.
            before = [row for row in rows if row["report_time"] < record["time"]][-1]
            assert before["training_iteration"] == record["training_iteration"]
            assert {k: before["config"][k] for k in MUTATIONS} == record["old"]
            until = own[index + 1]["time"] if index + 1 < len(own) else math.inf
            later = [row for row in rows if record["time"] < row["report_time"] < until]
            if not later:
                continue  # exploited at its last epoch, or again before its next report
            continued += 1
            first = later[0]
            assert {k: first["config"][k] for k in MUTATIONS} == record["new"]
            assert first["lr_g_actual"] == pytest.approx(record["new"]["lr_g"])
            assert first["training_iteration"] <= record["donor_iteration"] + 1
    assert continued >= 1, "no exploited trial trained again after its restore"
    assert set(trials["status"]) == {"TERMINATED"}
    assert cfg.max_epochs == max(
        r["training_iteration"] for t in trials["trial_dir"] for r in _result_rows(t)
    )


def test_summary_shows_the_history_and_writes_its_plot(
    pbt_run: tuple[Any, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = pbt_run
    assert main(["summary", str(path)]) == 0
    out = capsys.readouterr().out
    history = read_history(path)
    assert f"PBT perturbations ({len(read_records(path))}):" in out
    assert set(history["param"]) == set(MUTATIONS)
    for trial_id in history["trial_id"]:
        assert trial_id in out
    assert (path / PBT_HISTORY_PLOT).stat().st_size > 10_000
    best = json.loads((path / "best.json").read_text())
    ceiling = best["test"]["real_val_inception_score"]
    assert 0.999 < best["test"]["inception_score"] < ceiling <= 10.0


@pytest.mark.parametrize("name", ["random", "hyperopt_asha"])
def test_dcgan_config_runs_in_smoke_mode(
    name: str, tmp_path: Path, data_dir: Path, ray_session: None
) -> None:
    cfg = smoke(
        load_config(
            CONFIGS / f"{name}.yaml",
            [
                "dataset.name=digits",
                f"dataset.data_dir={data_dir}",
                f"storage_path={tmp_path}",
            ],
        )
    )
    outcome = run_experiment(cfg)
    experiment = load_experiment(outcome.path)
    assert set(experiment.trials["status"]) == {"TERMINATED"}
    assert len(experiment.trials) == cfg.num_samples == 2
    reports = experiment.reports
    assert {"inception_score", "loss_g", "loss_d", "epoch"} <= set(reports.columns)
    assert (reports["inception_score"] > 0.999).all()
    assert not reports["diverged"].any()
    assert outcome.best is not None and outcome.best["test"]["inception_score"] > 0.999


def test_diverging_losses_end_the_trial_cleanly(
    tmp_path: Path, data_dir: Path, ray_session: None
) -> None:
    raw = _tiny_dcgan(
        "dcgan_diverge",
        tmp_path,
        data_dir,
        max_epochs=3,
        search_space={"lr_g": 1.0e30, "lr_d": 1.0e30},
    )
    experiment = load_experiment(run_experiment(validate_config(raw)).path)
    reports = experiment.reports
    assert list(experiment.trials["status"]) == ["TERMINATED"]
    assert len(reports) == 1, "a diverged trial reports once and stops"
    row = reports.iloc[0]
    assert bool(row["diverged"]) and row["inception_score"] == 0.0
    assert math.isnan(row["loss_d"]) or math.isinf(row["loss_d"])
