"""The example pack started the way the Pulumi engine starts a Python pack."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime import proto

from pulumi_infrahub.policy import all_policies

ROOT = Path(__file__).parents[2]
PACK = ROOT / "examples/policy-pack"


@pytest.fixture
def pack_stub() -> Iterator[proto.AnalyzerStub]:
    # The engine runs `python -m pulumi.policy <engine address> <pack dir>` in
    # the pack directory; the pack prints its port and serves until stopped.
    # The checkout goes on the path as it does for pytest itself, so the test
    # holds whether or not the package is installed.
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=PACK,
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"pack did not start: {process.stderr.read()}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield proto.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_example_pack_serves_every_policy_with_schema_and_level(pack_stub):
    info = pack_stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)

    assert info.name == "infrahub"
    assert [policy.name for policy in info.policies] == [
        policy.name for policy in all_policies()
    ]
    levels = {
        policy.name: proto.EnforcementLevel.Name(policy.enforcementLevel)
        for policy in info.policies
    }
    assert levels["infrahub-vm-max-gpus"] == "MANDATORY"
    assert levels["infrahub-vm-required-labels"] == "ADVISORY"
    max_gpus = next(p for p in info.policies if p.name == "infrahub-stack-max-gpus")
    assert max_gpus.configSchema.properties["maxTotalGpus"]["default"] == 8


def test_example_pack_declares_a_python_runtime_and_a_version():
    text = (PACK / "PulumiPolicy.yaml").read_text()

    assert "runtime: python" in text
    assert "version: 0.1.0" in text
