from __future__ import annotations

from collections.abc import Callable

from pulumi_infrahub.emulator import Delays, ManualClock
from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import (
    IMAGE,
    api,
    create_vm,
    create_volume,
    get_vm,
    get_volume,
    volume_payload,
)

Factory = Callable[..., RunningEmulator]


def test_volume_is_creating_then_available(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(volume=3))

    with api(emulator) as client:
        created = client.post("/core/volumes", json=volume_payload("disk")).json()
        volume_id = created["volume"]["id"]
        early = get_volume(client, volume_id)
        clock.advance(3)
        ready = get_volume(client, volume_id)

    assert created["message"] == "Volume created successfully"
    assert created["volume"]["status"] == "creating"
    assert created["volume"]["updated_at"] is None
    assert created["volume"]["os_image"] == ""
    assert created["volume"]["environment"]["name"] == "demo-environment"
    assert "id" not in created["volume"]["environment"]
    assert early["status"] == "creating"
    assert ready["status"] == "available"


def test_volume_list_leaves_out_os_image(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_volume(client, "boot", size=100, image_id=201)
        listed = client.get("/core/volumes").json()
        single = get_volume(client, listed["volumes"][0]["id"])

    assert "os_image" not in listed["volumes"][0]
    assert single["os_image"] == IMAGE
    assert single["bootable"] is True
    assert (listed["page"], listed["page_size"], listed["count"]) == (None, None, 1)


def test_duplicate_volume_name_in_an_environment_conflicts(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        create_volume(client, "same")
        response = client.post("/core/volumes", json=volume_payload("same"))

    assert response.status_code == 409
    assert response.json()["error_reason"] == "already_exist"


def test_volume_create_checks_type_size_and_image(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        wrong_type = client.post(
            "/core/volumes", json=volume_payload(volume_type="HDD")
        )
        too_big = client.post("/core/volumes", json=volume_payload(size=200_000))
        small_boot = client.post(
            "/core/volumes", json=volume_payload(size=20, image_id=201)
        )
        no_image = client.post("/core/volumes", json=volume_payload(image_id=9))

    assert wrong_type.status_code == 400
    assert "Cloud-SSD" in wrong_type.json()["message"]
    assert too_big.status_code == 400
    assert small_boot.status_code == 400
    assert no_image.json()["message"] == "Image with ID 9 not found."


def test_attach_and_detach_pass_through_transitions(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(attach=2, detach=2))

    with api(emulator) as client:
        vm_id = create_vm(client)
        volume_id = create_volume(client)
        get_vm(client, vm_id)
        attach = client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )
        attaching = get_volume(client, volume_id)["attachments"]
        clock.advance(2)
        attached = get_vm(client, vm_id)["volume_attachments"]
        detach = client.post(
            f"/core/virtual-machines/{vm_id}/detach-volumes",
            json={"volume_ids": [volume_id]},
        )
        detaching = get_vm(client, vm_id)["volume_attachments"]
        clock.advance(2)
        detached = get_volume(client, volume_id)

    body = attach.json()
    assert body["message"] == "Volumes attaching now."
    [attachment] = body["volume_attachments"]
    assert (attachment["instance_id"], attachment["volume_id"]) == (vm_id, volume_id)
    assert attachment["device"].startswith("/dev/disk/by-id/virtio-")
    assert [a["status"] for a in attaching] == ["ATTACHING"]
    assert [(a["volume"]["id"], a["status"]) for a in attached] == [
        (volume_id, "ATTACHED")
    ]
    assert detach.json()["message"] == "Volumes detaching now."
    assert [a["status"] for a in detaching] == ["DETACHING"]
    assert detached["attachments"] == []
    assert detached["status"] == "available"


def test_attached_volume_cannot_be_deleted(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, "holder")
        volume_id = create_volume(client)
        get_volume(client, volume_id)
        client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )
        response = client.delete(f"/core/volumes/{volume_id}")
        still = client.get(f"/core/volumes/{volume_id}")

    assert response.status_code == 400
    assert response.json()["message"] == (
        'The Volume is currently attached to vm "holder". Please detach it before '
        "deleting the volume."
    )
    assert still.status_code == 200


def test_volume_delete_removes_it(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        volume_id = create_volume(client)
        get_volume(client, volume_id)
        response = client.delete(f"/core/volumes/{volume_id}")
        after = client.get(f"/core/volumes/{volume_id}")
        listed = client.get("/core/volumes").json()["volumes"]

    assert response.json() == {"status": True, "message": "Volume is being deleted."}
    assert after.status_code == 404
    assert listed == []


def test_a_vm_holds_at_most_ten_volumes(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        ids = [create_volume(client, f"v{i}") for i in range(11)]
        get_vm(client, vm_id)
        first = client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": ids[:10]},
        )
        eleventh = client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": ids[10:]},
        )

    assert first.status_code == 200
    assert eleventh.status_code == 400
    assert "at most 10 volumes" in eleventh.json()["message"]


def test_attach_refuses_attached_and_unready_volumes(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(volume=5))

    with api(emulator) as client:
        vm_id = create_vm(client, "one")
        other = create_vm(client, "two")
        volume_id = create_volume(client, "shared")
        unready = client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )
        clock.advance(5)
        client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )
        twice = client.post(
            f"/core/virtual-machines/{other}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )

    assert unready.json()["message"] == "We can process with only available volumes."
    assert twice.status_code == 400
    assert twice.json()["message"] == "There are already attached Volumes"


def test_detach_of_a_volume_not_on_the_vm_is_refused(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        volume_id = create_volume(client)
        get_vm(client, vm_id)
        response = client.post(
            f"/core/virtual-machines/{vm_id}/detach-volumes",
            json={"volume_ids": [volume_id]},
        )

    assert response.status_code == 400
    assert response.json()["message"] == (
        "Some volumes are not attached with the given VM."
    )


def test_protected_attachment_cannot_detach(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        volume_id = create_volume(client)
        get_vm(client, vm_id)
        attached = client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id], "protected": True},
        ).json()["volume_attachments"][0]
        refused = client.post(
            f"/core/virtual-machines/{vm_id}/detach-volumes",
            json={"volume_ids": [volume_id]},
        )
        patched = client.patch(
            f"/core/volume-attachments/{attached['id']}", json={"protected": False}
        )
        allowed = client.post(
            f"/core/virtual-machines/{vm_id}/detach-volumes",
            json={"volume_ids": [volume_id]},
        )

    assert refused.status_code == 400
    assert "protected" in refused.json()["message"]
    assert patched.json()["volume_attachments"][0]["protected"] is False
    assert allowed.status_code == 200


