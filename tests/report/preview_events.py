"""Builders of small engine event sequences for unit tests of the report.

They follow the engine's documented event shapes (one JSON object per line,
one payload key per event). The golden tests use logs written by the real CLI
instead; these keep each unit test down to the few events it is about.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

PROJECT = "gpu-project"
STACK = "dev"
VM = "pulumi-python:dynamic/infrahub:VirtualMachine"
VOLUME = "pulumi-python:dynamic/infrahub:Volume"
RULE = "pulumi-python:dynamic/infrahub:SecurityRule"
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE = "pulumi:providers:pulumi-python"

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# What a pickled provider looks like in state: long, opaque, and secret.
PROVIDER_BLOB = {SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}


def urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{resource_type}::{name}"


def secret(plaintext: str | None = None) -> dict[str, str]:
    """A secret as the event log writes it; with `plaintext` as --show-secrets does."""
    if plaintext is None:
        return {SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}
    return {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(plaintext)}


def vm_inputs(
    flavor: str = "n3-A100x1", gpu: str = "A100-80G-PCIe", count: int = 1, **extra: Any
) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "__provider": PROVIDER_BLOB,
        "name": "gpu-node",
        "flavor_name": flavor,
        "image_name": "Ubuntu Server 22.04 LTS",
        "environment_name": "default-CANADA-1",
        "gpu": gpu,
        "gpu_count": float(count),
        "region": "CANADA-1",
    }
    inputs.update(extra)
    return inputs


def state(
    resource_type: str,
    name: str,
    inputs: Mapping[str, Any],
    outputs: Mapping[str, Any] | None = None,
    id_: str = "",
) -> dict[str, Any]:
    return {
        "type": resource_type,
        "urn": urn(resource_type, name),
        "custom": True,
        "id": id_,
        "parent": urn(STACK_TYPE, f"{PROJECT}-{STACK}"),
        "inputs": dict(inputs),
        "outputs": dict(outputs if outputs is not None else inputs),
        "provider": "",
    }


def step(
    op: str,
    resource_type: str,
    name: str,
    *,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    detailed: Mapping[str, str] | None = None,
    diffs: list[str] | None = None,
    keys: list[str] | None = None,
    logical: bool = True,
) -> dict[str, Any]:
    """A `resourcePreEvent`; `detailed` maps property paths to diff kinds."""
    metadata: dict[str, Any] = {
        "op": op,
        "urn": urn(resource_type, name),
        "type": resource_type,
        "old": old,
        "new": new,
        "detailedDiff": (
            None
            if detailed is None
            else {
                path: {"diffKind": kind, "inputDiff": True}
                for path, kind in detailed.items()
            }
        ),
        "provider": "",
    }
    if diffs:
        metadata["diffs"] = diffs
    if keys:
        metadata["keys"] = keys
    if logical:
        metadata["logical"] = True
    return {"resourcePreEvent": {"metadata": metadata, "planning": True}}


def stack_step(op: str = "same") -> dict[str, Any]:
    name = f"{PROJECT}-{STACK}"
    stack_state = state(STACK_TYPE, name, {}, {})
    return step(op, STACK_TYPE, name, old=stack_state, new=stack_state)


def policy(
    policy_name: str,
    level: str,
    message: str,
    resource: str = "",
    pack: str = "infrahub-limits",
) -> dict[str, Any]:
    return {
        "policyEvent": {
            "resourceUrn": resource,
            "message": message,
            "color": "never",
            "policyName": policy_name,
            "policyPackName": pack,
            "policyPackVersion": "0.1.0",
            "policyPackVersionTag": "0.1.0",
            "enforcementLevel": level,
        }
    }


def diagnostic(
    message: str, severity: str = "error", resource: str = ""
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "message": message,
        "color": "never",
        "severity": severity,
    }
    if resource:
        payload["urn"] = resource
    return {"diagnosticEvent": payload}


def summary(
    result: str = "succeeded", packs: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "summaryEvent": {
            "maybeCorrupt": False,
            "durationSeconds": 1,
            "resourceChanges": {},
            "PolicyPacks": dict(packs or {}),
            "isPreview": True,
            "result": result,
        }
    }


def log(*events: Mapping[str, Any]) -> list[str]:
    """The event log lines: a prelude, the events, numbered as the CLI does."""
    stamped = [{"preludeEvent": {"config": {}}}, *events]
    return [
        json.dumps({"sequence": number, "timestamp": 1_700_000_000 + number, **event})
        for number, event in enumerate(stamped)
    ]
