"""The wide-pool provider server, its plugin launcher and the command that
writes it. The servers run as the engine starts them, in a process of their
own, and are called over gRPC."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dill
import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_infrahub import cli
from pulumi_infrahub.provider_server import (
    DEFAULT_THREADS,
    PLUGIN_EXECUTABLE,
    THREADS_VARIABLE,
    thread_count,
    widen_grpc_server,
    write_plugin,
)

CALLS = 12
CALL_SECONDS = 1.0

# A provider whose create takes a second, as a module of its own so that both
# this process (which pickles it) and the server (which unpickles it) can
# import it.
SLOW_PROVIDER = textwrap.dedent(
    """
    import time
    from pulumi.dynamic import CreateResult, ResourceProvider

    class SlowProvider(ResourceProvider):
        def create(self, props):
            time.sleep(props["seconds"])
            return CreateResult(str(int(props["n"])), {})
    """
)


@pytest.fixture
def slow_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The pickled SlowProvider, as the engine passes it in `__provider`."""
    (tmp_path / "slow_provider.py").write_text(SLOW_PROVIDER)
    monkeypatch.syspath_prepend(str(tmp_path))
    import slow_provider

    provider = slow_provider.SlowProvider()
    return base64.b64encode(dill.dumps(provider, recurse=True)).decode()


def start_server(
    command: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    if not line.isdigit():
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"the server printed {line!r} instead of its port: {err.decode()}")
    return process, int(line)


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def seconds_for_creates(port: int, provider: str) -> float:
    """Wall time of CALLS one-second creates sent at once."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    stub = provider_pb2_grpc.ResourceProviderStub(channel)

    def create(n: int) -> str:
        properties = struct_pb2.Struct()
        properties.update({"__provider": provider, "seconds": CALL_SECONDS, "n": n})
        request = provider_pb2.CreateRequest(
            urn=f"urn:pulumi:s::p::pulumi-python:dynamic:Resource::r{n}",
            properties=properties,
        )
        response = stub.Create(request, timeout=60)
        return str(response.id)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CALLS) as callers:
        ids = list(callers.map(create, range(CALLS)))
    elapsed = time.monotonic() - started
    channel.close()
    assert ids == [str(n) for n in range(CALLS)]
    return elapsed


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env["PYTHONPATH"] = str(tmp_path)
    env.update(extra)
    return env


def test_the_wide_server_runs_calls_side_by_side_where_the_sdk_server_queues_them(
    tmp_path: Path, slow_provider: str, servers: list[subprocess.Popen[bytes]]
) -> None:
    stock, stock_port = start_server(
        [sys.executable, "-u", "-m", "pulumi.dynamic"], server_env(tmp_path)
    )
    wide, wide_port = start_server(
        [sys.executable, "-u", "-m", "pulumi_infrahub.provider_server"],
        server_env(tmp_path, **{THREADS_VARIABLE: "16"}),
    )
    servers += [stock, wide]

    stock_seconds = seconds_for_creates(stock_port, slow_provider)
    wide_seconds = seconds_for_creates(wide_port, slow_provider)

    # Four at a time: three rounds of one second. All twelve at once: one.
    assert stock_seconds >= 3 * CALL_SECONDS
    assert wide_seconds < 2 * CALL_SECONDS


def test_the_plugin_launcher_starts_the_wide_server_from_the_project_virtualenv(
    tmp_path: Path, slow_provider: str, servers: list[subprocess.Popen[bytes]]
) -> None:
    launcher = write_plugin(tmp_path / "plugin")
    # The engine starts plugins in the program's folder, below Pulumi.yaml,
    # and passes the `virtualenv` option as written there.
    project = tmp_path / "project"
    program = project / "program"
    program.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: p\n")
    (project / "venv").symlink_to(sys.prefix)

    server, port = start_server(
        [str(launcher)],
        server_env(tmp_path, PULUMI_RUNTIME_VIRTUALENV="venv"),
        cwd=program,
    )
    servers.append(server)

    assert os.access(launcher, os.X_OK)
    assert launcher.name == PLUGIN_EXECUTABLE
    assert seconds_for_creates(port, slow_provider) < 2 * CALL_SECONDS


def test_the_plugin_launcher_says_how_to_fix_a_missing_virtualenv(
    tmp_path: Path,
) -> None:
    launcher = write_plugin(tmp_path / "plugin")

    done = subprocess.run(
        [str(launcher)],
        env=server_env(tmp_path, PULUMI_RUNTIME_VIRTUALENV="/nowhere/venv"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 1
    assert "/nowhere/venv" in done.stderr
    assert "pulumi-infrahub" in done.stderr


def test_a_bad_thread_count_stops_the_server_with_the_fix(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pulumi_infrahub.provider_server"],
        env=server_env(tmp_path, **{THREADS_VARIABLE: "lots"}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert done.returncode == 2
    assert THREADS_VARIABLE in done.stderr
    assert "from 1 to" in done.stderr


@pytest.mark.parametrize(
    ("given", "expected"), [(None, DEFAULT_THREADS), ("8", 8), (" 200 ", 200)]
)
def test_thread_count_reads_the_environment(given: str | None, expected: int) -> None:
    environ = {} if given is None else {THREADS_VARIABLE: given}

    assert thread_count(environ) == expected


@pytest.mark.parametrize("given", ["0", "-3", "2000", "many"])
def test_thread_count_refuses_what_is_not_a_pool_size(given: str) -> None:
    with pytest.raises(ValueError, match=THREADS_VARIABLE):
        thread_count({THREADS_VARIABLE: given})


def test_widening_replaces_the_pool_the_sdk_passes_and_signals_it() -> None:
    built: list[Any] = []

    class FakeGrpc:
        @staticmethod
        def server(pool: Any, *args: Any, **kwargs: Any) -> str:
            built.append((pool, args, kwargs))
            return "server"

    widened = widen_grpc_server(FakeGrpc, 24)
    sdk_pool = ThreadPoolExecutor(max_workers=4)

    result = FakeGrpc.server(sdk_pool, options=[("a", 1)])

    pool, _, kwargs = built[0]
    assert result == "server"
    assert pool is not sdk_pool and pool._max_workers == 24
    assert kwargs == {"options": [("a", 1)]}
    assert widened.is_set()
    pool.shutdown()


def test_provider_plugin_command_writes_the_launcher_and_prints_the_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["provider-plugin", str(tmp_path / "infrahub-provider")])

    printed = capsys.readouterr().out
    assert status == 0
    assert os.access(tmp_path / "infrahub-provider" / PLUGIN_EXECUTABLE, os.X_OK)
    assert "- name: pulumi-python" in printed
    assert f"path: {tmp_path / 'infrahub-provider'}" in printed
