from __future__ import annotations

import pytest

from pulumi_infrahub.client import InfrahubClient, NotFoundError

from .fakes import FakeAPI, error, ok

KEYPAIRS = "/core/keypairs"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests demo"


def keypair(id_: int, name: str, env: str = "default") -> dict[str, object]:
    return {"id": id_, "name": name, "environment": {"id": 1, "name": env}}


def test_import_sends_name_environment_and_key(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", KEYPAIRS, ok(keypair=keypair(4, "laptop")))

    made = client.keypairs.create(
        "laptop", environment_name="default", public_key=PUBLIC_KEY
    )

    assert made.id == 4
    assert api.sent[0].body == {
        "name": "laptop",
        "environment_name": "default",
        "public_key": PUBLIC_KEY,
    }


def test_get_reads_through_the_list(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("GET", KEYPAIRS, ok(keypairs=[keypair(4, "a"), keypair(5, "b")]))

    assert client.keypairs.get(5).name == "b"
    with pytest.raises(NotFoundError):
        client.keypairs.get(6)


def test_get_by_name_filters_by_environment(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "GET", KEYPAIRS, ok(keypairs=[keypair(4, "k", "dev"), keypair(5, "k", "prod")])
    )

    found = client.keypairs.get_by_name("k", environment="prod")

    assert found is not None and found.id == 5


def test_rename_and_delete_use_the_singular_path(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("PUT", "/core/keypair/4", ok(keypair=keypair(4, "new")))
    api.on("DELETE", "/core/keypair/4", ok())

    renamed = client.keypairs.rename(4, "new")
    client.keypairs.delete(4)

    assert renamed.name == "new"
    assert [(r.method, r.path, r.body) for r in api.sent] == [
        ("PUT", "/core/keypair/4", {"name": "new"}),
        ("DELETE", "/core/keypair/4", None),
    ]


def test_duplicate_import_is_a_conflict(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("POST", KEYPAIRS, error(409, "Keypair already exists", "already_exist"))

    with pytest.raises(Exception, match="Choose another name"):
        client.keypairs.create("k", environment_name="default", public_key=PUBLIC_KEY)

    assert len(api.sent) == 1
