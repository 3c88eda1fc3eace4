"""A real two-node Ray cluster on one machine: head and worker in their own network namespaces.

Ray cannot run two nodes behind one loopback address, so each node gets a network namespace
joined to the other by a veth pair (see /work/shared/NOTES.md). Both namespaces see the same
file system, processes and GPUs as the test; only the network is split. The namespaces are
linked to nothing else, so the subnet and the ports cannot collide with another cluster built
this way at the same time.

Usage::

    with ray_cluster_in_namespaces(worker_gpus=2, tmp_path=tmp_path) as cluster:
        cluster.run_in_head_ns([sys.executable, "-c", "import ray; ray.init(); ..."])
        cluster.kill_worker()
        cluster.wait_for_alive_nodes(1)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

GCS_PORT = 6379
START_TIMEOUT_S = 90.0
STOP_GRACE_S = 2.0
KILL_TIMEOUT_S = 10.0
OBJECT_STORE_BYTES = 200 * 1024**2
RAY_BIN = str(Path(sys.executable).with_name("ray"))
# The head declares a killed worker dead after period x threshold: ~5 s instead of ~15 s.
HEAD_ENV = {"RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "5"}
DROPPED_ENV = ("RAY_ADDRESS", "CUDA_VISIBLE_DEVICES")
LOG_FILES = ("raylet.out", "raylet.err", "gcs_server.out")

# Runs inside the head namespace: waits until `want` nodes are alive, prints them as JSON.
_WAIT_FOR_NODES = """
import json, sys, time
from ray._raylet import GcsClient
from ray.core.generated.gcs_pb2 import GcsNodeInfo

address, want, deadline = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
alive, error = [], ""
while True:
    try:
        nodes = GcsClient(address=address).get_all_node_info(timeout=5).values()
        alive = [{"ip": n.node_manager_address, "resources": dict(n.resources_total)}
                 for n in nodes if n.state == GcsNodeInfo.ALIVE]
        error = ""
    except Exception as exc:
        error = repr(exc)
    if (want < 0 or len(alive) == want) or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(json.dumps({"alive": alive, "error": error}))
sys.exit(0 if want < 0 or len(alive) == want else 1)
"""


class ClusterError(RuntimeError):
    """The cluster did not reach the wanted state; the message carries the tail of the Ray logs."""


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    """Runs one `ip` command and raises with its stderr if it fails."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")
    return done


def _members(sids: Sequence[int]) -> list[int]:
    """Pids of the live (not zombie) processes whose session id is one of `sids`."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[3]) in sids:
            members.append(int(stat.parent.name))
    return members


def stop_sessions(procs: Sequence[subprocess.Popen[bytes]], sig: int, grace: float) -> None:
    """Sends `sig` to every process of the sessions led by `procs`, then SIGKILL after `grace`.

    `ray start` runs as a session leader (`start_new_session=True`). Ray's own worker processes
    move to process groups of their own but stay in that session, so the session, not the
    process group, names everything a node started. Leaders are reaped last, which keeps their
    pids (the session ids) from being reused meanwhile. Sessions already reaped are skipped.
    """
    sids = [proc.pid for proc in procs if proc.returncode is None]
    deadline = time.monotonic() + grace
    for pid in _members(sids):
        _signal(pid, sig)
    while _members(sids) and time.monotonic() < deadline:
        time.sleep(0.1)
    while members := _members(sids):
        if time.monotonic() > deadline + KILL_TIMEOUT_S:
            raise RuntimeError(f"processes {members} survived SIGKILL for {KILL_TIMEOUT_S} s")
        for pid in members:
            _signal(pid, signal.SIGKILL)
        time.sleep(0.1)
    for proc in procs:
        proc.wait()


def _signal(pid: int, sig: int) -> None:
    """Signals one process, ignoring one that has just exited."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int) -> str:
    """The last `lines` lines of a text file, or a note that it is missing."""
    if not path.is_file():
        return f"--- {path}: missing"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join([f"--- {path}", *text])


