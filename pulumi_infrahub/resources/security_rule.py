"""SecurityRule: one firewall rule on a VM as a Pulumi resource."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_infrahub.client import (
    ConflictError,
    InfrahubError,
    NotFoundError,
    VirtualMachinesClient,
)
from pulumi_infrahub.client.models import SecurityRule as APIRule
from pulumi_infrahub.client.models import VirtualMachine as APIVM
from pulumi_infrahub.resources._inputs import Failures, has_unknowns, timeout_for
from pulumi_infrahub.resources._provider import (
    InfrahubProvider,
    ResourceError,
    connection,
    existing,
    merge_options,
    settings_failures_reported,
)
from pulumi_infrahub.resources._rules import (
    RULE_FIELDS,
    RuleSpec,
    is_default_egress,
    read_rule,
)

__all__ = ["SecurityRule", "SecurityRuleArgs", "SecurityRuleProvider"]

DEFAULT_TIMEOUTS: Mapping[str, float] = {"create": 300.0, "delete": 300.0}

INPUTS = ("virtual_machine_id", *RULE_FIELDS, "timeouts", "adopt_id")

# A rule cannot be edited on the API: every change is a new rule.
REPLACE_ON_CHANGE = ("virtual_machine_id", *RULE_FIELDS)

OUTPUTS = ("status", "created_at")


class SecurityRuleProvider(InfrahubProvider):
    """The dynamic provider behind `SecurityRule`."""

    @settings_failures_reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _olds
        failures = Failures()
        inputs: dict[str, Any] = {}

        for key in sorted(set(news) - set(INPUTS) - {"__provider"}):
            failures.add(key, f"{key} is not an input of SecurityRule.")

        vm_id = news.get("virtual_machine_id")
        inputs["virtual_machine_id"] = (
            vm_id
            if has_unknowns(vm_id)
            else failures.object_id(news, "virtual_machine_id")
        )
        adopt_id = news.get("adopt_id")
        if adopt_id is not None:
            inputs["adopt_id"] = (
                adopt_id
                if has_unknowns(adopt_id)
                else failures.object_id(news, "adopt_id")
            )
        timeouts = news.get("timeouts")
        if timeouts is not None:
            inputs["timeouts"] = (
                timeouts
                if has_unknowns(timeouts)
                else failures.timeouts(news, DEFAULT_TIMEOUTS)
            )

        rule = {key: news.get(key) for key in RULE_FIELDS}
        if has_unknowns(rule):
            # Part of the rule is not known yet: pass it on unchanged.
            inputs.update({k: v for k, v in rule.items() if v is not None})
        else:
            unchanged = all(olds.get(k) == v for k, v in rule.items() if v is not None)
            protocols = None if unchanged and olds else connection().catalog.protocols()
            spec = read_rule(rule, failures, "", protocols)
            if spec is not None:
                inputs.update(spec.to_props())

        if failures:
            return CheckResult(news, failures.items)
        return CheckResult(inputs, [])

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> DiffResult:
        replaces = [
            key
            for key in REPLACE_ON_CHANGE
            if has_unknowns(_news.get(key)) or _olds.get(key) != _news.get(key)
        ]
        return DiffResult(changes=None, replaces=replaces or None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        vms = connection().client.virtual_machines
        deadline = time.monotonic() + timeout_for(props, "create", DEFAULT_TIMEOUTS)
        vm_id = int(props["virtual_machine_id"])
        spec = RuleSpec.from_props(props)
        vm = _get_vm(vms, vm_id)

        adopt_id = props.get("adopt_id")
        if adopt_id is not None:
            rule = _adopt(vm, int(adopt_id), spec)
        else:
            _refuse_duplicate(vm, spec)
            try:
                rule = vms.create_security_rule_from(vm_id, spec.to_payload())
            except ConflictError:
                # Made by someone else between our read and our create.
                _refuse_duplicate(vms.get(vm_id), spec)
                raise

        try:
            rule = _wait_until_active(vms, vm_id, rule.id, deadline)
        except Exception as failure:
            what = (
                f"Firewall rule {rule.id} on VM {vm_id} did not take effect: {failure}."
            )
            if adopt_id is not None:
                raise ResourceError(what) from failure
            try:
                _delete_and_wait(vms, vm_id, rule.id, _delete_timeout(props))
            except InfrahubError as cleanup:
                raise ResourceError(
                    f"{what} Deleting it failed too, so it may still exist: {cleanup}"
                ) from failure
            raise ResourceError(f"{what} It has been deleted again.") from failure
        return CreateResult(str(rule.id), _outputs(props, rule))

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> UpdateResult:
        # Only timeouts and adopt_id can change without a new rule; they
        # concern this provider alone.
        outs = dict(_olds)
        outs.update({key: _news.get(key) for key in ("timeouts", "adopt_id")})
        return UpdateResult(outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        vms = connection().client.virtual_machines
        rule_id = _parse_id(id_)
        vm = _vm_holding(vms, rule_id, props.get("virtual_machine_id"))
        if vm is None:
            return ReadResult("", {})
        rule = next((r for r in vm.security_rules if r.id == rule_id), None)
        spec = RuleSpec.from_api(rule) if rule is not None else None
        if rule is None or spec is None:
            return ReadResult("", {})

        inputs: dict[str, Any] = {
            key: props[key] for key in ("timeouts", "adopt_id") if key in props
        }
        inputs["virtual_machine_id"] = vm.id
        inputs.update(spec.to_props())
        return ReadResult(id_, _outputs(inputs, rule), inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        vms = connection().client.virtual_machines
        _delete_and_wait(
            vms,
            int(_props["virtual_machine_id"]),
            _parse_id(_id),
            _delete_timeout(_props),
        )


# -- helpers -----------------------------------------------------------------


def _get_vm(vms: VirtualMachinesClient, vm_id: int) -> APIVM:
    # A second-old view is enough here: the API itself refuses a duplicate
    # rule (409), and a fleet's rules then cost one list request, not one
    # request each.
    try:
        return vms.get_recent(vm_id)
    except NotFoundError:
        raise ResourceError(
            f"virtual_machine_id {vm_id}: there is no such VM for this API key."
        ) from None


def _vm_holding(vms: VirtualMachinesClient, rule_id: int, vm_id: Any) -> APIVM | None:
    """The VM with rule `rule_id`: `vm_id` when known (refresh), else found
    among every VM (`SecurityRule.get` knows only the rule's id)."""
    if vm_id is not None:
        # A list snapshot started after the call serves a fleet's refresh at
        # once; a rule it lacks is confirmed gone by a read of its own, as
        # list pages over live data can skip an item.
        try:
            vm = vms.get_recent(int(vm_id), max_age=0)
            if all(r.id != rule_id for r in vm.security_rules):
                vm = vms.get(int(vm_id))
        except NotFoundError:
            return None
        return vm
    return next(
        (vm for vm in vms.get_all() if any(r.id == rule_id for r in vm.security_rules)),
        None,
    )


def _refuse_duplicate(vm: APIVM, spec: RuleSpec) -> None:
    for rule in vm.security_rules:
        if RuleSpec.from_api(rule) == spec:
            origin = (
                " (one of the egress rules the API gives every VM)"
                if is_default_egress(spec)
                else ""
            )
            raise ResourceError(
                f"VM {vm.id} already has this firewall rule as rule {rule.id}"
                f"{origin}. To manage that rule with this resource set "
                f"adopt_id={rule.id}; if it belongs to the VM's security_rules or "
                "another SecurityRule, keep it in one place only."
            )


def _adopt(vm: APIVM, rule_id: int, spec: RuleSpec) -> APIRule:
    rule = next((r for r in vm.security_rules if r.id == rule_id), None)
    if rule is None:
        raise ResourceError(
            f"adopt_id {rule_id}: VM {vm.id} has no firewall rule with this id."
        )
    live = RuleSpec.from_api(rule)
    if live != spec:
        shown = live.to_props() if live is not None else "unreadable"
        raise ResourceError(
            f"Firewall rule {rule_id} on VM {vm.id} is {shown}, not "
            f"{spec.to_props()}; set the inputs to the rule's values to adopt it."
        )
    return rule


def _wait_until_active(
    vms: VirtualMachinesClient, vm_id: int, rule_id: int, deadline: float
) -> APIRule:
    def rule_of(vm: APIVM | None) -> APIRule | None:
        if vm is None:
            return None
        return next((r for r in vm.security_rules if r.id == rule_id), None)

    vm = vms.wait_for(
        vm_id,
        lambda v: (rule := rule_of(v)) is not None and rule.status == "SUCCESS",
        what=f"firewall rule {rule_id} on VM {vm_id} taking effect",
        timeout=max(0.0, deadline - time.monotonic()),
    )
    rule = rule_of(vm)
    assert rule is not None
    return rule


def _delete_and_wait(
    vms: VirtualMachinesClient, vm_id: int, rule_id: int, timeout: float
) -> None:
    """Delete a rule and wait until the VM no longer lists it; a rule or VM
    already gone is fine."""
    try:
        vms.delete_security_rule(vm_id, rule_id)
    except NotFoundError:
        return
    vms.wait_for(
        vm_id,
        lambda v: v is None or all(r.id != rule_id for r in v.security_rules),
        what=f"firewall rule {rule_id} leaving VM {vm_id}",
        timeout=timeout,
    )


def _delete_timeout(props: Mapping[str, Any]) -> float:
    return timeout_for(props, "delete", DEFAULT_TIMEOUTS)


def _parse_id(id_: str) -> int:
    try:
        return int(id_)
    except ValueError:
        raise ResourceError(
            f"{id_!r} is not a firewall rule id; rule ids are whole numbers."
        ) from None


def _outputs(inputs: Mapping[str, Any], rule: APIRule) -> dict[str, Any]:
    outs = {key: value for key, value in inputs.items() if key != "__provider"}
    outs.update(
        id=rule.id,
        status=rule.status,
        created_at=rule.created_at.isoformat() if rule.created_at else None,
    )
    return outs


# -- the resource ------------------------------------------------------------


@dataclass(kw_only=True)
class SecurityRuleArgs:
    """The inputs of a `SecurityRule`; every change except `timeouts` and
    `adopt_id` makes a new rule."""

    virtual_machine_id: pulumi.Input[int | str]
    """The VM the rule is on, e.g. `vm.id`."""

    direction: pulumi.Input[str]
    """`ingress` or `egress`."""

    protocol: pulumi.Input[str]
    """A protocol the API accepts (`tcp`, `udp`, `icmp`, `any`, ...); case
    does not matter."""

    remote_ip_prefix: pulumi.Input[str]
    """The other side, as a CIDR (`203.0.113.0/24`, `0.0.0.0/0`, `::/0`); a
    bare address means that one host."""

    ethertype: pulumi.Input[str] | None = None
    """`IPv4` or `IPv6`; left out, it follows `remote_ip_prefix`."""

    port_range_min: pulumi.Input[int] | None = None
    """First port (1-65535), only for tcp, udp, sctp, udplite and dccp."""

    port_range_max: pulumi.Input[int] | None = None
    """Last port; left out, the range is the single port `port_range_min`."""

    timeouts: pulumi.Input[Mapping[str, pulumi.Input[float]]] | None = None
    """Seconds allowed for `create` and `delete` (default 300 each)."""

    adopt_id: pulumi.Input[int | str] | None = None
    """Id of an existing rule on the VM to take over instead of creating one."""


class SecurityRule(pulumi.dynamic.Resource, module="infrahub", name="SecurityRule"):
    """One firewall rule on a VM. Equal rules compare equal however they are
    written (protocol case, CIDR form), so they never show a diff."""

    virtual_machine_id: pulumi.Output[int]
    """Id of the VM the rule is on."""
    direction: pulumi.Output[str]
    """`ingress` or `egress`, lower case."""
    protocol: pulumi.Output[str]
    """The protocol, lower case as the API has it (`tcp`, `icmp`, `any`, ...)."""
    ethertype: pulumi.Output[str]
    """`IPv4` or `IPv6`, matching `remote_ip_prefix`."""
    remote_ip_prefix: pulumi.Output[str]
    """The prefix in canonical form."""
    port_range_min: pulumi.Output[int | None]
    """First port; None when the rule gives no ports, as always for protocols
    without them."""
    port_range_max: pulumi.Output[int | None]
    """Last port, equal to `port_range_min` for a single port; None when the
    rule gives no ports."""
    timeouts: pulumi.Output[dict[str, float] | None]
    """Seconds allowed per operation, as given; None for the defaults (300
    each for create and delete)."""
    adopt_id: pulumi.Output[int | None]
    """Id of the existing rule this resource took over; None when it made its
    own."""
    status: pulumi.Output[str]
    """The API's status: `pending`, then `SUCCESS`."""
    created_at: pulumi.Output[str]
    """When the rule was created, as an ISO 8601 timestamp."""

    def __init__(
        self,
        resource_name: str,
        args: SecurityRuleArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """Create a rule named `resource_name` in Pulumi from `args`, or from
        the same fields given as keyword arguments."""
        if args is None:
            args = SecurityRuleArgs(**kwargs)
        elif kwargs:
            raise TypeError("pass either args or keyword arguments, not both")

        props: dict[str, Any] = {key: getattr(args, key) for key in INPUTS}
        for key in OUTPUTS:
            props.setdefault(key, None)
        super().__init__(
            SecurityRuleProvider(),
            resource_name,
            props,
            merge_options(opts, secret_outputs=[]),
        )

    @staticmethod
    def get(
        resource_name: str,
        id_: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> SecurityRule:
        """The existing rule with id `id_`, read-only."""
        return existing(
            SecurityRule,
            SecurityRuleProvider(),
            resource_name,
            id_,
            INPUTS + OUTPUTS,
            opts,
        )
