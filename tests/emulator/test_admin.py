from __future__ import annotations

import json

import httpx

from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api, create_vm, create_volume, get_vm


def test_request_log_records_method_path_status_and_body(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        create_vm(client, "logged", user_data="#cloud-config\npassword: hunter2")
        client.get("/core/virtual-machines/1")
    httpx.get(emulator.base_url + "/core/regions")

    log = emulator.admin.requests()

    create, missing, anonymous = log
    assert (create["method"], create["path"], create["status"]) == (
        "POST",
        "/v1/core/virtual-machines",
        200,
    )
    assert create["body"]["name"] == "logged"
    assert create["body"]["user_data"] == "<redacted>"
    assert (missing["status"], anonymous["status"]) == (404, 401)
    assert anonymous["tenant"] is None
    assert create["tenant"] == missing["tenant"]
    text = json.dumps(log)
    assert emulator.api_key not in text
    assert "hunter2" not in text


def test_request_log_clears(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        client.get("/core/regions")

    emulator.admin.clear_requests()

    assert emulator.admin.requests() == []


def test_reset_forgets_every_resource(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_vm(client)
        emulator.admin.reset()
        listed = client.get("/core/virtual-machines").json()["instances"]
        environments = client.get("/core/environments").json()["environments"]

    assert listed == []
    assert [e["name"] for e in environments] == ["demo-environment"]


def test_summary_shows_what_the_tenant_holds(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_vm(client, "trainer", flavor_name="n3-H100x2", assign_floating_ip=True)
        create_volume(client, "data", size=1000)

    summary = emulator.admin.summary(emulator.api_key)
    other = emulator.admin.summary(emulator.other_api_key)

    [vm] = summary["virtual_machines"]
    assert (vm["name"], vm["flavor"], vm["gpu_count"]) == ("trainer", "n3-H100x2", 2)
    assert summary["totals"]["gpus"] == 2
    assert summary["totals"]["volume_gb"] == 1000
    assert summary["totals"]["hourly_cost"] > 3.8
    assert summary["environments"] == ["demo-environment"]
    assert other["virtual_machines"] == []


def test_summary_needs_a_key(emulator: RunningEmulator) -> None:
    response = httpx.get(emulator.root_url + "/_emulator/summary")

    assert response.status_code == 401


def test_drift_edits_labels_and_stops(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client, "drifting", labels=["mine"])
        get_vm(client, vm_id)
        emulator.admin.drift_labels(vm_id, ["theirs"])
        emulator.admin.drift_stop(vm_id)
        vm = get_vm(client, vm_id)

    assert vm["labels"] == ["theirs"]
    assert (vm["status"], vm["power_state"]) == ("SHUTOFF", "SHUTDOWN")


def test_drift_deletes_vm_volume_and_rule(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        vm_id = create_vm(client)
        volume_id = create_volume(client)
        rule_id = get_vm(client, vm_id)["security_rules"][0]["id"]
        emulator.admin.drift_delete_rule(vm_id, rule_id)
        rules = [r["id"] for r in get_vm(client, vm_id)["security_rules"]]
        emulator.admin.drift_delete_vm(vm_id)
        emulator.admin.drift_delete_volume(volume_id)
        vm = client.get(f"/core/virtual-machines/{vm_id}")
        volume = client.get(f"/core/volumes/{volume_id}")

    assert rule_id not in rules
    assert vm.status_code == 404
    assert volume.status_code == 404


def test_drift_of_an_unknown_vm_is_not_found(emulator: RunningEmulator) -> None:
    response = httpx.post(
        emulator.root_url + "/_emulator/drift/virtual-machines/1/stop"
    )

    assert response.status_code == 404


def test_user_data_is_blanked_wherever_it_sits(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        client.post(
            "/core/profiles",
            json={"name": "p", "data": {"user_data": "#cloud-config\nkey: abc"}},
        )

    [entry] = emulator.admin.requests()

    assert entry["body"]["data"] == {"user_data": "<redacted>"}


def test_request_log_keeps_numbers_json_cannot_carry_as_written(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        refused = client.post(
            "/core/volumes",
            content=b'{"name": "v", "size": 1e400, "volume_type": NaN}',
            headers={"Content-Type": "application/json"},
        )

    log = httpx.get(emulator.root_url + "/_emulator/requests")

    assert 400 <= refused.status_code < 500
    assert log.status_code == 200
    [entry] = log.json()["requests"]
    assert entry["body"]["size"] == "1e400"
    assert entry["body"]["volume_type"] == "NaN"
