"""Unit tests of reading event logs, on small sequences built by hand."""

from __future__ import annotations

import json

import pytest
from preview_events import (
    PROVIDER_TYPE,
    UNKNOWN,
    VM,
    VOLUME,
    diagnostic,
    log,
    policy,
    secret,
    stack_step,
    state,
    step,
    summary,
    urn,
    vm_inputs,
)

from pulumi_infrahub.report import ReportInputError, parse_event_log
from pulumi_infrahub.report.values import MISSING, SECRET
from pulumi_infrahub.report.values import UNKNOWN as UNKNOWN_MARKER


def test_update_lists_each_changed_path_with_old_and_new_value() -> None:
    old = state(VM, "web", vm_inputs(labels={"team": "ml"}), id_="101")
    new = state(VM, "web", vm_inputs(labels={"team": "infra", "tier": "gold"}))
    lines = log(
        step(
            "update",
            VM,
            "web",
            old=old,
            new=new,
            detailed={"labels.team": "update", "labels.tier": "add"},
        ),
        summary(),
    )

    preview = parse_event_log(lines)

    (web,) = preview.steps
    assert web.op == "update"
    assert web.short_type == "VirtualMachine"
    assert [(c.path, c.kind, c.old, c.new) for c in web.changes] == [
        ("labels.team", "update", "ml", "infra"),
        ("labels.tier", "add", MISSING, "gold"),
    ]
    assert not preview.failed


def test_replacement_is_one_step_with_the_property_that_forces_it() -> None:
    old = state(VM, "trainer", vm_inputs(), id_="7")
    new = state(
        VM, "trainer", vm_inputs(flavor="n3-H100x2", gpu="H100-80G-PCIe", count=2)
    )
    detailed = {
        "flavor_name": "update-replace",
        "gpu": "update",
        "gpu_count": "update",
    }
    lines = log(
        step("create-replacement", VM, "trainer", old=old, new=new, logical=False),
        step(
            "replace",
            VM,
            "trainer",
            old=old,
            new=new,
            detailed=detailed,
            keys=["flavor_name"],
        ),
        step("delete-replaced", VM, "trainer", old=old, new=None, logical=False),
        summary(),
    )

    preview = parse_event_log(lines)

    (trainer,) = preview.steps
    assert trainer.op == "replace"
    assert trainer.replace_reasons == ("flavor_name",)
    forcing = [c.path for c in trainer.changes if c.forces_replacement]
    assert forcing == ["flavor_name"]
    assert preview.counts["replace"] == 1
    assert preview.counts["create"] == 0


def test_provider_property_is_never_a_change_or_a_value() -> None:
    old = state(VM, "web", vm_inputs())
    new = state(VM, "web", {**vm_inputs(), "__provider": {"other": "pickle"}})
    lines = log(
        step("update", VM, "web", old=old, new=new, detailed={"__provider": "update"}),
        summary(),
    )

    (web,) = parse_event_log(lines).steps

    assert web.changes == ()
    assert web.internal_only
    assert web.old is not None and web.new is not None
    assert "__provider" not in web.old.inputs
    assert "__provider" not in web.new.outputs


def test_secret_values_become_markers_even_when_the_cli_showed_secrets() -> None:
    old = state(VM, "web", vm_inputs(user_data=secret("#cloud-config old")))
    new = state(VM, "web", vm_inputs(user_data=secret("#cloud-config new")))
    lines = log(
        step("update", VM, "web", old=old, new=new, detailed={"user_data": "update"}),
        summary(),
    )

    preview = parse_event_log(lines)

    (change,) = preview.steps[0].changes
    assert (change.old, change.new) == (SECRET, SECRET)
    assert "cloud-config" not in repr(preview)


def test_user_data_is_hidden_even_when_passed_as_plain_text() -> None:
    new = state(VM, "web", vm_inputs(user_data="#cloud-config plain"))
    lines = log(step("create", VM, "web", new=new), summary())

    (web,) = parse_event_log(lines).steps

    values = {change.path: change.new for change in web.changes}
    assert values["user_data"] is SECRET
    assert values["flavor_name"] == "n3-A100x1"


def test_value_secret_on_one_side_only_is_hidden_on_both() -> None:
    old = state(VOLUME, "data", {"name": "data", "description": "plain before"})
    new = state(VOLUME, "data", {"name": "data", "description": secret()})
    lines = log(
        step(
            "update",
            VOLUME,
            "data",
            old=old,
            new=new,
            detailed={"description": "update"},
        ),
        summary(),
    )

    (change,) = parse_event_log(lines).steps[0].changes

    assert (change.old, change.new) == (SECRET, SECRET)


