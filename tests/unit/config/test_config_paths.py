"""One rule for relative paths: a path written in a YAML file starts from that file's folder, a
path given on the command line (``--set``, ``--storage-path``) from the current folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from raytune_hpo.cli import _config_from_args, build_parser
from raytune_hpo.config import load_config
from raytune_hpo.console.header import ExperimentInfo

SPACE = {"learning_rate": {"uniform": [0.1, 1.0]}}


def _write(folder: Path, spec: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump({"name": "exp", "search_space": SPACE, **spec}))
    return path


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current folder: not the config's."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_every_path_in_a_file_starts_from_the_files_folder(tmp_path: Path, elsewhere: Path) -> None:
    conf = tmp_path / "conf"
    path = _write(
        conf,
        {
            "storage_path": "../results",
            "dataset": {"data_dir": "data"},
            "wandb": {"dir": "w"},
            "trainable": {"command": "python train.py ${args}", "workdir": "code"},
        },
    )
    cfg = load_config(path)
    assert cfg.storage_path == str(tmp_path / "results")
    assert cfg.dataset.data_dir == str(conf / "data")
    assert cfg.wandb.dir == str(conf / "w")
    assert cfg.trainable.workdir == str(conf / "code")  # type: ignore[union-attr]
    header = ExperimentInfo.from_config(cfg, tmp_path / "results" / "exp").header(None, {}, {})
    assert f"  folder     {tmp_path / 'results' / 'exp'}" in header
    assert f"  code       {conf / 'code'}" in header

    code = load_config(_write(conf, {"trainable": "my/train.py:fn", "evaluate": "ev.py:score"}))
    assert (code.trainable, code.evaluate) == (f"{conf}/my/train.py:fn", f"{conf}/ev.py:score")


def test_flags_start_from_the_current_folder(tmp_path: Path, elsewhere: Path) -> None:
    path = _write(tmp_path / "conf", {"storage_path": "../results", "dataset": {"data_dir": "d"}})
    sets = ["storage_path=out", "dataset.data_dir=data", "wandb.dir=w", "trainable=t.py:fn"]
    cfg = load_config(path, sets)
    assert cfg.storage_path == str(elsewhere / "out")
    assert cfg.dataset.data_dir == str(elsewhere / "data")
    assert cfg.wandb.dir == str(elsewhere / "w")
    assert cfg.trainable == f"{elsewhere}/t.py:fn"
    # A section set whole on the command line holds command-line paths.
    assert load_config(path, ["dataset={data_dir: x}"]).dataset.data_dir == str(elsewhere / "x")

    args = build_parser().parse_args(["run", str(path), "--storage-path", "runs"])
    assert _config_from_args(args).storage_path == str(elsewhere / "runs")


@pytest.mark.parametrize(
    "storage_path", ["~/raytune_hpo_results", "s3://bucket/hpo?endpoint_override=h:9&scheme=http"]
)
def test_home_and_uris_stay_as_written(tmp_path: Path, elsewhere: Path, storage_path: str) -> None:
    cfg = load_config(_write(tmp_path, {"storage_path": storage_path}))
    assert cfg.storage_path == storage_path
    assert cfg.dataset.data_dir == "~/.cache/raytune_hpo/data"


def test_a_command_without_workdir_runs_in_the_files_folder(
    tmp_path: Path, elsewhere: Path
) -> None:
    cfg = load_config(_write(tmp_path, {"trainable": {"command": "python t.py ${args}"}}))
    assert cfg.trainable.workdir == str(tmp_path)  # type: ignore[union-attr]
