"""VolumeAttachmentProvider hooks against the in-process emulator."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from pulumi_infrahub.client import InfrahubClient
from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR
from pulumi_infrahub.emulator.settings import Delays
from pulumi_infrahub.emulator.testing import RunningEmulator
from pulumi_infrahub.resources._inputs import is_unknown
from pulumi_infrahub.resources._provider import ResourceError
from pulumi_infrahub.resources.volume_attachment import VolumeAttachmentProvider

from .helpers import (
    IMAGE,
    UNKNOWN,
    Infrahub,
    check_failures,
    checked,
    configure,
    over_the_wire,
    with_unknowns,
)


@pytest.fixture
def provider(infrahub: Infrahub) -> VolumeAttachmentProvider:
    return infrahub.configure(VolumeAttachmentProvider())  # type: ignore[return-value]


def make_vm(client: InfrahubClient, name: str = "web-1") -> int:
    [vm] = client.virtual_machines.create(
        name,
        environment_name=DEMO_ENVIRONMENT,
        flavor_name="n1-cpu-medium",
        key_name=DEMO_KEYPAIR,
        image_name=IMAGE,
    )
    client.virtual_machines.wait_until_active(vm.id, timeout=5)
    return vm.id


def make_volume(client: InfrahubClient, name: str = "data-1") -> int:
    volume = client.volumes.create(
        name, environment_name=DEMO_ENVIRONMENT, size=50, volume_type="Cloud-SSD"
    )
    client.volumes.wait_for_status(volume.id, "available", timeout=5)
    return volume.id


@pytest.fixture
def pair(infrahub: Infrahub) -> tuple[int, int]:
    return make_vm(infrahub.client), make_volume(infrahub.client)


def create(
    provider: VolumeAttachmentProvider, vm_id: int, volume_id: int, **fields: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    news = {"virtual_machine_id": vm_id, "volume_id": volume_id, **fields}
    inputs = checked(provider, news)
    result = provider.create(over_the_wire(inputs))
    return result.id, over_the_wire(inputs), over_the_wire(result.outs or {})


# -- check and diff -------------------------------------------------------------


def test_check_accepts_ids_as_the_digits_a_resource_id_gives(
    provider: VolumeAttachmentProvider, pair: tuple[int, int]
) -> None:
    vm_id, volume_id = pair

    inputs = checked(
        provider, {"virtual_machine_id": str(vm_id), "volume_id": float(volume_id)}
    )

    assert inputs == {
        "virtual_machine_id": vm_id,
        "volume_id": volume_id,
        "protected": False,
    }


def test_check_reports_missing_objects(provider: VolumeAttachmentProvider) -> None:
    failures = check_failures(provider, {"virtual_machine_id": 9999, "volume_id": 1})

    assert "no such VM" in failures["virtual_machine_id"]


def test_check_refuses_a_volume_from_another_environment(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, _ = pair
    infrahub.client.environments.create("other-env", region="CANADA-1")
    volume = infrahub.client.volumes.create(
        "elsewhere", environment_name="other-env", size=10, volume_type="Cloud-SSD"
    )

    failures = check_failures(
        provider, {"virtual_machine_id": vm_id, "volume_id": volume.id}
    )

    assert "only within its environment" in failures["volume_id"]


@pytest.mark.parametrize(
    ("news", "prop"),
    [
        ({"virtual_machine_id": 1, "volume_id": 0}, "volume_id"),
        ({"virtual_machine_id": 1, "volume_id": 2, "protected": "yes"}, "protected"),
        ({"virtual_machine_id": 1}, "volume_id"),
        ({"virtual_machine_id": 1, "volume_id": 2, "device": "/dev/vdb"}, "device"),
    ],
)
def test_check_reports_bad_input(
    provider: VolumeAttachmentProvider, news: dict[str, Any], prop: str
) -> None:
    assert prop in check_failures(provider, news)


def test_check_accepts_unknown_ids(
    provider: VolumeAttachmentProvider, infrahub: Infrahub
) -> None:
    inputs = checked(
        provider, with_unknowns({"virtual_machine_id": UNKNOWN, "volume_id": UNKNOWN})
    )

    assert is_unknown(inputs["virtual_machine_id"]) and is_unknown(inputs["volume_id"])
    assert infrahub.lookups() == []


@pytest.mark.parametrize("key", ["virtual_machine_id", "volume_id"])
def test_diff_detaches_before_attaching_anew(
    provider: VolumeAttachmentProvider, key: str
) -> None:
    olds = {"virtual_machine_id": 1, "volume_id": 2, "protected": False}

    diff = provider.diff("9", olds, dict(olds, **{key: 3}))

    assert diff.replaces == [key]
    assert diff.delete_before_replace is True


def test_diff_changes_protected_in_place(provider: VolumeAttachmentProvider) -> None:
    olds = {"virtual_machine_id": 1, "volume_id": 2, "protected": False}

    diff = provider.diff("9", olds, dict(olds, protected=True))

    assert not diff.replaces


# -- create ------------------------------------------------------------------------


def test_create_waits_until_attached(infrahub: Infrahub, emulator_factory: Any) -> None:
    slow: RunningEmulator = emulator_factory(delays=Delays(attach=0.3))
    provider = VolumeAttachmentProvider()
    configure(provider, slow)
    with InfrahubClient(api_key=slow.api_key, base_url=slow.base_url) as client:
        vm_id, volume_id = make_vm(client), make_volume(client)

        _, inputs, outs = create(provider, vm_id, volume_id)

    assert outs["status"] == "ATTACHED"
    assert outs["device"].startswith("/dev/")
    for key, value in inputs.items():
        assert outs[key] == value


def test_create_sets_protected(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, volume_id = pair

    _, _, outs = create(provider, vm_id, volume_id, protected=True)

    [attachment] = infrahub.client.volumes.get(volume_id).attachments
    assert attachment.protected is True
    assert outs["protected"] is True


def test_a_second_attachment_leaves_the_first_alone(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, first_volume = pair
    second_volume = make_volume(infrahub.client, "data-2")
    first, _, _ = create(provider, vm_id, first_volume)

    second, _, _ = create(provider, vm_id, second_volume)

    attachments = infrahub.client.virtual_machines.get(vm_id).volume_attachments
    assert sorted(a.id for a in attachments) == sorted([int(first), int(second)])
    assert all(a.status == "ATTACHED" for a in attachments)


def test_attachments_to_one_vm_made_at_the_same_time_all_succeed(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, _ = pair
    volumes = [make_volume(infrahub.client, f"par-{n}") for n in range(4)]
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def attach(volume_id: int) -> None:
        try:
            results[volume_id] = create(provider, vm_id, volume_id)[0]
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=attach, args=(v,)) for v in volumes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    attached = infrahub.client.virtual_machines.get(vm_id).volume_attachments
    assert sorted(a.id for a in attached) == sorted(int(i) for i in results.values())
    assert len(attached) == 4


def test_create_refuses_a_volume_attached_elsewhere(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, volume_id = pair
    other_vm = make_vm(infrahub.client, "web-2")
    create(provider, other_vm, volume_id)

    with pytest.raises(ResourceError, match=f"already attached to VM {other_vm}"):
        create(provider, vm_id, volume_id)


def test_create_after_a_dropped_connection_makes_one_attachment(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, volume_id = pair
    infrahub.emulator.admin.set_faults(drop_after_create=1)

    id_, _, _ = create(provider, vm_id, volume_id)

    [attachment] = infrahub.client.volumes.get(volume_id).attachments
    assert attachment.id == int(id_)


def test_adopt_takes_over_an_existing_attachment(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, volume_id = pair
    [made] = infrahub.client.virtual_machines.attach_volumes(vm_id, [volume_id])
    infrahub.emulator.admin.clear_requests()

    id_, _, outs = create(provider, vm_id, volume_id, adopt_id=made.id)

    assert id_ == str(made.id)
    assert infrahub.requests("POST") == []
    assert outs["status"] == "ATTACHED"


# -- update, read, delete -------------------------------------------------------------


def test_update_changes_protected_in_place(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    id_, inputs, outs = create(provider, *pair)

    result = provider.update(id_, outs, dict(inputs, protected=True))

    [attachment] = infrahub.client.volumes.get(pair[1]).attachments
    assert attachment.id == int(id_)
    assert attachment.protected is True
    assert (result.outs or {})["protected"] is True


def test_read_returns_the_attachment(
    provider: VolumeAttachmentProvider, pair: tuple[int, int]
) -> None:
    id_, inputs, outs = create(provider, *pair)

    refreshed = provider.read(id_, outs)
    looked_up = provider.read(id_, {})

    assert over_the_wire(refreshed.inputs or {}) == inputs
    assert over_the_wire(looked_up.inputs or {}) == inputs


def test_read_notices_a_detach_made_outside_pulumi(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    vm_id, volume_id = pair
    id_, _, outs = create(provider, vm_id, volume_id)
    infrahub.client.virtual_machines.detach_volumes(vm_id, [volume_id])
    infrahub.client.volumes.wait_for_status(volume_id, "available", timeout=5)
    infrahub.client.volumes.wait_for(
        volume_id,
        lambda v: v is not None and not v.attachments,
        what="detach",
        timeout=5,
    )

    assert provider.read(id_, outs).id == ""


def test_delete_waits_until_the_volume_is_free(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow: RunningEmulator = emulator_factory(delays=Delays(detach=0.3))
    provider = VolumeAttachmentProvider()
    configure(provider, slow)
    with InfrahubClient(api_key=slow.api_key, base_url=slow.base_url) as client:
        vm_id, volume_id = make_vm(client), make_volume(client)
        id_, _, outs = create(provider, vm_id, volume_id)

        provider.delete(id_, outs)

        assert client.volumes.get(volume_id).attachments == []


def test_delete_refuses_a_protected_attachment(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    id_, _, outs = create(provider, *pair, protected=True)

    with pytest.raises(ResourceError, match="Set protected=False"):
        provider.delete(id_, outs)

    assert len(infrahub.client.volumes.get(pair[1]).attachments) == 1


def test_delete_when_the_vm_is_gone_succeeds(
    provider: VolumeAttachmentProvider, infrahub: Infrahub, pair: tuple[int, int]
) -> None:
    id_, _, outs = create(provider, *pair)
    infrahub.emulator.admin.drift_delete_vm(pair[0])

    provider.delete(id_, outs)

    assert infrahub.client.volumes.get(pair[1]).attachments == []


def test_create_detaches_a_volume_not_attached_in_time(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow: RunningEmulator = emulator_factory(delays=Delays(attach=1.0))
    provider = VolumeAttachmentProvider()
    configure(provider, slow)
    with InfrahubClient(api_key=slow.api_key, base_url=slow.base_url) as client:
        vm_id, volume_id = make_vm(client), make_volume(client)

        with pytest.raises(ResourceError, match="detached again"):
            create(provider, vm_id, volume_id, timeouts={"create": 0.1})

        assert client.volumes.get(volume_id).attachments == []


def test_check_that_needs_nothing_from_the_api_still_tries_the_key(
    infrahub: Infrahub,
) -> None:
    provider = VolumeAttachmentProvider()
    configure(provider, infrahub.emulator, api_key="revoked-key")

    unknown_ids = {"virtual_machine_id": UNKNOWN, "volume_id": UNKNOWN}
    result = provider.check({}, with_unknowns(unknown_ids))

    [failure] = result.failures
    assert "401" in failure.reason
    assert "revoked-key" not in failure.reason
