"""`/core/keypairs` (list, import) and `/core/keypair/{id}` (rename, delete)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pulumi_infrahub.emulator import catalog
from pulumi_infrahub.emulator.routes._common import (
    PageQuery,
    PageSizeQuery,
    SearchQuery,
    caller,
    ok,
    paginate,
    search,
)
from pulumi_infrahub.emulator.schemas import (
    ImportKeypairPayload,
    RenamePayload,
    render_keypair,
)

router = APIRouter(prefix="/v1/core")


@router.get("/keypairs")
async def list_keypairs(
    request: Request,
    page: PageQuery = None,
    page_size: PageSizeQuery = None,
    search_text: SearchQuery = None,
) -> Response:
    """There is no GET by id: keypairs are read back through this list."""
    store, tenant = caller(request)
    with store.reading():
        keypairs = search(list(tenant.keypairs.values()), search_text, lambda k: k.name)
        chosen, paging = paginate(keypairs, page, page_size)
        rendered = [render_keypair(tenant, k) for k in chosen]
    return ok("Getting user keypairs successful", keypairs=rendered, **paging)


@router.post("/keypairs")
async def import_keypair(payload: ImportKeypairPayload, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        keypair = store.import_keypair(
            tenant, payload.name, payload.environment_name, payload.public_key
        )
        rendered = render_keypair(tenant, keypair)
    return ok("Keypair is imported successfully", keypair=rendered)


@router.put("/keypair/{keypair_id}")
async def rename_keypair(
    keypair_id: int, payload: RenamePayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        keypair = store.rename_keypair(tenant, keypair_id, payload.name)
        rendered = render_keypair(tenant, keypair)
    return ok(f"Keypair name updated successfully to {payload.name}", keypair=rendered)


@router.delete("/keypair/{keypair_id}")
async def delete_keypair(keypair_id: int, request: Request) -> Response:
    """VMs that use the key keep running."""
    store, tenant = caller(request)
    with store.changing():
        store.delete_keypair(tenant, keypair_id)
    return ok(
        "Key was successfully deleted. You can still access your existing "
        "instances that use this key."
    )


@router.get("/supported-keypairs")
async def supported_keypairs() -> Response:
    return ok(
        "Getting supported keypairs successful",
        supported_key_types=list(catalog.SUPPORTED_KEY_TYPES),
    )
