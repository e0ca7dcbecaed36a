"""`/pricebook`: hourly prices, a bare list as the vendor describes it.

Entries are named after GPU models (price per GPU), CPU-only flavors (per
VM), `Cloud-SSD` (per GB) and `Public IP` (per address), all per hour.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from pulumi_infrahub.emulator import catalog
from pulumi_infrahub.emulator.encoding import encode
from pulumi_infrahub.emulator.schemas import timestamp

router = APIRouter(prefix="/v1")


@router.get("/pricebook")
async def get_pricebook() -> Response:
    start = timestamp(catalog.CATALOG_CREATED_AT)
    entries = [
        {
            "id": index,
            "name": name,
            "value": price,
            "original_value": price,
            "discount_applied": False,
            "start_time": start,
            "end_time": None,
        }
        for index, (name, price) in enumerate(catalog.PRICES.items(), 1)
    ]
    return Response(encode(entries), media_type="application/json")
