"""The launchers in scripts/engine, started directly as the engine starts them.

The end-to-end tests prove the whole chain under the real CLI; these pin the
launchers' own decisions (which Python, which arguments) and the language
host's start-up contract, without needing the CLI.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2_grpc

ENGINE = Path(__file__).resolve().parents[2] / "scripts" / "engine"
VENV = Path(sys.prefix)


def start(
    launcher: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ENGINE / launcher), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().strip()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose Pulumi.yaml names the test virtualenv, with the
    program one folder down, as `main: program` lays it out."""
    (tmp_path / "Pulumi.yaml").write_text(
        "name: launchers\n"
        "main: program\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        f"    virtualenv: '{VENV}'   # the tests' own\n"
    )
    (tmp_path / "program").mkdir()
    return tmp_path / "program"


@pytest.fixture
def language_host(project: Path) -> Iterator[subprocess.Popen[str]]:
    env = {"PATH": "/usr/bin:/bin"}
    host = start("pulumi-language-python", "127.0.0.1:1", cwd=project, env=env)
    yield host
    host.kill()
    host.wait()


def test_language_host_prints_its_port_and_reports_the_sdk_version(
    language_host: subprocess.Popen[str],
) -> None:
    port = int(first_line(language_host))

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = language_pb2_grpc.LanguageRuntimeStub(channel)
        info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)

    assert info.version == metadata.version("pulumi")


def test_language_host_exits_when_the_engine_closes_its_stdin(
    language_host: subprocess.Popen[str],
) -> None:
    first_line(language_host)
    assert language_host.stdin is not None

    language_host.stdin.close()

    assert language_host.wait(timeout=30) == 0


def test_dynamic_provider_shim_runs_the_project_virtualenv_from_below_the_root(
    project: Path, tmp_path: Path
) -> None:
    (tmp_path / "where_am_i.py").write_text("import sys; print(sys.prefix)\n")
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(tmp_path),
        "PULUMI_RUNTIME_VIRTUALENV": str(VENV),
        "PULUMI_INFRAHUB_DYNAMIC_MODULE": "where_am_i",
    }

    shim = start("pulumi-resource-pulumi-python", cwd=project, env=env)

    assert first_line(shim) == str(VENV)
    assert shim.wait(timeout=30) == 0


def test_dynamic_provider_shim_explains_a_missing_virtualenv(project: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PULUMI_RUNTIME_VIRTUALENV": "no-such-venv"}

    shim = start("pulumi-resource-pulumi-python", cwd=project, env=env)
    _, stderr = shim.communicate(timeout=30)

    assert shim.returncode != 0
    assert "no-such-venv" in stderr
    assert "python3 -m venv" in stderr


def test_policy_shim_drops_engine_flags_and_serves_the_pack(tmp_path: Path) -> None:
    pack = Path(__file__).resolve().parents[1] / "e2e" / "policy_packs"
    args = ("--logtostderr", "-v=9", "--tracing", "file:///t", "127.0.0.1:1", ".")

    analyzer = start(
        "pulumi-analyzer-policy-python",
        *args,
        f"-virtualenv={VENV}",
        cwd=pack / "memo_policy",
        env={"PATH": "/usr/bin:/bin"},
    )
    try:
        port = first_line(analyzer)
    finally:
        analyzer.kill()
        analyzer.wait()

    assert port.isdigit()
