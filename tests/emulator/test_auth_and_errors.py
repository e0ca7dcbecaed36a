from __future__ import annotations

from typing import Any

import httpx
import pytest

from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api, create_vm, create_volume, get_vm


def test_missing_key_is_unauthorized(emulator: RunningEmulator) -> None:
    response = httpx.get(emulator.base_url + "/core/virtual-machines")

    assert response.status_code == 401
    assert response.json() == {
        "status": False,
        "message": "No API key was given. Send your key in the api_key header.",
        "error_reason": "unauthorized",
    }


def test_unknown_key_is_unauthorized(emulator: RunningEmulator) -> None:
    with api(emulator, api_key="not-a-key") as client:
        response = client.get("/core/regions")

    assert response.status_code == 401
    assert response.json()["error_reason"] == "unauthorized"


@pytest.mark.parametrize("header", ["api_key", "Api_key", "API_KEY"])
def test_header_name_matches_in_any_case(
    emulator: RunningEmulator, header: str
) -> None:
    response = httpx.get(
        emulator.base_url + "/core/regions", headers={header: emulator.api_key}
    )

    assert response.status_code == 200


def test_hyphenated_header_is_not_the_key(emulator: RunningEmulator) -> None:
    response = httpx.get(
        emulator.base_url + "/core/regions", headers={"api-key": emulator.api_key}
    )

    assert response.status_code == 401


def test_tenants_do_not_see_each_other(emulator: RunningEmulator) -> None:
    with api(emulator) as mine, api(emulator, emulator.other_api_key) as theirs:
        vm_id = create_vm(mine, "private")
        volume_id = create_volume(mine)
        listed = theirs.get("/core/virtual-machines").json()["instances"]
        peek = theirs.get(f"/core/virtual-machines/{vm_id}")
        stop = theirs.get(f"/core/virtual-machines/{vm_id}/stop")
        delete = theirs.delete(f"/core/volumes/{volume_id}")
        still_mine = get_vm(mine, vm_id)

    assert listed == []
    assert peek.status_code == 404
    assert stop.status_code == 404
    assert delete.status_code == 404
    assert still_mine["status"] == "ACTIVE"


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b"null",
        b'"text"',
        b"42",
        b'{"name": null}',
        b'{"name": ["a"], "count": "1"}',
        b'{"name": "x", "environment_name": 1, "flavor_name": {}, "key_name": true,'
        b' "count": 1.5, "labels": "a", "security_rules": [1]}',
    ],
)
def test_bad_bodies_get_a_400_never_a_500(
    emulator: RunningEmulator, body: bytes
) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/virtual-machines",
            content=body,
            headers={"content-type": "application/json"},
        )

    assert response.status_code == 400
    assert isinstance(response.json()["message"], str)


def test_validation_errors_take_the_api_shape(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/virtual-machines", json={"name": "x" * 51, "count": "1"}
        )

    assert response.json() == {
        "errors": {
            "name": f"'{'x' * 51}' is too long",
            "environment_name": "'environment_name' is a required property",
            "flavor_name": "'flavor_name' is a required property",
            "key_name": "'key_name' is a required property",
            "count": "'1' is not of type 'integer'",
        },
        "message": "Input payload validation failed",
    }


def test_malformed_json_is_a_bad_request(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/volumes",
            content=b'{"name": ',
            headers={"content-type": "application/json"},
        )

    body: dict[str, Any] = response.json()
    assert response.status_code == 400
    assert body["error_reason"] == "bad_request"
    assert body["message"].startswith("The request body is not valid JSON")


def test_unknown_fields_are_ignored(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/environments",
            json={"name": "extra", "region": "US-1", "colour": "blue"},
        )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "reason"),
    [
        ("GET", "/core/virtual-machines/abc", 404, "not_found"),
        ("GET", "/core/nothing-here", 404, "not_found"),
        ("GET", "/core/virtual-machines/99999999", 404, "not_found"),
        ("PATCH", "/core/virtual-machines", 405, "not_allowed"),
        ("POST", "/core/regions", 405, "not_allowed"),
    ],
)
def test_routing_errors_take_the_error_shape(
    emulator: RunningEmulator, method: str, path: str, status: int, reason: str
) -> None:
    with api(emulator) as client:
        response = client.request(method, path)

    assert response.status_code == status
    assert response.json()["status"] is False
    assert response.json()["error_reason"] == reason


def test_query_of_the_wrong_type_is_a_bad_request(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.get("/core/virtual-machines", params={"page": "first"})
        zero = client.get("/core/virtual-machines", params={"page": 0})

    assert response.status_code == 400
    assert "page" in response.json()["errors"]
    assert zero.status_code == 400


def test_body_that_is_not_declared_json_is_a_bad_request(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/environments",
            content=b'{"name": "x", "region": "US-1"}',
            headers={"content-type": "text/plain"},
        )

    assert response.status_code == 400
    assert "Content-Type: application/json" in response.json()["message"]
