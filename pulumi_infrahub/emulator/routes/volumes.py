"""`/core/volumes`, volume types, name checks, attachments and callbacks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pulumi_infrahub.emulator import catalog
from pulumi_infrahub.emulator.routes._common import (
    PageQuery,
    PageSizeQuery,
    SearchQuery,
    bare,
    caller,
    ok,
    paginate,
    search,
)
from pulumi_infrahub.emulator.schemas import (
    CallbackPayload,
    CreateVolumePayload,
    UpdateVolumeAttachmentPayload,
    UpdateVolumePayload,
    render_attachment,
    render_volume,
)

router = APIRouter(prefix="/v1/core")


@router.post("/volumes")
async def create_volume(payload: CreateVolumePayload, request: Request) -> Response:
    """A new volume, `creating` until it is `available`."""
    store, tenant = caller(request)
    with store.changing():
        volume = store.create_volume(
            tenant,
            name=payload.name,
            environment_name=payload.environment_name,
            size=payload.size,
            volume_type=payload.volume_type,
            description=payload.description,
            image_id=payload.image_id,
            callback_url=payload.callback_url,
        )
        rendered = render_volume(tenant, volume, detail=True)
    return ok("Volume created successfully", volume=rendered)


@router.get("/volumes")
async def list_volumes(
    request: Request,
    page: PageQuery = None,
    page_size: PageSizeQuery = None,
    search_text: SearchQuery = None,
    environment: str | None = None,
) -> Response:
    """Volumes oldest first; `environment` takes an environment id or name."""
    store, tenant = caller(request)
    with store.reading():
        volumes = search(list(tenant.volumes.values()), search_text, lambda v: v.name)
        if environment:
            volumes = [
                v
                for v in volumes
                if str(v.environment_id) == environment
                or tenant.environments[v.environment_id].name == environment
            ]
        chosen, paging = paginate(volumes, page, page_size)
        rendered = [render_volume(tenant, v, detail=False) for v in chosen]
    return ok("Getting volumes successful", volumes=rendered, **paging)


@router.get("/volumes/{volume_id}")
async def get_volume(volume_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.reading():
        volume = store.volume(tenant, volume_id)
        rendered = render_volume(tenant, volume, detail=True)
    return ok("Getting volume successful", volume=rendered)


@router.patch("/volumes/{volume_id}")
async def move_volume(
    volume_id: int, payload: UpdateVolumePayload, request: Request
) -> Response:
    """Move a detached volume to another environment of the same region."""
    store, tenant = caller(request)
    with store.changing():
        volume, updates = store.move_volume(tenant, volume_id, payload.environment_name)
        rendered = render_volume(tenant, volume, detail=True)
    return ok("Volume updated successfully", updates=updates, volume=rendered)


@router.delete("/volumes/{volume_id}")
async def delete_volume(volume_id: int, request: Request) -> Response:
    """Refused while attached; otherwise `deleting`, then gone."""
    store, tenant = caller(request)
    with store.changing():
        store.delete_volume(tenant, volume_id)
    return ok("Volume is being deleted.")


@router.get("/volume-types")
async def volume_types() -> Response:
    return ok("Retrieved Volume Types.", volume_types=list(catalog.VOLUME_TYPES))


@router.get("/volume/name-availability/{name}")
async def volume_name_availability(name: str, request: Request) -> Response:
    store, tenant = caller(request)
    with store.reading():
        taken = any(v.name == name for v in tenant.volumes.values())
    message = "This name is already in use" if taken else "This name is available"
    return bare({"name": name, "available": not taken, "message": message})


@router.patch("/volume-attachments/{volume_attachment_id}")
async def update_attachment(
    volume_attachment_id: int, payload: UpdateVolumeAttachmentPayload, request: Request
) -> Response:
    """Set or clear `protected`, which blocks detaching."""
    store, tenant = caller(request)
    with store.changing():
        attachment = store.protect_attachment(
            tenant, volume_attachment_id, payload.protected
        )
        rendered = render_attachment(attachment)
    return ok("Volume attachment updated successfully", volume_attachments=[rendered])


@router.post("/volumes/{volume_id}/attach-callback")
async def attach_volume_callback(
    volume_id: int, payload: CallbackPayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        volume = store.set_volume_callback(tenant, volume_id, payload.url)
    return ok(
        f"Callback URL successfully attached to volume '{volume.name}'.",
        url=payload.url,
    )


@router.put("/volumes/{volume_id}/update-callback")
async def update_volume_callback(
    volume_id: int, payload: CallbackPayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        volume = store.set_volume_callback(tenant, volume_id, payload.url)
    return ok(
        f"Callback URL successfully updated in volume {volume.name}.", url=payload.url
    )


@router.delete("/volumes/{volume_id}/delete-callback")
async def delete_volume_callback(volume_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        volume = store.set_volume_callback(tenant, volume_id, None)
    return ok(f"Callback URL deleted successfully in volume {volume.name}.")
