"""Unit tests of reading `pulumi preview --json` digests, built by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from preview_events import STACK_TYPE, VM, urn, vm_inputs

from pulumi_infrahub.report import ReportInputError, parse_digest
from pulumi_infrahub.report.values import SECRET


def digest_state(name: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "urn": urn(VM, name),
        "custom": True,
        "type": VM,
        "inputs": inputs,
        "outputs": inputs,
        **extra,
    }


def stack_same() -> dict[str, Any]:
    stack_urn = urn(STACK_TYPE, "gpu-project-dev")
    stack = {"urn": stack_urn, "custom": False, "type": STACK_TYPE}
    return {"op": "same", "urn": stack_urn, "oldState": stack, "newState": stack}


def test_digest_step_keeps_kinds_and_replace_reasons() -> None:
    old = digest_state("trainer", vm_inputs())
    new = digest_state("trainer", vm_inputs(flavor="n3-H100x1", gpu="H100-80G-PCIe"))
    digest = {
        "steps": [
            stack_same(),
            {
                "op": "replace",
                "urn": urn(VM, "trainer"),
                "oldState": old,
                "newState": new,
                "diffReasons": ["flavor_name", "gpu"],
                "replaceReasons": ["flavor_name"],
                "detailedDiff": {
                    "flavor_name": {"kind": "update-replace", "inputDiff": True},
                    "gpu": {"kind": "update", "inputDiff": True},
                },
            },
        ],
        "changeSummary": {"replace": 1, "same": 4},
    }

    preview = parse_digest(json.dumps(digest))

    (trainer,) = preview.steps
    assert [(c.path, c.kind, c.forces_replacement) for c in trainer.changes] == [
        ("flavor_name", "update", True),
        ("gpu", "update", False),
    ]
    assert not preview.policies_known
    # The engine counted the stack among the four unchanged.
    assert preview.counts["same"] == 3


def test_digest_blinded_secrets_and_secret_outputs_are_hidden() -> None:
    inputs = vm_inputs(user_data="[secret]", description="plain in inputs")
    state = digest_state("web", inputs, additionalSecretOutputs=["description"])
    digest = {"steps": [{"op": "create", "urn": urn(VM, "web"), "newState": state}]}

    (web,) = parse_digest(json.dumps(digest)).steps

    values = {change.path: change.new for change in web.changes}
    assert values["user_data"] is SECRET
    assert values["description"] is SECRET


def test_digest_after_policy_pack_install_noise_is_read() -> None:
    text = "Installing policy pack infrahub-limits...\n" + json.dumps({"steps": []})

    preview = parse_digest(text)

    assert preview.steps == ()


def test_digest_error_diagnostics_fail_the_preview() -> None:
    digest = {
        "diagnostics": [{"message": "error: program crashed\n", "severity": "error"}]
    }

    preview = parse_digest(json.dumps(digest))

    assert preview.failed
    assert preview.diagnostics[0].message == "program crashed"


def test_digest_verdict_alone_fails_without_being_an_error() -> None:
    digest = {
        "diagnostics": [{"message": "error: preview failed\n", "severity": "error"}]
    }

    preview = parse_digest(json.dumps(digest))

    assert preview.failed
    assert not preview.errored
    assert preview.errors == ()


def test_event_log_passed_as_digest_is_refused_with_a_hint() -> None:
    line = json.dumps({"sequence": 0, "timestamp": 1, "preludeEvent": {"config": {}}})

    with pytest.raises(ReportInputError, match="pass it with --event-log"):
        parse_digest(line)


def test_text_without_json_is_refused() -> None:
    with pytest.raises(ReportInputError, match="holds no JSON object"):
        parse_digest("Previewing update (dev):\n")
