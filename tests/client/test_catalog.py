from __future__ import annotations

import httpx
import pytest

from pulumi_infrahub.client import AmbiguousNameError, InfrahubClient

from .fakes import FakeAPI, ok


def flavor(id_: int, name: str, **fields: object) -> dict[str, object]:
    return {"id": id_, "name": name, **fields}


def test_flavors_are_flattened_with_group_gpu_and_region(
    api: FakeAPI, client: InfrahubClient
) -> None:
    groups = [
        {
            "gpu": "A100-80G-PCIe",
            "region_name": "CANADA-1",
            "flavors": [flavor(1, "n3-A100x1", gpu_count=1, stock_available=True)],
        },
        {"gpu": "", "region_name": "CANADA-1", "flavors": [flavor(2, "n1-cpu-small")]},
    ]
    api.on("GET", "/core/flavors", ok(data=groups))

    flavors = client.flavors.get_all(region="CANADA-1")

    assert [(f.name, f.gpu, f.gpu_count, f.region_name) for f in flavors] == [
        ("n3-A100x1", "A100-80G-PCIe", 1, "CANADA-1"),
        ("n1-cpu-small", "", None, "CANADA-1"),
    ]
    assert api.sent[0].query == {"region": "CANADA-1"}


def test_flavor_name_in_two_regions_needs_a_region(
    api: FakeAPI, client: InfrahubClient
) -> None:
    groups = [
        {"gpu": "", "region_name": "CANADA-1", "flavors": [flavor(1, "n1-cpu-small")]},
        {"gpu": "", "region_name": "NORWAY-1", "flavors": [flavor(2, "n1-cpu-small")]},
    ]
    api.on("GET", "/core/flavors", ok(data=groups))

    with pytest.raises(AmbiguousNameError, match=r"CANADA-1, NORWAY-1.*pass region="):
        client.flavors.get_by_name("n1-cpu-small")
    picked = client.flavors.get_by_name("n1-cpu-small", region="NORWAY-1")

    assert picked is not None and picked.id == 2


def test_images_are_flattened_and_found_by_name_per_region(
    api: FakeAPI, client: InfrahubClient
) -> None:
    name = "Ubuntu Server 22.04 LTS R535 CUDA 12.2"
    groups = [
        {
            "region_name": "CANADA-1",
            "type": "Ubuntu",
            "images": [{"id": 7, "name": name}],
        },
        {"region_name": "US-1", "type": "Ubuntu", "images": [{"id": 8, "name": name}]},
    ]
    api.on("GET", "/core/images", ok(images=groups))

    image = client.images.get_by_name(name, region="US-1")

    assert image is not None and (image.id, image.type) == (8, "Ubuntu")
    assert api.sent[0].query == {"region": "US-1", "search": name}


def test_regions_protocols_stocks_and_prices(
    api: FakeAPI, client: InfrahubClient
) -> None:
    api.on("GET", "/core/regions", ok(regions=[{"id": 1, "name": "NORWAY-1"}]))
    api.on("GET", "/core/sg-rules-protocols", ok(protocols=["any", "tcp"]))
    stock = {
        "region": "CANADA-1",
        "stock-type": "GPU",
        "models": [
            {"model": "H100-80G-PCIe", "available": "10+", "configurations": {"8x": 2}}
        ],
    }
    api.on("GET", "/core/stocks", httpx.Response(200, json={"stocks": [stock]}))
    price = {"id": 1, "name": "n3-A100x1", "value": 1.35, "discount_applied": False}
    api.on("GET", "/pricebook", httpx.Response(200, json=[price]))

    region = client.regions.get_by_name("NORWAY-1")
    protocols = client.protocols.get_all()
    canada = client.stocks.get_by_region("CANADA-1")
    entry = client.pricebook.get_by_name("n3-A100x1")

    assert region is not None and region.id == 1
    assert protocols == ["any", "tcp"]
    assert canada is not None and canada.stock_type == "GPU"
    assert canada.models[0].available == "10+"
    assert canada.models[0].configurations == {"8x": 2}
    assert entry is not None and entry.value == 1.35
