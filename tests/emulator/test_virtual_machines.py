from __future__ import annotations

from collections.abc import Callable

import pytest

from pulumi_infrahub.emulator import Delays, ManualClock
from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import action, api, create_vm, get_vm, vm_payload

Factory = Callable[..., RunningEmulator]


def test_create_answers_a_list_in_the_first_state(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.post("/core/virtual-machines", json=vm_payload("a"))

    body = response.json()
    assert response.status_code == 200
    assert body["status"] is True
    assert body["message"] == "VM is scheduled for creation."
    [vm] = body["instances"]
    assert isinstance(vm["id"], int)
    assert (vm["status"], vm["vm_state"], vm["power_state"]) == ("CREATING", None, None)
    assert vm["floating_ip"] is None
    assert vm["floating_ip_status"] == "NO FLOATING IP"
    assert vm["port_randomization_status"] == "NO_FLOATING_IP"
    assert vm["security_rules"] == []
    assert vm["volume_attachments"] == []
    assert vm["keypair"] == {"name": "demo-keypair"}
    assert vm["environment"]["region"] == "CANADA-1"


def test_boot_passes_through_build_to_active(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(boot=10, public_ip=4))

    with api(emulator) as client:
        vm_id = create_vm(client, assign_floating_ip=True)
        seen = []
        for step in (1, 5, 5, 3):
            clock.advance(step)
            vm = get_vm(client, vm_id)
            seen.append((vm["status"], vm["vm_state"], vm["floating_ip_status"]))

    assert seen == [
        ("CREATING", None, "NO FLOATING IP"),
        ("BUILD", "building", "NO FLOATING IP"),
        ("ACTIVE", "active", "ATTACHING"),
        ("ACTIVE", "active", "ATTACHED"),
    ]


def test_public_ip_shows_some_time_after_active(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(boot=2, public_ip=4))

    with api(emulator) as client:
        vm_id = create_vm(client, assign_floating_ip=True)
        clock.advance(2)
        active = get_vm(client, vm_id)
        clock.advance(4)
        addressed = get_vm(client, vm_id)

    assert active["status"] == "ACTIVE"
    assert active["floating_ip"] == ""
    assert addressed["floating_ip_status"] == "ATTACHED"
    assert addressed["floating_ip"].count(".") == 3
    assert addressed["port_randomization_status"] == "ENABLED"


def test_active_vm_has_power_and_default_egress_rules(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        vm = get_vm(client, create_vm(client))

    assert (vm["status"], vm["vm_state"], vm["power_state"]) == (
        "ACTIVE",
        "active",
        "RUNNING",
    )
    rules = [
        (r["direction"], r["ethertype"], r["protocol"], r["port_range_min"],
         r["port_range_max"], r["remote_ip_prefix"], r["status"])
        for r in vm["security_rules"]
    ]  # fmt: skip
    assert rules == [
        ("egress", "IPv4", "any", 1, 65535, "0.0.0.0/0", "SUCCESS"),
        ("egress", "IPv6", "any", 1, 65535, "0.0.0.0/0", "SUCCESS"),
    ]
    assert vm["fixed_ip"].startswith("10.")


def test_rules_given_at_create_appear_once_active(emulator: RunningEmulator) -> None:
    ssh = {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp",
        "remote_ip_prefix": "0.0.0.0/0",
        "port_range_min": 22,
        "port_range_max": 22,
    }
    with api(emulator) as client:
        vm = get_vm(client, create_vm(client, security_rules=[ssh]))

    assert [r["protocol"] for r in vm["security_rules"]] == ["any", "any", "tcp"]


def test_no_public_ip_means_empty_string_in_detail_and_null_in_list(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        detail = get_vm(client, vm_id)
        listed = client.get("/core/virtual-machines").json()["instances"][0]

    assert detail["floating_ip"] == ""
    assert listed["floating_ip"] is None


def test_count_creates_numbered_vms(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/virtual-machines", json=vm_payload("node", count=3)
        )

    names = [vm["name"] for vm in response.json()["instances"]]
    assert names == ["node-1", "node-2", "node-3"]


def test_retried_create_makes_a_second_vm_of_the_same_name(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        first = create_vm(client, "twin")
        second = create_vm(client, "twin")
        listed = client.get("/core/virtual-machines", params={"search": "twin"}).json()

    assert first != second
    assert [vm["id"] for vm in listed["instances"]] == [first, second]


def test_create_does_not_echo_user_data(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm = get_vm(client, create_vm(client, user_data="#cloud-config\nsecret: 1"))

    assert "user_data" not in vm
    assert "secret" not in str(vm)


@pytest.mark.parametrize(
    ("change", "status", "fragment"),
    [
        ({"environment_name": "nowhere"}, 404, "Environment nowhere does not exist"),
        ({"flavor_name": "n9-unknown"}, 404, "Flavor n9-unknown does not exist"),
        ({"flavor_name": "n3-H100x1", "environment_name": "oslo"}, 404, "NORWAY-1"),
        ({"image_name": "Windows 95"}, 404, "Image Windows 95 does not exist"),
        ({"key_name": "nobody"}, 404, "Keypair nobody does not exist"),
        ({"count": 0}, 400, "count must be between 1 and 20"),
        ({"image_name": None}, 400, "image_name is required"),
    ],
)
def test_create_refuses_what_cannot_be_made(
    emulator: RunningEmulator, change: dict[str, object], status: int, fragment: str
) -> None:
    payload = {k: v for k, v in vm_payload(**change).items() if v is not None}
    with api(emulator) as client:
        client.post("/core/environments", json={"name": "oslo", "region": "NORWAY-1"})
        response = client.post("/core/virtual-machines", json=payload)
        listed = client.get("/core/virtual-machines").json()

    assert response.status_code == status
    assert fragment in response.json()["message"]
    assert response.json()["error_reason"] == (
        "not_found" if status == 404 else "bad_request"
    )
    assert listed["instances"] == []


def test_create_beyond_gpu_stock_is_refused(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        client.post("/core/environments", json={"name": "us", "region": "US-1"})
        client.post(
            "/core/keypairs",
            json={"name": "k", "environment_name": "us", "public_key": _KEY},
        )
        response = client.post(
            "/core/virtual-machines",
            json=vm_payload(
                "big", environment_name="us", flavor_name="n3-L40x1", key_name="k"
            ),
        )

    assert response.status_code == 400
    assert "Not enough L40 GPUs in US-1" in response.json()["message"]


def test_list_filters_by_environment_and_pages(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        client.post("/core/environments", json={"name": "oslo", "region": "NORWAY-1"})
        client.post(
            "/core/keypairs",
            json={"name": "k", "environment_name": "oslo", "public_key": _KEY},
        )
        ids = [create_vm(client, f"vm-{i}") for i in range(5)]
        create_vm(client, "far", environment_name="oslo", key_name="k")
        page = client.get("/core/virtual-machines", params={"page": 2, "pageSize": 2})
        partial = client.get("/core/virtual-machines", params={"environment": "osl"})
        exact = client.get(
            "/core/virtual-machines",
            params={"environment": "osl", "exact_environment_match": "true"},
        )

    body = page.json()
    assert [vm["id"] for vm in body["instances"]] == ids[2:4]
    assert (body["page"], body["page_size"], body["count"]) == (2, 2, 2)
    assert [vm["name"] for vm in partial.json()["instances"]] == ["far"]
    assert exact.json()["instances"] == []


_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfLx52tvLo1kBAb3uWyl16EOcUMB02Sg4qITRwtmLq/"
)


def test_delete_shows_deleting_then_not_found(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(delete=5))

    with api(emulator) as client:
        vm_id = create_vm(client)
        get_vm(client, vm_id)
        deleted = client.delete(f"/core/virtual-machines/{vm_id}")
        during = get_vm(client, vm_id)
        clock.advance(5)
        after = client.get(f"/core/virtual-machines/{vm_id}")

    assert deleted.json() == {"status": True, "message": "Instance is being deleted."}
    assert (during["status"], during["vm_state"], during["power_state"]) == (
        "DELETING",
        "active",
        "RUNNING",
    )
    assert after.status_code == 404
    assert after.json() == {
        "status": False,
        "message": f"VM {vm_id} does not exists.",
        "error_reason": "not_found",
    }


def test_delete_while_creating_is_refused(emulator_factory: Factory) -> None:
    emulator = emulator_factory(clock=ManualClock(), delays=Delays(boot=30))

    with api(emulator) as client:
        vm_id = create_vm(client, "young")
        response = client.delete(f"/core/virtual-machines/{vm_id}")

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "VM young is currently being created and cannot be deleted yet."
    )


def test_power_cycle_goes_through_transitions(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(power=3))

    def status(client: object) -> tuple[str, str, str]:
        vm = get_vm(client, vm_id)  # type: ignore[arg-type]
        return vm["status"], vm["vm_state"], vm["power_state"]

    with api(emulator) as client:
        vm_id = create_vm(client, "cycle")
        stop = action(client, vm_id, "stop")
        stopping = status(client)
        clock.advance(3)
        stopped = status(client)
        start = action(client, vm_id, "start")
        starting = status(client)
        clock.advance(3)
        started = status(client)

    assert stop.json()["message"] == "VM cycle is scheduled to stop."
    assert stopping == ("STOPPING", "active", "RUNNING")
    assert stopped == ("SHUTOFF", "stopped", "SHUTDOWN")
    assert start.json()["message"] == "VM cycle is scheduled to start."
    assert starting[0] == "STARTING"
    assert started == ("ACTIVE", "active", "RUNNING")


@pytest.mark.parametrize(
    ("name", "needs"),
    [
        ("start", "SHUTOFF"),
        ("hibernate-restore", "HIBERNATED"),
    ],
)
def test_action_in_the_wrong_state_is_a_bad_request(
    emulator: RunningEmulator, name: str, needs: str
) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, "busy")
        get_vm(client, vm_id)
        response = action(client, vm_id, name)

    assert response.status_code == 400
    assert response.json()["error_reason"] == "bad_request"
    assert "its status is ACTIVE" in response.json()["message"]
    assert needs in response.json()["message"]


@pytest.mark.parametrize("name", ["stop", "hard-reboot", "hibernate", "start"])
def test_actions_are_refused_while_creating(
    emulator_factory: Factory, name: str
) -> None:
    emulator = emulator_factory(clock=ManualClock(), delays=Delays(boot=30))

    with api(emulator) as client:
        vm_id = create_vm(client, "young")
        response = action(client, vm_id, name)
        vm = get_vm(client, vm_id)

    assert response.status_code == 400
    assert "its status is CREATING" in response.json()["message"]
    assert vm["status"] == "CREATING"


def test_hibernation_releases_the_ip_unless_retained(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(
        clock=clock, delays=Delays(hibernate=5, restore=5, public_ip=1)
    )

    with api(emulator) as client:
        released = create_vm(client, "cold", assign_floating_ip=True)
        kept = create_vm(client, "warm", assign_floating_ip=True)
        clock.advance(1)
        kept_ip = get_vm(client, kept)["floating_ip"]
        action(client, released, "hibernate?retain_ip=false")
        action(client, kept, "hibernate?retain_ip=true")
        early = action(client, released, "hibernate-restore")
        clock.advance(5)
        cold, warm = get_vm(client, released), get_vm(client, kept)
        action(client, released, "hibernate-restore")
        clock.advance(5)
        restoring = get_vm(client, released)
        clock.advance(1)
        restored = get_vm(client, released)

    assert early.json()["message"] == (
        "The VM hibernation process is still going on. Please try later."
    )
    assert (cold["status"], cold["vm_state"], cold["floating_ip"]) == (
        "HIBERNATED",
        "shelved_offloaded",
        "",
    )
    assert warm["floating_ip"] == kept_ip
    assert restoring["status"] == "ACTIVE"
    assert restoring["floating_ip_status"] == "ATTACHING"
    assert restored["floating_ip_status"] == "ATTACHED"


def test_hibernate_refuses_a_flavor_without_hibernation(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, "small", flavor_name="n1-cpu-small")
        get_vm(client, vm_id)
        response = action(client, vm_id, "hibernate")

    assert response.status_code == 400
    assert "does not support hibernation" in response.json()["message"]


def test_hibernate_rejects_an_unreadable_retain_ip(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        response = action(client, vm_id, "hibernate?retain_ip=maybe")

    assert response.status_code == 400
    assert "retain_ip" in response.json()["message"]


def test_resize_answers_that_the_feature_is_disabled(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        response = client.post(
            f"/core/virtual-machines/{vm_id}/resize",
            json={"flavor_name": "n1-cpu-large"},
        )

    assert response.status_code == 400
    assert response.json() == {
        "status": False,
        "message": "This feature is currently disabled",
        "error_reason": "bad_request",
    }


def test_labels_are_replaced_whole(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, "tagged", labels=["old"])
        response = client.put(
            f"/core/virtual-machines/{vm_id}/label", json={"labels": ["a", "b"]}
        )
        labels = get_vm(client, vm_id)["labels"]

    assert response.json()["message"] == "labels for VM: tagged is set to: ['a', 'b']"
    assert labels == ["a", "b"]


def test_public_ip_attaches_and_detaches(emulator_factory: Factory) -> None:
    clock = ManualClock()
    emulator = emulator_factory(clock=clock, delays=Delays(public_ip=2, detach=2))

    with api(emulator) as client:
        vm_id = create_vm(client, "ip")
        attach = client.post(f"/core/virtual-machines/{vm_id}/attach-floatingip")
        attaching = get_vm(client, vm_id)["floating_ip_status"]
        again = client.post(f"/core/virtual-machines/{vm_id}/attach-floatingip")
        clock.advance(2)
        attached = get_vm(client, vm_id)
        detach = client.post(f"/core/virtual-machines/{vm_id}/detach-floatingip")
        detaching = get_vm(client, vm_id)["floating_ip_status"]
        clock.advance(2)
        detached = get_vm(client, vm_id)

    assert attach.json()["message"] == "A Public IP will be assigned to VM ip."
    assert attaching == "ATTACHING"
    assert again.status_code == 400
    assert attached["floating_ip_status"] == "ATTACHED"
    assert detach.json()["message"] == "Public IP will be detached from the VM ip."
    assert detaching == "DETACHING"
    assert (detached["floating_ip"], detached["floating_ip_status"]) == (
        "",
        "NO FLOATING IP",
    )


def test_callback_is_attached_updated_and_deleted(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, "hooked")
        base = f"/core/virtual-machines/{vm_id}"
        attached = client.post(
            f"{base}/attach-callback", json={"url": "https://a.example"}
        )
        first = get_vm(client, vm_id)["callback_url"]
        updated = client.put(
            f"{base}/update-callback", json={"url": "https://b.example"}
        )
        second = get_vm(client, vm_id)["callback_url"]
        client.delete(f"{base}/delete-callback")
        third = get_vm(client, vm_id)["callback_url"]

    assert attached.json()["url"] == "https://a.example"
    assert updated.json()["url"] == "https://b.example"
    assert (first, second, third) == ("https://a.example", "https://b.example", None)


def test_events_tell_the_lifecycle(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, "told")
        get_vm(client, vm_id)
        action(client, vm_id, "stop")
        get_vm(client, vm_id)
        events = client.get(f"/core/virtual-machines/{vm_id}/events").json()

    reasons = [event["reason"] for event in events["instance_events"]]
    assert reasons == [
        "InstanceCreationRequest",
        "InstanceCreationSuccess",
        "InstanceStopSuccess",
    ]
    assert events["instance_events"][0]["message"] == (
        "Instance told Creation Request Sent."
    )


def test_metrics_answer_without_envelope(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        get_vm(client, vm_id)
        metrics = client.get(f"/core/virtual-machines/{vm_id}/metrics?duration=1h")
        wrong = client.get(f"/core/virtual-machines/{vm_id}/metrics?duration=2w")

    body = metrics.json()
    assert "status" not in body
    assert body["cpu"]["unit"] == "ns"
    assert body["cpu"]["columns"] == ["time", "granularity", "value"]
    assert len(body["memory.usages"]["data"]) == 4
    assert wrong.status_code == 406


def test_name_availability_sees_existing_vms(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_vm(client, "taken")
        taken = client.get("/core/virtual-machines/name-availability/taken").json()
        free = client.get("/core/virtual-machines/name-availability/free").json()

    assert taken == {
        "name": "taken",
        "available": False,
        "message": "This name is already in use",
    }
    assert free["available"] is True


def test_second_delete_of_a_deleting_vm_is_accepted(emulator_factory: Factory) -> None:
    emulator = emulator_factory(clock=ManualClock(), delays=Delays(delete=5))

    with api(emulator) as client:
        vm_id = create_vm(client)
        get_vm(client, vm_id)
        first = client.delete(f"/core/virtual-machines/{vm_id}")
        second = client.delete(f"/core/virtual-machines/{vm_id}")
        labels = client.put(
            f"/core/virtual-machines/{vm_id}/label", json={"labels": ["late"]}
        )

    assert (first.status_code, second.status_code) == (200, 200)
    assert labels.status_code == 400


def test_exclude_firewalls_takes_repeated_ids(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_vm(client)
        repeated = client.get(
            "/core/virtual-machines",
            params=[("exclude_firewalls", 1), ("exclude_firewalls", 2)],
        )
        wrong = client.get(
            "/core/virtual-machines", params={"exclude_firewalls": "web"}
        )

    assert len(repeated.json()["instances"]) == 1
    assert wrong.status_code == 400
    assert "exclude_firewalls.0" in wrong.json()["errors"]
