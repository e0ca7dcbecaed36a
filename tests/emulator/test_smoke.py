from __future__ import annotations

from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api, create_vm, create_volume, get_vm


def test_vm_becomes_active_with_default_egress_rules(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, assign_floating_ip=True)
        instance = get_vm(client, vm_id)

    assert instance["status"] == "ACTIVE"
    assert instance["floating_ip_status"] == "ATTACHED"
    assert [r["direction"] for r in instance["security_rules"]] == ["egress"] * 2


def test_volume_attaches_to_vm(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        volume_id = create_volume(client)
        client.get(f"/core/volumes/{volume_id}")
        response = client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )
        attached = get_vm(client, vm_id)["volume_attachments"]

    assert response.json()["volume_attachments"][0]["status"] == "ATTACHING"
    assert [(a["volume"]["id"], a["status"]) for a in attached] == [
        (volume_id, "ATTACHED")
    ]
