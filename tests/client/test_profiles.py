from __future__ import annotations

import json

import httpx
import pytest

from pulumi_infrahub.client import InfrahubClient, InvalidArgumentError

from .fakes import FakeAPI, ok

PROFILES = "/core/profiles"


def test_create_expects_201_and_decodes_the_saved_config(
    api: FakeAPI, client: InfrahubClient
) -> None:
    saved = {"count": "1", "flavor_name": "n1-cpu-small"}
    answer = {"id": 2, "name": "small", "data": json.dumps(saved)}
    api.on(
        "POST",
        PROFILES,
        httpx.Response(201, json={"status": True, "message": "m", "profile": answer}),
    )

    made = client.profiles.create("small", data=saved, description="cheap")

    assert made.config == saved
    assert api.sent[0].body == {"name": "small", "description": "cheap", "data": saved}


def test_profile_data_values_must_be_strings(
    api: FakeAPI, client: InfrahubClient
) -> None:
    with pytest.raises(InvalidArgumentError, match=r"data\.count"):
        client.profiles.create("p", data={"count": 1})  # type: ignore[dict-item]

    assert api.sent == []


def test_list_get_and_delete(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("GET", PROFILES, ok(profiles=[{"id": 2, "name": "small", "data": "{}"}]))
    api.on("GET", f"{PROFILES}/2", ok(profile={"id": 2, "name": "small"}))
    api.on("DELETE", f"{PROFILES}/2", ok())

    assert [p.id for p in client.profiles.get_all()] == [2]
    assert client.profiles.get(2).name == "small"
    client.profiles.delete(2)

    assert api.sent[-1].method == "DELETE"
