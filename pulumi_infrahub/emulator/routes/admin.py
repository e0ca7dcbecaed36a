"""`/_emulator/...`: controls the real API does not have.

Faults, a request log, reset, out-of-band changes to stage drift, and a
summary of what a tenant holds. None of these need a key except the summary,
which reads the tenant from the usual `api_key` header.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from pulumi_infrahub.emulator import catalog
from pulumi_infrahub.emulator.errors import ApiError
from pulumi_infrahub.emulator.faults import Faults
from pulumi_infrahub.emulator.records import Tenant
from pulumi_infrahub.emulator.routes._common import RuntimeDep

router = APIRouter(prefix="/_emulator")


class DriftLabels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list[str]


@router.get("/health")
async def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.post("/reset")
async def reset(runtime: RuntimeDep) -> JSONResponse:
    """Forget all resources, faults set at run time and the request log."""
    runtime.reset()
    return JSONResponse({"status": "reset"})


@router.get("/faults")
async def get_faults(runtime: RuntimeDep) -> JSONResponse:
    return JSONResponse(runtime.faults.describe())


@router.put("/faults")
async def put_faults(faults: Faults, runtime: RuntimeDep) -> JSONResponse:
    """Replace the faults in force; fields left out go back to no fault."""
    runtime.faults.configure(faults)
    return JSONResponse(runtime.faults.describe())


@router.delete("/faults")
async def clear_faults(runtime: RuntimeDep) -> JSONResponse:
    runtime.faults.configure(Faults())
    return JSONResponse(runtime.faults.describe())


@router.get("/requests")
async def list_requests(runtime: RuntimeDep) -> JSONResponse:
    """API requests oldest first: method, path, query, status, body, tenant."""
    entries = [entry.as_dict() for entry in list(runtime.request_log)]
    return JSONResponse({"requests": entries})


@router.delete("/requests")
async def clear_requests(runtime: RuntimeDep) -> JSONResponse:
    runtime.request_log.clear()
    return JSONResponse({"requests": []})


@router.post("/drift/virtual-machines/{vm_id}/labels")
async def drift_labels(
    vm_id: int, payload: DriftLabels, runtime: RuntimeDep
) -> JSONResponse:
    """Replace a VM's labels as if someone used the console."""
    store = runtime.store
    with store.changing():
        store.drift_labels(store.drift_tenant_of_vm(vm_id), vm_id, payload.labels)
    return JSONResponse({"status": "changed"})


@router.post("/drift/virtual-machines/{vm_id}/stop")
async def drift_stop(vm_id: int, runtime: RuntimeDep) -> JSONResponse:
    """Stop a VM at once, bypassing the API."""
    store = runtime.store
    with store.changing():
        store.drift_stop(store.drift_tenant_of_vm(vm_id), vm_id)
    return JSONResponse({"status": "changed"})


@router.delete("/drift/virtual-machines/{vm_id}")
async def drift_delete_vm(vm_id: int, runtime: RuntimeDep) -> JSONResponse:
    """Make a VM vanish at once, whatever its state."""
    store = runtime.store
    with store.changing():
        store.drift_delete_vm(store.drift_tenant_of_vm(vm_id), vm_id)
    return JSONResponse({"status": "changed"})


@router.delete("/drift/volumes/{volume_id}")
async def drift_delete_volume(volume_id: int, runtime: RuntimeDep) -> JSONResponse:
    """Make a volume vanish at once, with its attachments."""
    store = runtime.store
    with store.changing():
        store.drift_delete_volume(store.drift_tenant_of_volume(volume_id), volume_id)
    return JSONResponse({"status": "changed"})


@router.delete("/drift/virtual-machines/{vm_id}/sg-rules/{rule_id}")
async def drift_delete_rule(
    vm_id: int, rule_id: int, runtime: RuntimeDep
) -> JSONResponse:
    store = runtime.store
    with store.changing():
        store.drift_delete_rule(store.drift_tenant_of_vm(vm_id), vm_id, rule_id)
    return JSONResponse({"status": "changed"})


@router.get("/summary")
async def summary(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """What the caller's tenant holds and what it costs an hour."""
    key = request.headers.get("api_key")
    tenant = None if key is None else runtime.store.tenant_for_key(key)
    if tenant is None:
        raise ApiError(401, "Send the tenant's key in the api_key header.")
    with runtime.store.reading():
        return JSONResponse(_summarise(runtime, tenant))


def _summarise(runtime: RuntimeDep, tenant: Tenant) -> dict[str, Any]:
    store = runtime.store
    vms = []
    gpus = 0
    cost = 0.0
    for vm in tenant.vms.values():
        spec = store.flavor_of(vm).spec
        gpus += spec.gpu_count
        hourly = (
            catalog.PRICES.get(spec.gpu, 0.0) * spec.gpu_count
            if spec.gpu
            else catalog.PRICES.get(spec.name, 0.0)
        )
        if vm.floating_ip:
            hourly += catalog.PRICES["Public IP"]
        cost += hourly
        environment = tenant.environments.get(vm.environment_id)
        vms.append(
            {
                "id": vm.id,
                "name": vm.name,
                "status": vm.status,
                "environment": environment.name if environment else None,
                "region": environment.region if environment else None,
                "flavor": spec.name,
                "gpu": spec.gpu,
                "gpu_count": spec.gpu_count,
                "floating_ip": vm.floating_ip,
                "labels": list(vm.labels),
                "security_rules": len(vm.security_rules),
                "hourly_cost": round(hourly, 4),
            }
        )
    volumes = []
    for volume in tenant.volumes.values():
        cost += catalog.PRICES["Cloud-SSD"] * volume.size
        volumes.append(
            {
                "id": volume.id,
                "name": volume.name,
                "size": volume.size,
                "status": volume.status,
                "attached_to": [
                    a.instance_id for a in tenant.attachments_of_volume(volume.id)
                ],
            }
        )
    return {
        "tenant": tenant.id,
        "environments": [e.name for e in tenant.environments.values()],
        "keypairs": [k.name for k in tenant.keypairs.values()],
        "virtual_machines": vms,
        "volumes": volumes,
        "totals": {
            "virtual_machines": len(vms),
            "gpus": gpus,
            "volumes": len(volumes),
            "volume_gb": sum(v["size"] for v in volumes),
            "hourly_cost": round(cost, 4),
        },
    }
