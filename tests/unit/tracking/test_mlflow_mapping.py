"""What MLflow receives: params flattened from a trial's config, a report's numbers as metrics
at its epoch, the config section, and URIs whose credentials never show."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from raytune_hpo.config import ConfigError, validate_config
from raytune_hpo.config.mlflow_section import MlflowConfig, masked_uri, tracking_uri, where
from raytune_hpo.console.header import mlflow_text
from raytune_hpo.tracking import mlflow_values


def test_params_flatten_nested_hyperparameters_and_cut_long_values() -> None:
    config = {"lr": 0.1, "opt": {"name": "sgd", "momentum": 0.9}, "long": "x" * 7000, "a b!": 1}
    params = mlflow_values.params(config)
    assert params["lr"] == "0.1" and params["opt/name"] == "sgd"
    assert params["opt/momentum"] == "0.9" and params["a b_"] == "1"
    assert len(params["long"]) == mlflow_values.PARAM_VALUE_LIMIT
    assert params["long"].endswith("...")


def test_a_report_gives_its_numbers_as_metrics_at_its_epoch() -> None:
    result = {
        "validation_error": 0.25,
        "training_iteration": 3,
        "timestamp": 17,
        "pid": 4,
        "done": False,
        "config": {"lr": 0.1},
        "trial_id": "abc",
        "diverged": True,
        "nested": {"loss": 1.5},
        "missing": None,
    }
    assert mlflow_values.metrics(result) == {
        "validation_error": 0.25,
        "diverged": 1.0,
        "nested/loss": 1.5,
    }
    assert mlflow_values.step(result, default=0) == 3
    assert mlflow_values.step({}, default=7) == 7


def test_a_perturbed_hyperparameter_becomes_a_metric() -> None:
    logged = mlflow_values.params({"lr": 0.1, "batch": 32, "act": "relu"})
    assert mlflow_values.changed_params(logged, {"lr": 0.1, "batch": 32, "act": "tanh"}) == {}
    assert mlflow_values.changed_params(logged, {"lr": 0.2, "batch": 32}) == {"config/lr": 0.2}


def test_better_follows_the_mode_and_never_takes_nan() -> None:
    assert mlflow_values.better(1.0, None, "min")
    assert mlflow_values.better(0.5, 1.0, "min") and not mlflow_values.better(1.5, 1.0, "min")
    assert mlflow_values.better(1.5, 1.0, "max")
    assert not mlflow_values.better(math.nan, None, "min")


def test_a_tracking_uri_turns_mlflow_on_and_enabled_false_wins() -> None:
    assert not MlflowConfig().active
    assert MlflowConfig(enabled=True).active
    assert MlflowConfig(tracking_uri="http://127.0.0.1:5000").active
    assert not MlflowConfig(tracking_uri="http://127.0.0.1:5000", enabled=False).active


def test_set_tracking_uri_from_the_command_line(tmp_path: Path) -> None:
    from raytune_hpo.config.loading import apply_overrides

    raw = apply_overrides(
        {"name": "x", "search_space": {"lr": 0.1}}, ["mlflow.tracking_uri=http://h:5000"]
    )
    cfg = validate_config(raw)
    assert cfg.mlflow.active and cfg.mlflow.tracking_uri == "http://h:5000"


def test_a_password_in_the_uri_is_refused_with_mlflows_variables_named() -> None:
    raw = {"name": "x", "search_space": {"lr": 0.1}}
    with pytest.raises(ConfigError) as err:
        validate_config({**raw, "mlflow": {"tracking_uri": "http://me:secret@h:5000"}})
    assert "MLFLOW_TRACKING_PASSWORD" in str(err.value) and "secret" not in str(err.value)


def test_credentials_in_a_uri_from_the_environment_are_masked(tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_URI": "https://me:secret@mlflow.example.com:8443/base"}
    assert masked_uri(env["MLFLOW_TRACKING_URI"]) == "https://***@mlflow.example.com:8443/base"
    line = where(MlflowConfig(enabled=True), tmp_path, "exp", env)
    assert line == "experiment exp at https://***@mlflow.example.com:8443/base"
    assert tracking_uri(MlflowConfig(enabled=True), tmp_path, env) == env["MLFLOW_TRACKING_URI"]


def test_without_a_uri_the_store_is_local_and_the_header_says_how_to_open_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cfg = validate_config({"name": "exp", "search_space": {"lr": 0.1}, "mlflow": {"enabled": True}})
    uri = f"sqlite:///{tmp_path.resolve()}/mlflow/mlflow.db"
    assert tracking_uri(cfg.mlflow, tmp_path, {}) == uri
    assert mlflow_text(cfg, tmp_path) == (
        f"experiment exp in {tmp_path.resolve()}/mlflow; see it: "
        f"mlflow ui --backend-store-uri {uri}"
    )
    assert mlflow_text(validate_config({"name": "e", "search_space": {"lr": 1}}), tmp_path) == ""


def test_a_study_puts_its_runs_into_one_mlflow_experiment_in_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raytune_hpo.experiment.study import StudySpec, mlflow_in_study

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    spec = StudySpec("cmp", (), 1, 10.0, storage_path=str(tmp_path), mlflow=True)
    cfg = validate_config({"name": "a_seed0", "search_space": {"lr": 0.1}})
    assert mlflow_in_study(cfg, spec) == cfg
    on = cfg.model_copy(update={"mlflow": MlflowConfig(enabled=True)})
    section = mlflow_in_study(on, spec).mlflow
    assert section.experiment_name == "cmp"
    assert section.tracking_uri == f"sqlite:///{(tmp_path / 'cmp').resolve()}/mlflow/mlflow.db"
    named = on.model_copy(update={"mlflow": MlflowConfig(tracking_uri="http://h:1")})
    assert mlflow_in_study(named, spec).mlflow.tracking_uri == "http://h:1"
