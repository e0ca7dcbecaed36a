"""Runs the infrahub policies the way the Pulumi engine and policy runtime do.

Two levels:

- `check_resource` and `check_stack` call a policy's `validate` with
  arguments built like the runtime builds them: props and config travel
  through a protobuf Struct (so every number is a float) and props sit in
  the runtime's unknown-checking proxy; config gets the schema's defaults
  and is validated against the schema, as the engine does before it hands
  config to a pack.
- `Analyzer` drives the policy runtime's own gRPC servicer in-process, the
  closest thing to a real `pulumi preview --policy-pack` without the CLI.
  It is private to pulumi-policy, which the project pins to one minor
  version.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

import jsonschema
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _NotApplicableError, _PolicyAnalyzerServicer
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from pulumi_infrahub.policy import VIRTUAL_MACHINE, all_policies

STACK_URN = "urn:pulumi:dev::gpu-fleet::pulumi:pulumi:Stack::gpu-fleet-dev"
PROVIDER_BLOB = "gASVsecret-provider-pickle"
USER_DATA = "#cloud-config\npassword: do-not-print-me"


def urn_of(resource_type: str, name: str) -> str:
    return f"urn:pulumi:dev::gpu-fleet::{resource_type}::{name}"


def vm_props(**overrides: Any) -> dict[str, Any]:
    """A VM's inputs as the provider's check returns them: one A100, labelled."""
    props: dict[str, Any] = {
        "name": "trainer",
        "environment_name": "research-ca",
        "image_name": "Ubuntu Server 22.04 LTS R535 CUDA 12.2",
        "flavor_name": "n3-A100x1",
        "key_name": "ops",
        "user_data": USER_DATA,
        "assign_floating_ip": True,
        "enable_port_randomization": False,
        "labels": ["owner=ml-platform", "team=vision"],
        "security_rules": [],
        "power_state": "ACTIVE",
        "gpu": "A100-80G-PCIe",
        "gpu_count": 1,
        "region": "CANADA-1",
        "__provider": PROVIDER_BLOB,
    }
    props.update(overrides)
    return props


def volume_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name": "datasets",
        "environment_name": "research-ca",
        "size": 500,
        "volume_type": "Cloud-SSD",
        "description": "",
        "region": "CANADA-1",
        "__provider": PROVIDER_BLOB,
    }
    props.update(overrides)
    return props


def rule_props(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "virtual_machine_id": 4242,
        "direction": "ingress",
        "protocol": "tcp",
        "ethertype": "IPv4",
        "remote_ip_prefix": "203.0.113.7/32",
        "port_range_min": 22,
        "port_range_max": 22,
        "__provider": PROVIDER_BLOB,
    }
    props.update(overrides)
    return props


def through_struct(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` after a trip through protobuf, which turns numbers into floats."""
    struct = struct_pb2.Struct()
    struct.update(values)
    return dict(json_format.MessageToDict(struct))


