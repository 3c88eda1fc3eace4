"""Which heavy packages each entry point pulls in, each measured in a fresh interpreter.

A command that only reads files must not pay for torch, Ray Tune or W&B: ``--help`` imports none
of them, reading results imports no torch, and loading a config no W&B.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from raytune_hpo.layout import PRELOAD_ENV

HEAVY = (
    "torch",
    "torch._dynamo",
    "torchvision",
    "ray",
    "ray.tune",
    "pandas",
    "matplotlib",
    "wandb",
    "sklearn",
)
PROBE = """
import json, sys
{body}
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""


def loaded_after(body: str, env: dict[str, str] | None = None) -> set[str]:
    """The heavy packages a fresh interpreter holds after running ``body``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(body=body, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def run_cli(argv: list[str]) -> str:
    """Run ``raytune_hpo.cli.main(argv)`` in the probe, keeping the interpreter for the report."""
    return (
        "from raytune_hpo.cli import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as stop:\n"
        "    code = stop.code\n"
        "assert code == 0, code\n"
    )


def write_experiment(folder: Path) -> Path:
    """An experiment folder with one finished trial of two reports, in Ray's own file layout."""
    folder.mkdir()
    config = {
        "name": "light",
        "metric": "validation_error",
        "mode": "min",
        "searcher": {"name": "random"},
        "scheduler": {"name": "fifo"},
    }
    (folder / "raytune_hpo.yaml").write_text(yaml.safe_dump(config))
    trial = {"trial_id": "t0001", "status": "TERMINATED", "relative_logdir": "trial_t0001"}
    state = {"trial_data": [[json.dumps(trial), json.dumps({"start_time": 100.0})]]}
    (folder / "experiment_state-2026-12-01_00-00-00.json").write_text(json.dumps(state))
    (folder / "trial_t0001").mkdir()
    reports = [
        {
            "trial_id": "t0001",
            "training_iteration": epoch,
            "validation_error": error,
            "time_this_iter_s": 1.0,
            "time_total_s": float(epoch),
            "timestamp": 100 + epoch,
            "config": {"learning_rate": 0.1},
        }
        for epoch, error in ((1, 0.5), (2, 0.25))
    ]
    (folder / "trial_t0001" / "result.json").write_text(
        "".join(json.dumps(r) + "\n" for r in reports)
    )
    return folder


def test_help_imports_nothing_heavy() -> None:
    assert loaded_after(run_cli(["--help"])) == set()


@pytest.mark.parametrize("command", ["run", "validate", "summary", "compare", "resume"])
def test_subcommand_help_imports_nothing_heavy(command: str) -> None:
    assert loaded_after(run_cli([command, "--help"])) == set()


def test_summary_reads_results_without_torch_ray_or_wandb(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path / "light")
    body = run_cli(["summary", str(folder)])
    loaded = loaded_after(body)
    assert loaded.isdisjoint({"torch", "torchvision", "ray", "wandb", "matplotlib", "sklearn"})


def test_compare_reads_results_without_torch_or_wandb(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path / "light")
    body = run_cli(["compare", str(folder), "--out", str(tmp_path / "out")])
    assert loaded_after(body).isdisjoint({"torch", "torchvision", "ray.tune", "wandb", "sklearn"})
    assert (tmp_path / "out" / "methods.csv").read_text().splitlines()[1].startswith("1,random,")


def test_summary_prints_the_trial(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path / "light")
    done = subprocess.run(
        [sys.executable, "-m", "raytune_hpo.cli", "summary", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "t0001" in done.stdout
    assert "0.25" in done.stdout


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("raytune_hpo", set(HEAVY)),
        ("raytune_hpo.layout", set(HEAVY)),
        ("raytune_hpo.trial_ends", set(HEAVY)),
        ("raytune_hpo.cli", set(HEAVY)),
        ("raytune_hpo.config.wandb_section", set(HEAVY)),
        ("raytune_hpo.analysis.results", {"torch", "ray", "wandb", "matplotlib"}),
        ("raytune_hpo.analysis.compare", {"torch", "torchvision", "ray.tune", "wandb", "sklearn"}),
        ("raytune_hpo.analysis.comparison_plots", {"torch", "ray", "wandb"}),
        ("raytune_hpo.config", {"torch", "ray.tune", "pandas", "wandb", "matplotlib", "sklearn"}),
        ("raytune_hpo.experiment.runner", {"torch", "wandb", "matplotlib"}),
    ],
)
def test_module_imports_stay_light(module: str, forbidden: set[str]) -> None:
    assert loaded_after(f"import {module}") & forbidden == set()


def test_config_loads_without_wandb(tmp_path: Path) -> None:
    config = tmp_path / "light.yaml"
    spec = {"name": "light", "trainable": "sleep", "search_space": {"learning_rate": 0.1}}
    config.write_text(yaml.safe_dump(spec))
    body = f"from raytune_hpo.config import load_config\nload_config({str(config)!r}, [])\n"
    assert loaded_after(body).isdisjoint({"ray.tune", "wandb", "matplotlib"})


def test_worker_preload_imports_torch_only_when_asked() -> None:
    light = loaded_after("import raytune_hpo.cluster.worker_preload", {PRELOAD_ENV: "0"})
    assert light.isdisjoint({"torch", "torchvision", "ray.tune", "pandas", "wandb"})
    body = "import raytune_hpo.cluster.worker_preload as w\nw.PRELOADING.join()"
    # torch._dynamo: what a trial's first optimizer imports (torch.optim wraps its __init__)
    assert {"torch", "torch._dynamo"} <= loaded_after(body, {PRELOAD_ENV: "1"})


