from __future__ import annotations

import httpx
import pytest

from pulumi_infrahub.client import BadRequestError, InfrahubClient, InvalidArgumentError

from .fakes import FakeAPI, error, ok

VOLUMES = "/core/volumes"


def volume(
    id_: int, name: str, status: str = "available", **fields: object
) -> dict[str, object]:
    return {"id": id_, "name": name, "status": status, **fields}


def test_create_sends_the_payload_and_returns_the_volume(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VOLUMES, ok(volume=volume(3, "data", "creating", size=100)))

    made = client.volumes.create(
        "data", environment_name="default-CANADA-1", size=100, volume_type="Cloud-SSD"
    )

    assert (made.id, made.status, made.size) == (3, "creating", 100)
    assert api.sent[0].body == {
        "name": "data",
        "environment_name": "default-CANADA-1",
        "size": 100,
        "volume_type": "Cloud-SSD",
    }


def test_create_rejects_a_zero_size_before_sending(
    api: FakeAPI, client: InfrahubClient
) -> None:
    with pytest.raises(InvalidArgumentError, match="size"):
        client.volumes.create(
            "d", environment_name="e", size=0, volume_type="Cloud-SSD"
        )

    assert api.sent == []


def test_create_adopts_the_volume_after_a_dropped_connection(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("POST", VOLUMES, httpx.RemoteProtocolError("Server disconnected"))
    other_env = {"name": "other", "region": "NORWAY-1"}
    this_env = {"name": "e", "region": "CANADA-1"}
    api.on(
        "GET",
        VOLUMES,
        ok(
            volumes=[
                volume(2, "data", environment=other_env),
                volume(3, "data", "creating", environment=this_env),
            ]
        ),
    )

    made = client.volumes.create(
        "data", environment_name="e", size=1, volume_type="Cloud-SSD"
    )

    assert made.id == 3
    assert len(api.requests_to("POST", VOLUMES)) == 1
    assert api.requests_to("GET", VOLUMES)[0].query["environment"] == "e"


def test_get_reads_the_single_form(api: FakeAPI, client: InfrahubClient) -> None:
    api.on(
        "GET", f"{VOLUMES}/3", ok(volume=volume(3, "d", os_image="", attachments=None))
    )

    got = client.volumes.get(3)

    assert got.os_image == ""
    assert got.attachments == []


def test_types_and_name_availability(api: FakeAPI, client: InfrahubClient) -> None:
    api.on("GET", "/core/volume-types", ok(volume_types=["Cloud-SSD"]))
    api.on(
        "GET",
        "/core/volume/name-availability/d",
        httpx.Response(200, json={"name": "d", "available": True}),
    )

    assert client.volumes.get_types() == ["Cloud-SSD"]
    assert client.volumes.is_name_available("d").available is True


def test_delete_of_an_attached_volume_is_a_bad_request(
    api: FakeAPI, client: InfrahubClient
) -> None:
    message = (
        'The Volume is currently attached to vm "a". Please detach it before '
        "deleting the volume."
    )
    api.on("DELETE", f"{VOLUMES}/3", error(400, message, "bad_request"))

    with pytest.raises(BadRequestError, match="detach it before deleting"):
        client.volumes.delete(3)

    assert len(api.sent) == 1


def test_update_attachment_reads_the_singular_answer(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on(
        "PATCH",
        "/core/volume-attachments/9",
        ok(attachment={"id": 9, "protected": True, "status": "ATTACHED"}),
    )

    got = client.volumes.update_attachment(9, protected=True)

    assert got is not None and got.protected is True
    assert api.sent[0].body == {"protected": True}


def test_get_recent_serves_many_volumes_from_one_list(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", VOLUMES, ok(volumes=[volume(i, f"data-{i}") for i in (4, 5)]))
    api.on("GET", f"{VOLUMES}/6", ok(volume=volume(6, "data-6", "creating")))

    names = [client.volumes.get_recent(i).name for i in (4, 5, 6)]

    assert names == ["data-4", "data-5", "data-6"]
    assert [r.path for r in api.sent] == [VOLUMES, f"{VOLUMES}/6"]
