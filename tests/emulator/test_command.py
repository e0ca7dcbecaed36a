from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pulumi_infrahub.cli import build_parser
from pulumi_infrahub.emulator import DEMO_API_KEY, DEMO_DELAYS, Delays
from pulumi_infrahub.emulator.command import settings_from

REPOSITORY = Path(__file__).resolve().parents[2]


def _start(*options: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    environment.pop("INFRAHUB_EMULATOR_API_KEYS", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulumi_infrahub.cli",
            "emulator",
            "--port",
            "0",
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


@pytest.fixture
def served() -> Iterator[tuple[str, list[str]]]:
    process = _start("--no-delays")
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        banner = [process.stdout.readline().strip()]
        yield url, banner
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_command_prints_its_url_first_and_serves_the_demo_key(
    served: tuple[str, list[str]],
) -> None:
    url, banner = served

    listed = httpx.get(
        url + "/core/virtual-machines", headers={"api_key": DEMO_API_KEY}
    )
    anonymous = httpx.get(url + "/core/virtual-machines")

    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/v1")
    assert DEMO_API_KEY in banner[0]
    assert listed.status_code == 200
    assert listed.json() == {
        "status": True,
        "message": "Getting VMs successful",
        "instances": [],
        "page": None,
        "page_size": None,
        "count": 0,
    }
    assert anonymous.status_code == 401


def test_configured_keys_replace_the_demo_key() -> None:
    process = _start("--api-key", "alpha", "--api-key", "beta")
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        demo = httpx.get(url + "/core/regions", headers={"api_key": DEMO_API_KEY})
        beta = httpx.get(url + "/core/regions", headers={"api_key": "beta"})
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert demo.status_code == 401
    assert beta.status_code == 200


def test_a_taken_port_is_reported_on_stderr(served: tuple[str, list[str]]) -> None:
    port = served[0].rsplit(":", 1)[1].removesuffix("/v1")
    process = subprocess.run(
        [sys.executable, "-m", "pulumi_infrahub.cli", "emulator", "--port", port],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        timeout=30,
    )

    assert process.returncode == 2
    assert process.stdout == ""
    assert "pulumi-infrahub emulator:" in process.stderr


def test_options_become_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRAHUB_EMULATOR_API_KEYS", "gamma, delta")
    args = build_parser().parse_args(
        [
            "emulator",
            "--api-key",
            "alpha",
            "--boot-delay",
            "0.5",
            "--rate-limit",
            "0",
            "--latency-ms",
            "20",
            "--vm-error-pattern",
            "bad-*",
            "--drop-after-create",
            "2",
        ]
    )

    settings = settings_from(args)

    assert settings.api_keys == ("alpha", "gamma", "delta")
    assert settings.delays.boot == 0.5
    assert settings.delays.public_ip == DEMO_DELAYS.public_ip
    assert settings.rate_limit == 0
    assert settings.faults.latency_ms == 20
    assert settings.faults.vm_error_pattern == "bad-*"
    assert settings.faults.drop_after_create == 2


def test_no_delays_settles_everything_at_once() -> None:
    args = build_parser().parse_args(["emulator", "--no-delays"])

    assert settings_from(args).delays == Delays()


def test_negative_delay_is_refused() -> None:
    args = build_parser().parse_args(["emulator", "--attach-delay", "-1"])

    with pytest.raises(ValueError, match="--attach-delay"):
        settings_from(args)


@pytest.mark.parametrize(
    "options", [["--port", "70000"], ["--port", "x"], ["--rate-limit", "-5"]]
)
def test_out_of_range_options_are_refused(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["emulator", *options])

    assert exit_info.value.code == 2
    assert options[0] in capsys.readouterr().err