@dataclass
class ClusterInfo:
    """A running two-node cluster and the means to drive and break it.

    Attributes:
        address: GCS address of the head, "10.x.y.1:6379", reachable only from the head
            namespace.
        head_ns: Network namespace of the head node (and of drivers).
        worker_ns: Network namespace of the worker node.
        head_ip: Address of the head inside its namespace.
        worker_ip: Address of the worker inside its namespace.
        env: Environment for a driver: token auth, the token file and RAY_ADDRESS.
        temp_dirs: Ray temp dirs of head and worker (session logs live under them).
        node_outputs: Console output files of the head's and the worker's `ray start`.
    """

    address: str
    head_ns: str
    worker_ns: str
    head_ip: str
    worker_ip: str
    env: dict[str, str]
    temp_dirs: tuple[Path, Path]
    node_outputs: tuple[Path, Path]
    _worker: subprocess.Popen[bytes] = field(repr=False)

    def run_in_head_ns(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Runs a driver command in the head namespace and returns its captured output.

        Args:
            argv: The command, e.g. `[sys.executable, "-c", "..."]`.
            env: Extra environment variables, laid over `self.env`.
            timeout: Seconds before the command's whole process group is killed and
                `subprocess.TimeoutExpired` is raised.
            cwd: Working directory of the command.
        """
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.head_ns, *argv],
            env={**self.env, **(env or {})},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        return subprocess.CompletedProcess(list(argv), proc.returncode, stdout, stderr)

    def alive_nodes(self, count: int = -1, timeout: float = 0.0) -> list[dict[str, Any]]:
        """Alive nodes as `{"ip", "resources"}` dicts, once there are `count` of them.

        Args:
            count: Number of alive nodes to wait for; -1 returns at once.
            timeout: Seconds to wait for `count` alive nodes.

        Raises:
            ClusterError: The count was not reached in time.
        """
        argv = [sys.executable, "-c", _WAIT_FOR_NODES, self.address, str(count), str(timeout)]
        done = self.run_in_head_ns(argv, timeout=timeout + 30.0)
        try:
            report = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            report = {"alive": [], "error": done.stderr.strip()[-2000:]}
        if done.returncode != 0:
            raise ClusterError(
                f"wanted {count} alive nodes at {self.address} within {timeout:.0f} s, got "
                f"{[node['ip'] for node in report['alive']]} {report['error']}\n{self.log_tail()}"
            )
        return report["alive"]

    def wait_for_alive_nodes(self, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Blocks until exactly `count` nodes are alive (e.g. 1 after `kill_worker`)."""
        return self.alive_nodes(count, timeout)

    def kill_worker(self, sig: int = signal.SIGKILL) -> None:
        """Stops every process of the worker node, as if its machine were lost.

        Args:
            sig: SIGKILL (default) drops the node at once; SIGTERM lets it drain, which takes
                up to ~30 s.
        """
        stop_sessions([self._worker], sig, grace=40.0 if sig == signal.SIGTERM else 0.0)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of each node's console output and main Ray logs."""
        parts = [_tail(path, lines) for path in self.node_outputs]
        for temp_dir in self.temp_dirs:
            logs = temp_dir / "session_latest" / "logs"
            parts.extend(_tail(logs / name, lines) for name in LOG_FILES)
        return "\n".join(parts)


def _start_node(
    namespace: str, args: Sequence[str], env: Mapping[str, str], output: Path
) -> subprocess.Popen[bytes]:
    """Starts `ray start ... --block` as a new session leader inside `namespace`."""
    with output.open("wb") as out:
        return subprocess.Popen(
            ["ip", "netns", "exec", namespace, RAY_BIN, "start", *args, "--block"],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _require_netns(probe: str) -> None:
    """Creates namespace `probe`, or skips the test when namespaces are not permitted."""
    if shutil.which("ip") is None:
        pytest.skip("`ip` (iproute2) is missing: apt-get install -y iproute2")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"`ip netns add` is not permitted here: {done.stderr.strip()}")


def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether `proc` has exited, without reaping it (its pid must stay the session id)."""
    flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
    return proc.returncode is not None or os.waitid(os.P_PID, proc.pid, flags) is not None


def _await_start(cluster: ClusterInfo, nodes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Waits until head and worker are alive, failing early when a `ray start` has exited."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            cluster.wait_for_alive_nodes(2, timeout=5.0)
            return
        except ClusterError as error:
            names = ("head", "worker")
            exited = [name for name, proc in zip(names, nodes, strict=True) if _has_exited(proc)]
            if exited:
                raise ClusterError(
                    f"`ray start` of the {' and '.join(exited)} exited: {error}"
                ) from None
            if time.monotonic() > deadline:
                raise ClusterError(f"no cluster after {START_TIMEOUT_S:.0f} s: {error}") from None


def _keep_logs(temp_root: Path, tmp_path: Path) -> None:
    """Moves the Ray temp dirs next to the test's files for a post-mortem, else deletes them."""
    try:
        temp_root.rename(tmp_path / temp_root.name)
    except OSError:
        shutil.rmtree(temp_root, ignore_errors=True)


@contextmanager
def ray_cluster_in_namespaces(
    *,
    head_cpus: int = 1,
    worker_cpus: int = 1,
    head_gpus: int = 0,
    worker_gpus: int = 0,
    tmp_path: Path,
) -> Iterator[ClusterInfo]:
    """Starts a Ray head and one worker node in two fresh network namespaces.

    GPUs are logical: `--num-gpus` declares them whether or not the machine has any. Teardown
    always runs, even when start-up fails: it stops every process the nodes started, deletes
    the veth pair and both namespaces, and moves the Ray logs under `tmp_path`.

    Args:
        head_cpus: CPUs the head offers.
        worker_cpus: CPUs the worker offers.
        head_gpus: Logical GPUs the head offers.
        worker_gpus: Logical GPUs the worker offers.
        tmp_path: Folder for the token, the node consoles and (after teardown) the Ray logs.

    Yields:
        The running cluster.

    Raises:
        ClusterError: A `ray start` exited, or both nodes were not alive within
            START_TIMEOUT_S.
    """
    tag = secrets.token_hex(4)
    head_ns, worker_ns = f"rthpo-{tag}-head", f"rthpo-{tag}-worker"
    head_if, worker_if = f"rh{tag}", f"rw{tag}"
    subnet = f"10.{100 + os.getpid() % 100}.{os.getpid() // 100 % 256}"
    head_ip, worker_ip = f"{subnet}.1", f"{subnet}.2"
    address = f"{head_ip}:{GCS_PORT}"

    with ExitStack() as cleanup:
        _require_netns(head_ns)
        cleanup.callback(_ip, "netns", "delete", head_ns)
        _ip("netns", "add", worker_ns)
        cleanup.callback(_ip, "netns", "delete", worker_ns)
        veth = (
            f"link add {head_if} netns {head_ns} type veth peer name {worker_if} netns {worker_ns}"
        )
        _ip(*veth.split())
        cleanup.callback(_ip, "-n", head_ns, "link", "delete", head_if)
        for ns, ifname, ip in ((head_ns, head_if, head_ip), (worker_ns, worker_if, worker_ip)):
            _ip("-n", ns, "addr", "add", f"{ip}/24", "dev", ifname)
            _ip("-n", ns, "link", "set", ifname, "up")
            _ip("-n", ns, "link", "set", "lo", "up")

        token = tmp_path / "ray_auth_token"
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
        # A stray RAY_ADDRESS would redirect drivers; CUDA_VISIBLE_DEVICES caps --num-gpus.
        env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        env |= {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN_PATH": str(token),
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        # Unix socket paths must stay under 108 bytes: keep Ray's temp dirs short.
        temp_root = Path(tempfile.mkdtemp(prefix=f"rthpo-{tag}-", dir="/tmp"))
        cleanup.callback(_keep_logs, temp_root, tmp_path)
        head_tmp, worker_tmp = temp_root / "head", temp_root / "worker"
        head_out, worker_out = tmp_path / "head.out", tmp_path / "worker.out"

        nodes: list[subprocess.Popen[bytes]] = []
        cleanup.callback(stop_sessions, nodes, signal.SIGTERM, STOP_GRACE_S)
        common = [f"--object-store-memory={OBJECT_STORE_BYTES}", "--disable-usage-stats"]
        head = _start_node(
            head_ns,
            [
                "--head",
                f"--node-ip-address={head_ip}",
                f"--port={GCS_PORT}",
                f"--num-cpus={head_cpus}",
                f"--num-gpus={head_gpus}",
                f"--temp-dir={head_tmp}",
                *common,
            ],
            env | HEAD_ENV,
            head_out,
        )
        nodes.append(head)
        worker = _start_node(
            worker_ns,
            [
                f"--address={address}",
                f"--node-ip-address={worker_ip}",
                f"--num-cpus={worker_cpus}",
                f"--num-gpus={worker_gpus}",
                f"--temp-dir={worker_tmp}",
                *common,
            ],
            env,
            worker_out,
        )
        nodes.append(worker)

        cluster = ClusterInfo(
            address=address,
            head_ns=head_ns,
            worker_ns=worker_ns,
            head_ip=head_ip,
            worker_ip=worker_ip,
            env=env | {"RAY_ADDRESS": address},
            temp_dirs=(head_tmp, worker_tmp),
            node_outputs=(head_out, worker_out),
            _worker=worker,
        )
        _await_start(cluster, nodes)
        yield cluster
