"""`/core/virtual-machines`: lifecycle, actions, rules, volumes, callbacks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pulumi_infrahub.emulator.encoding import RawJson
from pulumi_infrahub.emulator.errors import ApiError, bad_request
from pulumi_infrahub.emulator.records import Tenant, VirtualMachine
from pulumi_infrahub.emulator.routes._common import (
    PageQuery,
    PageSizeQuery,
    bare,
    cached,
    caller,
    ok,
    paginate,
    search,
)
from pulumi_infrahub.emulator.schemas import (
    AttachVolumesPayload,
    CallbackPayload,
    CreateInstancesPayload,
    CreateSecurityRulePayload,
    DetachVolumesPayload,
    EditLabelsPayload,
    EnhancedMetricsPayload,
    ResizePayload,
    render_attachment,
    render_rule,
    render_vm,
    render_vm_events,
    timestamp,
)

router = APIRouter(prefix="/v1/core/virtual-machines")

METRIC_DURATIONS = ("1h", "2h", "4h", "6h", "12h", "1d", "3d", "7d", "15d", "30d")
_TRUE = ("true", "True", "1")
_FALSE = ("false", "False", "0")


@router.post("")
async def create_vms(payload: CreateInstancesPayload, request: Request) -> Response:
    """Create `count` VMs; the answer always lists them in `instances`."""
    store, tenant = caller(request)
    with store.changing():
        vms = store.create_vms(tenant, payload)
        instances = [render_vm(tenant, vm, detail=False) for vm in vms]
    return ok("VM is scheduled for creation.", instances=instances)


@router.get("")
async def list_vms(
    request: Request,
    page: PageQuery = None,
    page_size: PageSizeQuery = None,
    search_text: Annotated[str | None, Query(alias="search")] = None,
    environment: str | None = None,
    exact_environment_match: bool = False,
    exclude_firewalls: Annotated[list[int] | None, Query()] = None,
) -> Response:
    """VMs oldest first, filtered by name and environment, optionally paged.

    `exclude_firewalls` (ids repeated, as the vendor document has it) is
    checked and has no effect: the emulator has no organisation firewalls.
    """
    store, tenant = caller(request)
    with store.reading():
        vms = search(list(tenant.vms.values()), search_text, lambda vm: vm.name)
        if environment:
            wanted = environment.lower()

            def matches(environment_id: int) -> bool:
                found = tenant.environments.get(environment_id)
                name = found.name.lower() if found else ""
                return name == wanted if exact_environment_match else wanted in name

            vms = [vm for vm in vms if matches(vm.environment_id)]
        chosen, paging = paginate(vms, page, page_size)
        instances = _list_form(request, tenant, chosen)
    return ok("Getting VMs successful", instances=instances, **paging)


def _list_form(request: Request, tenant: Tenant, vms: list[VirtualMachine]) -> RawJson:
    def form(vm: VirtualMachine) -> bytes:
        return cached(
            request, (vm.id, False), lambda: render_vm(tenant, vm, False)
        ).data

    return RawJson(b"[" + b",".join(form(vm) for vm in vms) + b"]")


@router.get("/name-availability/{name}")
async def vm_name_availability(
    name: str, request: Request, count: str | None = None
) -> Response:
    """Whether `count` VMs could be created under this name without a clash."""
    store, tenant = caller(request)
    try:
        how_many = 1 if count is None else int(count)
    except ValueError:
        raise bad_request(f"count must be a whole number; got {count!r}.") from None
    names = {name} if how_many <= 1 else {f"{name}-{i}" for i in range(1, how_many + 1)}
    with store.reading():
        taken = any(vm.name in names for vm in tenant.vms.values())
    message = "This name is already in use" if taken else "This name is available"
    return bare({"name": name, "available": not taken, "message": message})


@router.get("/{vm_id}")
async def get_vm(vm_id: int, request: Request) -> Response:
    """One VM in its detail form."""
    store, tenant = caller(request)
    with store.reading():
        vm = store.vm(tenant, vm_id)
        instance = cached(request, (vm.id, True), lambda: render_vm(tenant, vm, True))
    return ok("Getting VM detail successful", instance=instance)


@router.delete("/{vm_id}")
async def delete_vm(vm_id: int, request: Request) -> Response:
    """Start deleting; the VM shows DELETING, then answers 404."""
    store, tenant = caller(request)
    with store.changing():
        store.delete_vm(tenant, vm_id)
    return ok("Instance is being deleted.")


@router.get("/{vm_id}/start")
async def start_vm(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.start_vm(tenant, vm_id)
    return ok(f"VM {vm.name} is scheduled to start.")


@router.get("/{vm_id}/stop")
async def stop_vm(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.stop_vm(tenant, vm_id)
    return ok(f"VM {vm.name} is scheduled to stop.")


@router.get("/{vm_id}/hard-reboot")
async def hard_reboot_vm(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.reboot_vm(tenant, vm_id)
    return ok(f"VM {vm.name} is scheduled to reboot.")


@router.get("/{vm_id}/hibernate")
async def hibernate_vm(
    vm_id: int, request: Request, retain_ip: str | None = None
) -> Response:
    """Hibernate; without `retain_ip=true` the public IP is released."""
    store, tenant = caller(request)
    if retain_ip is None or retain_ip in _FALSE:
        keep = False
    elif retain_ip in _TRUE:
        keep = True
    else:
        raise bad_request(f"retain_ip must be true or false; got {retain_ip!r}.")
    with store.changing():
        vm = store.hibernate_vm(tenant, vm_id, keep)
    return ok(f"VM {vm.name} is scheduled to hibernate.")


@router.get("/{vm_id}/hibernate-restore")
async def restore_vm(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.restore_vm(tenant, vm_id)
    return ok(f"VM {vm.name} is scheduled to restore.")


@router.post("/{vm_id}/resize")
async def resize_vm(vm_id: int, payload: ResizePayload, request: Request) -> Response:
    """Resize is switched off on the live API, so it is here."""
    store, tenant = caller(request)
    with store.reading():
        store.vm(tenant, vm_id)
    raise bad_request("This feature is currently disabled")


@router.put("/{vm_id}/label")
async def edit_labels(
    vm_id: int, payload: EditLabelsPayload, request: Request
) -> Response:
    """Replace the whole label list."""
    store, tenant = caller(request)
    with store.changing():
        vm = store.set_labels(tenant, vm_id, payload.labels)
    return ok(f"labels for VM: {vm.name} is set to: {payload.labels!r}")


@router.post("/{vm_id}/attach-floatingip")
async def attach_public_ip(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.attach_public_ip(tenant, vm_id)
    return ok(f"A Public IP will be assigned to VM {vm.name}.")


@router.post("/{vm_id}/detach-floatingip")
async def detach_public_ip(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.detach_public_ip(tenant, vm_id)
    return ok(f"Public IP will be detached from the VM {vm.name}.")


@router.post("/{vm_id}/attach-volumes")
async def attach_volumes(
    vm_id: int, payload: AttachVolumesPayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        attachments = store.attach_volumes(
            tenant, vm_id, payload.volume_ids or [], payload.protected
        )
        rendered = [render_attachment(a) for a in attachments]
    return ok("Volumes attaching now.", volume_attachments=rendered)


@router.post("/{vm_id}/detach-volumes")
async def detach_volumes(
    vm_id: int, payload: DetachVolumesPayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        attachments = store.detach_volumes(tenant, vm_id, payload.volume_ids or [])
        rendered = [render_attachment(a) for a in attachments]
    return ok("Volumes detaching now.", volume_attachments=rendered)


@router.post("/{vm_id}/sg-rules")
async def create_rule(
    vm_id: int, payload: CreateSecurityRulePayload, request: Request
) -> Response:
    """Add a firewall rule; it is `pending` until the network applies it."""
    store, tenant = caller(request)
    with store.changing():
        rule = store.create_rule(tenant, vm_id, payload)
        rendered = render_rule(rule)
    return ok("Security Rule created successfully", security_rule=rendered)


@router.delete("/{vm_id}/sg-rules/{sg_rule_id}")
async def delete_rule(vm_id: int, sg_rule_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        store.delete_rule(tenant, vm_id, sg_rule_id)
    return ok("Security rule deleted successfully")


@router.post("/{vm_id}/attach-callback")
async def attach_callback(
    vm_id: int, payload: CallbackPayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.set_vm_callback(tenant, vm_id, payload.url)
    return ok(
        f"Callback URL successfully attached to VM '{vm.name}'. Any action events "
        "on your instance will be posted to the provided URL.",
        url=payload.url,
    )


@router.put("/{vm_id}/update-callback")
async def update_callback(
    vm_id: int, payload: CallbackPayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.set_vm_callback(tenant, vm_id, payload.url)
    return ok(f"Callback URL successfully updated in VM {vm.name}.", url=payload.url)


@router.delete("/{vm_id}/delete-callback")
async def delete_callback(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.set_vm_callback(tenant, vm_id, None)
    return ok(f"Callback URL deleted successfully in VM {vm.name}.")


@router.get("/{vm_id}/events")
async def vm_events(vm_id: int, request: Request) -> Response:
    store, tenant = caller(request)
    with store.reading():
        events = render_vm_events(tenant, store.vm(tenant, vm_id))
    return ok("Getting VM events success", instance_events=events)


@router.get("/{vm_id}/metrics")
async def vm_metrics(
    vm_id: int, request: Request, duration: str | None = None
) -> Response:
    """A few synthetic samples per metric, without the envelope."""
    store, tenant = caller(request)
    if duration is not None and duration not in METRIC_DURATIONS:
        choices = ", ".join(METRIC_DURATIONS)
        raise ApiError(406, f"duration must be one of {choices}; got {duration!r}.")
    with store.reading() as now:
        vm = store.vm(tenant, vm_id)
        if vm.status != "ACTIVE":
            raise bad_request(
                "Virtual Machine needs to be in a valid state to view metrics"
            )
        started = vm.created_at
    samples = [started + (now - started) * step / 4 for step in range(1, 5)]
    units = {
        "cpu": "ns",
        "memory.usages": "MB",
        "network.in": "B",
        "network.out": "B",
        "disk.read": "B",
        "disk.write": "B",
    }
    return bare(
        {
            metric: {
                "unit": unit,
                "columns": ["time", "granularity", "value"],
                "data": [
                    [timestamp(moment), 60, int((moment - started) * 1000) + index]
                    for index, moment in enumerate(samples)
                ],
            }
            for metric, unit in units.items()
        }
    )


@router.patch("/{vm_id}/enhanced-metrics")
async def toggle_enhanced_metrics(
    vm_id: int, payload: EnhancedMetricsPayload, request: Request
) -> Response:
    store, tenant = caller(request)
    with store.changing():
        vm = store.set_enhanced_metrics(tenant, vm_id, payload.enabled)
    state = "enabled" if payload.enabled else "disabled"
    command = (
        "curl -sSL https://example.invalid/hyperstack-vm-agent/install.sh | sudo bash"
        if payload.enabled
        else None
    )
    return ok(
        f"Enhanced metrics {state} for VM {vm.name}.",
        metrics={"enabled": payload.enabled},
        install_command=command,
    )
