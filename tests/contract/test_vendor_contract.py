"""Every exchange with the emulator against the vendor's OpenAPI document.

`test_tour_of_the_api_matches_the_document` calls each emulated operation,
successes and failures, and checks those exchanges at once.
`test_every_recorded_exchange_matches_the_document` runs last in the session
(see tests/conftest.py) and checks everything any test sent or received,
the client's requests included.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR, Exchange
from pulumi_infrahub.emulator.testing import RunningEmulator

from .vendor import SPEC_VARIABLE, SpecNotFound, VendorContract, locate_spec

IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfLx52tvLo1kBAb3uWyl16EOcUMB02Sg4qITRwtmLq/"
)


@pytest.fixture(scope="session")
def contract() -> VendorContract:
    try:
        return VendorContract(locate_spec())
    except SpecNotFound as error:
        pytest.fail(str(error), pytrace=False)


def _tour(client: httpx.Client) -> None:
    """One call or more to every operation the emulator serves."""
    for path in (
        "/core/regions",
        "/core/flavors",
        "/core/flavors?region=NORWAY-1",
        "/core/images",
        "/core/images?region=US-1&page=1&per_page=2&search=cuda",
        "/core/images/201",
        "/core/image/name-availability/mine",
        "/core/sg-rules-protocols",
        "/core/stocks",
        "/core/gpus",
        "/core/volume-types",
        "/pricebook",
    ):
        assert client.get(path).status_code == 200, path

    environment = client.post(
        "/core/environments", json={"name": "tour-env", "region": "NORWAY-1"}
    ).json()["environment"]
    env_id = environment["id"]
    client.get("/core/environments", params={"page": 1, "pageSize": 5, "search": "t"})
    client.get(f"/core/environments/{env_id}")
    client.put(f"/core/environments/{env_id}", json={"name": "tour-env-2"})
    client.get("/core/environments/name-availability/tour-env")
    client.get(f"/core/environments/{env_id}/vm-quota")

    keypair = client.post(
        "/core/keypairs",
        json={
            "name": "tour-key",
            "environment_name": "tour-env-2",
            "public_key": PUBLIC_KEY,
        },
    ).json()["keypair"]
    client.get("/core/keypairs")
    client.put(f"/core/keypair/{keypair['id']}", json={"name": "tour-key-2"})
    client.delete(f"/core/keypair/{keypair['id']}")
    client.delete(f"/core/environments/{env_id}")

    volume = client.post(
        "/core/volumes",
        json={
            "name": "tour-volume",
            "environment_name": DEMO_ENVIRONMENT,
            "size": 100,
            "volume_type": "Cloud-SSD",
            "description": "data",
            "image_id": 201,
        },
    ).json()["volume"]
    volume_id = volume["id"]
    client.get("/core/volumes", params={"environment": DEMO_ENVIRONMENT})
    client.get(f"/core/volumes/{volume_id}")
    client.get("/core/volume/name-availability/tour-volume")
    client.post(
        f"/core/volumes/{volume_id}/attach-callback",
        json={"url": "https://example.com/hook"},
    )
    client.put(
        f"/core/volumes/{volume_id}/update-callback",
        json={"url": "https://example.com/hook2"},
    )
    client.delete(f"/core/volumes/{volume_id}/delete-callback")

    created = client.post(
        "/core/virtual-machines",
        json={
            "name": "tour-vm",
            "environment_name": DEMO_ENVIRONMENT,
            "flavor_name": "n3-A100x1",
            "image_name": IMAGE,
            "key_name": DEMO_KEYPAIR,
            "count": 1,
            "assign_floating_ip": True,
            "enable_port_randomization": True,
            "enhanced_monitoring_enabled": False,
            "labels": ["tour"],
            "user_data": "#cloud-config\n",
            "security_rules": [
                {
                    "direction": "ingress",
                    "ethertype": "IPv4",
                    "protocol": "tcp",
                    "remote_ip_prefix": "0.0.0.0/0",
                    "port_range_min": 22,
                    "port_range_max": 22,
                }
            ],
        },
    ).json()
    vm_id = created["instances"][0]["id"]
    base = f"/core/virtual-machines/{vm_id}"
    client.get("/core/virtual-machines", params={"page": 1, "pageSize": 2})
    client.get(
        "/core/virtual-machines",
        params={
            "search": "tour",
            "environment": "demo",
            "exact_environment_match": True,
        },
    )
    client.get(base)
    client.get("/core/virtual-machines/name-availability/tour-vm?count=2")
    client.get(f"{base}/events")
    client.get(f"{base}/metrics?duration=1h")
    client.put(f"{base}/label", json={"labels": ["a", "b"]})
    client.post(f"{base}/attach-callback", json={"url": "https://example.com/vm"})
    client.put(f"{base}/update-callback", json={"url": "https://example.com/vm2"})
    client.delete(f"{base}/delete-callback")
    rule = client.post(
        f"{base}/sg-rules",
        json={
            "direction": "ingress",
            "ethertype": "IPv6",
            "protocol": "udp",
            "remote_ip_prefix": "::/0",
            "port_range_min": 53,
            "port_range_max": 53,
        },
    ).json()["security_rule"]
    client.delete(f"{base}/sg-rules/{rule['id']}")
    attachments = client.post(
        f"{base}/attach-volumes", json={"volume_ids": [volume_id], "protected": False}
    ).json()["volume_attachments"]
    client.patch(
        f"/core/volume-attachments/{attachments[0]['id']}", json={"protected": False}
    )
    client.post(f"{base}/detach-volumes", json={"volume_ids": [volume_id]})
    client.post(f"{base}/detach-floatingip")
    client.get(base)
    client.post(f"{base}/attach-floatingip")
    client.get(f"{base}/stop")
    client.get(f"{base}/start")
    client.get(f"{base}/hard-reboot")
    client.get(f"{base}/hibernate?retain_ip=false")
    client.get(f"{base}/hibernate-restore")
    client.post(f"{base}/resize", json={"flavor_name": "n3-A100x2"})
    client.delete(f"{base}")
    client.get(base)
    client.delete(f"/core/volumes/{volume_id}")

    profile = client.post(
        "/core/profiles",
        json={"name": "tour-profile", "description": "d", "data": {"count": "1"}},
    ).json()["profile"]
    client.get("/core/profiles")
    client.get(f"/core/profiles/{profile['id']}")
    client.delete(f"/core/profiles/{profile['id']}")

    # Failures, one of each kind.
    client.get("/core/virtual-machines/1")
    client.post("/core/virtual-machines", json={"name": 5})
    client.post("/core/environments", json={"name": DEMO_ENVIRONMENT, "region": "US-1"})
    client.delete(f"/core/environments/{_demo_environment_id(client)}")
    client.get("/core/virtual-machines", headers={"api_key": "wrong"})


def _demo_environment_id(client: httpx.Client) -> int:
    environments = client.get("/core/environments").json()["environments"]
    return next(e["id"] for e in environments if e["name"] == DEMO_ENVIRONMENT)


def test_tour_of_the_api_matches_the_document(
    emulator: RunningEmulator,
    contract: VendorContract,
    recorded_exchanges: list[Exchange],
) -> None:
    start = len(recorded_exchanges)
    with httpx.Client(base_url=emulator.base_url, headers=emulator.headers) as client:
        _tour(client)
    exchanges = recorded_exchanges[start:]

    problems = VendorContract.check_all(contract, exchanges)

    assert len(exchanges) > 60
    statuses = {exchange.status for exchange in exchanges}
    assert {200, 201, 400, 401, 404, 405, 409} <= statuses
    assert not problems, "\n".join(str(problem) for problem in problems)


def test_missing_document_fails_with_the_variable_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(SPEC_VARIABLE, str(tmp_path / "absent.yaml"))

    with pytest.raises(SpecNotFound, match=SPEC_VARIABLE):
        locate_spec()


def test_contract_catches_a_field_of_the_wrong_type(
    emulator: RunningEmulator,
    contract: VendorContract,
    recorded_exchanges: list[Exchange],
) -> None:
    start = len(recorded_exchanges)
    httpx.get(emulator.base_url + "/core/virtual-machines", headers=emulator.headers)
    listed = recorded_exchanges[start]
    broken = dataclasses.replace(
        listed,
        response_body=listed.response_body.replace(b'"count":', b'"count":"0","x":'),
    )

    problems = contract.check(broken)

    assert contract.check(listed) == []
    assert any("count: '0' is not of type 'integer'" in str(p) for p in problems)


@pytest.mark.session_end
def test_every_recorded_exchange_matches_the_document(
    contract: VendorContract, recorded_exchanges: list[Exchange]
) -> None:
    exchanges = list(recorded_exchanges)

    problems = contract.check_all(exchanges)

    assert exchanges, "no exchange with the emulator was recorded"
    assert not problems, "\n".join(str(problem) for problem in problems[:50])


def test_vm_booted_from_a_volume_has_no_image_and_still_conforms(
    emulator: RunningEmulator,
    contract: VendorContract,
    recorded_exchanges: list[Exchange],
) -> None:
    start = len(recorded_exchanges)
    with httpx.Client(base_url=emulator.base_url, headers=emulator.headers) as client:
        client.post(
            "/core/volumes",
            json={
                "name": "root",
                "environment_name": DEMO_ENVIRONMENT,
                "size": 100,
                "volume_type": "Cloud-SSD",
                "image_id": 201,
            },
        )
        created = client.post(
            "/core/virtual-machines",
            json={
                "name": "from-volume",
                "environment_name": DEMO_ENVIRONMENT,
                "flavor_name": "n1-cpu-large",
                "key_name": DEMO_KEYPAIR,
                "volume_name": "root",
                "count": 1,
            },
        ).json()
        client.get("/core/virtual-machines")

    problems = contract.check_all(recorded_exchanges[start:])

    assert created["instances"][0]["image"] is None
    assert not problems, "\n".join(str(problem) for problem in problems)
