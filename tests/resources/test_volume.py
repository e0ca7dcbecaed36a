"""VolumeProvider hooks against the in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_infrahub.client import InfrahubClient
from pulumi_infrahub.emulator import DEMO_ENVIRONMENT
from pulumi_infrahub.emulator.settings import Delays
from pulumi_infrahub.resources._inputs import is_unknown
from pulumi_infrahub.resources._provider import ResourceError
from pulumi_infrahub.resources.volume import REPLACE_ON_CHANGE, VolumeProvider

from .helpers import (
    UNKNOWN,
    Infrahub,
    check_failures,
    checked,
    configure,
    over_the_wire,
    with_unknowns,
)

BOOTABLE_IMAGE_ID = 201  # the first CANADA-1 image of the emulator's catalog


@pytest.fixture
def provider(infrahub: Infrahub) -> VolumeProvider:
    return infrahub.configure(VolumeProvider())  # type: ignore[return-value]


def program(**fields: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name_prefix": "data",
        "environment_name": DEMO_ENVIRONMENT,
        "size": 50,
    }
    props.update(fields)
    return {key: value for key, value in props.items() if value is not None}


def create(
    provider: VolumeProvider, **fields: Any
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    inputs = checked(provider, program(**fields))
    result = provider.create(over_the_wire(inputs))
    return result.id, over_the_wire(inputs), over_the_wire(result.outs or {})


# -- check ----------------------------------------------------------------------


def test_check_adds_the_region_and_default_type(provider: VolumeProvider) -> None:
    inputs = checked(provider, program())

    assert inputs["region"] == "CANADA-1"
    assert inputs["volume_type"] == "Cloud-SSD"
    assert inputs["name"].startswith("data-")


def test_check_reads_numbers_sent_as_floats(provider: VolumeProvider) -> None:
    inputs = checked(provider, over_the_wire(program(size=80)))

    assert inputs["size"] == 80
    assert isinstance(inputs["size"], int)


@pytest.mark.parametrize(
    ("fields", "prop", "words"),
    [
        ({"size": 0}, "size", "at least 1"),
        ({"size": -10}, "size", "at least 1"),
        ({"size": 12.5}, "size", "whole number"),
        ({"size": None}, "size", "required"),
        ({"name_prefix": None, "name": "v" * 51}, "name", "at most 50"),
        ({"environment_name": "demo-enviroment"}, "environment_name", DEMO_ENVIRONMENT),
        ({"volume_type": "Cloud-HDD"}, "volume_type", "'Cloud-SSD'"),
        ({"image_id": 999, "size": 100}, "image_id", "not an image in region CANADA-1"),
        ({"image_id": BOOTABLE_IMAGE_ID, "size": 20}, "size", "at least 100"),
        ({"callback_url": "hooks.example.com"}, "callback_url", "http(s)"),
        ({"timeouts": {"create": 0}}, "timeouts.create", "above 0"),
        ({"labels": ["x"]}, "labels", "not an input"),
    ],
)
def test_check_reports_bad_input(
    provider: VolumeProvider, fields: dict[str, Any], prop: str, words: str
) -> None:
    failures = check_failures(provider, program(**fields))

    assert words in failures[prop]


def test_check_passes_unknowns_through(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    inputs = checked(
        provider, with_unknowns(program(environment_name=UNKNOWN, size=UNKNOWN))
    )

    assert is_unknown(inputs["environment_name"])
    assert is_unknown(inputs["size"])
    assert is_unknown(inputs["region"])
    assert infrahub.lookups() == []


# -- diff -------------------------------------------------------------------------

REPLACING_CHANGES = {
    "name": "other",
    "size": 100,
    "volume_type": "Cloud-NVMe",
    "description": "scratch space",
    "image_id": BOOTABLE_IMAGE_ID,
}


def test_every_replacing_input_is_tested() -> None:
    assert set(REPLACING_CHANGES) == set(REPLACE_ON_CHANGE)


@pytest.mark.parametrize(("key", "value"), sorted(REPLACING_CHANGES.items()))
def test_diff_replaces_on(provider: VolumeProvider, key: str, value: Any) -> None:
    olds = checked(provider, program())

    diff = provider.diff("1", olds, dict(olds, **{key: value}))

    assert diff.replaces == [key]


def test_diff_moves_within_a_region_in_place_and_replaces_across(
    provider: VolumeProvider,
) -> None:
    olds = checked(provider, program())

    same_region = provider.diff(
        "1", olds, dict(olds, environment_name="second", region="CANADA-1")
    )
    other_region = provider.diff(
        "1", olds, dict(olds, environment_name="norway", region="NORWAY-1")
    )

    assert not same_region.replaces
    assert other_region.replaces == ["environment_name"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("callback_url", "https://hooks.example.com/v"), ("timeouts", {"delete": 5.0})],
)
def test_diff_changes_in_place(provider: VolumeProvider, key: str, value: Any) -> None:
    olds = checked(provider, program())

    diff = provider.diff("1", olds, dict(olds, **{key: value}))

    assert diff.changes is None
    assert not diff.replaces


def test_diff_deletes_first_when_an_explicit_name_stays(
    provider: VolumeProvider,
) -> None:
    olds = checked(provider, program(name_prefix=None, name="scratch"))
    auto = checked(provider, program())

    assert provider.diff("1", olds, dict(olds, size=80)).delete_before_replace
    assert not provider.diff("1", auto, dict(auto, size=80)).delete_before_replace


# -- create, update, read, delete -------------------------------------------------


def test_create_waits_until_the_volume_is_available(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow = emulator_factory(delays=Delays(volume=0.3))
    provider = VolumeProvider()
    configure(provider, slow)

    id_, inputs, outs = create(provider, description="scratch")

    assert outs["status"] == "available"
    assert outs["id"] == int(id_)
    for key, value in inputs.items():
        assert outs[key] == value


def test_create_deletes_a_volume_not_ready_in_time(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow = emulator_factory(delays=Delays(volume=0.6))
    provider = VolumeProvider()
    configure(provider, slow)

    with pytest.raises(ResourceError) as raised:
        create(provider, timeouts={"create": 0.1})

    assert "nothing is left behind" in str(raised.value)
    with InfrahubClient(api_key=slow.api_key, base_url=slow.base_url) as client:
        assert client.volumes.get_all() == []


def test_create_after_a_dropped_connection_makes_one_volume(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    infrahub.emulator.admin.set_faults(drop_after_create=1)

    id_, inputs, _ = create(provider)

    [volume] = infrahub.client.volumes.get_all()
    assert (str(volume.id), volume.name) == (id_, inputs["name"])


def test_update_changes_the_callback_in_place(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(provider)

    for url in ("https://a.example/", "https://b.example/", None):
        news = {
            k: v for k, v in dict(inputs, callback_url=url).items() if v is not None
        }
        result = provider.update(id_, outs, news)
        assert infrahub.client.volumes.get(int(id_)).callback_url == url
        assert (result.outs or {}).get("callback_url") == url


def test_update_moves_the_volume_within_its_region(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    infrahub.client.environments.create("second-canada", region="CANADA-1")
    id_, inputs, outs = create(provider)
    news = checked(
        provider,
        dict(program(), name=inputs["name"], environment_name="second-canada"),
        inputs,
    )

    assert not provider.diff(id_, outs, news).replaces
    result = provider.update(id_, outs, news)

    volume = infrahub.client.volumes.get(int(id_))
    assert volume.environment is not None
    assert volume.environment.name == "second-canada"
    assert (result.outs or {})["environment_name"] == "second-canada"


def test_read_shows_the_volume_and_its_attachments(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    id_, inputs, outs = create(provider)

    result = provider.read(id_, outs)

    assert result.id == id_
    assert over_the_wire(result.inputs or {}) == inputs
    assert (result.outs or {})["attachment_ids"] == []


def test_read_of_a_vanished_volume_returns_an_empty_id(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    id_, _, outs = create(provider)
    infrahub.emulator.admin.drift_delete_volume(int(id_))

    assert provider.read(id_, outs).id == ""


def test_delete_waits_for_a_detach_in_progress(
    infrahub: Infrahub, emulator_factory: Any
) -> None:
    slow = emulator_factory(delays=Delays(detach=0.5))
    provider = VolumeProvider()
    configure(provider, slow)
    id_, _, outs = create(provider)
    with InfrahubClient(api_key=slow.api_key, base_url=slow.base_url) as client:
        [vm] = client.virtual_machines.create(
            "holder",
            environment_name=DEMO_ENVIRONMENT,
            flavor_name="n1-cpu-medium",
            key_name="demo-keypair",
            image_name="Ubuntu Server 22.04 LTS R535 CUDA 12.2",
        )
        client.virtual_machines.wait_until_active(vm.id, timeout=5)
        client.virtual_machines.attach_volumes(vm.id, [int(id_)])
        client.volumes.wait_for(
            int(id_),
            lambda v: (
                v is not None and all(a.status == "ATTACHED" for a in v.attachments)
            ),
            what="attach",
            timeout=5,
        )
        client.virtual_machines.detach_volumes(vm.id, [int(id_)])

        provider.delete(id_, outs)

        assert client.volumes.get_all() == []


def test_delete_of_a_volume_already_gone_succeeds(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    id_, _, outs = create(provider)
    infrahub.emulator.admin.drift_delete_volume(int(id_))

    provider.delete(id_, outs)

    assert infrahub.client.volumes.get_all() == []


def test_adopt_takes_over_an_existing_volume(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    volume = infrahub.client.volumes.create(
        "legacy-data",
        environment_name=DEMO_ENVIRONMENT,
        size=50,
        volume_type="Cloud-SSD",
    )
    infrahub.emulator.admin.clear_requests()

    inputs = checked(provider, program(adopt_id=volume.id))
    result = provider.create(over_the_wire(inputs))
    again = checked(provider, program(adopt_id=volume.id), over_the_wire(inputs))

    assert result.id == str(volume.id)
    assert inputs["name"] == "legacy-data"
    assert infrahub.requests("POST", "/core/volumes") == []
    assert over_the_wire(again) == over_the_wire(inputs)


def test_adopt_refuses_a_volume_of_another_size(
    provider: VolumeProvider, infrahub: Infrahub
) -> None:
    volume = infrahub.client.volumes.create(
        "legacy-data",
        environment_name=DEMO_ENVIRONMENT,
        size=70,
        volume_type="Cloud-SSD",
    )
    inputs = checked(provider, program(adopt_id=volume.id))

    with pytest.raises(ResourceError, match="size is 50"):
        provider.create(over_the_wire(inputs))
