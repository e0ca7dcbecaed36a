from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from pulumi_infrahub.client.models import Profile, VirtualMachine, Volume


def test_vm_tolerates_nulls_extras_and_empty_ip() -> None:
    raw = {
        "id": 7613,
        "name": "a",
        "status": "CREATING",
        "vm_state": None,
        "power_state": None,
        "floating_ip": "",
        "floating_ip_status": "NO FLOATING IP",
        "security_rules": None,
        "labels": None,
        "image": None,
        "is_snapshotting": False,
        "created_at": "2026-05-06T15:18:42",
    }

    vm = VirtualMachine.model_validate(raw)

    assert vm.public_ip is None
    assert vm.security_rules == [] and vm.labels == []
    assert vm.model_extra == {"is_snapshotting": False}
    assert vm.created_at == datetime(2026, 5, 6, 15, 18, 42)


def test_timestamps_with_zone_and_blank_are_read() -> None:
    vm = VirtualMachine.model_validate(
        {"id": 1, "name": "a", "created_at": "2026-05-06T15:18:42Z"}
    )
    volume = Volume.model_validate({"id": 1, "name": "v", "updated_at": ""})

    assert vm.created_at == datetime(2026, 5, 6, 15, 18, 42, tzinfo=timezone.utc)
    assert volume.updated_at is None


def test_ids_must_be_integers_not_strings() -> None:
    with pytest.raises(ValidationError):
        VirtualMachine.model_validate({"id": "12", "name": "a"})


def test_status_casing_is_kept_as_sent() -> None:
    vm = VirtualMachine.model_validate(
        {"id": 1, "name": "a", "status": "ACTIVE", "vm_state": "active"}
    )
    volume = Volume.model_validate({"id": 1, "name": "v", "status": "available"})

    assert (vm.status, vm.vm_state, volume.status) == ("ACTIVE", "active", "available")


def test_profile_config_accepts_text_or_object() -> None:
    as_text = Profile.model_validate({"id": 1, "name": "p", "data": '{"count": "1"}'})
    as_object = Profile.model_validate({"id": 1, "name": "p", "data": {"count": "1"}})

    assert as_text.config == as_object.config == {"count": "1"}


def test_null_name_reads_as_blank_rather_than_failing_the_list() -> None:
    vm = VirtualMachine.model_validate({"id": 1, "name": None})

    assert vm.name == ""
