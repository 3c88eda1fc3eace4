"""The warm Ray's pure parts: its record, the trial actors' registration, ``/proc`` walking.

The whole path (``raytune-hpo warm``, a run on it, ``warm --stop``) runs for real in
``tests/integration/test_warm_ray.py``; here no Ray instance is started. ``RAY_TMPDIR`` points
each test at a Ray temp folder of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path

import pytest
from ray.tune.execution.class_cache import _ActorClassCache

from raytune_hpo import cli, os_processes
from raytune_hpo.cluster import warm
from raytune_hpo.ray_compat import connecting
from tests.helpers.running import wait_for


@pytest.fixture
def ray_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAY_TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    (tmp_path / "ray").mkdir()
    return tmp_path / "ray"


def record(ray_tmp: Path, session: str) -> warm.WarmRay:
    found = warm.WarmRay("127.0.0.1:1", session, "127.0.0.1:2", 2, {"PL_DISABLE_FORK": "1"})
    (ray_tmp / warm.RECORD).write_text(json.dumps(asdict(found)))
    return found


def test_no_record_is_no_warm_ray(ray_tmp: Path) -> None:
    assert warm.record_path() == ray_tmp / warm.RECORD
    assert warm.current() is None


@pytest.mark.parametrize("text", ["", "{", '{"address": "x"}', "[]"])
def test_an_unreadable_record_is_no_warm_ray(ray_tmp: Path, text: str) -> None:
    (ray_tmp / warm.RECORD).write_text(text)
    assert warm.current() is None


def test_a_record_of_an_earlier_session_is_stale(ray_tmp: Path) -> None:
    record(ray_tmp, "session_old")
    (ray_tmp / "session_new").mkdir()
    (ray_tmp / "session_latest").symlink_to(ray_tmp / "session_new")
    assert warm.current() is None


def test_a_record_of_the_latest_session_without_its_raylet_is_stale(ray_tmp: Path) -> None:
    record(ray_tmp, "session_gone")
    (ray_tmp / "session_gone").mkdir()
    (ray_tmp / "session_latest").symlink_to(ray_tmp / "session_gone")
    assert warm.current() is None


def test_a_record_of_the_latest_session_with_its_raylet_is_the_warm_ray(ray_tmp: Path) -> None:
    found = record(ray_tmp, "session_live_here")
    (ray_tmp / "session_live_here").mkdir()
    (ray_tmp / "session_latest").symlink_to(ray_tmp / "session_live_here")
    # A stand-in raylet: a process whose program ends in /raylet and names the session.
    process = subprocess.Popen(
        [
            "/opt/ray/raylet",
            "-c",
            "import time; time.sleep(30)",
            "--session_dir=/x/session_live_here",
        ],
        executable=sys.executable,
    )
    try:
        assert wait_for(lambda: found.raylets() == [process.pid], 10.0)
        assert warm.current() == found
    finally:
        process.kill()
        process.wait()


# --- registration of trial actors -------------------------------------------------------------


class Trainable:
    """Stands for a trainable class as Ray Tune hands it to its actor class cache."""


@pytest.fixture
def registration() -> Iterator[list[Mapping[str, str] | None]]:
    """Install the registration with a workers' environment the test sets; Ray's own after."""
    seen: list[Mapping[str, str] | None] = [None]
    rays_own = _ActorClassCache.get
    connecting.trial_actors_take_prestarted_workers(lambda: seen[0])
    try:
        yield seen
    finally:
        _ActorClassCache.get = getattr(_ActorClassCache.get, "rays_own", rays_own)


def runtime_env_of_registered(trainable: type) -> object:
    return _ActorClassCache().get(trainable)._default_options.get("runtime_env")


def test_unknown_workers_get_rays_own_registration(registration: list) -> None:
    registration[0] = None
    assert runtime_env_of_registered(Trainable) == {"env_vars": {"PL_DISABLE_FORK": "1"}}


def test_workers_that_hold_every_variable_get_no_runtime_environment(registration: list) -> None:
    registration[0] = {"PL_DISABLE_FORK": "1", "OTHER": "x"}
    assert runtime_env_of_registered(Trainable) is None


def test_a_variable_the_workers_lack_keeps_rays_own_registration(
    registration: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")  # Ray Tune passes it on to its trials
    registration[0] = {"PL_DISABLE_FORK": "1"}
    assert connecting.trial_env_vars(os.environ) == {
        "PL_DISABLE_FORK": "1",
        "AWS_ACCESS_KEY_ID": "key",
    }
    assert runtime_env_of_registered(Trainable) == {
        "env_vars": {"PL_DISABLE_FORK": "1", "AWS_ACCESS_KEY_ID": "key"}
    }


def test_installing_twice_keeps_one_layer(registration: list) -> None:
    connecting.trial_actors_take_prestarted_workers(lambda: None)
    assert _ActorClassCache.get.rays_own.__qualname__ == "_ActorClassCache.get"  # type: ignore[attr-defined]


# --- processes --------------------------------------------------------------------------------


def test_descendants_come_before_their_parents() -> None:
    shell = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        assert wait_for(lambda: len(os_processes.child_processes().get(shell.pid, [])) == 2, 10.0)
        tree = os_processes.with_descendants([shell.pid])
        assert len(tree) == 3 and tree[-1] == shell.pid, tree
        assert all(os_processes.command_line(pid) == "sleep 30" for pid in tree[:-1])
    finally:
        for pid in os_processes.with_descendants([shell.pid]):
            os.kill(pid, 9)
        shell.wait()


def test_a_process_that_is_gone_has_no_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert os_processes.command_line(int(done.stdout)) == ""
    assert "pytest" in os_processes.command_line(os.getpid())


def test_end_kills_what_ignores_sigterm_after_the_grace() -> None:
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN)"
            "; print(flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout is not None
    stubborn.stdout.readline()  # its handler is in place
    os_processes.end([stubborn.pid], grace_s=0.5)
    assert stubborn.wait(timeout=5) == -9


# --- the command ------------------------------------------------------------------------------


def test_stop_without_a_warm_ray_says_so(ray_tmp: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["warm", "--stop"]) == 0
    assert capsys.readouterr().out == "raytune-hpo: no warm Ray runs on this machine\n"


def test_warm_refuses_a_ray_that_ray_start_left(
    ray_tmp: Path, listening_port: int, capsys: pytest.CaptureFixture
) -> None:
    (ray_tmp / "ray_current_cluster").write_text(f"127.0.0.1:{listening_port}\n")
    assert cli.main(["warm"]) == cli.EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"raytune-hpo: error: a Ray instance that `ray start` started runs at "
        f"127.0.0.1:{listening_port}; runs use it as it is; `ray stop` ends it, then "
        "`raytune-hpo warm` starts a warm one\n"
    )


@pytest.fixture
def auth_token() -> Iterator[None]:
    """A token for Ray's token authentication, as ``ray start`` leaves one in ``~/.ray`` (a
    machine where Ray never ran has none); Ray's authentication settings as they were after.
    Relies on Ray's own test helpers, ``ray._private.authentication_test_utils``."""
    from ray._private import authentication_test_utils as auth

    with auth.authentication_env_guard():
        auth.set_env_auth_token(uuid.uuid4().hex)
        auth.reset_auth_token_state()
        yield
    auth.reset_auth_token_state()


def test_a_raylet_that_does_not_answer_is_one_line(
    ray_tmp: Path, closed_port: int, auth_token: None
) -> None:
    gone = warm.WarmRay("127.0.0.1:1", "session_x", f"127.0.0.1:{closed_port}", 2, {})
    with pytest.raises(warm.WarmRayError) as error:
        warm.keep_warm(gone)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        f"the raylet of the warm Ray at 127.0.0.1:1 (127.0.0.1:{closed_port}) did not answer: "
    )
    assert "UNAVAILABLE: " in message  # gRPC's code and details, not its multi-line text
    assert message.endswith("; `raytune-hpo warm --stop` ends that Ray")


def test_stop_ends_what_a_stale_record_describes_and_removes_it(
    ray_tmp: Path, capsys: pytest.CaptureFixture
) -> None:
    record(ray_tmp, "session_ended_here")
    assert warm.current() is None
    assert cli.main(["warm", "--stop"]) == 0
    assert capsys.readouterr().out == (
        "raytune-hpo: stopped the warm Ray at 127.0.0.1:1 (0 processes)\n"
    )
    assert not (ray_tmp / warm.RECORD).exists()
