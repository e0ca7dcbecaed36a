"""`/core/profiles`: saved VM create configurations."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pulumi_infrahub.emulator.routes._common import caller, ok
from pulumi_infrahub.emulator.schemas import CreateProfilePayload, render_profile

router = APIRouter(prefix="/v1/core/profiles")


@router.get("")
async def list_profiles(request: Request) -> Response:
    store, tenant = caller(request)
    with store.reading():
        rendered = [render_profile(p) for p in tenant.profiles.values()]
    return ok("Getting profiles success.", profiles=rendered)


@router.post("")
async def create_profile(payload: CreateProfilePayload, request: Request) -> Response:
    """The one create that answers 201."""
    store, tenant = caller(request)
    with store.changing():
        profile = store.create_profile(
            tenant, payload.name, payload.description, payload.data
        )
        rendered = render_profile(profile)
    return ok("Profile created successfully", status=201, profile=rendered)


@router.get("/{profile_id}")
async def get_profile(profile_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.reading():
        rendered = render_profile(store.profile(tenant, profile_id))
    return ok("Getting profile detail success.", profile=rendered)


@router.delete("/{profile_id}")
async def delete_profile(profile_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        profile = store.delete_profile(tenant, profile_id)
    return ok(f"Profile {profile.name} deleted.")