def test_volume_moves_within_its_region_only(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        client.post("/core/environments", json={"name": "ca-2", "region": "CANADA-1"})
        client.post("/core/environments", json={"name": "no-1", "region": "NORWAY-1"})
        volume_id = create_volume(client)
        get_volume(client, volume_id)
        moved = client.patch(
            f"/core/volumes/{volume_id}", json={"environment_name": "ca-2"}
        )
        abroad = client.patch(
            f"/core/volumes/{volume_id}", json={"environment_name": "no-1"}
        )
        missing = client.patch(f"/core/volumes/{volume_id}", json={})

    assert moved.json()["volume"]["environment"]["name"] == "ca-2"
    assert moved.json()["updates"] == {"environment_name": "ca-2"}
    assert abroad.status_code == 400
    assert missing.json() == {
        "errors": {"environment_name": "'environment_name' is a required property"},
        "message": "Input payload validation failed",
    }


def test_vm_booted_with_volume_name_gets_it_attached(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        volume_id = create_volume(client, "root", size=100, image_id=201)
        get_volume(client, volume_id)
        vm_id = create_vm(client, "from-disk", volume_name="root")
        vm = get_vm(client, vm_id)

    assert [a["volume"]["name"] for a in vm["volume_attachments"]] == ["root"]


def test_deleting_a_vm_frees_its_volumes(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        volume_id = create_volume(client)
        get_vm(client, vm_id)
        client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )
        client.delete(f"/core/virtual-machines/{vm_id}")
        volume = get_volume(client, volume_id)

    assert volume["attachments"] == []


def test_volume_types_and_name_availability(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_volume(client, "used")
        types = client.get("/core/volume-types").json()
        used = client.get("/core/volume/name-availability/used").json()

    assert types["volume_types"] == ["Cloud-SSD"]
    assert used["available"] is False


def test_volume_still_creating_cannot_be_deleted(emulator_factory: Factory) -> None:
    emulator = emulator_factory(clock=ManualClock(), delays=Delays(volume=5))

    with api(emulator) as client:
        volume_id = create_volume(client)
        response = client.delete(f"/core/volumes/{volume_id}")

    assert response.status_code == 400
    assert "still being created" in response.json()["message"]


def test_volume_attaches_only_in_its_environment(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        client.post("/core/environments", json={"name": "ca-2", "region": "CANADA-1"})
        vm_id = create_vm(client)
        volume_id = create_volume(client, environment_name="ca-2")
        get_vm(client, vm_id)
        response = client.post(
            f"/core/virtual-machines/{vm_id}/attach-volumes",
            json={"volume_ids": [volume_id]},
        )

    assert response.status_code == 400
    assert "another environment" in response.json()["message"]
