"""`/core/keypairs` (list, import) and `/core/keypair/{id}` (rename, delete)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pulumi_infrahub.emulator import catalog
from pulumi_infrahub.emulator.routes._common import (
    PageQuery,
    PageSizeQuery,
    SearchQuery,
    StoreDep,
    TenantDep,
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
    store: StoreDep,
    tenant: TenantDep,
    page: PageQuery = None,
    page_size: PageSizeQuery = None,
    search_text: SearchQuery = None,
) -> JSONResponse:
    """There is no GET by id: keypairs are read back through this list."""
    with store.reading():
        keypairs = search(list(tenant.keypairs.values()), search_text, lambda k: k.name)
        chosen, paging = paginate(keypairs, page, page_size)
        rendered = [render_keypair(tenant, k) for k in chosen]
    return ok("Getting user keypairs successful", keypairs=rendered, **paging)


@router.post("/keypairs")
async def import_keypair(
    payload: ImportKeypairPayload, store: StoreDep, tenant: TenantDep
) -> JSONResponse:
    with store.changing():
        keypair = store.import_keypair(
            tenant, payload.name, payload.environment_name, payload.public_key
        )
        rendered = render_keypair(tenant, keypair)
    return ok("Keypair is imported successfully", keypair=rendered)


@router.put("/keypair/{keypair_id}")
async def rename_keypair(
    keypair_id: int, payload: RenamePayload, store: StoreDep, tenant: TenantDep
) -> JSONResponse:
    with store.changing():
        keypair = store.rename_keypair(tenant, keypair_id, payload.name)
        rendered = render_keypair(tenant, keypair)
    return ok(f"Keypair name updated successfully to {payload.name}", keypair=rendered)


@router.delete("/keypair/{keypair_id}")
async def delete_keypair(
    keypair_id: int, store: StoreDep, tenant: TenantDep
) -> JSONResponse:
    """VMs that use the key keep running."""
    with store.changing():
        store.delete_keypair(tenant, keypair_id)
    return ok(
        "Key was successfully deleted. You can still access your existing "
        "instances that use this key."
    )


@router.get("/supported-keypairs")
async def supported_keypairs(tenant: TenantDep) -> JSONResponse:
    return ok(
        "Getting supported keypairs successful",
        supported_key_types=list(catalog.SUPPORTED_KEY_TYPES),
    )
