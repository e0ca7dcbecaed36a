from __future__ import annotations

from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR, DEMO_REGION
from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import PUBLIC_KEY, api, create_vm


def test_every_tenant_starts_with_the_demo_environment_and_keypair(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        environments = client.get("/core/environments").json()
        keypairs = client.get("/core/keypairs").json()

    [environment] = environments["environments"]
    assert (environment["name"], environment["region"]) == (
        DEMO_ENVIRONMENT,
        DEMO_REGION,
    )
    [keypair] = keypairs["keypairs"]
    assert keypair["name"] == DEMO_KEYPAIR
    assert keypair["environment"]["name"] == DEMO_ENVIRONMENT


def test_environment_lifecycle(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        created = client.post(
            "/core/environments", json={"name": "staging", "region": "NORWAY-1"}
        ).json()
        env_id = created["environment"]["id"]
        renamed = client.put(f"/core/environments/{env_id}", json={"name": "stage"})
        fetched = client.get(f"/core/environments/{env_id}").json()
        deleted = client.delete(f"/core/environments/{env_id}")
        gone = client.get(f"/core/environments/{env_id}")

    assert created["message"] == "Environment staging is created successfully"
    assert created["environment"]["features"]["green_status"] == "GREEN"
    assert renamed.json()["message"] == f"Successfully updated Environment {env_id}"
    assert fetched["environment"]["name"] == "stage"
    assert deleted.json()["message"] == f"Environment {env_id} is deleted successfully"
    assert gone.status_code == 404


def test_environment_names_are_unique_across_regions(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/environments", json={"name": DEMO_ENVIRONMENT, "region": "US-1"}
        )
        check = client.get(f"/core/environments/name-availability/{DEMO_ENVIRONMENT}")

    assert response.status_code == 409
    assert response.json()["error_reason"] == "already_exist"
    assert check.json()["available"] is False


def test_environment_in_an_unknown_region_is_not_found(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/environments", json={"name": "moon", "region": "MOON-1"}
        )

    assert response.status_code == 404
    assert "CANADA-1, NORWAY-1, US-1" in response.json()["message"]


def test_environment_that_is_not_empty_cannot_be_deleted(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        create_vm(client)
        env_id = client.get("/core/environments").json()["environments"][0]["id"]
        response = client.delete(f"/core/environments/{env_id}")

    assert response.status_code == 405
    assert response.json() == {
        "status": False,
        "message": "Sorry but this request cannot be fulfilled because the "
        "environment contains 1 virtual-machines, 0 volumes, 0 firewalls & 1 key "
        "pairs in it. Please delete these before deleting the environment",
        "error_reason": "not_allowed",
    }


def test_vm_quota_counts_the_vms(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_vm(client)
        env_id = client.get("/core/environments").json()["environments"][0]["id"]
        quota = client.get(f"/core/environments/{env_id}/vm-quota").json()

    assert (quota["current_vms"], quota["max_vms"], quota["available_vms"]) == (
        1,
        250,
        249,
    )


def test_keypair_import_rename_and_delete(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        imported = client.post(
            "/core/keypairs",
            json={
                "name": "laptop",
                "environment_name": DEMO_ENVIRONMENT,
                "public_key": PUBLIC_KEY,
            },
        ).json()
        key_id = imported["keypair"]["id"]
        duplicate = client.post(
            "/core/keypairs",
            json={
                "name": "laptop",
                "environment_name": DEMO_ENVIRONMENT,
                "public_key": PUBLIC_KEY,
            },
        )
        renamed = client.put(f"/core/keypair/{key_id}", json={"name": "desk"})
        deleted = client.delete(f"/core/keypair/{key_id}")
        names = [k["name"] for k in client.get("/core/keypairs").json()["keypairs"]]

    assert imported["message"] == "Keypair is imported successfully"
    assert imported["keypair"]["public_key"] == PUBLIC_KEY
    fingerprint = imported["keypair"]["fingerprint"]
    assert len(fingerprint.split(":")) == 16
    assert duplicate.status_code == 409
    assert renamed.json()["message"] == "Keypair name updated successfully to desk"
    assert deleted.json()["message"].startswith("Key was successfully deleted.")
    assert names == [DEMO_KEYPAIR]


def test_keypair_with_an_unsupported_key_is_refused(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        wrong_type = client.post(
            "/core/keypairs",
            json={
                "name": "old",
                "environment_name": DEMO_ENVIRONMENT,
                "public_key": "ssh-dss AAAAB3NzaC1kc3M=",
            },
        )
        not_base64 = client.post(
            "/core/keypairs",
            json={
                "name": "odd",
                "environment_name": DEMO_ENVIRONMENT,
                "public_key": "ssh-ed25519 !!!",
            },
        )
        supported = client.get("/core/supported-keypairs").json()

    assert wrong_type.status_code == 400
    assert "ssh-ed25519" in wrong_type.json()["message"]
    assert not_base64.status_code == 400
    assert "ssh-rsa" in supported["supported_key_types"]


def test_profile_create_answers_201_and_data_as_a_string(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        created = client.post(
            "/core/profiles",
            json={"name": "gpu", "description": "one H100", "data": {"count": "1"}},
        )
        profile_id = created.json()["profile"]["id"]
        duplicate = client.post("/core/profiles", json={"name": "gpu", "data": {}})
        listed = client.get("/core/profiles").json()
        fetched = client.get(f"/core/profiles/{profile_id}").json()
        deleted = client.delete(f"/core/profiles/{profile_id}")

    assert created.status_code == 201
    assert created.json()["profile"]["data"] == '{"count": "1"}'
    assert duplicate.status_code == 409
    assert [p["name"] for p in listed["profiles"]] == ["gpu"]
    assert fetched["profile"]["description"] == "one H100"
    assert deleted.json()["message"] == "Profile gpu deleted."


def test_profile_data_must_hold_strings(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        response = client.post(
            "/core/profiles", json={"name": "p", "data": {"count": 1}}
        )

    assert response.status_code == 400
    assert response.json()["errors"] == {"data.count": "1 is not of type 'string'"}


def test_vm_create_can_save_a_profile(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        create_vm(client, "saved", profile={"name": "from-create"}, user_data="secret")
        profile = client.get("/core/profiles").json()["profiles"][0]

    assert profile["name"] == "from-create"
    assert '"flavor_name": "n1-cpu-medium"' in profile["data"]
    assert "secret" not in profile["data"]
