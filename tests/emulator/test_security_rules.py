from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pulumi_infrahub.emulator import Delays, ManualClock
from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api, create_vm, get_vm

Factory = Callable[..., RunningEmulator]

SSH: dict[str, Any] = {
    "direction": "ingress",
    "ethertype": "IPv4",
    "protocol": "tcp",
    "remote_ip_prefix": "0.0.0.0/0",
    "port_range_min": 22,
    "port_range_max": 22,
}


def test_new_rule_is_pending_then_success(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(rule=2))

    with api(emulator) as client:
        vm_id = create_vm(client)
        get_vm(client, vm_id)
        created = client.post(f"/core/virtual-machines/{vm_id}/sg-rules", json=SSH)
        rule_id = created.json()["security_rule"]["id"]
        pending = _rule(get_vm(client, vm_id), rule_id)
        clock.advance(2)
        settled = _rule(get_vm(client, vm_id), rule_id)

    assert created.json()["message"] == "Security Rule created successfully"
    assert created.json()["security_rule"]["status"] == "pending"
    assert pending["status"] == "pending"
    assert settled["status"] == "SUCCESS"
    assert {k: settled[k] for k in SSH} == SSH


def _rule(vm: dict[str, Any], rule_id: int) -> dict[str, Any]:
    [rule] = [r for r in vm["security_rules"] if r["id"] == rule_id]
    return rule


def test_rule_deletes(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        get_vm(client, vm_id)
        rule_id = client.post(
            f"/core/virtual-machines/{vm_id}/sg-rules", json=SSH
        ).json()["security_rule"]["id"]
        deleted = client.delete(f"/core/virtual-machines/{vm_id}/sg-rules/{rule_id}")
        again = client.delete(f"/core/virtual-machines/{vm_id}/sg-rules/{rule_id}")
        rules = get_vm(client, vm_id)["security_rules"]

    assert deleted.status_code == 200
    assert again.status_code == 404
    assert rule_id not in [r["id"] for r in rules]


def test_the_same_rule_twice_conflicts(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        get_vm(client, vm_id)
        client.post(f"/core/virtual-machines/{vm_id}/sg-rules", json=SSH)
        second = client.post(f"/core/virtual-machines/{vm_id}/sg-rules", json=SSH)

    assert second.status_code == 409
    assert second.json()["error_reason"] == "already_exist"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"protocol": "TCP"}, {"errors": {"protocol": "'TCP' is not one of"}}),
        ({"remote_ip_prefix": "everywhere"}, {"message": "Invalid remote_ip_prefix"}),
        ({"direction": "sideways"}, {"message": "Invalid direction"}),
        ({"ethertype": "IPX"}, {"message": "Invalid ethertype"}),
        ({"port_range_min": 0}, {"message": "Invalid port_range_min 0"}),
        ({"port_range_min": 90, "port_range_max": 80}, {"message": "must not be"}),
        (
            {"port_range_min": "22"},
            {"errors": {"port_range_min": "'22' is not of type"}},
        ),
    ],
)
def test_bad_rules_are_refused(
    emulator: RunningEmulator, change: dict[str, Any], expected: dict[str, Any]
) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        get_vm(client, vm_id)
        response = client.post(
            f"/core/virtual-machines/{vm_id}/sg-rules", json={**SSH, **change}
        )
        rules = get_vm(client, vm_id)["security_rules"]

    assert response.status_code == 400
    body = response.json()
    for key, fragment in expected.items():
        if isinstance(fragment, dict):
            for field, text in fragment.items():
                assert text in body[key][field]
        else:
            assert fragment in body[key]
    assert len(rules) == 2


def test_rules_wait_for_the_vm_to_exist(emulator_factory: Factory) -> None:
    emulator = emulator_factory(clock=ManualClock(), delays=Delays(boot=10))

    with api(emulator) as client:
        vm_id = create_vm(client)
        response = client.post(f"/core/virtual-machines/{vm_id}/sg-rules", json=SSH)

    assert response.status_code == 400
    assert "its status is CREATING" in response.json()["message"]
