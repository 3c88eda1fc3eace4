"""Metric names on real runs: Keras's TensorBoard tags by their folder, a name that ends two
tags, a misspelled metric, and a number printed with a trailing ``%``.

The Keras script (``experiments/examples/frameworks/keras_digits.py`` through
``configs/frameworks/keras_asha.yaml``) trains one tiny trial of three epochs; every report must
be the value Keras wrote under ``logs/validation/``, read back from its event files by the
tests' own reader (``tests/helpers/event_files.py``). The other runs use scripts of a few lines
written into the test's folder, each a single trial; a run that should end at an early report
leaves its script sleeping after it, so that a run that does not end there fails instead of
passing late.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from raytune_hpo import api
from raytune_hpo.analysis.results import load_experiment
from raytune_hpo.config.config_errors import ConfigError
from tests.helpers.event_files import scalar_points

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
KERAS_CONFIG = ROOT / "configs" / "frameworks" / "keras_asha.yaml"
EPOCHS = 3


def written_values(folder: Path, tag: str) -> list[float]:
    """The values of ``tag`` in the event files of ``folder``, by step."""
    return [number for _, number in scalar_points(folder, tag)]


def test_keras_reports_every_epoch_of_its_validation_loss(
    ray_session: None, tmp_path: Path
) -> None:
    overrides = (
        "num_samples=1",
        f"max_epochs={EPOCHS}",
        "seed=0",
        f"storage_path={tmp_path / 'results'}",
        "search_space.learning_rate=0.01",
        "search_space.units=16",
        "search_space.dropout=0.0",
        "search_space.batch_size=128",
        f"search_space.epochs={EPOCHS}",
    )
    outcome = api.run(KERAS_CONFIG, overrides=overrides, output="quiet")

    experiment = load_experiment(Path(outcome.path))
    (trial,) = experiment.trials.itertuples()
    assert trial.status == "TERMINATED" and pd.isna(trial.error_file), trial
    reports = experiment.reports.sort_values("training_iteration")
    assert reports["training_iteration"].tolist() == list(range(1, EPOCHS + 1))
    (logs,) = Path(trial.trial_dir).rglob("logs")
    validation = written_values(logs / "validation", "epoch_loss")
    train = written_values(logs / "train", "epoch_loss")
    assert len(validation) == len(train) == EPOCHS and validation != train, (validation, train)
    # Every report is its epoch's validation loss, the training loss beside it.
    assert reports["validation/epoch_loss"].tolist() == pytest.approx(validation, rel=1e-6)
    assert reports["logs/validation/epoch_loss"].tolist() == pytest.approx(validation, rel=1e-6)
    assert reports["logs/train/epoch_loss"].tolist() == pytest.approx(train, rel=1e-6)
    assert outcome.best is not None
    assert outcome.best["metrics"]["validation/epoch_loss"] == pytest.approx(min(validation))


def run_script(tmp_path: Path, name: str, script: str, **config: Any) -> Any:
    """Run ``script`` (its source) as a one-trial command experiment; the outcome."""
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / f"{name}.py").write_text(textwrap.dedent(script))
    raw = {
        "name": name,
        "trainable": {"command": f"python {name}.py", "workdir": str(code)},
        "mode": "min",
        "max_epochs": 3,
        "num_samples": 1,
        "search_space": {"seed": 0},
        "storage_path": str(tmp_path / "results"),
        **config,
    }
    return api.run(raw, output="quiet")


SLEEP_AFTER = "time.sleep(120)  # training goes on: the run must end before"

TWO_FOLDERS = f"""
    import time
    from tensorboardX import SummaryWriter

    for part, loss in (("train", 0.9), ("validation", 0.8)):
        writer = SummaryWriter(f"logs/{{part}}")
        writer.add_scalar("epoch_loss", loss, 0)
        writer.close()
    {SLEEP_AFTER}
"""


def test_a_tag_name_in_two_folders_ends_the_run_naming_both(
    ray_session: None, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_script(
            tmp_path,
            "two_folders",
            TWO_FOLDERS,
            metric="epoch_loss",
            trainable={
                "command": "python two_folders.py",
                "workdir": str(tmp_path / "code"),
                "metrics": {"format": "tensorboard"},
            },
        )
    message = str(caught.value)
    assert caught.value.key == "metric" and "\n" not in message, message
    assert "2 keys that end with it: logs/train/epoch_loss, logs/validation/epoch_loss" in message


MISSPELLED = f"""
    import time

    for epoch in range(1, 4):
        print(f"epoch={{epoch}} val_loss={{1 / epoch:.4f}} acc=0.5", flush=True)
        if epoch == 2:
            {SLEEP_AFTER}
"""


def test_a_misspelled_metric_ends_the_run_at_its_second_epoch(
    ray_session: None, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        run_script(tmp_path, "misspelled", MISSPELLED, metric="val_los")
    message = str(caught.value)
    assert caught.value.key == "metric" and "\n" not in message, message
    assert "did you mean 'val_loss'?" in message
    assert "acc, epoch, val_loss" in message


PERCENT = """
    for epoch, accuracy in ((1, "91.25"), (2, "93.50")):
        print(f"epoch {epoch}: val acc {accuracy}%", flush=True)
"""


def test_a_number_with_a_trailing_percent_is_reported_as_its_number(
    ray_session: None, tmp_path: Path
) -> None:
    outcome = run_script(
        tmp_path,
        "percent",
        PERCENT,
        metric="val_acc",
        mode="max",
        trainable={
            "command": "python percent.py",
            "workdir": str(tmp_path / "code"),
            "metrics": {"format": "regex", "pattern": r"val acc (?P<val_acc>\S+)"},
        },
    )
    reports = load_experiment(Path(outcome.path)).reports
    assert reports.sort_values("training_iteration")["val_acc"].tolist() == [91.25, 93.5]
