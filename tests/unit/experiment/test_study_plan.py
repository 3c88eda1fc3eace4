"""The study's plan, checks, record and headline, without running anything."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from raytune_hpo import cli
from raytune_hpo.analysis.compare import Comparison
from raytune_hpo.config import ConfigError
from raytune_hpo.console.summary import print_comparison
from raytune_hpo.experiment.study import (
    StudyRecord,
    StudySpec,
    headline,
    open_record,
    plan_runs,
)
from raytune_hpo.layout import STUDY_FILE
from tests.helpers.paths import ROOT

LENET = ROOT / "configs" / "lenet"


def _user_config(folder: Path) -> Path:
    path = folder / "mine.yaml"
    raw: dict[str, Any] = {
        "name": "mine",
        "trainable": "ray.tune.examples.async_hyperband_example:easy_objective",
        "metric": "mean_loss",
        "mode": "min",
        "search_space": {"width": {"uniform": [0, 20]}, "height": {"uniform": [-100, 100]}},
    }
    path.write_text(yaml.safe_dump(raw))
    return path


def _spec(tmp_path: Path, *configs: Path, **fields: Any) -> StudySpec:
    return StudySpec(
        name=fields.pop("name", "s"),
        configs=configs,
        seeds=fields.pop("seeds", 2),
        budget_s=fields.pop("budget_s", 30.0),
        storage_path=str(tmp_path / "results"),
        **fields,
    )


def test_one_run_per_config_and_seed_with_the_budget_seed_by_seed(tmp_path: Path) -> None:
    spec = _spec(tmp_path, LENET / "random.yaml", LENET / "asha.yaml", seeds=2, budget_s=45)
    runs = plan_runs(spec)
    assert [(run.cfg.name, run.seed, run.cfg.seed) for run in runs] == [
        ("random_seed0", 0, 0),
        ("asha_seed0", 0, 0),
        ("random_seed1", 1, 1),
        ("asha_seed1", 1, 1),
    ]
    assert {run.cfg.time_budget_s for run in runs} == {45}
    assert {run.path.parent for run in runs} == {tmp_path / "results" / "s"}
    assert [run.cfg.method for run in runs] == ["random", "asha", "random", "asha"]


def test_the_preset_applies_per_trainable_and_set_comes_after(tmp_path: Path) -> None:
    mine = _user_config(tmp_path)
    spec = _spec(
        tmp_path,
        LENET / "random.yaml",
        mine,
        seeds=1,
        preset="offline",
        overrides=("dataset.name=digits",),
    )
    lenet, user = plan_runs(spec)
    # --set wins over the preset's data set; the preset's activation stays.
    assert lenet.cfg.dataset.name == "digits"
    assert lenet.cfg.trainable_options["activation"] == "relu"
    assert user.cfg.trainable_options == {}

    (lenet,) = plan_runs(_spec(tmp_path, LENET / "random.yaml", seeds=1, preset="offline"))
    assert lenet.cfg.dataset.name == "mnist_5k"
    (plain,) = plan_runs(_spec(tmp_path, LENET / "random.yaml", seeds=1))
    assert plain.cfg.dataset.name == "fashion_mnist"
    assert "activation" not in plain.cfg.trainable_options


def test_smoke_and_wandb_settings_reach_every_run(tmp_path: Path) -> None:
    spec = _spec(tmp_path, LENET / "pbt.yaml", seeds=1, smoke=True, wandb=True, name="grp")
    (run,) = plan_runs(spec)
    assert run.cfg.num_samples == 2 and run.cfg.max_epochs == 2
    assert run.cfg.time_budget_s is None
    assert run.cfg.wandb.enabled and run.cfg.wandb.group == "grp"


@pytest.mark.parametrize(
    ("fields", "key", "words"),
    [
        ({"name": ".."}, "--name", "'..'"),
        ({"name": "."}, "--name", "'.'"),
        ({"name": "a/b"}, "--name", "a/b"),
        ({"seeds": 0}, "--seeds", "at least 1, got 0"),
        ({"budget_s": 0.0}, "--budget-s", "positive"),
        ({"budget_s": math.nan}, "--budget-s", "positive"),
        ({"preset": "fast"}, "--preset", "unknown preset 'fast'; known: offline"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(
    tmp_path: Path, fields: dict[str, Any], key: str, words: str
) -> None:
    spec = _spec(tmp_path, LENET / "random.yaml")
    spec = StudySpec(**{**vars(spec), **fields})
    with pytest.raises(ConfigError) as caught:
        plan_runs(spec)
    assert caught.value.key == key and words in caught.value.message
    assert not (tmp_path / "results").exists()


def test_two_configs_of_one_name_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "random.yaml").write_text((LENET / "random.yaml").read_text())
    with pytest.raises(ConfigError, match="share a name \\(random\\)"):
        plan_runs(_spec(tmp_path, LENET / "random.yaml", other / "random.yaml"))


def test_a_bad_config_names_its_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((LENET / "random.yaml").read_text() + "max_epoch: 3\n")
    with pytest.raises(ConfigError) as caught:
        plan_runs(_spec(tmp_path, LENET / "random.yaml", bad))
    assert caught.value.key == "max_epoch" and "max_epochs" in caught.value.message
    assert str(bad) in str(caught.value)
    with pytest.raises(ConfigError, match="--set max_epochs"):
        plan_runs(_spec(tmp_path, LENET / "random.yaml", overrides=("max_epochs=-1",)))


def test_a_new_study_writes_its_record_and_a_rerun_continues_it(tmp_path: Path) -> None:
    spec = _spec(tmp_path, LENET / "random.yaml")
    record = open_record(spec, overwrite=False)
    assert json.loads((spec.root / STUDY_FILE).read_text())["settings"] == spec.settings()
    record.finished["random_seed0"] = {"seconds": 1.0, "best": 0.5}
    record.save(spec.root)
    again = open_record(spec, overwrite=False)
    assert again.finished == {"random_seed0": {"seconds": 1.0, "best": 0.5}}
    assert not list(spec.root.glob("*.partial"))


def test_other_settings_under_the_same_name_are_refused(tmp_path: Path) -> None:
    spec = _spec(tmp_path, LENET / "random.yaml")
    open_record(spec, overwrite=False)
    changed = StudySpec(**{**vars(spec), "seeds": 3, "budget_s": 10.0})
    with pytest.raises(ConfigError) as caught:
        open_record(changed, overwrite=False)
    assert caught.value.key == "--name"
    assert "other budget_s, seeds" in caught.value.message
    assert "--overwrite" in caught.value.message


def test_overwrite_sets_the_earlier_study_aside(tmp_path: Path) -> None:
    spec = _spec(tmp_path, LENET / "random.yaml")
    open_record(spec, overwrite=False).save(spec.root)
    (spec.root / "kept.txt").write_text("earlier")
    record = open_record(StudySpec(**{**vars(spec), "seeds": 5}), overwrite=True)
    assert record.finished == {} and record.settings["seeds"] == 5
    (moved,) = [p for p in spec.root.parent.iterdir() if p.name.startswith("s.replaced-")]
    assert (moved / "kept.txt").read_text() == "earlier"


def test_a_folder_that_is_not_a_study_is_refused(tmp_path: Path) -> None:
    spec = _spec(tmp_path, LENET / "random.yaml")
    spec.root.mkdir(parents=True)
    (spec.root / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=f"holds files but no {STUDY_FILE}"):
        open_record(spec, overwrite=False)
    assert (spec.root / "notes.txt").read_text() == "mine"


def test_the_record_is_plain_json(tmp_path: Path) -> None:
    StudyRecord({"seeds": 1}, {"a_seed0": {"seconds": 2.5, "best": None}}).save(tmp_path)
    assert json.loads((tmp_path / STUDY_FILE).read_text()) == {
        "settings": {"seeds": 1},
        "finished": {"a_seed0": {"seconds": 2.5, "best": None}},
    }


def _comparison(methods: list[dict[str, Any]]) -> Comparison:
    frame = pd.DataFrame(methods)
    return Comparison("validation_error", "min", None, frame, frame, frame)


def test_headline_names_the_best_method_and_the_others() -> None:
    comparison = _comparison(
        [
            {"method": "pbt", "mean": 0.0123, "std": 0.002},
            {"method": "asha", "mean": 0.02, "std": math.nan},
        ]
    )
    assert headline(comparison, 3) == (
        "best method: pbt, mean final validation_error 0.0123 ± 0.0020 over 3 seeds "
        "(then asha 0.0200)"
    )
    assert headline(_comparison([]), 3) == "no method reported a result"


def test_with_several_objectives_the_headline_names_the_mean_hypervolume() -> None:
    comparison = _comparison(
        [
            {"method": "nsga2", "mean": 0.3, "std": 0.1, "hypervolume": 2.5,
             "hypervolume_std": 0.25},
            {"method": "random", "mean": 0.2, "std": 0.1, "hypervolume": 1.5,
             "hypervolume_std": math.nan},
        ]
    )  # fmt: skip
    assert headline(comparison, 3) == (
        "best method: nsga2, mean final hypervolume 2.5000 ± 0.2500 over 3 seeds "
        "(then random 1.5000)"
    )


def test_the_cli_refuses_a_bad_study_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["study", str(LENET / "random.yaml"), "--name", "..", "--storage-path", str(tmp_path)]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("raytune-hpo: error: --name: '..'")


def test_the_method_table_prints_rounded(capsys: pytest.CaptureFixture[str]) -> None:
    comparison = _comparison(
        [{"rank": 1, "method": "pbt", "mean": 0.012345678, "std": 0.00123456, "epochs": 53.666}]
    )
    print_comparison(comparison, {"report": Path("r.md")})
    header, row, report = capsys.readouterr().out.splitlines()
    assert header.split() == ["rank", "method", "mean", "std", "epochs"]
    assert row.split() == ["1", "pbt", "0.01235", "0.001235", "53.7"]
    assert report == "report: r.md"
