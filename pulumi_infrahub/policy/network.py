"""Firewall rules that open remote-administration ports to the whole internet.

Both kinds of rule are checked: SecurityRule resources and the rules a
VirtualMachine carries in its `security_rules` input.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._adapt import resource_validator
from ._support import (
    SECURITY_RULE,
    UNKNOWN,
    VIRTUAL_MACHINE,
    Unknowns,
    config_numbers,
    require_type,
    settings,
    subject_of,
    whole_number,
)

NO_PUBLIC_ADMIN_PORTS: Final = "infrahub-firewall-no-public-admin-ports"

_SCHEMA = PolicyConfigSchema(
    properties={
        "ports": {
            "type": "array",
            "items": {"type": "integer", "minimum": 1, "maximum": 65535},
            "uniqueItems": True,
            "default": [22, 3389],
            "description": (
                "Ports no ingress rule may open to 0.0.0.0/0 or ::/0. A rule "
                "opening every port is refused whatever this list holds."
            ),
        },
    }
)

_PORT_NAMES: Final = {22: "SSH", 3389: "RDP"}
# `any` opens every protocol; these are the protocols that have ports.
_ALL_PROTOCOLS: Final = frozenset({"any"})
_PORT_PROTOCOLS: Final = frozenset({"tcp", "udp", "sctp", "udplite", "dccp"})
_LOWEST_PORT, _HIGHEST_PORT = 1, 65535


def _is_everywhere(prefix: Any) -> bool:
    """True for a prefix that matches every address: 0.0.0.0/0, ::/0 or none."""
    if prefix is None or prefix == "":
        return True
    try:
        return ipaddress.ip_network(str(prefix), strict=False).prefixlen == 0
    except ValueError:
        # Not a CIDR at all; the provider's check refuses it, this policy
        # has nothing to say about it.
        return False


def _port_name(port: int) -> str:
    name = _PORT_NAMES.get(port)
    return f"port {port} ({name})" if name else f"port {port}"


def _port_range(rule: Mapping[str, Any]) -> tuple[int, int]:
    """The ports a rule covers; a rule without a range covers every port."""
    low = whole_number(rule.get("port_range_min"))
    high = whole_number(rule.get("port_range_max"))
    if low is None and high is None:
        return _LOWEST_PORT, _HIGHEST_PORT
    if low is None:
        low = high if high is not None else _LOWEST_PORT
    if high is None:
        high = low
    return low, high


def _opened(rule: Mapping[str, Any], ports: Sequence[int]) -> str | None:
    """What an ingress rule open to everyone exposes, or None if nothing listed."""
    direction = rule.get("direction")
    if isinstance(direction, str) and direction.lower() == "egress":
        return None
    if not _is_everywhere(rule.get("remote_ip_prefix")):
        return None

    protocol = str(rule.get("protocol") or "any").lower()
    if protocol in _ALL_PROTOCOLS:
        return "every port of every protocol"
    if protocol not in _PORT_PROTOCOLS:
        return None

    low, high = _port_range(rule)
    if low <= _LOWEST_PORT and high >= _HIGHEST_PORT:
        return f"every {protocol} port"
    exposed = [_port_name(port) for port in ports if low <= port <= high]
    return f"{', '.join(exposed)} over {protocol}" if exposed else None


def _rules_of(
    args: ResourceValidationArgs, subject: str, unknowns: Unknowns
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each rule of the resource with how a message names it."""
    if args.resource_type == SECURITY_RULE:
        yield subject, args.props
        return
    rules = unknowns.read(args.props, "security_rules", subject)
    if rules is UNKNOWN or not isinstance(rules, Sequence):
        return
    for index in range(len(rules)):
        rule = rules[index]
        if isinstance(rule, Mapping):
            yield f"{subject} (security_rules[{index}])", rule


def _admin_port_violations(args: ResourceValidationArgs) -> Iterator[str]:
    require_type(args, SECURITY_RULE, VIRTUAL_MACHINE)
    config = settings(args, NO_PUBLIC_ADMIN_PORTS, _SCHEMA)
    ports = config_numbers(config, "ports", NO_PUBLIC_ADMIN_PORTS)

    subject = subject_of(args.resource_type, args.name)
    unknowns = Unknowns()
    for where, rule in _rules_of(args, subject, unknowns):
        opened = None
        with unknowns.collect(subject):
            opened = _opened(rule, ports)
        if opened is None:
            continue
        prefix = rule.get("remote_ip_prefix") or "everyone"
        yield (
            f"{where} opens {opened} to {prefix}. Limit remote_ip_prefix to "
            "the addresses that need access (for example your office's /32), "
            "or reach the VM through a bastion or VPN instead."
        )
    unknowns.skip_if_any()


no_public_admin_ports = ResourceValidationPolicy(
    name=NO_PUBLIC_ADMIN_PORTS,
    display_name="No admin ports open to the internet",
    description=(
        "Checks that no ingress firewall rule opens SSH, RDP or every port "
        "to 0.0.0.0/0 or ::/0."
    ),
    validate=resource_validator(_admin_port_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
    severity=Severity.CRITICAL,
    tags=["infrahub", "network", "security"],
    remediation_steps=(
        "Set remote_ip_prefix to the narrowest range that needs access, or "
        "remove the rule."
    ),
)
