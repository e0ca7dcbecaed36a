from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pulumi_infrahub.emulator import Delays, EmulatorSettings, ManualClock, create_app
from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api, create_vm, create_volume, get_vm

Factory = Callable[..., RunningEmulator]


def test_state_survives_a_restart(emulator_factory: Factory, tmp_path: Path) -> None:
    state = tmp_path / "cloud.json"
    first = emulator_factory(state_file=state)
    with api(first) as client:
        vm_id = create_vm(client, "kept", labels=["x"])
        volume_id = create_volume(client, "kept-data")
        get_vm(client, vm_id)
    first.server.stop()

    second = emulator_factory(state_file=state)
    with api(second) as client:
        vm = get_vm(client, vm_id)
        volume = client.get(f"/core/volumes/{volume_id}").json()["volume"]
        newer = create_vm(client, "new")

    assert (vm["name"], vm["status"], vm["labels"]) == ("kept", "ACTIVE", ["x"])
    assert volume["name"] == "kept-data"
    assert newer > vm_id


def test_transitions_in_flight_continue_after_a_restart(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    state = tmp_path / "cloud.json"
    clock = ManualClock()
    settings = {"state_file": state, "clock": clock, "delays": Delays(boot=10)}
    first = emulator_factory(**settings)
    with api(first) as client:
        vm_id = create_vm(client)
    first.server.stop()

    second = emulator_factory(**settings)
    with api(second) as client:
        before = get_vm(client, vm_id)["status"]
        clock.advance(10)
        after = get_vm(client, vm_id)["status"]

    assert (before, after) == ("CREATING", "ACTIVE")


def test_state_file_holds_no_key_and_no_user_data(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    state = tmp_path / "cloud.json"
    emulator = emulator_factory(state_file=state)
    with api(emulator) as client:
        create_vm(client, user_data="#cloud-config\ntoken: s3cr3t")

    text = state.read_text()

    assert emulator.api_key not in text
    assert "s3cr3t" not in text


def test_unreadable_state_file_is_reported(tmp_path: Path) -> None:
    state = tmp_path / "cloud.json"
    state.write_text("{half")

    with pytest.raises(ValueError, match="Delete the file"):
        create_app(EmulatorSettings(state_file=state))
