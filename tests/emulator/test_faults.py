from __future__ import annotations

import random
import time
from collections.abc import Callable

import httpx
import pytest

from pulumi_infrahub.emulator import Delays, Faults, ManualClock
from pulumi_infrahub.emulator.faults import FaultState
from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api, create_vm, get_vm, vm_payload

Factory = Callable[..., RunningEmulator]


def test_latency_slows_every_api_answer(emulator: RunningEmulator) -> None:
    emulator.admin.set_faults(latency_ms=150)

    with api(emulator) as client:
        started = time.perf_counter()
        response = client.get("/core/regions")
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert elapsed >= 0.15


def test_server_errors_change_nothing(emulator: RunningEmulator) -> None:
    emulator.admin.set_faults(error_rate=1.0, error_status=503)

    with api(emulator) as client:
        response = client.post("/core/virtual-machines", json=vm_payload("lost"))
        emulator.admin.clear_faults()
        listed = client.get("/core/virtual-machines").json()["instances"]

    assert response.status_code == 503
    assert response.json()["status"] is False
    assert listed == []


def test_a_share_of_requests_fails(emulator_factory: Factory) -> None:
    emulator = emulator_factory(faults=Faults(error_rate=0.5), random_seed=7)

    with api(emulator) as client:
        statuses = [client.get("/core/regions").status_code for _ in range(200)]

    failed = statuses.count(500)
    assert set(statuses) == {200, 500}
    assert 60 < failed < 140


def test_burst_of_429_then_normal_service(emulator: RunningEmulator) -> None:
    emulator.admin.set_faults(rate_limit_burst=3)

    with api(emulator) as client:
        statuses = [client.get("/core/regions").status_code for _ in range(5)]

    assert statuses == [429, 429, 429, 200, 200]


def test_dropped_connection_after_create_still_made_the_vm(
    emulator: RunningEmulator,
) -> None:
    emulator.admin.set_faults(drop_after_create=1)

    with api(emulator) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/core/virtual-machines", json=vm_payload("orphan"))
        listed = client.get("/core/virtual-machines").json()["instances"]
        second = client.post("/core/virtual-machines", json=vm_payload("next"))

    assert [vm["name"] for vm in listed] == ["orphan"]
    assert second.status_code == 200
    assert emulator.admin.faults()["drop_after_create_left"] == 0


def test_dropped_connection_spares_failed_creates(emulator: RunningEmulator) -> None:
    emulator.admin.set_faults(drop_after_create=1)

    with api(emulator) as client:
        refused = client.post("/core/virtual-machines", json=vm_payload(count=0))
        reads = client.get("/core/virtual-machines")

    assert refused.status_code == 400
    assert reads.status_code == 200
    assert emulator.admin.faults()["drop_after_create_left"] == 1


def test_vm_matching_the_error_pattern_ends_in_error(emulator: RunningEmulator) -> None:
    emulator.admin.set_faults(vm_error_pattern="doomed-*", vm_error_reason="No host.")

    with api(emulator) as client:
        doomed = get_vm(client, create_vm(client, "doomed-1"))
        fine = get_vm(client, create_vm(client, "fine-1"))
        events = client.get(f"/core/virtual-machines/{doomed['id']}/events").json()
        deleted = client.delete(f"/core/virtual-machines/{doomed['id']}")

    assert (doomed["status"], doomed["vm_state"]) == ("ERROR", "error")
    assert fine["status"] == "ACTIVE"
    last = events["instance_events"][-1]
    assert last["reason"] == "InstanceCreationFailed"
    assert last["message"].endswith("No host.")
    assert deleted.status_code == 200


def test_vm_matching_the_stuck_pattern_never_leaves_creating(
    emulator_factory: Factory,
) -> None:
    clock = ManualClock()
    emulator = emulator_factory(
        clock=clock, delays=Delays(boot=5), faults=Faults(vm_stuck_pattern="*stuck*")
    )

    with api(emulator) as client:
        vm_id = create_vm(client, "is-stuck")
        clock.advance(3600)
        vm = get_vm(client, vm_id)

    assert vm["status"] == "CREATING"


def test_faults_set_at_start_return_after_reset(emulator_factory: Factory) -> None:
    emulator = emulator_factory(faults=Faults(rate_limit_burst=1))

    with api(emulator) as client:
        first = client.get("/core/regions").status_code
        emulator.admin.reset()
        again = client.get("/core/regions").status_code

    assert (first, again) == (429, 429)


def test_admin_rejects_unknown_fault_fields(emulator: RunningEmulator) -> None:
    response = httpx.put(emulator.root_url + "/_emulator/faults", json={"chaos": 1})

    assert response.status_code == 400
    assert "chaos" in response.json()["errors"]


def test_faults_do_not_touch_the_admin_endpoints(emulator: RunningEmulator) -> None:
    emulator.admin.set_faults(error_rate=1.0)

    described = emulator.admin.faults()

    assert described["error_rate"] == 1.0


def test_latency_jitter_draws_a_new_delay_for_each_answer() -> None:
    state = FaultState(Faults(latency_ms=50, latency_jitter_ms=100), random.Random(7))

    delays = [state.latency() for _ in range(50)]

    assert all(0.05 <= delay <= 0.15 for delay in delays)
    assert max(delays) - min(delays) > 0.05
    assert len(set(delays)) == len(delays)
