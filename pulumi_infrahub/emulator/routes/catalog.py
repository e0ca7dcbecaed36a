"""The read-only catalog: regions, flavors, images, protocols, stock, GPUs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pulumi_infrahub.emulator import catalog
from pulumi_infrahub.emulator.errors import not_found
from pulumi_infrahub.emulator.routes._common import (
    bare,
    caller,
    ok,
    paginate,
    search,
)
from pulumi_infrahub.emulator.schemas import (
    availability,
    render_flavor,
    render_image,
    timestamp,
)

router = APIRouter(prefix="/v1/core")

_UNKNOWN_REGION = "Region {region} does not exist; use one of CANADA-1, NORWAY-1, US-1."


def _check_region(region: str | None) -> None:
    if region is not None and region not in catalog.REGION_NAMES:
        raise not_found(_UNKNOWN_REGION.format(region=region))


@router.get("/regions")
async def list_regions() -> Response:
    regions = [
        {
            "id": region_id,
            "name": name,
            "country": country,
            "description": None,
            "green_status": catalog.GREEN_STATUS[name],
            "features": {"floating_ip": True, "volumes": True},
        }
        for region_id, name, country in catalog.REGIONS
    ]
    return ok("Getting regions successful.", regions=regions)


@router.get("/flavors")
async def list_flavors(request: Request, region: str | None = None) -> Response:
    """Flavors grouped by GPU model and region; CPU-only ones under `gpu: ""`."""
    store, _ = caller(request)
    _check_region(region)
    groups: dict[tuple[str, str], list[catalog.Flavor]] = {}
    for flavor in catalog.FLAVORS:
        if region is None or flavor.region == region:
            groups.setdefault((flavor.spec.gpu, flavor.region), []).append(flavor)
    with store.reading():
        data = [
            {
                "gpu": gpu,
                "region_name": region_name,
                "flavors": [
                    render_flavor(
                        f,
                        in_stock=not gpu
                        or store.gpus_free(region_name, gpu) >= f.spec.gpu_count,
                    )
                    for f in flavors
                ],
            }
            for (gpu, region_name), flavors in groups.items()
        ]
    return ok("Getting flavors successful", data=data)


@router.get("/images")
async def list_images(
    region: str | None = None,
    include_public: bool = True,
    search_text: Annotated[str | None, Query(alias="search")] = None,
    page: int | None = None,
    per_page: int | None = None,
) -> Response:
    """Images grouped by region and type; paged with `per_page`."""
    _check_region(region)
    images = [
        image
        for image in catalog.IMAGES
        if (region is None or image.region == region) and include_public
    ]
    images = search(images, search_text, lambda image: image.name)
    chosen, _ = paginate(images, page, per_page)
    groups: dict[str, list[catalog.Image]] = {}
    for image in chosen:
        groups.setdefault(image.region, []).append(image)
    data = [
        {
            "region_name": region_name,
            "type": "Ubuntu",
            "logo": "https://infrahub-emulator.invalid/logos/ubuntu.png",
            "green_status": catalog.GREEN_STATUS[region_name],
            "images": [render_image(image) for image in members],
        }
        for region_name, members in groups.items()
    ]
    return ok("Getting images successful", images=data)


@router.get("/images/{image_id}")
async def get_image(image_id: int) -> Response:
    image = catalog.IMAGES_BY_ID.get(image_id)
    if image is None:
        raise not_found(f"Image with ID {image_id} not found.")
    return ok("Getting image successful", image=render_image(image))


@router.get("/image/name-availability/{name}")
async def image_name_availability(name: str) -> Response:
    taken = any(image.name == name for image in catalog.IMAGES)
    message = "This name is already in use" if taken else "This name is available"
    return bare({"name": name, "available": not taken, "message": message})


@router.get("/sg-rules-protocols")
async def list_protocols() -> Response:
    return ok(
        "Getting security rule protocols successful",
        protocols=list(catalog.PROTOCOLS),
    )


@router.get("/stocks")
async def list_stocks(request: Request) -> Response:
    """GPU stock per region and model; answered without the envelope."""
    store, _ = caller(request)
    stocks = []
    with store.reading():
        for _, region, _ in catalog.REGIONS:
            models = []
            for (stock_region, model), capacity in catalog.GPU_CAPACITY.items():
                if stock_region != region:
                    continue
                free = store.gpus_free(region, model)
                models.append(
                    {
                        "model": model,
                        "available": availability(free),
                        "planned_7_days": availability(free),
                        "planned_30_days": availability(max(free, capacity // 2)),
                        "planned_100_days": availability(capacity),
                        "configurations": {
                            "1x": free,
                            "2x": free // 2,
                            "4x": free // 4,
                            "8x": free // 8,
                            "10x": 0,
                        },
                    }
                )
            stocks.append({"region": region, "stock-type": "GPU", "models": models})
    return bare({"stocks": stocks})


@router.get("/gpus")
async def list_gpus() -> Response:
    models: dict[str, list[str]] = {}
    for region, model in catalog.GPU_CAPACITY:
        models.setdefault(model, []).append(region)
    region_ids = {name: region_id for region_id, name, _ in catalog.REGIONS}
    gpu_list = [
        {
            "id": index,
            "name": model,
            "regions": [{"id": region_ids[r], "name": r} for r in regions],
            "example_metadata": None,
            "created_at": timestamp(catalog.CATALOG_CREATED_AT),
            "updated_at": timestamp(catalog.CATALOG_CREATED_AT),
        }
        for index, (model, regions) in enumerate(models.items(), 1)
    ]
    return ok("Getting GPUs successful", gpu_list=gpu_list)
