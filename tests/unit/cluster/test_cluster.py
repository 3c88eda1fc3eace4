"""Pure parts of cluster attachment and the resource check: addresses, tokens, node shapes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from raytune_hpo import cluster
from raytune_hpo.cluster import NodeShape
from raytune_hpo.config import ConfigError, validate_config
from tests.helpers.paths import ROOT


@pytest.mark.parametrize(
    ("address", "env", "expected"),
    [
        (None, {}, None),
        (None, {"RAY_ADDRESS": "10.0.0.1:6379"}, "10.0.0.1:6379"),
        ("auto", {"RAY_ADDRESS": "10.0.0.1:6379"}, "10.0.0.1:6379"),
        ("auto", {}, "auto"),
        ("10.0.0.2:6379", {"RAY_ADDRESS": "10.0.0.1:6379"}, "10.0.0.2:6379"),
        ("ray://head:10001", {}, "ray://head:10001"),
    ],
)
def test_resolve_address_follows_ray_init(
    address: str | None, env: dict[str, str], expected: str | None
) -> None:
    assert cluster.resolve_address(address, env) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("auto", None),
        ("10.0.0.1:6379", ("10.0.0.1", 6379)),
        ("ray://head.example:10001", ("head.example", 10001)),
        ("[fd00::1]:6379", ("fd00::1", 6379)),
    ],
)
def test_parse_endpoint(target: str, expected: tuple[str, int] | None) -> None:
    assert cluster.parse_endpoint(target) == expected


@pytest.mark.parametrize("target", ["s3://head:8265", "head", "head:port", ":6379"])
def test_parse_endpoint_rejects_other_forms(target: str) -> None:
    with pytest.raises(ConfigError, match=r"^--address: expected auto, HOST:PORT"):
        cluster.parse_endpoint(target)


def test_a_dashboard_address_in_ray_address_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^RAY_ADDRESS: .*that is the dashboard's address"):
        cluster.parse_endpoint("http://127.0.0.1:8265", "RAY_ADDRESS")


def test_check_reachable_fails_fast_on_a_closed_port(closed_port: int) -> None:
    start = time.monotonic()
    with pytest.raises(ConfigError, match=f"no Ray cluster answers at 127.0.0.1:{closed_port}"):
        cluster.check_reachable("127.0.0.1", closed_port, timeout=2.0)
    assert time.monotonic() - start < 3.0


def test_check_reachable_passes_when_something_listens(listening_port: int) -> None:
    cluster.check_reachable("127.0.0.1", listening_port, timeout=2.0)


def test_token_source_order(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("abc")
    default = tmp_path / ".ray" / "auth_token"

    assert cluster.token_source({}, tmp_path) is None
    default.parent.mkdir()
    default.write_text("abc")
    assert cluster.token_source({}, tmp_path) == str(default)
    assert cluster.token_source({"RAY_AUTH_TOKEN_PATH": str(token)}, tmp_path) == (
        f"RAY_AUTH_TOKEN_PATH={token}"
    )
    assert cluster.token_source({"RAY_AUTH_TOKEN": "x"}, tmp_path) == "RAY_AUTH_TOKEN"


def test_token_path_that_is_missing_names_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"RAY_AUTH_TOKEN_PATH=.*is not a file; set"):
        cluster.token_source({"RAY_AUTH_TOKEN_PATH": str(tmp_path / "nope")}, tmp_path)


def test_token_mode_only_when_a_token_is_at_hand_and_no_mode_is_chosen() -> None:
    assert cluster.needs_token_mode({}, "RAY_AUTH_TOKEN")
    assert not cluster.needs_token_mode({}, None)
    assert not cluster.needs_token_mode({"RAY_AUTH_MODE": "disabled"}, "RAY_AUTH_TOKEN")


def _ray_style_failure(root: str) -> ConnectionError:
    """The exception chain ``ray.init`` raises: ConnectionError from RuntimeError."""
    try:
        try:
            raise RuntimeError(root)
        except RuntimeError as inner:
            raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.1:6379") from inner
    except ConnectionError as outer:
        return outer


def test_refused_token_message_says_what_to_set() -> None:
    err = _ray_style_failure("Failed to connect to GCS: RPC error: InvalidAuthToken: missing")
    refused = cluster.describe_connect_error("10.0.0.1:6379", err, "RAY_AUTH_TOKEN")
    missing = cluster.describe_connect_error("10.0.0.1:6379", err, None)

    assert "token from RAY_AUTH_TOKEN was refused" in refused
    assert "no token was found" in missing
    for message in (refused, missing):
        assert "\n" not in message
        assert "RAY_AUTH_TOKEN_PATH" in message and "ray get-auth-token" in message


def test_other_connect_errors_keep_the_first_line_of_the_cause() -> None:
    err = _ray_style_failure("Version mismatch: 2.60.0 vs 2.50.0\ndetails")
    message = cluster.describe_connect_error("auto", err, None)
    assert message == "cannot attach to the Ray cluster at auto: Version mismatch: 2.60.0 vs 2.50.0"


NODES = [NodeShape("10.0.0.1", 2, 0), NodeShape("10.0.0.2", 2, 2)]


@pytest.mark.parametrize(("cpu", "gpu"), [(1, 0), (2, 0), (1, 2), (0.5, 0.5), (2, 1)])
def test_check_fits_accepts_what_one_node_holds(cpu: float, gpu: float) -> None:
    cluster.check_fits(cpu, gpu, NODES)


@pytest.mark.parametrize(("cpu", "gpu"), [(3, 0), (1, 3), (4, 1)])
def test_check_fits_rejects_what_no_node_holds(cpu: float, gpu: float) -> None:
    with pytest.raises(ConfigError) as caught:
        cluster.check_fits(cpu, gpu, NODES)
    message = str(caught.value)
    assert message.startswith("resources_per_trial: one trial asks for")
    assert "10.0.0.1: cpu=2, gpu=0; 10.0.0.2: cpu=2, gpu=2" in message


def test_check_fits_does_not_add_up_nodes() -> None:
    """Two nodes with one GPU each do not hold a trial that asks for two."""
    with pytest.raises(ConfigError, match="gpu=2"):
        cluster.check_fits(1, 2, [NodeShape("a", 4, 1), NodeShape("b", 4, 1)])


@pytest.mark.parametrize("gpu", [0, 1, 0.5, 0.25, 0.2, 0.125, 0.1, 2])
def test_even_gpu_shares_need_no_warning(gpu: float) -> None:
    assert cluster.gpu_share_note(gpu) is None


@pytest.mark.parametrize(("gpu", "share"), [(0.3, 3), (0.4, 2), (0.7, 1)])
def test_uneven_gpu_share_warns_that_memory_is_split_by_count(gpu: float, share: int) -> None:
    note = cluster.gpu_share_note(gpu)
    assert note is not None
    assert f"resources_per_trial.gpu={gpu:g}" in note
    assert f"{share} trials share one GPU" in note
    assert "by count, not by memory" in note


def test_storage_note_only_for_local_folders_seen_by_several_machines() -> None:
    assert cluster.storage_note("/data/results", multi_node=False, client_mode=False) is None
    assert cluster.storage_note("s3://bucket/results", multi_node=True, client_mode=True) is None
    for note in (
        cluster.storage_note("/data/results", multi_node=True, client_mode=False),
        cluster.storage_note("/data/results", multi_node=False, client_mode=True),
    ):
        assert note is not None and "s3://" in note and "same path" in note


@pytest.mark.parametrize("name", ["aws-gpu", "gcp-gpu"])
def test_launcher_node_types_of_the_cloud_configs(name: str) -> None:
    launcher = yaml.safe_load((ROOT / "configs" / "cluster" / f"{name}.yaml").read_text())
    shapes = cluster.launcher_node_types(launcher)

    assert shapes is not None
    head = launcher["head_node_type"]
    assert f"node type {head}" in [shape.label for shape in shapes]
    assert max(shape.gpu for shape in shapes) == 4
    cluster.check_fits(1, 1, shapes)
    cluster.check_fits(1, 4, shapes)
    with pytest.raises(ConfigError, match="node type"):
        cluster.check_fits(1, 8, shapes)


def test_launcher_node_types_skip_types_that_never_start_and_flag_unknown_sizes() -> None:
    launcher = {
        "head_node_type": "head",
        "available_node_types": {
            "head": {"resources": {"CPU": 0}},
            "off": {"max_workers": 0, "resources": {"CPU": 64, "GPU": 8}},
            "gpu": {"max_workers": 2, "resources": {"CPU": 8, "GPU": 1}},
        },
    }
    shapes = cluster.launcher_node_types(launcher)
    assert shapes == [NodeShape("node type head", 0, 0), NodeShape("node type gpu", 8, 1)]

    del launcher["available_node_types"]["gpu"]["resources"]
    assert cluster.launcher_node_types(launcher) is None


def test_more_than_one_gpu_must_be_whole(tiny_lenet_config: dict) -> None:
    with pytest.raises(ConfigError, match=r"resources_per_trial\.gpu: .*got 1\.5"):
        validate_config({**tiny_lenet_config, "resources_per_trial": {"gpu": 1.5}})
    assert validate_config({**tiny_lenet_config, "resources_per_trial": {"gpu": 2}})
