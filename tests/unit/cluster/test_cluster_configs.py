"""Every cluster-launcher YAML in configs/cluster/ passes Ray's own validation."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from raytune_hpo.cluster import LOCAL_SYSTEM_CONFIG
from tests.helpers.paths import ROOT

CLUSTER_DIR = ROOT / "configs" / "cluster"
CLUSTER_FILES = sorted(CLUSTER_DIR.glob("*.yaml"))
GPU_FILES = [path for path in CLUSTER_FILES if path.stem.endswith("-gpu")]


def _load(path: Path) -> dict[str, Any]:
    """Reads a cluster YAML as the cluster launcher does."""
    with path.open() as f:
        return yaml.safe_load(f)


def _prepared(path: Path) -> dict[str, Any]:
    """Fills in Ray's provider defaults and node types the way `ray up` does, then validates."""
    config = prepare_config(_load(path))
    validate_config(config)
    return config


def test_cluster_folder_holds_the_expected_files() -> None:
    names = {path.name for path in CLUSTER_FILES}
    assert {"aws-gpu.yaml", "gcp-gpu.yaml", "local.yaml"} <= names


@pytest.mark.parametrize("path", CLUSTER_FILES, ids=lambda p: p.name)
def test_ray_validates_cluster_config(path: Path) -> None:
    config = _prepared(path)
    assert config["head_node_type"] in config["available_node_types"]


@pytest.mark.parametrize("path", CLUSTER_FILES, ids=lambda p: p.name)
def test_header_explains_the_flow(path: Path) -> None:
    header = path.read_text().split("\n\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    for step in ("ray up", "ray job submit", "raytune-hpo run", "--address auto", "ray down"):
        assert step in header, f"{path.name}: header comment does not mention {step!r}"


@pytest.mark.parametrize("path", CLUSTER_FILES, ids=lambda p: p.name)
def test_every_node_installs_this_package(path: Path) -> None:
    config = _prepared(path)
    assert config["file_mounts"].get("~/raytune_hpo") == "."
    assert "**/.venv" in config["rsync_exclude"]
    for key in ("head_setup_commands", "worker_setup_commands"):
        commands = " && ".join(config[key])
        assert "pip install -e ~/raytune_hpo" in commands, f"{path.name}: {key}"
        pins = re.findall(r"ray\[[a-z,]+\]==([\w.]+)", commands)
        assert pins == [ray.__version__], f"{path.name}: {key} must pin ray=={ray.__version__}"


@pytest.mark.parametrize("path", CLUSTER_FILES, ids=lambda p: p.name)
def test_every_node_preloads_the_worker_module(path: Path) -> None:
    """Each ``ray start`` sets Ray's preload to the module a local instance preloads."""
    (module,) = LOCAL_SYSTEM_CONFIG["preload_python_modules"]
    config = _prepared(path)
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        starts = [command for command in config[key] if "ray start" in command]
        assert starts, f"{path.name}: {key} starts no Ray"
        for command in starts:
            assert f"RAY_preload_python_modules={module} ray start" in command, command
    importlib.import_module(module)


@pytest.mark.parametrize("path", GPU_FILES, ids=lambda p: p.name)
def test_gpu_workers_scale_from_zero(path: Path) -> None:
    config = _prepared(path)
    head = config["head_node_type"]
    workers = {name: spec for name, spec in config["available_node_types"].items() if name != head}
    gpu_workers = {name: spec for name, spec in workers.items() if spec["resources"].get("GPU")}
    assert gpu_workers, f"{path.name}: no worker node type declares GPU resources"
    assert all(spec["min_workers"] == 0 for spec in workers.values())
    assert all(spec["max_workers"] >= 1 for spec in gpu_workers.values())
    assert config["available_node_types"][head]["resources"].get("GPU", 0) == 0
    assert config["idle_timeout_minutes"] > 0
    if config["provider"]["type"] == "gcp":
        for name, spec in gpu_workers.items():
            attached = sum(a["acceleratorCount"] for a in spec["node_config"]["guestAccelerators"])
            assert attached == spec["resources"]["GPU"], f"{path.name}: {name}"


def test_validator_rejects_an_unknown_node_type_key() -> None:
    config = _prepared(CLUSTER_DIR / "aws-gpu.yaml")
    config["available_node_types"]["gpu_1x"]["min_worker"] = 0
    with pytest.raises(jsonschema.ValidationError, match="min_worker"):
        validate_config(config)
