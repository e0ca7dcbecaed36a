"""The resources as a Pulumi program sees them: type tokens, inputs,
dependencies and secrets, checked with Pulumi's runtime mocks."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format

import pulumi_infrahub as infrahub

from .conftest import RecordingMonitor

# How Pulumi marks a secret value on the wire.
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"


def fields_of(request: Any) -> dict[str, Any]:
    """The registered inputs as JSON, secrets still wrapped."""
    result: dict[str, Any] = json_format.MessageToDict(request.object)
    return result


def a_vm(resource_name: str = "web", **fields: Any) -> infrahub.VirtualMachine:
    args: dict[str, Any] = {
        "environment_name": "demo-environment",
        "flavor_name": "n3-A100x1",
        "key_name": "demo-keypair",
        "image_name": IMAGE,
    }
    args.update(fields)
    return infrahub.VirtualMachine(resource_name, **args)


@pulumi.runtime.test
def make_a_stack() -> pulumi.Output[Any]:
    vm = a_vm(user_data="#cloud-config\npassword: hunter2\n", labels=["team=ml"])
    volume = infrahub.Volume("data", environment_name="demo-environment", size=100)
    rule = infrahub.SecurityRule(
        "ssh",
        virtual_machine_id=vm.id,
        direction="ingress",
        protocol="tcp",
        remote_ip_prefix="203.0.113.0/24",
        port_range_min=22,
    )
    attachment = infrahub.VolumeAttachment(
        "data-on-web", virtual_machine_id=vm.id, volume_id=volume.id
    )
    return pulumi.Output.all(vm.urn, volume.urn, rule.urn, attachment.urn)


def test_each_resource_registers_its_own_type_token(monitor: RecordingMonitor) -> None:
    make_a_stack()

    types = {r.name: r.type for r in monitor.registered if r.custom}
    assert types == {
        "web": "pulumi-python:dynamic/infrahub:VirtualMachine",
        "data": "pulumi-python:dynamic/infrahub:Volume",
        "ssh": "pulumi-python:dynamic/infrahub:SecurityRule",
        "data-on-web": "pulumi-python:dynamic/infrahub:VolumeAttachment",
    }


def test_rules_and_attachments_depend_on_their_vm_and_volume(
    monitor: RecordingMonitor,
) -> None:
    make_a_stack()

    vm_urn, volume_urn = monitor.urn("web"), monitor.urn("data")
    rule = monitor.request("ssh")
    attachment = monitor.request("data-on-web")
    assert list(rule.propertyDependencies["virtual_machine_id"].urns) == [vm_urn]
    assert set(attachment.dependencies) == {vm_urn, volume_urn}
    assert list(attachment.propertyDependencies["volume_id"].urns) == [volume_urn]


def test_user_data_is_secret_as_input_and_output(monitor: RecordingMonitor) -> None:
    make_a_stack()

    web = monitor.request("web")
    assert list(web.additionalSecretOutputs) == ["user_data"]
    user_data = fields_of(web)["user_data"]
    assert user_data[SIGNATURE_KEY] == SECRET_SIGNATURE
    assert user_data["value"].startswith("#cloud-config")


def test_the_provider_travels_as_a_secret_class_reference(
    monitor: RecordingMonitor,
) -> None:
    make_a_stack()

    for request in monitor.registered:
        if not request.custom:
            continue
        wrapped = fields_of(request)["__provider"]
        assert wrapped[SIGNATURE_KEY] == SECRET_SIGNATURE
        blob = base64.b64decode(wrapped["value"])
        assert b"pulumi_infrahub.resources." in blob
        assert len(blob) < 120


def test_a_vm_without_a_name_is_named_after_the_resource(
    monitor: RecordingMonitor,
) -> None:
    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        return pulumi.Output.all(a_vm("auto").urn, a_vm("fixed", name="db-1").urn)

    program()

    auto, fixed = (
        fields_of(monitor.request("auto")),
        fields_of(monitor.request("fixed")),
    )
    assert auto["name_prefix"] == "auto"
    assert "name" not in auto
    assert fixed["name"] == "db-1"
    assert "name_prefix" not in fixed


def test_args_and_keyword_arguments_register_the_same_inputs(
    monitor: RecordingMonitor,
) -> None:
    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        by_args = infrahub.Volume(
            "by-args",
            infrahub.VolumeArgs(environment_name="demo-environment", size=10),
        )
        by_keywords = infrahub.Volume(
            "by-keywords", environment_name="demo-environment", size=10
        )
        return pulumi.Output.all(by_args.urn, by_keywords.urn)

    program()

    by_args = fields_of(monitor.request("by-args"))
    by_keywords = fields_of(monitor.request("by-keywords"))
    assert by_args.pop("name_prefix") == "by-args"
    assert by_keywords.pop("name_prefix") == "by-keywords"
    assert by_args == by_keywords


def test_outputs_are_typed_attributes(monitor: RecordingMonitor) -> None:
    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        vm = a_vm(labels=["a"])
        assert isinstance(vm.floating_ip, pulumi.Output)
        assert isinstance(vm.gpu_count, pulumi.Output)
        return pulumi.Output.all(vm.labels, vm.status).apply(check)

    def check(values: list[Any]) -> None:
        assert values == [["a"], "ACTIVE"]

    program()


def test_get_reads_an_existing_object_by_id(monitor: RecordingMonitor) -> None:
    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        vm = infrahub.VirtualMachine.get("legacy", "4821")
        rule = infrahub.SecurityRule.get("legacy-ssh", "77")
        return pulumi.Output.all(vm.id, rule.id)

    program()

    reads = {(r.type, r.name, r.id) for r in monitor.read}
    assert reads == {
        ("pulumi-python:dynamic/infrahub:VirtualMachine", "legacy", "4821"),
        ("pulumi-python:dynamic/infrahub:SecurityRule", "legacy-ssh", "77"),
    }


def test_args_and_keywords_together_are_refused() -> None:
    args = infrahub.VolumeArgs(environment_name="demo-environment", size=10)

    with pytest.raises(TypeError, match="either args or keyword"):
        infrahub.Volume("v", args, size=20)


def test_a_missing_required_input_is_a_python_error() -> None:
    with pytest.raises(TypeError, match="size"):
        infrahub.Volume("v", environment_name="demo-environment")
