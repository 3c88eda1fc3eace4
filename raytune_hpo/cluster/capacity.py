"""Checking before any trial starts that a trial fits on some node of the cluster.

``check_resources`` compares ``resources_per_trial`` with the nodes of the cluster and with the
node types its autoscaler may add: a trial that can never be placed is an error within seconds
instead of an experiment that waits forever.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
import yaml
from ray.util.client import ray as client_ray

from raytune_hpo.config import ConfigError, ResourcesConfig
from raytune_hpo.ray_compat import connecting
from raytune_hpo.storage import is_uri

BOOTSTRAP_CONFIG = Path("~/ray_bootstrap_config.yaml")
"""The cluster-launcher config that ``ray up`` leaves on the head node."""
RESOURCES_KEY = "resources_per_trial"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeShape:
    """The CPUs and GPUs of one node, or of one node type an autoscaler can start.

    Attributes:
        label: The node's IP address, or ``node type NAME`` for an autoscaler node type.
        cpu: CPUs the node offers to Ray.
        gpu: GPUs the node offers to Ray (logical GPUs count too).
    """

    label: str
    cpu: float
    gpu: float

    def fits(self, cpu: float, gpu: float) -> bool:
        """Whether one trial asking for ``cpu`` and ``gpu`` can be placed on this node."""
        return cpu <= self.cpu + 1e-9 and gpu <= self.gpu + 1e-9

    def __str__(self) -> str:
        return f"{self.label}: cpu={_number(self.cpu)}, gpu={_number(self.gpu)}"


def check_resources(resources: ResourcesConfig, storage_path: str) -> None:
    """Check a trial's request against the connected cluster before any trial starts.

    Logs a warning when a GPU fraction splits a GPU unevenly and when a multi-node cluster
    writes to a local folder.

    Raises:
        ConfigError: No node, present or addable by the autoscaler, can ever hold one trial.
    """
    nodes, node_types = alive_nodes(), autoscaler_node_types()
    multi_node = len(nodes) > 1 or node_types != []
    for note in (
        gpu_share_note(resources.gpu),
        storage_note(storage_path, multi_node, client_ray.is_connected()),
    ):
        if note:
            logger.warning("warning: %s", note)
    if any(node.fits(resources.cpu, resources.gpu) for node in nodes):
        return
    if node_types is None:
        logger.warning(
            "warning: %s: no node holds cpu=%s, gpu=%s and the autoscaler's node types are not "
            "known; trials wait until it adds a node that large",
            RESOURCES_KEY,
            _number(resources.cpu),
            _number(resources.gpu),
        )
        return
    check_fits(resources.cpu, resources.gpu, [*nodes, *node_types])


def check_fits(cpu: float, gpu: float, shapes: Iterable[NodeShape]) -> None:
    """Raise unless one trial asking for ``cpu`` and ``gpu`` fits on one of ``shapes``.

    Raises:
        ConfigError: It fits nowhere; the message lists what each node offers.
    """
    shapes = list(shapes)
    if any(shape.fits(cpu, gpu) for shape in shapes):
        return
    offered = "; ".join(str(shape) for shape in shapes) or "no nodes"
    raise ConfigError(
        RESOURCES_KEY,
        f"one trial asks for cpu={_number(cpu)}, gpu={_number(gpu)}, more than any node of "
        f"the cluster offers ({offered}); lower {RESOURCES_KEY} or add a node that large",
    )


def gpu_share_note(gpu: float) -> str | None:
    """A warning for a GPU fraction whose inverse is not a whole number, else None."""
    if not 0 < gpu < 1:
        return None
    share = 1 / gpu
    if math.isclose(share, round(share), rel_tol=1e-6):
        return None
    return (
        f"{RESOURCES_KEY}.gpu={_number(gpu)}: Ray splits a GPU by count, not by memory: "
        f"{math.floor(share)} trials share one GPU and each may use all of its memory; "
        "choose 1/N (0.5, 0.25, 0.2 ...) so that the shares add up to whole GPUs"
    )


def storage_note(storage_path: str, multi_node: bool, client_mode: bool) -> str | None:
    """A warning when results go to a local folder that other machines may not see."""
    if is_uri(storage_path) or not (multi_node or client_mode):
        return None
    where = "the cluster's head runs the experiment" if client_mode else "several nodes write"
    return (
        f"storage_path={storage_path} is a local folder but {where} there: use a folder that "
        "every node mounts at the same path (NFS, EFS, Filestore) or a URI such as "
        "s3://bucket/results or gs://bucket/results"
    )


def alive_nodes() -> list[NodeShape]:
    """CPUs and GPUs of every alive node of the connected cluster."""
    return [
        NodeShape(
            str(node["NodeManagerAddress"]),
            _get(node["Resources"], "CPU"),
            _get(node["Resources"], "GPU"),
        )
        for node in ray.nodes()
        if node.get("Alive")
    ]


def autoscaler_node_types() -> list[NodeShape] | None:
    """Node types the cluster's autoscaler may add: [] when none are known, None if unknowable.

    Read from the cluster config an autoscaler reports to Ray (autoscaler v2, KubeRay), else
    from the launcher config that ``ray up`` leaves on the head node, where a ``ray job submit``
    entrypoint runs. Without either the cluster counts as fixed.
    """
    reported = _reported_node_types()
    if reported:
        return reported
    bootstrap = BOOTSTRAP_CONFIG.expanduser()
    if bootstrap.is_file():
        return launcher_node_types(yaml.safe_load(bootstrap.read_text()) or {})
    return []


def launcher_node_types(launcher: Mapping[str, Any]) -> list[NodeShape] | None:
    """Node types of a cluster-launcher config that can exist; None if one lacks ``resources``.

    Args:
        launcher: A parsed ``ray up`` YAML (``available_node_types``, ``head_node_type``).
    """
    shapes = []
    head = launcher.get("head_node_type")
    for name, spec in (launcher.get("available_node_types") or {}).items():
        if name != head and not spec.get("max_workers", 0):
            continue
        resources = spec.get("resources")
        if resources is None:
            return None  # the launcher detects them from the instance type at run time
        shapes.append(
            NodeShape(f"node type {name}", _get(resources, "CPU"), _get(resources, "GPU"))
        )
    return shapes


def _reported_node_types() -> list[NodeShape]:
    """Node groups of the cluster config an autoscaler (v2, KubeRay) reports to Ray's GCS."""
    config = connecting.reported_cluster_config()
    if config is None:
        return []
    return [
        NodeShape(
            f"node type {group.name}",
            float(group.resources.get("CPU", 0)),
            float(group.resources.get("GPU", 0)),
        )
        for group in config.node_group_configs
        if group.max_count != 0
    ]


def _get(resources: Mapping[str, Any], key: str) -> float:
    return float(resources.get(key, 0) or 0)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
