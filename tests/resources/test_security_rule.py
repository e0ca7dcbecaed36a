"""SecurityRuleProvider hooks against the in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR
from pulumi_infrahub.emulator.settings import Delays
from pulumi_infrahub.resources._inputs import is_unknown
from pulumi_infrahub.resources._provider import ResourceError
from pulumi_infrahub.resources._rules import RULE_FIELDS
from pulumi_infrahub.resources.security_rule import SecurityRuleProvider

from .helpers import (
    IMAGE,
    UNKNOWN,
    Infrahub,
    check_failures,
    checked,
    configure,
    over_the_wire,
    ssh_rule,
    with_unknowns,
)


@pytest.fixture
def provider(infrahub: Infrahub) -> SecurityRuleProvider:
    return infrahub.configure(SecurityRuleProvider())  # type: ignore[return-value]


@pytest.fixture
def vm_id(infrahub: Infrahub) -> int:
    return make_vm(infrahub)


def make_vm(infrahub: Infrahub, name: str = "web-1") -> int:
    vms = infrahub.client.virtual_machines
    [vm] = vms.create(
        name,
        environment_name=DEMO_ENVIRONMENT,
        flavor_name="n1-cpu-medium",
        key_name=DEMO_KEYPAIR,
        image_name=IMAGE,
    )
    vms.wait_until_active(vm.id, timeout=5)
    return vm.id


def program(vm_id: Any, **fields: Any) -> dict[str, Any]:
    return {"virtual_machine_id": vm_id, **ssh_rule(**fields)}


def create(
    provider: SecurityRuleProvider, vm_id: Any, **fields: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    inputs = checked(provider, program(vm_id, **fields))
    result = provider.create(over_the_wire(inputs))
    return result.id, over_the_wire(inputs), over_the_wire(result.outs or {})


# -- check ----------------------------------------------------------------------


def test_check_normalises_so_equal_rules_compare_equal(
    provider: SecurityRuleProvider,
) -> None:
    plain = checked(provider, program(5))
    written_differently = checked(
        provider,
        program(
            "5",
            protocol="TCP",
            ethertype="ipv4",
            remote_ip_prefix="203.0.113.77/24",
            port_range_max=None,
        ),
    )

    assert written_differently == plain
    assert plain == {
        "virtual_machine_id": 5,
        "direction": "ingress",
        "protocol": "tcp",
        "ethertype": "IPv4",
        "remote_ip_prefix": "203.0.113.0/24",
        "port_range_min": 22,
        "port_range_max": 22,
    }


def test_check_turns_a_bare_address_into_a_host_network(
    provider: SecurityRuleProvider,
) -> None:
    inputs = checked(provider, program(5, remote_ip_prefix="2001:db8::1"))

    assert (inputs["remote_ip_prefix"], inputs["ethertype"]) == (
        "2001:db8::1/128",
        "IPv6",
    )


@pytest.mark.parametrize(
    ("fields", "prop", "words"),
    [
        ({"remote_ip_prefix": "not-a-network"}, "remote_ip_prefix", "CIDR"),
        ({"remote_ip_prefix": None}, "remote_ip_prefix", "required"),
        ({"ethertype": "IPv6"}, "ethertype", "IPv4 network"),
        ({"ethertype": "IPX"}, "ethertype", "'IPv4' or 'IPv6'"),
        ({"protocol": "tpc"}, "protocol", "'tcp'"),
        ({"port_range_min": 0}, "port_range_min", "at least 1"),
        ({"port_range_max": 65536}, "port_range_max", "at most 65535"),
        ({"port_range_min": 9000, "port_range_max": 8000}, "port_range_min", "above"),
        ({"protocol": "any"}, "port_range_min", "has no ports"),
        ({"direction": "out"}, "direction", "'egress'"),
        ({"timeouts": {"update": 5}}, "timeouts", "no operation 'update'"),
    ],
)
def test_check_reports_bad_input(
    provider: SecurityRuleProvider, fields: dict[str, Any], prop: str, words: str
) -> None:
    failures = check_failures(provider, program(5, **fields))

    assert words in failures[prop]


@pytest.mark.parametrize("vm_id", [None, 0, "web", 1.5])
def test_check_reports_a_bad_vm_id(provider: SecurityRuleProvider, vm_id: Any) -> None:
    failures = check_failures(provider, program(vm_id))

    assert "virtual_machine_id" in failures


def test_check_accepts_an_unknown_vm_id_and_rule(
    provider: SecurityRuleProvider, infrahub: Infrahub
) -> None:
    news = with_unknowns(program(UNKNOWN, remote_ip_prefix=UNKNOWN))

    inputs = checked(provider, news)

    assert is_unknown(inputs["virtual_machine_id"])
    assert is_unknown(inputs["remote_ip_prefix"])
    assert infrahub.lookups() == []


# -- diff -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("virtual_machine_id", 6),
        ("direction", "egress"),
        ("protocol", "udp"),
        ("ethertype", "IPv6"),
        ("remote_ip_prefix", "0.0.0.0/0"),
        ("port_range_min", 20),
        ("port_range_max", 23),
    ],
)
def test_diff_replaces_on_every_rule_field(
    provider: SecurityRuleProvider, key: str, value: Any
) -> None:
    olds = checked(provider, program(5))

    diff = provider.diff("1", olds, dict(olds, **{key: value}))

    assert diff.replaces == [key]


def test_diff_covers_every_field() -> None:
    assert set(RULE_FIELDS) <= {
        "direction",
        "protocol",
        "ethertype",
        "remote_ip_prefix",
        "port_range_min",
        "port_range_max",
    }


def test_diff_of_an_equal_rule_is_empty(provider: SecurityRuleProvider) -> None:
    olds = checked(provider, program(5))
    news = checked(provider, program("5", protocol="Tcp", port_range_max=None), olds)

    diff = provider.diff("1", olds, news)

    assert not diff.replaces


def test_diff_replaces_when_the_vm_is_not_known_yet(
    provider: SecurityRuleProvider,
) -> None:
    olds = checked(provider, program(5))
    news = dict(olds, virtual_machine_id=with_unknowns({"x": UNKNOWN})["x"])

    assert provider.diff("1", olds, news).replaces == ["virtual_machine_id"]


# -- create, read, delete -----------------------------------------------------------


def test_create_waits_until_the_rule_takes_effect(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow = emulator_factory(delays=Delays(rule=0.3))
    provider = SecurityRuleProvider()
    configure(provider, slow)
    from pulumi_infrahub.client import InfrahubClient

    with InfrahubClient(api_key=slow.api_key, base_url=slow.base_url) as client:
        [vm] = client.virtual_machines.create(
            "web",
            environment_name=DEMO_ENVIRONMENT,
            flavor_name="n1-cpu-medium",
            key_name=DEMO_KEYPAIR,
            image_name=IMAGE,
        )
        client.virtual_machines.wait_until_active(vm.id, timeout=5)

        id_, inputs, outs = create(provider, vm.id)

    assert outs["status"] == "SUCCESS"
    assert outs["id"] == int(id_)
    for key, value in inputs.items():
        assert outs[key] == value


def test_create_refuses_a_rule_the_vm_already_has(
    provider: SecurityRuleProvider, infrahub: Infrahub, vm_id: int
) -> None:
    existing = infrahub.client.virtual_machines.create_security_rule(
        vm_id,
        direction="ingress",
        protocol="tcp",
        remote_ip_prefix="203.0.113.0/24",
        port_range_min=22,
        port_range_max=22,
    )

    with pytest.raises(ResourceError, match=f"adopt_id={existing.id}"):
        create(provider, vm_id, protocol="TCP")


def test_create_refuses_a_default_egress_rule_naming_it(
    provider: SecurityRuleProvider, vm_id: int
) -> None:
    with pytest.raises(ResourceError, match="egress rules the API gives every VM"):
        create(
            provider,
            vm_id,
            direction="egress",
            protocol="any",
            remote_ip_prefix="0.0.0.0/0",
            port_range_min=None,
            port_range_max=None,
        )


def test_create_adopts_an_existing_rule_when_asked(
    provider: SecurityRuleProvider, infrahub: Infrahub, vm_id: int
) -> None:
    existing = infrahub.client.virtual_machines.create_security_rule(
        vm_id,
        direction="ingress",
        protocol="tcp",
        remote_ip_prefix="203.0.113.0/24",
        port_range_min=22,
        port_range_max=22,
    )
    infrahub.emulator.admin.clear_requests()

    id_, inputs, _ = create(provider, vm_id, adopt_id=existing.id)
    again = checked(provider, program(vm_id, adopt_id=existing.id), inputs)

    assert id_ == str(existing.id)
    assert infrahub.requests("POST") == []
    assert over_the_wire(again) == inputs


def test_create_after_a_dropped_connection_makes_one_rule(
    provider: SecurityRuleProvider, infrahub: Infrahub, vm_id: int
) -> None:
    infrahub.emulator.admin.set_faults(drop_after_create=1)

    id_, _, _ = create(provider, vm_id)

    rules = infrahub.client.virtual_machines.get(vm_id).security_rules
    assert [r.id for r in rules if r.direction == "ingress"] == [int(id_)]


def test_create_on_a_missing_vm_says_so(provider: SecurityRuleProvider) -> None:
    with pytest.raises(ResourceError, match="virtual_machine_id 424242"):
        create(provider, 424242)


def test_read_finds_the_rule_among_the_vms_rules(
    provider: SecurityRuleProvider, vm_id: int
) -> None:
    id_, inputs, outs = create(provider, vm_id)

    result = provider.read(id_, outs)
    by_id_only = provider.read(id_, {})

    assert over_the_wire(result.inputs or {}) == inputs
    assert over_the_wire(by_id_only.inputs or {}) == inputs


def test_read_of_a_rule_deleted_outside_pulumi_returns_an_empty_id(
    provider: SecurityRuleProvider, infrahub: Infrahub, vm_id: int
) -> None:
    id_, _, outs = create(provider, vm_id)
    infrahub.emulator.admin.drift_delete_rule(vm_id, int(id_))

    assert provider.read(id_, outs).id == ""


def test_read_of_a_rule_on_a_vanished_vm_returns_an_empty_id(
    provider: SecurityRuleProvider, infrahub: Infrahub, vm_id: int
) -> None:
    id_, _, outs = create(provider, vm_id)
    infrahub.emulator.admin.drift_delete_vm(vm_id)

    assert provider.read(id_, outs).id == ""


def test_delete_removes_only_this_rule(
    provider: SecurityRuleProvider, infrahub: Infrahub, vm_id: int
) -> None:
    id_, _, outs = create(provider, vm_id)
    other, _, _ = create(provider, vm_id, port_range_min=443, port_range_max=443)

    provider.delete(id_, outs)

    ids = {r.id for r in infrahub.client.virtual_machines.get(vm_id).security_rules}
    assert int(id_) not in ids
    assert int(other) in ids
    assert len(ids) == 3, "the two default egress rules and the other rule remain"


def test_delete_of_a_rule_already_gone_succeeds(
    provider: SecurityRuleProvider, infrahub: Infrahub, vm_id: int
) -> None:
    id_, _, outs = create(provider, vm_id)
    infrahub.emulator.admin.drift_delete_vm(vm_id)

    provider.delete(id_, outs)

    assert infrahub.requests("DELETE")[-1]["status"] == 404


def test_update_only_records_timeouts(
    provider: SecurityRuleProvider, vm_id: int
) -> None:
    id_, inputs, outs = create(provider, vm_id)
    news = dict(inputs, timeouts={"create": 30.0})

    assert not provider.diff(id_, outs, news).replaces
    result = provider.update(id_, outs, news)

    assert (result.outs or {})["timeouts"] == {"create": 30.0}
    assert (result.outs or {})["status"] == outs["status"]


def test_create_deletes_a_rule_not_in_effect_in_time(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow = emulator_factory(delays=Delays(rule=1.0))
    provider = SecurityRuleProvider()
    configure(provider, slow)
    from pulumi_infrahub.client import InfrahubClient

    with InfrahubClient(api_key=slow.api_key, base_url=slow.base_url) as client:
        [vm] = client.virtual_machines.create(
            "web",
            environment_name=DEMO_ENVIRONMENT,
            flavor_name="n1-cpu-medium",
            key_name=DEMO_KEYPAIR,
            image_name=IMAGE,
        )
        client.virtual_machines.wait_until_active(vm.id, timeout=5)

        with pytest.raises(ResourceError, match="deleted again"):
            create(provider, vm.id, timeouts={"create": 0.1})

        rules = client.virtual_machines.get(vm.id).security_rules
        assert [r.direction for r in rules] == ["egress", "egress"]