def engine_config(
    policy: Policy, given: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The config the engine hands a policy: defaults, then `given`, validated.

    Raises `jsonschema.ValidationError` where the engine refuses the config.
    """
    schema = policy.config_schema
    assert schema is not None, f"{policy.name} has no config schema"
    config = {
        key: spec["default"]
        for key, spec in schema.properties.items()
        if "default" in spec
    }
    config.update(given or {})
    jsonschema.validate(config, _object_schema(schema.properties, schema.required))
    return through_struct(config)


def _object_schema(
    properties: Mapping[str, Any], required: Sequence[str] | None
) -> dict[str, Any]:
    # The engine wraps each policy's properties in an object schema the same way.
    document: dict[str, Any] = {"type": "object", "properties": dict(properties)}
    if required:
        document["required"] = list(required)
    return document


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def runtime_props(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """Props as a policy receives them: floats, inside the unknown-checking proxy."""
    return unknown_checking_proxy(deserialize_properties(through_struct(props)))


@dataclass
class Outcome:
    """What one run of a policy produced."""

    violations: list[str] = field(default_factory=list)
    urns: list[str | None] = field(default_factory=list)
    skipped: str | None = None
    not_applicable: str | None = None


def _run(policy: Policy, args: Any) -> Outcome:
    outcome = Outcome()

    def report(message: str, urn: str | None = None) -> None:
        outcome.violations.append(message)
        outcome.urns.append(urn)

    try:
        result = policy.validate(args, report)  # type: ignore[attr-defined]
        assert not isawaitable(result), "infrahub policies are synchronous"
    except UnknownValueError as error:
        outcome.skipped = error.message
    except _NotApplicableError as error:
        outcome.not_applicable = error.reason
    return outcome


def check_resource(
    policy: Policy,
    props: Mapping[str, Any],
    *,
    resource_type: str = VIRTUAL_MACHINE,
    name: str = "trainer",
    config: Mapping[str, Any] | None = None,
    wrap: Any = None,
) -> Outcome:
    """Run a resource policy on one resource; `wrap` may wrap the props proxy."""
    proxied = runtime_props(props)
    args = ResourceValidationArgs(
        resource_type=resource_type,
        props=wrap(proxied) if wrap else proxied,
        urn=urn_of(resource_type, name),
        name=name,
        opts=_options(),
        provider=None,
        config=engine_config(policy, config),
    )
    return _run(policy, args)


def check_stack(
    policy: Policy,
    resources: Sequence[tuple[str, str, Mapping[str, Any]]],
    *,
    config: Mapping[str, Any] | None = None,
    wrap: Any = None,
) -> Outcome:
    """Run a stack policy on `(type, name, outputs)` resources."""
    stack = [
        PolicyResource(
            resource_type=resource_type,
            props=wrap(runtime_props(props)) if wrap else runtime_props(props),
            urn=urn_of(resource_type, name),
            name=name,
            opts=_options(),
            provider=None,
            parent=None,
            dependencies=[],
            property_dependencies={},
        )
        for resource_type, name, props in resources
    ]
    return _run(policy, StackValidationArgs(stack, engine_config(policy, config)))


class ForbiddenKeys(Mapping[str, Any]):
    """Props that fail the test when a policy reads a secret or the provider."""

    def __init__(self, props: Mapping[str, Any], forbidden: set[str]) -> None:
        self._props = props
        self._forbidden = forbidden

    def __getitem__(self, key: str) -> Any:
        assert key not in self._forbidden, f"a policy read {key!r}"
        return self._props[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._props)

    def __len__(self) -> int:
        return len(self._props)


@dataclass
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str


_LEVELS = {
    EnforcementLevel.ADVISORY.value: proto.ADVISORY,
    EnforcementLevel.MANDATORY.value: proto.MANDATORY,
    EnforcementLevel.REMEDIATE.value: proto.REMEDIATE,
    EnforcementLevel.DISABLED.value: proto.DISABLED,
}


class Analyzer:
    """The pack's gRPC servicer, configured the way the engine configures it."""

    def __init__(
        self,
        pack_level: EnforcementLevel = EnforcementLevel.ADVISORY,
        policies: list[Policy] | None = None,
    ) -> None:
        self.servicer = _PolicyAnalyzerServicer(
            "infrahub", "0.1.0", policies or all_policies(), pack_level
        )
        self.configure({})

    def info(self) -> Any:
        return self.servicer.GetAnalyzerInfo(None, None)

    def configure(self, file_config: Mapping[str, Any]) -> None:
        """Apply a `--policy-pack-config` document as the engine does.

        Defaults and levels come from the pack's own description, then the
        document: `all` first, then each policy's entry; the result is
        validated against each policy's schema before the pack sees it.
        """
        resolved: dict[str, tuple[str, dict[str, Any]]] = {}
        for policy in self.info().policies:
            properties = json_format.MessageToDict(policy.configSchema.properties)
            defaults = {
                key: spec["default"]
                for key, spec in properties.items()
                if "default" in spec
            }
            level = proto.EnforcementLevel.Name(policy.enforcementLevel).lower()
            resolved[policy.name] = (level, defaults)

        everyone = file_config.get("all")
        for name, (_, values) in resolved.items():
            if isinstance(everyone, str):
                resolved[name] = (everyone, values)
        for name, entry in file_config.items():
            if name == "all" or name not in resolved:
                continue
            level, values = resolved[name]
            if isinstance(entry, str):
                level = entry
            else:
                entry = dict(entry)
                level = entry.pop("enforcementLevel", level)
                values = {**values, **entry}
            resolved[name] = (level, values)

        for policy in self.info().policies:
            properties = json_format.MessageToDict(policy.configSchema.properties)
            jsonschema.validate(
                resolved[policy.name][1],
                _object_schema(properties, list(policy.configSchema.required)),
            )

        request = proto.ConfigureAnalyzerRequest()
        for name, (level, values) in resolved.items():
            config = request.policyConfig[name]
            config.enforcementLevel = _LEVELS[level]
            config.properties.update(values)
        self.servicer.Configure(request, None)

    def analyze(
        self, resource_type: str, name: str, props: Mapping[str, Any]
    ) -> tuple[list[Diagnostic], list[str]]:
        """Diagnostics and not-applicable policy names for one resource."""
        request = proto.AnalyzeRequest(
            type=resource_type, urn=urn_of(resource_type, name), name=name
        )
        request.properties.update(props)
        response = self.servicer.Analyze(request, None)
        return _diagnostics(response), [n.policy_name for n in response.not_applicable]

    def analyze_stack(
        self, resources: Sequence[tuple[str, str, Mapping[str, Any]]]
    ) -> list[Diagnostic]:
        request = proto.AnalyzeStackRequest()
        for resource_type, name, props in resources:
            resource = request.resources.add(
                type=resource_type, urn=urn_of(resource_type, name), name=name
            )
            resource.properties.update(props)
        return _diagnostics(self.servicer.AnalyzeStack(request, None))


def _diagnostics(response: Any) -> list[Diagnostic]:
    return [
        Diagnostic(
            policy=item.policyName,
            level=proto.EnforcementLevel.Name(item.enforcementLevel).lower(),
            message=item.message,
            urn=item.urn,
        )
        for item in response.diagnostics
    ]
