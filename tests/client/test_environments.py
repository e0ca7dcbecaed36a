from __future__ import annotations

import httpx
import pytest

from pulumi_infrahub.client import APIError, InfrahubClient

from .fakes import FakeAPI, error, ok

ENVS = "/core/environments"


def test_create_sends_name_and_region(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("POST", ENVS, ok(environment={"id": 1, "name": "dev", "region": "US-1"}))

    env = client.environments.create("dev", region="US-1")

    assert (env.id, env.region) == (1, "US-1")
    assert api.sent[0].body == {"name": "dev", "region": "US-1"}


def test_create_adopts_only_an_environment_in_the_asked_region(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", ENVS, httpx.ReadTimeout("timed out"))
    api.on(
        "GET",
        ENVS,
        ok(environments=[{"id": 1, "name": "dev", "region": "US-1"}]),
        ok(environments=[{"id": 1, "name": "dev", "region": "NORWAY-1"}]),
    )

    adopted = client.environments.create("dev", region="US-1")
    with pytest.raises(Exception, match="got no answer"):
        client.environments.create("dev", region="US-1")

    assert adopted.id == 1


def test_get_by_name_and_rename(api: FakeAPI, client: InfrahubClient) -> None:
    api.on(
        "GET",
        ENVS,
        ok(environments=[{"id": 1, "name": "dev"}, {"id": 2, "name": "dev2"}]),
    )
    api.on("PUT", f"{ENVS}/1", ok(environment={"id": 1, "name": "prod"}))

    found = client.environments.get_by_name("dev")
    renamed = client.environments.update(1, name="prod")

    assert found is not None and found.id == 1
    assert renamed.name == "prod"
    assert api.requests_to("PUT", f"{ENVS}/1")[0].body == {"name": "prod"}


def test_deleting_a_non_empty_environment_is_not_allowed(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "DELETE",
        f"{ENVS}/1",
        error(405, "the environment contains 1 VM", "not_allowed"),
    )

    with pytest.raises(APIError) as caught:
        client.environments.delete(1)

    assert (caught.value.status, caught.value.error_reason) == (405, "not_allowed")


def test_vm_quota(api: FakeAPI, client: InfrahubClient) -> None:
    api.on(
        "GET",
        f"{ENVS}/1/vm-quota",
        httpx.Response(
            200, json={"current_vms": 2, "max_vms": 250, "percentage_used": 0.8}
        ),
    )

    quota = client.environments.get_vm_quota(1)

    assert (quota.current_vms, quota.max_vms) == (2, 250)
