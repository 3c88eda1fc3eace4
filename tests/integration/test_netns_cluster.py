"""A real two-node Ray cluster in network namespaces places GPU tasks on its GPU worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.netns_cluster import ray_cluster_in_namespaces

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(180)]

# Runs in the head namespace as a driver of the cluster at argv[1]; prints one JSON line.
_DRIVER = """
import json, os, sys
import ray

ray.init(address=sys.argv[1], logging_level="WARNING")

@ray.remote(num_cpus=0, num_gpus=0.5)
def where() -> dict:
    return {"ip": ray.util.get_node_ip_address(), "gpu_ids": ray.get_gpu_ids(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}

print(json.dumps({
    "alive": sorted(n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]),
    "gpus": ray.cluster_resources().get("GPU", 0),
    "tasks": ray.get([where.remote() for _ in range(4)]),
}))
"""


def test_gpu_tasks_land_on_the_gpu_worker(tmp_path: Path) -> None:
    with ray_cluster_in_namespaces(head_gpus=0, worker_gpus=2, tmp_path=tmp_path) as cluster:
        done = cluster.run_in_head_ns([sys.executable, "-c", _DRIVER, cluster.address], timeout=90)
        assert done.returncode == 0, f"{done.stderr}\n{cluster.log_tail()}"
        report = json.loads(done.stdout.strip().splitlines()[-1])
        namespaces = (cluster.head_ns, cluster.worker_ns)

        assert report["alive"] == sorted([cluster.head_ip, cluster.worker_ip])
        assert report["gpus"] == 2
        for task in report["tasks"]:
            assert task["ip"] == cluster.worker_ip
            assert len(task["gpu_ids"]) == 1 and task["gpu_ids"][0] in (0, 1)
            assert task["cuda_visible_devices"] == str(task["gpu_ids"][0])

    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    assert not set(namespaces) & set(listed.stdout.split())
