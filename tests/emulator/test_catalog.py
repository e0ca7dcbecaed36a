from __future__ import annotations

from pulumi_infrahub.emulator.testing import RunningEmulator

from .helpers import api, create_vm


def test_regions_are_the_three_public_ones(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        body = client.get("/core/regions").json()

    assert body["message"] == "Getting regions successful."
    assert [r["name"] for r in body["regions"]] == ["CANADA-1", "NORWAY-1", "US-1"]


def test_flavors_group_by_gpu_and_region(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        body = client.get("/core/flavors", params={"region": "CANADA-1"}).json()
        unknown = client.get("/core/flavors", params={"region": "MARS-1"})

    groups = {group["gpu"]: group for group in body["data"]}
    assert set(groups) == {"", "RTX-A6000", "L40", "A100-80G-PCIe", "H100-80G-PCIe"}
    h100 = {f["name"]: f for f in groups["H100-80G-PCIe"]["flavors"]}
    assert [f["gpu_count"] for f in h100.values()] == [1, 2, 4, 8]
    assert h100["n3-H100x8"]["cpu"] == 8 * h100["n3-H100x1"]["cpu"]
    assert all(f["region_name"] == "CANADA-1" for f in h100.values())
    cpu_only = groups[""]["flavors"]
    assert {f["gpu_count"] for f in cpu_only} == {0}
    assert unknown.status_code == 404


def test_sold_out_flavor_is_listed_without_stock(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        body = client.get("/core/flavors", params={"region": "US-1"}).json()

    l40 = next(group for group in body["data"] if group["gpu"] == "L40")
    assert {f["stock_available"] for f in l40["flavors"]} == {False}


def test_stock_drops_as_gpus_are_taken(emulator: RunningEmulator) -> None:
    def a100_in_canada(client: object) -> dict[str, object]:
        stocks = client.get("/core/stocks").json()["stocks"]  # type: ignore[attr-defined]
        canada = next(s for s in stocks if s["region"] == "CANADA-1")
        model: dict[str, object] = next(
            m for m in canada["models"] if m["model"] == "A100-80G-PCIe"
        )
        return model

    with api(emulator) as client:
        before = a100_in_canada(client)
        create_vm(client, "trainer", flavor_name="n3-A100x8")
        after = a100_in_canada(client)

    assert before["configurations"]["1x"] - after["configurations"]["1x"] == 8  # type: ignore[index]
    assert after["available"] == "100+"
    assert set(before) >= {"planned_7_days", "planned_30_days", "planned_100_days"}


def test_images_come_per_region_with_and_without_cuda(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        body = client.get("/core/images", params={"region": "NORWAY-1"}).json()
        first_id = body["images"][0]["images"][0]["id"]
        one = client.get(f"/core/images/{first_id}").json()
        missing = client.get("/core/images/300")

    [group] = body["images"]
    names = [image["name"] for image in group["images"]]
    assert any("CUDA" in name for name in names)
    assert any("CUDA" not in name for name in names)
    assert group["images"][0]["size"] == 100 * 1024**3
    assert group["images"][0]["display_size"] == "100 GiB"
    assert one["image"]["region_name"] == "NORWAY-1"
    assert missing.json()["message"] == "Image with ID 300 not found."


def test_protocols_list_the_26_of_the_api(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        protocols = client.get("/core/sg-rules-protocols").json()["protocols"]

    assert len(protocols) == 26
    assert protocols[:3] == ["any", "ah", "dccp"]


def test_pricebook_prices_every_gpu_model_by_the_hour(
    emulator: RunningEmulator,
) -> None:
    with api(emulator) as client:
        entries = client.get("/pricebook").json()
        flavors = client.get("/core/flavors").json()["data"]

    prices = {entry["name"]: entry["value"] for entry in entries}
    gpus = {group["gpu"] for group in flavors if group["gpu"]}
    assert gpus <= set(prices)
    assert prices["H100-80G-PCIe"] > prices["A100-80G-PCIe"] > prices["RTX-A6000"]
    assert {"id", "name", "value", "original_value", "discount_applied"} <= set(
        entries[0]
    )


def test_gpus_list_their_regions(emulator: RunningEmulator) -> None:
    with api(emulator) as client:
        gpus = client.get("/core/gpus").json()["gpu_list"]

    h100 = next(gpu for gpu in gpus if gpu["name"] == "H100-80G-PCIe")
    assert [region["name"] for region in h100["regions"]] == ["CANADA-1", "US-1"]
