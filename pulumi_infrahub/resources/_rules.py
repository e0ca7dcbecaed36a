"""Firewall rules on a VM: one normal form shared by inline rules and
`SecurityRule`, so that equal rules compare equal however they were written.

The normal form: `direction` lower case, `protocol` lower case, `ethertype`
`IPv4` or `IPv6` (taken from the prefix when left out), `remote_ip_prefix`
as a canonical network (`10.0.0.7/24` becomes `10.0.0.0/24`, a bare address
becomes a /32 or /128), and ports only on the protocols that have them, with
a single port written as `min == max`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_infrahub.client.models import SecurityRule as APISecurityRule
from pulumi_infrahub.client.models import SecurityRuleCreate
from pulumi_infrahub.resources._inputs import Failures, as_int, did_you_mean

__all__ = [
    "PORTED_PROTOCOLS",
    "RULE_FIELDS",
    "RuleSpec",
    "is_default_egress",
    "read_rule",
]

DIRECTIONS = ("ingress", "egress")
ETHERTYPES = ("IPv4", "IPv6")

# Protocols whose packets carry port numbers; a port range on any other
# protocol is meaningless and the API's behaviour with one is undocumented.
PORTED_PROTOCOLS = frozenset({"tcp", "udp", "sctp", "udplite", "dccp"})

RULE_FIELDS = (
    "direction",
    "protocol",
    "ethertype",
    "remote_ip_prefix",
    "port_range_min",
    "port_range_max",
)


@dataclass(frozen=True)
class RuleSpec:
    """One firewall rule in normal form."""

    direction: str
    protocol: str
    ethertype: str
    remote_ip_prefix: str
    port_range_min: int | None = None
    port_range_max: int | None = None

    def sort_key(self) -> tuple[str, str, str, str, int, int]:
        """A total order over rules (ports may be None)."""
        return (
            self.direction,
            self.protocol,
            self.ethertype,
            self.remote_ip_prefix,
            self.port_range_min or 0,
            self.port_range_max or 0,
        )

    def to_props(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "direction": self.direction,
            "protocol": self.protocol,
            "ethertype": self.ethertype,
            "remote_ip_prefix": self.remote_ip_prefix,
        }
        if self.port_range_min is not None:
            props["port_range_min"] = self.port_range_min
            props["port_range_max"] = self.port_range_max
        return props

    def to_payload(self) -> SecurityRuleCreate:
        return SecurityRuleCreate(
            direction=self.direction,  # type: ignore[arg-type]
            ethertype=self.ethertype,  # type: ignore[arg-type]
            protocol=self.protocol,
            remote_ip_prefix=self.remote_ip_prefix,
            port_range_min=self.port_range_min,
            port_range_max=self.port_range_max,
        )

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> RuleSpec:
        """Rebuild a spec from inputs `check` already normalised."""
        return cls(
            direction=str(props["direction"]),
            protocol=str(props["protocol"]),
            ethertype=str(props["ethertype"]),
            remote_ip_prefix=str(props["remote_ip_prefix"]),
            port_range_min=as_int(props.get("port_range_min")),
            port_range_max=as_int(props.get("port_range_max")),
        )

    @classmethod
    def from_api(cls, rule: APISecurityRule) -> RuleSpec | None:
        """The normal form of a rule read from the API, or None if the API
        sent something this provider cannot read."""
        try:
            network = ipaddress.ip_network(rule.remote_ip_prefix or "", strict=False)
        except ValueError:
            return None
        protocol = (rule.protocol or "").lower()
        ethertype = _ethertype(rule.ethertype) or f"IPv{network.version}"
        low, high = rule.port_range_min, rule.port_range_max
        if protocol not in PORTED_PROTOCOLS:
            low = high = None
        elif low is None and high is not None:
            low = high
        elif high is None and low is not None:
            high = low
        return cls(
            direction=(rule.direction or "").lower(),
            protocol=protocol,
            ethertype=ethertype,
            remote_ip_prefix=str(network),
            port_range_min=low,
            port_range_max=high,
        )


def read_rule(
    raw: Any,
    failures: Failures,
    prefix: str,
    protocols: Collection[str] | None,
) -> RuleSpec | None:
    """Check and normalise one rule given as a map of `RULE_FIELDS`.

    `prefix` names the rule in failures: `""` for `SecurityRule`'s own
    inputs, `"security_rules[2]."` for an inline rule. `protocols` is the
    API's list, or None when it could not be read (then any protocol name
    passes and the API judges it).
    """
    if not isinstance(raw, Mapping):
        failures.add(prefix.rstrip(".") or "rule", "a rule must be a map of fields.")
        return None
    before = len(failures.items)

    unknown = sorted(set(raw) - set(RULE_FIELDS) - {"virtual_machine_id"})
    if unknown and prefix:
        failures.add(
            prefix.rstrip("."),
            f"unknown rule field {unknown[0]!r}; a rule has "
            + ", ".join(RULE_FIELDS)
            + ".",
        )

    direction = _text(raw, "direction", failures, prefix)
    if direction is not None and direction.lower() not in DIRECTIONS:
        failures.add(
            f"{prefix}direction",
            f"direction {direction!r} is not 'ingress' or 'egress'.",
        )
    protocol = _text(raw, "protocol", failures, prefix)
    protocol_ok = protocol is not None
    if protocol is not None:
        protocol = protocol.lower()
        if protocols is not None and protocol not in protocols:
            protocol_ok = False
            failures.add(
                f"{prefix}protocol",
                f"protocol {protocol!r} is not one the API accepts."
                + did_you_mean(protocol, protocols)
                + " The API accepts: "
                + ", ".join(sorted(protocols))
                + ".",
            )

    network = None
    prefix_text = _text(raw, "remote_ip_prefix", failures, prefix)
    if prefix_text is not None:
        try:
            network = ipaddress.ip_network(prefix_text.strip(), strict=False)
        except ValueError:
            failures.add(
                f"{prefix}remote_ip_prefix",
                f"remote_ip_prefix {prefix_text!r} is not a network in CIDR "
                "notation; use a value like '203.0.113.0/24', '0.0.0.0/0' or "
                "'::/0'.",
            )

    ethertype = None
    given_ethertype = raw.get("ethertype")
    if given_ethertype is not None:
        ethertype = _ethertype(given_ethertype)
        if ethertype is None:
            failures.add(
                f"{prefix}ethertype",
                f"ethertype {given_ethertype!r} is not 'IPv4' or 'IPv6'.",
            )
        elif network is not None and ethertype != f"IPv{network.version}":
            failures.add(
                f"{prefix}ethertype",
                f"ethertype is {ethertype} but remote_ip_prefix "
                f"{str(network)!r} is an IPv{network.version} network; make "
                "them match, or leave ethertype out to take it from the prefix.",
            )
    elif network is not None:
        ethertype = f"IPv{network.version}"

    low, high = _ports(raw, failures, prefix, protocol if protocol_ok else None)

    if len(failures.items) > before:
        return None
    assert direction is not None and protocol is not None
    assert network is not None and ethertype is not None
    return RuleSpec(
        direction=direction.lower(),
        protocol=protocol,
        ethertype=ethertype,
        remote_ip_prefix=str(network),
        port_range_min=low,
        port_range_max=high,
    )


def is_default_egress(rule: RuleSpec) -> bool:
    """Whether `rule` looks like one of the two egress rules the API adds to
    every VM by itself (any protocol, to anywhere)."""
    return (
        rule.direction == "egress"
        and rule.protocol == "any"
        and rule.remote_ip_prefix in ("0.0.0.0/0", "::/0")
    )


def _text(
    raw: Mapping[str, Any], key: str, failures: Failures, prefix: str
) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        failures.add(f"{prefix}{key}", f"{key} is required for a firewall rule.")
        return None
    if not isinstance(value, str):
        failures.add(f"{prefix}{key}", f"{key} must be text, not {value!r}.")
        return None
    return value


def _ethertype(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    for option in ETHERTYPES:
        if option.casefold() == value.casefold():
            return option
    return None


def _ports(
    raw: Mapping[str, Any], failures: Failures, prefix: str, protocol: str | None
) -> tuple[int | None, int | None]:
    low_raw, high_raw = raw.get("port_range_min"), raw.get("port_range_max")
    if low_raw is None and high_raw is None:
        return None, None

    if protocol is not None and protocol not in PORTED_PROTOCOLS:
        failures.add(
            f"{prefix}port_range_min",
            f"protocol {protocol!r} has no ports; leave port_range_min and "
            "port_range_max out, or use one of "
            + ", ".join(sorted(PORTED_PROTOCOLS))
            + ".",
        )
        return None, None

    low = failures.integer(
        raw, "port_range_min", minimum=1, maximum=65535, label=f"{prefix}port_range_min"
    )
    high = failures.integer(
        raw, "port_range_max", minimum=1, maximum=65535, label=f"{prefix}port_range_max"
    )
    if low_raw is None:
        low = high
    if high_raw is None:
        high = low
    if low is not None and high is not None and low > high:
        failures.add(
            f"{prefix}port_range_min",
            f"port_range_min {low} is above port_range_max {high}; swap them.",
        )
    return low, high