def test_values_computed_at_apply_are_marked_unknown() -> None:
    new = state(VM, "web", vm_inputs(flavor=UNKNOWN, gpu=UNKNOWN, gpu_count=UNKNOWN))
    lines = log(step("create", VM, "web", new=new), summary())

    (web,) = parse_event_log(lines).steps

    values = {change.path: change.new for change in web.changes}
    assert values["flavor_name"] is UNKNOWN_MARKER
    assert values["gpu_count"] is UNKNOWN_MARKER


def test_stack_and_provider_steps_are_not_counted_as_resources() -> None:
    provider = state(PROVIDER_TYPE, "default", {})
    lines = log(
        stack_step("create"),
        step("create", PROVIDER_TYPE, "default", new=provider),
        step("create", VM, "web", new=state(VM, "web", vm_inputs())),
        summary(),
    )

    preview = parse_event_log(lines)

    assert [s.name for s in preview.steps] == ["web"]
    assert (preview.project, preview.stack) == ("gpu-project", "dev")


def test_policy_events_are_collected_with_their_level() -> None:
    lines = log(
        policy("gpu-cap", "mandatory", "12 GPUs > 8", resource=urn(VM, "web")),
        policy("labels", "advisory", "missing team label"),
        summary(result="failed", packs={"infrahub-limits": "v0.1.0"}),
    )

    preview = parse_event_log(lines)

    assert [(p.policy, p.level) for p in preview.policies] == [
        ("gpu-cap", "mandatory"),
        ("labels", "advisory"),
    ]
    assert len(preview.mandatory_violations) == 1
    assert preview.policy_packs == {"infrahub-limits": "v0.1.0"}


def test_failed_result_or_error_diagnostic_fails_the_preview() -> None:
    by_result = parse_event_log(log(summary(result="failed")))
    by_error = parse_event_log(log(diagnostic("boom"), summary()))
    by_warning = parse_event_log(log(diagnostic("careful", "warning"), summary()))

    assert by_result.failed
    assert by_error.failed
    assert not by_warning.failed


def test_failed_operation_marks_its_resource() -> None:
    new = state(VM, "web", vm_inputs())
    failed = {
        "resOpFailedEvent": {
            "metadata": step("create", VM, "web", new=new)["resourcePreEvent"][
                "metadata"
            ],
            "status": 1,
            "steps": 0,
        }
    }
    lines = log(step("create", VM, "web", new=new), failed, summary(result="failed"))

    (web,) = parse_event_log(lines).steps

    assert web.failed


def test_log_without_summary_is_unfinished_and_failed() -> None:
    lines = log(step("create", VM, "web", new=state(VM, "web", vm_inputs())))

    preview = parse_event_log(lines)

    assert not preview.finished
    assert preview.failed


def test_half_written_last_line_is_tolerated_as_an_unfinished_log() -> None:
    lines = log(step("create", VM, "web", new=state(VM, "web", vm_inputs())))
    lines.append('{"sequence": 9, "summaryEv')

    preview = parse_event_log(lines)

    assert [s.name for s in preview.steps] == ["web"]
    assert not preview.finished


def test_malformed_line_in_the_middle_is_an_error_naming_the_line() -> None:
    lines = log(summary())
    lines.insert(1, "Previewing update (dev):")

    with pytest.raises(ReportInputError, match="Line 2 of event log is not JSON"):
        parse_event_log(lines)


def test_file_of_one_line_that_is_not_json_is_called_not_json() -> None:
    with pytest.raises(ReportInputError, match="Line 1 of event log is not JSON"):
        parse_event_log(["garbage"])


def test_json_digest_passed_as_event_log_is_refused_with_a_hint() -> None:
    digest = json.dumps({"steps": [], "changeSummary": {}})

    with pytest.raises(ReportInputError, match="pass it with --json"):
        parse_event_log([digest])


def test_changes_are_listed_in_path_order_with_numeric_indexes() -> None:
    labels_before = [f"l{i}" for i in range(11)]
    labels_after = [*labels_before[:2], "changed", *labels_before[3:10], "last"]
    old = state(VM, "web", vm_inputs(labels=labels_before))
    new = state(VM, "web", vm_inputs(labels=labels_after))
    detailed = {"labels[10]": "update", "labels[2]": "update", "flavor_name": "update"}
    lines = log(
        step("update", VM, "web", old=old, new=new, detailed=detailed), summary()
    )

    (web,) = parse_event_log(lines).steps

    assert [c.path for c in web.changes] == ["flavor_name", "labels[2]", "labels[10]"]
    assert (web.changes[1].old, web.changes[1].new) == ("l2", "changed")
