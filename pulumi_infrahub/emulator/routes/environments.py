"""`/core/environments`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pulumi_infrahub.emulator.routes._common import (
    PageQuery,
    PageSizeQuery,
    SearchQuery,
    bare,
    caller,
    ok,
    paginate,
)
from pulumi_infrahub.emulator.schemas import (
    CreateEnvironmentPayload,
    RenamePayload,
    render_environment,
)
from pulumi_infrahub.emulator.store import MAX_VMS_PER_ENVIRONMENT

router = APIRouter(prefix="/v1/core/environments")


@router.get("")
async def list_environments(
    request: Request,
    page: PageQuery = None,
    page_size: PageSizeQuery = None,
    search_text: SearchQuery = None,
) -> Response:
    """Environments; `search` matches the id, the name or the region."""
    store, tenant = caller(request)
    with store.reading():
        environments = list(tenant.environments.values())
        if search_text:
            needle = search_text.lower()
            environments = [
                e
                for e in environments
                if needle in e.name.lower()
                or needle in e.region.lower()
                or needle == str(e.id)
            ]
        chosen, paging = paginate(environments, page, page_size)
        rendered = [render_environment(e) for e in chosen]
    return ok("Getting environments successful", environments=rendered, **paging)


@router.post("")
async def create_environment(
    payload: CreateEnvironmentPayload, request: Request
) -> Response:
    """Names are unique across the whole organisation, all regions."""
    store, tenant = caller(request)
    with store.changing():
        environment = store.create_environment(tenant, payload.name, payload.region)
        rendered = render_environment(environment)
    return ok(
        f"Environment {payload.name} is created successfully", environment=rendered
    )


@router.get("/name-availability/{name}")
async def environment_name_availability(name: str, request: Request) -> Response:
    store, tenant = caller(request)
    with store.reading():
        taken = tenant.environment_named(name) is not None
    message = "This name is already in use" if taken else "This name is available"
    return bare({"name": name, "available": not taken, "message": message})


@router.get("/{environment_id}")
async def get_environment(environment_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.reading():
        rendered = render_environment(store.environment(tenant, environment_id))
    return ok("Getting detail successful", environment=rendered)


@router.put("/{environment_id}")
async def rename_environment(
    environment_id: int, payload: RenamePayload, request: Request
) -> Response:
    """Only the name can change; the region is fixed."""
    store, tenant = caller(request)
    with store.changing():
        environment = store.rename_environment(tenant, environment_id, payload.name)
        rendered = render_environment(environment)
    return ok(
        f"Successfully updated Environment {environment_id}", environment=rendered
    )


@router.delete("/{environment_id}")
async def delete_environment(environment_id: int, request: Request) -> Response:
    """405 while the environment still holds VMs, volumes or keypairs."""
    store, tenant = caller(request)
    with store.changing():
        store.delete_environment(tenant, environment_id)
    return ok(f"Environment {environment_id} is deleted successfully")


@router.get("/{environment_id}/vm-quota")
async def vm_quota(environment_id: int, request: Request) -> Response:
    """The per-environment VM limit that the subnet size sets."""
    store, tenant = caller(request)
    with store.reading():
        environment = store.environment(tenant, environment_id)
        current = sum(
            1 for vm in tenant.vms.values() if vm.environment_id == environment.id
        )
    return ok(
        "Getting VM quota successful",
        current_vms=current,
        max_vms=MAX_VMS_PER_ENVIRONMENT,
        available_vms=MAX_VMS_PER_ENVIRONMENT - current,
        percentage_used=round(100 * current / MAX_VMS_PER_ENVIRONMENT, 2),
        cidr=f"10.0.{environment.id % 250}.0/24",
    )
