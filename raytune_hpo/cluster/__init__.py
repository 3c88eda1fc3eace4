"""The Ray cluster an experiment runs on: attaching to it, and checking that a trial fits.

- :mod:`~raytune_hpo.cluster.connection`: a local Ray instance or a cluster's address, token
  authentication, and the quick exit once results are written;
- :mod:`~raytune_hpo.cluster.warm`: ``raytune-hpo warm``, a local Ray whose idle workers wait
  for the next command's trials;
- :mod:`~raytune_hpo.cluster.capacity`: ``resources_per_trial`` against the cluster's nodes
  and the node types its autoscaler may add, before any trial starts;
- :mod:`~raytune_hpo.cluster.worker_preload`: what a Ray worker imports as it starts
  (``RAY_preload_python_modules``); :mod:`~raytune_hpo.cluster.tcp_probe`: whether an address
  answers.

May import ``config``, ``ray_compat``, ``storage`` and the shared top-level modules.
"""

from __future__ import annotations

from raytune_hpo.cluster.capacity import (
    NodeShape,
    check_fits,
    check_resources,
    gpu_share_note,
    launcher_node_types,
    storage_note,
)
from raytune_hpo.cluster.connection import (
    LOCAL_SYSTEM_CONFIG,
    attached_warm_ray,
    check_reachable,
    connect,
    describe_connect_error,
    exit_now,
    keep_warm,
    local_cluster,
    local_ray_processes,
    needs_token_mode,
    parse_endpoint,
    resolve_address,
    token_source,
)

__all__ = [
    "LOCAL_SYSTEM_CONFIG",
    "NodeShape",
    "attached_warm_ray",
    "check_fits",
    "check_reachable",
    "check_resources",
    "connect",
    "describe_connect_error",
    "exit_now",
    "gpu_share_note",
    "keep_warm",
    "launcher_node_types",
    "local_cluster",
    "local_ray_processes",
    "needs_token_mode",
    "parse_endpoint",
    "resolve_address",
    "storage_note",
    "token_source",
]
