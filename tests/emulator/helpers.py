"""Small builders the emulator tests share."""

from __future__ import annotations

from typing import Any

import httpx

from pulumi_infrahub.emulator import DEMO_ENVIRONMENT, DEMO_KEYPAIR
from pulumi_infrahub.emulator.testing import RunningEmulator

IMAGE = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfLx52tvLo1kBAb3uWyl16EOcUMB02Sg4qITRwtmLq/"
    " someone@example"
)


def api(emulator: RunningEmulator, api_key: str | None = None) -> httpx.Client:
    key = emulator.api_key if api_key is None else api_key
    return httpx.Client(
        base_url=emulator.base_url, headers={"api_key": key}, timeout=10
    )


def vm_payload(name: str = "web-1", **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": name,
        "environment_name": DEMO_ENVIRONMENT,
        "flavor_name": "n1-cpu-medium",
        "image_name": IMAGE,
        "key_name": DEMO_KEYPAIR,
        "count": 1,
    }
    payload.update(fields)
    return payload


def create_vm(client: httpx.Client, name: str = "web-1", **fields: Any) -> int:
    response = client.post("/core/virtual-machines", json=vm_payload(name, **fields))
    assert response.status_code == 200, response.text
    vm_id: int = response.json()["instances"][0]["id"]
    return vm_id


def get_vm(client: httpx.Client, vm_id: int) -> dict[str, Any]:
    response = client.get(f"/core/virtual-machines/{vm_id}")
    assert response.status_code == 200, response.text
    instance: dict[str, Any] = response.json()["instance"]
    return instance


def volume_payload(name: str = "data-1", **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": name,
        "environment_name": DEMO_ENVIRONMENT,
        "size": 50,
        "volume_type": "Cloud-SSD",
    }
    payload.update(fields)
    return payload


def create_volume(client: httpx.Client, name: str = "data-1", **fields: Any) -> int:
    response = client.post("/core/volumes", json=volume_payload(name, **fields))
    assert response.status_code == 200, response.text
    volume_id: int = response.json()["volume"]["id"]
    return volume_id


def get_volume(client: httpx.Client, volume_id: int) -> dict[str, Any]:
    response = client.get(f"/core/volumes/{volume_id}")
    assert response.status_code == 200, response.text
    volume: dict[str, Any] = response.json()["volume"]
    return volume


def action(client: httpx.Client, vm_id: int, name: str) -> httpx.Response:
    return client.get(f"/core/virtual-machines/{vm_id}/{name}")
