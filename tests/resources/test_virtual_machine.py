"""VirtualMachineProvider hooks against the in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR
from pulumi_infrahub.emulator.settings import Delays
from pulumi_infrahub.resources._inputs import is_unknown
from pulumi_infrahub.resources._provider import MISSING_KEY_MESSAGE, ResourceError
from pulumi_infrahub.resources.virtual_machine import (
    REPLACE_ON_CHANGE,
    VirtualMachineProvider,
)

from .helpers import (
    GPU_FLAVOR,
    IMAGE,
    UNKNOWN,
    Infrahub,
    check_failures,
    checked,
    configure,
    over_the_wire,
    ssh_rule,
    vm_program,
    with_unknowns,
)


@pytest.fixture
def provider(infrahub: Infrahub) -> VirtualMachineProvider:
    return infrahub.configure(VirtualMachineProvider())  # type: ignore[return-value]


def create(
    provider: VirtualMachineProvider, **fields: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Check and create a VM; returns its id, inputs and outputs as the
    engine would store them."""
    inputs = checked(provider, vm_program(**fields))
    result = provider.create(over_the_wire(inputs))
    return result.id, over_the_wire(inputs), over_the_wire(result.outs or {})


def update(
    provider: VirtualMachineProvider,
    id_: str,
    outs: dict[str, Any],
    inputs: dict[str, Any],
    **changes: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check the changed program against the old inputs and apply it."""
    program = {
        k: v for k, v in inputs.items() if k not in ("gpu", "gpu_count", "region")
    }
    program.update(changes)
    program = {k: v for k, v in program.items() if v is not None}
    news = checked(provider, program, inputs)
    diff = provider.diff(id_, outs, news)
    assert not diff.replaces
    result = provider.update(id_, outs, over_the_wire(news))
    return over_the_wire(news), over_the_wire(result.outs or {})


# -- check: normal form and derived inputs ----------------------------------


def test_check_adds_flavor_gpu_and_region_for_policies(
    provider: VirtualMachineProvider,
) -> None:
    inputs = checked(provider, vm_program(flavor_name=GPU_FLAVOR))

    assert inputs["gpu"] == "A100-80G-PCIe"
    assert inputs["gpu_count"] == 2
    assert inputs["region"] == "CANADA-1"


def test_check_gives_cpu_flavors_an_empty_gpu(provider: VirtualMachineProvider) -> None:
    inputs = checked(provider, vm_program())

    assert (inputs["gpu"], inputs["gpu_count"]) == ("", 0)


def test_check_fills_defaults_and_normalises(provider: VirtualMachineProvider) -> None:
    inputs = checked(
        provider,
        vm_program(
            labels=["team=ml", "owner=ana", "team=ml"],
            power_state="shutoff",
            security_rules=[
                ssh_rule(protocol="TCP", remote_ip_prefix="203.0.113.9/24"),
                {
                    "direction": "Ingress",
                    "protocol": "icmp",
                    "remote_ip_prefix": "::/0",
                },
            ],
        ),
    )

    assert inputs["labels"] == ["owner=ana", "team=ml"]
    assert inputs["power_state"] == "SHUTOFF"
    assert inputs["assign_floating_ip"] is False
    assert inputs["enable_port_randomization"] is True
    assert inputs["create_bootable_volume"] is False
    assert inputs["security_rules"] == [
        {
            "direction": "ingress",
            "protocol": "icmp",
            "ethertype": "IPv6",
            "remote_ip_prefix": "::/0",
        },
        {
            "direction": "ingress",
            "protocol": "tcp",
            "ethertype": "IPv4",
            "remote_ip_prefix": "203.0.113.0/24",
            "port_range_min": 22,
            "port_range_max": 22,
        },
    ]


def test_check_names_a_vm_after_the_resource_and_keeps_the_name(
    provider: VirtualMachineProvider,
) -> None:
    first = checked(provider, vm_program(name_prefix="trainer"))
    again = checked(provider, vm_program(name_prefix="trainer"), first)
    fresh = checked(provider, vm_program(name_prefix="trainer"))

    assert first["name"].startswith("trainer-")
    assert len(first["name"]) == len("trainer-") + 7
    assert again["name"] == first["name"]
    assert fresh["name"] != first["name"]


def test_check_keeps_a_generated_name_when_the_resource_is_renamed(
    provider: VirtualMachineProvider,
) -> None:
    first = checked(provider, vm_program(name_prefix="trainer"))

    renamed = checked(provider, vm_program(name_prefix="trainer-a100"), first)

    assert renamed["name"] == first["name"]


def test_check_keeps_an_explicit_name(provider: VirtualMachineProvider) -> None:
    inputs = checked(provider, vm_program(name_prefix=None, name="db-primary"))

    assert inputs["name"] == "db-primary"
    assert "name_prefix" not in inputs


def test_check_of_an_unchanged_vm_sends_no_request(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    first = checked(provider, vm_program(security_rules=[ssh_rule()]))
    infrahub.emulator.admin.clear_requests()

    again = checked(provider, vm_program(security_rules=[ssh_rule()]), first)

    assert again == first
    assert infrahub.requests() == []


# -- check: bad input -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "prop", "words"),
    [
        ({"name_prefix": None, "name": ""}, "name", "empty"),
        ({"name_prefix": None, "name": "x" * 51}, "name", "at most 50"),
        ({"flavor_name": "n1-cpu-mediun"}, "flavor_name", "'n1-cpu-medium'"),
        ({"image_name": "Ubuntu Server 22.04 LTS R535 CUDA 12"}, "image_name", IMAGE),
        ({"environment_name": "demo-enviroment"}, "environment_name", DEMO_ENVIRONMENT),
        ({"key_name": "demo-keypar"}, "key_name", DEMO_KEYPAIR),
        ({"image_name": None}, "image_name", "volume_name"),
        (
            {"image_name": None, "create_bootable_volume": True},
            "create_bootable_volume",
            "image_name",
        ),
        (
            {"create_bootable_volume": True, "volume_name": "boot"},
            "create_bootable_volume",
            "one of them",
        ),
        ({"callback_url": "ftp://hooks.example.com"}, "callback_url", "http(s)"),
        (
            {"callback_url": "https://example.com/" + "x" * 240},
            "callback_url",
            "at most 250",
        ),
        ({"power_state": "RUNNING"}, "power_state", "'HIBERNATED'"),
        (
            {"flavor_name": "n1-cpu-small", "power_state": "HIBERNATED"},
            "power_state",
            "cannot hibernate",
        ),
        ({"profile": {"name": "p" * 51}}, "name", "at most 50"),
        (
            {"profile": {"name": "gpu", "description": "d" * 151}},
            "description",
            "at most 150",
        ),
        ({"labels": "team=ml"}, "labels", "list"),
        ({"timeouts": {"create": -5}}, "timeouts.create", "above 0"),
        ({"timeouts": {"boot": 5}}, "timeouts", "no operation 'boot'"),
        ({"colour": "blue"}, "colour", "not an input"),
        (
            {"volume_name": "missing-volume", "image_name": None},
            "volume_name",
            "not a volume",
        ),
    ],
)
def test_check_reports_bad_input(
    provider: VirtualMachineProvider, fields: dict[str, Any], prop: str, words: str
) -> None:
    failures = check_failures(provider, vm_program(**fields))

    assert prop in failures
    assert words in failures[prop]


@pytest.mark.parametrize(
    ("rule", "prop", "words"),
    [
        ({"remote_ip_prefix": "10.0.0.300/8"}, "remote_ip_prefix", "CIDR"),
        ({"ethertype": "IPv6"}, "ethertype", "IPv4 network"),
        ({"protocol": "tcpp"}, "protocol", "'tcp'"),
        ({"port_range_min": 0}, "port_range_min", "at least 1"),
        ({"port_range_max": 70000}, "port_range_max", "at most 65535"),
        ({"port_range_min": 443, "port_range_max": 80}, "port_range_min", "above"),
        ({"protocol": "icmp"}, "port_range_min", "has no ports"),
        ({"direction": "inbound"}, "direction", "'ingress'"),
    ],
)
def test_check_reports_bad_inline_rules(
    provider: VirtualMachineProvider, rule: dict[str, Any], prop: str, words: str
) -> None:
    failures = check_failures(provider, vm_program(security_rules=[ssh_rule(**rule)]))

    assert words in failures[f"security_rules[0].{prop}"]


def test_check_refuses_the_default_egress_rule_inline(
    provider: VirtualMachineProvider,
) -> None:
    rule = {"direction": "egress", "protocol": "any", "remote_ip_prefix": "0.0.0.0/0"}

    failures = check_failures(provider, vm_program(security_rules=[rule]))

    assert "by itself" in failures["security_rules[0]"]


def test_check_refuses_repeated_inline_rules(provider: VirtualMachineProvider) -> None:
    rules = [ssh_rule(), ssh_rule(protocol="TCP", port_range_max=None)]

    failures = check_failures(provider, vm_program(security_rules=rules))

    assert "repeats security_rules[0]" in failures["security_rules[1]"]


def test_check_refuses_a_flavor_without_stock(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    infrahub.client.environments.create("us-env", region="US-1")

    failures = check_failures(
        provider, vm_program(environment_name="us-env", flavor_name="n3-L40x1")
    )

    assert "no stock in region US-1" in failures["flavor_name"]


def test_check_keeps_an_existing_vm_valid_when_its_flavor_sells_out(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    infrahub.client.environments.create("us-env", region="US-1")
    olds = {
        **vm_program(environment_name="us-env", flavor_name="n3-L40x1"),
        "name": "web-abc1234",
        "region": "US-1",
        "gpu": "L40",
        "gpu_count": 1,
    }

    failures = check_failures(
        provider,
        vm_program(environment_name="us-env", flavor_name="n3-L40x1", key_name=None),
        olds,
    )

    assert "flavor_name" not in failures


def test_check_refuses_hibernating_an_existing_vm_whose_flavor_cannot(
    provider: VirtualMachineProvider,
) -> None:
    olds = checked(provider, vm_program(flavor_name="n1-cpu-small"))
    program = vm_program(flavor_name="n1-cpu-small", power_state="HIBERNATED")

    failures = check_failures(provider, program, olds)

    assert "cannot hibernate" in failures["power_state"]


def test_check_without_an_api_key_names_the_config_command(
    infrahub: Infrahub,
) -> None:
    provider = VirtualMachineProvider()

    result = provider.check({}, vm_program())

    assert [(f.property, f.reason) for f in result.failures] == [
        ("", MISSING_KEY_MESSAGE)
    ]
    assert "pulumi config set --secret infrahub:apiKey <key>" in MISSING_KEY_MESSAGE
    assert infrahub.requests("GET") == []


# -- check and diff with unknowns --------------------------------------------------


def test_check_passes_unknowns_through_without_asking_the_api(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    news = with_unknowns(
        vm_program(
            environment_name=UNKNOWN,
            flavor_name=UNKNOWN,
            key_name=UNKNOWN,
            image_name=UNKNOWN,
            labels=[UNKNOWN],
            security_rules=[
                {"direction": "ingress", "protocol": "tcp", "remote_ip_prefix": UNKNOWN}
            ],
        )
    )

    inputs = checked(provider, news)

    for key in ("environment_name", "flavor_name", "gpu", "gpu_count", "region"):
        assert is_unknown(inputs[key])
    assert is_unknown(inputs["labels"][0])
    assert is_unknown(inputs["security_rules"][0]["remote_ip_prefix"])
    assert infrahub.lookups() == []


def test_check_treats_the_sentinel_string_as_unknown(
    provider: VirtualMachineProvider,
) -> None:
    inputs = checked(provider, vm_program(flavor_name=UNKNOWN, labels=UNKNOWN))

    assert is_unknown(inputs["gpu_count"])
    assert inputs["labels"] == UNKNOWN


def test_check_with_a_refused_key_says_so_in_one_failure(
    infrahub: Infrahub,
) -> None:
    provider = VirtualMachineProvider()
    configure(provider, infrahub.emulator, api_key="revoked-key")

    result = provider.check({}, vm_program())

    [failure] = result.failures
    assert failure.property == ""
    assert "401" in failure.reason
    assert "revoked-key" not in failure.reason


def test_check_with_an_unknown_flavor_still_resolves_the_region(
    provider: VirtualMachineProvider,
) -> None:
    inputs = checked(provider, with_unknowns(vm_program(flavor_name=UNKNOWN)))

    assert inputs["region"] == "CANADA-1"
    assert is_unknown(inputs["gpu"]) and is_unknown(inputs["gpu_count"])


def test_diff_treats_an_unknown_replacing_input_as_a_replacement(
    provider: VirtualMachineProvider,
) -> None:
    olds = checked(provider, vm_program())
    news = dict(olds, flavor_name=with_unknowns({"x": UNKNOWN})["x"])

    diff = provider.diff("1", olds, news)

    assert diff.replaces == ["flavor_name"]


# -- diff -------------------------------------------------------------------------

REPLACING_CHANGES = {
    "name": "other-name",
    "environment_name": "other-environment",
    "image_name": "Ubuntu Server 24.04 LTS (Noble Numbat)",
    "volume_name": "boot-volume",
    "create_bootable_volume": True,
    "flavor_name": GPU_FLAVOR,
    "key_name": "other-key",
    "user_data": "#cloud-config\n",
    "enable_port_randomization": False,
}


def test_every_replacing_input_is_tested() -> None:
    assert set(REPLACING_CHANGES) == set(REPLACE_ON_CHANGE)


@pytest.mark.parametrize(("key", "value"), sorted(REPLACING_CHANGES.items()))
def test_diff_replaces_on(
    provider: VirtualMachineProvider, key: str, value: Any
) -> None:
    olds = checked(provider, vm_program())

    diff = provider.diff("1", olds, dict(olds, **{key: value}))

    assert diff.changes is None
    assert diff.replaces == [key]


IN_PLACE_CHANGES = {
    "labels": ["team=ml"],
    "assign_floating_ip": True,
    "callback_url": "https://hooks.example.com/vm",
    "power_state": "HIBERNATED",
    "security_rules": [ssh_rule()],
    "timeouts": {"create": 60.0},
    "profile": {"name": "gpu-box"},
}


@pytest.mark.parametrize(("key", "value"), sorted(IN_PLACE_CHANGES.items()))
def test_diff_changes_in_place(
    provider: VirtualMachineProvider, key: str, value: Any
) -> None:
    olds = checked(provider, vm_program())

    diff = provider.diff("1", olds, dict(olds, **{key: value}))

    assert diff.changes is None
    assert not diff.replaces


def test_diff_creates_an_auto_named_replacement_before_deleting(
    provider: VirtualMachineProvider,
) -> None:
    olds = checked(provider, vm_program())

    diff = provider.diff("1", olds, dict(olds, flavor_name=GPU_FLAVOR))

    assert diff.delete_before_replace is False


def test_diff_deletes_first_when_an_explicit_name_stays(
    provider: VirtualMachineProvider,
) -> None:
    olds = checked(provider, vm_program(name_prefix=None, name="db-primary"))

    kept = provider.diff("1", olds, dict(olds, flavor_name=GPU_FLAVOR))
    renamed = provider.diff("1", olds, dict(olds, name="db-secondary"))

    assert kept.delete_before_replace is True
    assert renamed.delete_before_replace is False


def test_diff_deletes_first_when_the_boot_volume_stays(
    provider: VirtualMachineProvider,
) -> None:
    olds = {**checked(provider, vm_program()), "volume_name": "boot"}

    diff = provider.diff("1", olds, dict(olds, key_name="other-key"))

    assert diff.replaces == ["key_name"]
    assert diff.delete_before_replace is True


def test_diff_refuses_to_replace_an_adopted_vm(
    provider: VirtualMachineProvider,
) -> None:
    olds = {**checked(provider, vm_program()), "adopt_id": 7}

    with pytest.raises(ResourceError, match="Remove adopt_id"):
        provider.diff("7", olds, dict(olds, flavor_name=GPU_FLAVOR))


# -- create ------------------------------------------------------------------------


def test_create_returns_an_active_vm_with_its_public_ip(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(
        provider, assign_floating_ip=True, labels=["a"], user_data="#!/bin/sh\n"
    )

    assert outs["status"] == "ACTIVE"
    assert outs["floating_ip"]
    assert outs["id"] == int(id_)
    for key, value in inputs.items():
        assert outs[key] == value
    assert (outs["cpu"], outs["ram"], outs["disk"]) == (8, 16.0, 100)
    [sent] = infrahub.requests("POST", "/core/virtual-machines")
    assert sent["body"]["count"] == 1
    assert "#!/bin/sh" not in str(sent)


def test_create_brings_the_vm_to_its_power_state(
    provider: VirtualMachineProvider,
) -> None:
    _, _, stopped = create(provider, power_state="SHUTOFF")
    _, _, parked = create(provider, power_state="HIBERNATED", assign_floating_ip=True)

    assert stopped["status"] == "SHUTOFF"
    assert parked["status"] == "HIBERNATED"
    assert parked["floating_ip"], "hibernation keeps the public IP that was asked for"


def test_create_records_its_inline_rules(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, _, outs = create(provider, security_rules=[ssh_rule()])

    vm = infrahub.client.virtual_machines.get(int(id_))
    [rule_id] = outs["security_rule_ids"]
    [rule] = [r for r in vm.security_rules if r.id == rule_id]
    assert (rule.protocol, rule.port_range_min) == ("tcp", 22)
    assert len(vm.security_rules) == 3, "two default egress rules and the inline one"


def test_create_deletes_a_vm_that_goes_into_error(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    infrahub.emulator.admin.set_faults(
        vm_error_pattern="doomed-*", vm_error_reason="No valid host was found."
    )

    with pytest.raises(ResourceError) as raised:
        create(provider, name_prefix=None, name="doomed-1")

    message = str(raised.value)
    assert "'doomed-1' (id " in message
    assert "last status ERROR" in message
    assert "No valid host was found." in message
    assert "nothing is left behind" in message
    assert infrahub.client.virtual_machines.get_all() == []


def test_create_deletes_a_vm_that_is_not_ready_in_time(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow = emulator_factory(delays=Delays(boot=1.0))
    provider = VirtualMachineProvider()
    configure(provider, slow)
    inputs = checked(provider, vm_program(timeouts={"create": 0.2}))

    with pytest.raises(ResourceError) as raised:
        provider.create(over_the_wire(inputs))

    assert "timeout" in str(raised.value)
    assert "nothing is left behind" in str(raised.value)
    client = infrahub.client.__class__(api_key=slow.api_key, base_url=slow.base_url)
    assert client.virtual_machines.get_all() == []


def test_create_reports_a_vm_it_could_not_delete(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    infrahub.emulator.admin.set_faults(vm_stuck_pattern="stuck-*")
    inputs = checked(
        provider,
        vm_program(
            name_prefix=None, name="stuck-1", timeouts={"create": 0.2, "delete": 0.2}
        ),
    )

    with pytest.raises(ResourceError) as raised:
        provider.create(over_the_wire(inputs))

    [vm] = infrahub.client.virtual_machines.get_all()
    assert f"(id {vm.id})" in str(raised.value)
    assert "may still exist" in str(raised.value)


def test_create_after_a_dropped_connection_makes_one_vm(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    infrahub.emulator.admin.set_faults(drop_after_create=1)

    id_, inputs, _ = create(provider)

    [vm] = infrahub.client.virtual_machines.get_all()
    assert str(vm.id) == id_
    assert vm.name == inputs["name"]


def test_create_with_a_boot_volume(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    volume = infrahub.client.volumes.create(
        "boot",
        environment_name=DEMO_ENVIRONMENT,
        size=100,
        volume_type="Cloud-SSD",
        image_id=201,
    )
    infrahub.client.volumes.wait_for_status(volume.id, "available", timeout=5)

    _, _, outs = create(provider, image_name=None, volume_name="boot")

    assert len(outs["volume_attachment_ids"]) == 1


# -- update -----------------------------------------------------------------------


def test_update_sets_labels_in_place(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(provider, labels=["a"])
    infrahub.emulator.admin.clear_requests()

    _, new_outs = update(provider, id_, outs, inputs, labels=["b", "c"])

    assert new_outs["labels"] == ["b", "c"]
    assert infrahub.client.virtual_machines.get(int(id_)).labels == ["b", "c"]
    assert [r["method"] for r in infrahub.requests()].count("POST") == 0


def test_update_attaches_and_detaches_the_public_ip(
    provider: VirtualMachineProvider,
) -> None:
    id_, inputs, outs = create(provider)

    inputs, outs = update(provider, id_, outs, inputs, assign_floating_ip=True)
    with_ip = outs["floating_ip"]
    inputs, outs = update(provider, id_, outs, inputs, assign_floating_ip=False)

    assert with_ip
    assert outs.get("floating_ip") is None
    assert outs["id"] == int(id_)


def test_update_attaches_changes_and_removes_the_callback(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(provider)
    vms = infrahub.client.virtual_machines

    inputs, outs = update(
        provider, id_, outs, inputs, callback_url="https://a.example/"
    )
    first = vms.get(int(id_)).callback_url
    inputs, outs = update(
        provider, id_, outs, inputs, callback_url="https://b.example/"
    )
    second = vms.get(int(id_)).callback_url
    inputs, outs = update(provider, id_, outs, inputs, callback_url=None)

    assert (first, second) == ("https://a.example/", "https://b.example/")
    assert vms.get(int(id_)).callback_url is None
    assert "callback_url" not in outs


@pytest.mark.parametrize(
    "states",
    [
        ["SHUTOFF", "ACTIVE"],
        ["HIBERNATED", "ACTIVE"],
        ["SHUTOFF", "HIBERNATED", "SHUTOFF"],
    ],
)
def test_update_moves_the_power_state(
    provider: VirtualMachineProvider, infrahub: Infrahub, states: list[str]
) -> None:
    id_, inputs, outs = create(provider, assign_floating_ip=True)

    for state in states:
        inputs, outs = update(provider, id_, outs, inputs, power_state=state)
        assert outs["status"] == state
        assert outs["power_state"] == state
        assert infrahub.client.virtual_machines.get(int(id_)).status == state
    assert outs["floating_ip"]


def test_update_adds_and_removes_inline_rules_only(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(provider, security_rules=[ssh_rule()])
    vms = infrahub.client.virtual_machines
    foreign = vms.create_security_rule(
        int(id_),
        direction="ingress",
        protocol="udp",
        remote_ip_prefix="0.0.0.0/0",
        port_range_min=53,
        port_range_max=53,
    )
    https = ssh_rule(port_range_min=443, port_range_max=443)

    inputs, outs = update(provider, id_, outs, inputs, security_rules=[https])

    live = {r.id: r for r in vms.get(int(id_)).security_rules}
    [https_id] = outs["security_rule_ids"]
    assert live[https_id].port_range_min == 443
    assert foreign.id in live
    assert sum(r.direction == "egress" for r in live.values()) == 2
    assert all(r.port_range_min != 22 for r in live.values())


def test_update_refuses_an_inline_rule_another_resource_owns(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(provider)
    infrahub.client.virtual_machines.create_security_rule(
        int(id_),
        direction="ingress",
        protocol="tcp",
        remote_ip_prefix="203.0.113.0/24",
        port_range_min=22,
        port_range_max=22,
    )

    with pytest.raises(ResourceError, match="Keep the rule in one place"):
        update(provider, id_, outs, inputs, security_rules=[ssh_rule()])


# -- read --------------------------------------------------------------------------


def test_read_of_an_unchanged_vm_returns_its_inputs(
    provider: VirtualMachineProvider,
) -> None:
    id_, inputs, outs = create(
        provider, labels=["a"], security_rules=[ssh_rule()], assign_floating_ip=True
    )

    result = provider.read(id_, outs)

    assert result.id == id_
    assert over_the_wire(result.inputs or {}) == inputs
    assert (
        result.outs is not None
        and result.outs["security_rule_ids"] == outs["security_rule_ids"]
    )


def test_read_shows_drift_made_outside_pulumi(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(provider, labels=["a"], security_rules=[ssh_rule()])
    admin = infrahub.emulator.admin
    admin.drift_labels(int(id_), ["changed"])
    admin.drift_stop(int(id_))
    admin.drift_delete_rule(int(id_), outs["security_rule_ids"][0])

    result = provider.read(id_, outs)

    assert result.inputs is not None and result.outs is not None
    assert result.inputs["labels"] == ["changed"]
    assert result.inputs["power_state"] == "SHUTOFF"
    assert result.inputs["security_rules"] == []
    assert result.outs["status"] == "SHUTOFF"
    assert result.outs["security_rule_ids"] == []
    news = checked(
        provider, {k: v for k, v in inputs.items() if k != "gpu"}, result.inputs
    )
    assert news["labels"] == ["a"], "the next preview puts the program's labels back"


def test_read_of_a_vanished_vm_returns_an_empty_id(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, _, outs = create(provider)
    infrahub.emulator.admin.drift_delete_vm(int(id_))

    result = provider.read(id_, outs)

    assert result.id == ""


def test_read_for_get_needs_only_the_id(provider: VirtualMachineProvider) -> None:
    id_, inputs, _ = create(provider, labels=["a"])

    result = provider.read(id_, {})

    assert result.inputs is not None
    assert result.inputs["name"] == inputs["name"]
    assert result.inputs["flavor_name"] == inputs["flavor_name"]
    assert result.inputs["labels"] == ["a"]


# -- delete -----------------------------------------------------------------------


def test_delete_waits_until_the_vm_is_gone(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, _, outs = create(provider)

    provider.delete(id_, outs)

    assert infrahub.client.virtual_machines.get_all() == []


def test_delete_of_a_vm_already_gone_succeeds(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    id_, _, outs = create(provider)
    infrahub.emulator.admin.drift_delete_vm(int(id_))

    provider.delete(id_, outs)

    assert infrahub.requests("DELETE")[-1]["status"] == 404


# -- adoption ---------------------------------------------------------------------


def test_adopt_takes_over_an_existing_vm_without_creating_one(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    [vm] = infrahub.client.virtual_machines.create(
        "legacy-1",
        environment_name=DEMO_ENVIRONMENT,
        flavor_name="n1-cpu-medium",
        key_name=DEMO_KEYPAIR,
        image_name=IMAGE,
    )
    infrahub.client.virtual_machines.wait_until_active(vm.id, timeout=5)
    infrahub.emulator.admin.clear_requests()
    program = vm_program(adopt_id=str(vm.id), labels=["adopted"])

    inputs = checked(provider, program)
    result = provider.create(over_the_wire(inputs))
    again = checked(provider, program, over_the_wire(inputs))

    assert result.id == str(vm.id)
    assert inputs["name"] == "legacy-1"
    assert infrahub.requests("POST", "/core/virtual-machines") == []
    assert infrahub.client.virtual_machines.get(vm.id).labels == ["adopted"]
    assert over_the_wire(again) == over_the_wire(inputs)
    assert not provider.diff(
        result.id, over_the_wire(result.outs or {}), again
    ).replaces


def test_adopt_refuses_a_vm_that_differs(
    provider: VirtualMachineProvider, infrahub: Infrahub
) -> None:
    [vm] = infrahub.client.virtual_machines.create(
        "legacy-2",
        environment_name=DEMO_ENVIRONMENT,
        flavor_name="n1-cpu-large",
        key_name=DEMO_KEYPAIR,
        image_name=IMAGE,
    )
    inputs = checked(provider, vm_program(adopt_id=vm.id))

    with pytest.raises(
        ResourceError, match="flavor_name is 'n1-cpu-medium' in the program"
    ):
        provider.create(over_the_wire(inputs))