def test_a_sleep_trial_and_its_config_import_no_torch(tmp_path: Path) -> None:
    """What a Ray worker unpickles for a ``sleep`` trial, and the driver's check of its options."""
    import ray.cloudpickle

    from raytune_hpo.demos.trainables import TRAINABLES

    shipped = tmp_path / "train.pkl"
    shipped.write_bytes(ray.cloudpickle.dumps(TRAINABLES["sleep"].train))
    body = f"import pickle, pathlib\npickle.loads(pathlib.Path({str(shipped)!r}).read_bytes())\n"
    assert "torch" not in loaded_after(body)
    config = tmp_path / "sleep.yaml"
    spec = {"name": "s", "trainable": "sleep", "search_space": {"learning_rate": 0.1}}
    config.write_text(yaml.safe_dump(spec))
    body = (
        "from raytune_hpo.config import load_config\n"
        f"assert not load_config({str(config)!r}, []).builtin.needs_torch\n"
    )
    assert "torch" not in loaded_after(body)


def test_a_config_check_imports_no_trainable_code_and_the_first_trial_does() -> None:
    body = (
        "from raytune_hpo.demos.trainables import TRAINABLES\n"
        "lenet = TRAINABLES['lenet']\n"
        "assert lenet.options().activation == 'sigmoid' and lenet.needs_torch\n"
        "assert 'torch' not in sys.modules\n"
        "assert lenet.train.__name__ == 'train_lenet'\n"
    )
    assert "torch" in loaded_after(body)


def test_validate_imports_no_torch() -> None:
    quickstart = Path(__file__).resolve().parents[2] / "configs" / "quickstart.yaml"
    assert "torch" not in loaded_after(run_cli(["validate", str(quickstart)]))


def test_the_driver_starts_no_background_import() -> None:
    """Only a Ray worker imports torch ahead; a driver's runner and cluster code start no thread."""
    body = (
        "import threading, time\n"
        "import raytune_hpo.experiment.runner\n"
        "time.sleep(0.5)\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
    )
    assert "torch" not in loaded_after(body)


def test_the_digits_load_without_scikit_learn_or_torch(tmp_path: Path) -> None:
    body = (
        "from raytune_hpo.demos.datasets import load_dataset\n"
        f"load_dataset('digits', {str(tmp_path)!r})\n"
    )
    assert loaded_after(body).isdisjoint({"torch", "sklearn"})


def test_the_driver_hands_lenet_to_ray_without_importing_it(tmp_path: Path) -> None:
    """What the driver pickles for a LeNet trial imports no torch until a worker calls it."""
    body = (
        "import ray.cloudpickle\n"
        "from raytune_hpo.demos.trainables import TRAINABLES\n"
        "shipped = TRAINABLES['lenet'].train_imported_by_workers\n"
        "assert shipped.__name__ == 'train_lenet', shipped.__name__\n"
        "unpickled = ray.cloudpickle.loads(ray.cloudpickle.dumps(shipped))\n"
        "assert 'torch' not in sys.modules\n"
        "try:\n"
        "    unpickled({}, data=None, settings=None)\n"
        "except Exception:\n"
        "    pass\n"  # no data: the call fails in LeNet's code, after importing it
        "assert 'raytune_hpo.demos.lenet' in sys.modules\n"
    )
    assert "torch" in loaded_after(body)


def test_the_scoring_code_is_imported_once_the_first_trial_ends() -> None:
    body = (
        "import threading\n"
        "from raytune_hpo.experiment.scoring_import import ImportScoringCode\n"
        "from raytune_hpo.demos.trainables import TRAINABLES\n"
        "callback = ImportScoringCode(TRAINABLES['lenet'])\n"
        "callback.on_trial_result(0, [], None, {})\n"
        "assert 'torch' not in sys.modules\n"
        "assert not [t for t in threading.enumerate() if t.name == 'import-scoring']\n"
        "callback.on_trial_complete(0, [], None)\n"
        "callback.on_trial_error(0, [], None)\n"
        "callback.on_trial_complete(0, [], None)\n"
        "threads = [t for t in threading.enumerate() if t.name == 'import-scoring']\n"
        "assert len(threads) == 1, threads\n"
        "threads[0].join()\n"
    )
    assert "torch" in loaded_after(body)


def test_a_sleep_run_s_driver_imports_no_torch(tmp_path: Path) -> None:
    """The tuner the driver builds for a ``sleep`` run, TensorBoard's logger among its callbacks
    (tensorboardX imports torch when it can): some 450 MB a ``sleep`` or command run never
    needs."""
    config = tmp_path / "sleep.yaml"
    spec = {
        "name": "s",
        "trainable": "sleep",
        "search_space": {"learning_rate": 0.1},
        "storage_path": str(tmp_path),
    }
    config.write_text(yaml.safe_dump(spec))
    body = (
        "from raytune_hpo.config import load_config\n"
        "from raytune_hpo.experiment.runner import build_tuner\n"
        f"cfg = load_config({str(config)!r}, [])\n"
        "assert cfg.tensorboard\n"
        "build_tuner(cfg, lambda config: None)\n"
        "assert 'tensorboardX.writer' in sys.modules\n"
    )
    assert loaded_after(body).isdisjoint({"torch", "torchvision", "wandb", "matplotlib"})
