"""Request payloads and response objects, after the vendor's description.

Requests are pydantic models in strict mode: the API validates bodies with a
JSON schema, so `"12"` is not an integer and `1` is not a boolean. Unknown
fields are ignored. Responses are plain dicts built by the `render_*`
functions, named after the vendor schema they follow; building dicts directly
keeps the hot paths (VM get and list) cheap.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pulumi_infrahub.emulator import catalog

if TYPE_CHECKING:
    from pulumi_infrahub.emulator.records import (
        Attachment,
        Environment,
        Keypair,
        Profile,
        SecurityRule,
        Tenant,
        VirtualMachine,
        Volume,
    )


class Payload(BaseModel):
    """Every request body: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


Protocol = Literal[
    "any", "ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ip",
    "ipip", "ipv6-encap", "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt",
    "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp", "sctp", "tcp", "udp",
    "udplite", "vrrp",
]  # fmt: skip


# Create_Security_Rule_Payload
class CreateSecurityRulePayload(Payload):
    direction: str
    ethertype: str
    protocol: Protocol
    remote_ip_prefix: str
    port_range_min: int | None = None
    port_range_max: int | None = None


# Flavor_Object_Fields
class FlavorObjectFields(Payload):
    cpu: int | None = None
    ram: float | None = None
    disk: int | None = None
    gpu: str | None = None
    gpu_count: int | None = None


# Profile_Object_Fields
class ProfileObjectFields(Payload):
    name: str = Field(max_length=50)
    description: str | None = Field(default=None, max_length=150)


# Create_Instances_Payload
class CreateInstancesPayload(Payload):
    name: str = Field(max_length=50)
    environment_name: str
    flavor_name: str
    key_name: str
    count: int
    image_name: str | None = None
    volume_name: str | None = None
    create_bootable_volume: bool | None = None
    user_data: str | None = None
    callback_url: str | None = Field(default=None, max_length=250)
    assign_floating_ip: bool | None = None
    enable_port_randomization: bool | None = None
    enhanced_monitoring_enabled: bool | None = None
    labels: list[str] | None = None
    security_rules: list[CreateSecurityRulePayload] | None = None
    profile: ProfileObjectFields | None = None
    flavor: FlavorObjectFields | None = None


# Create_Volume_Payload
class CreateVolumePayload(Payload):
    name: str = Field(max_length=50)
    environment_name: str
    size: int
    volume_type: str
    description: str | None = None
    image_id: int | None = None
    callback_url: str | None = Field(default=None, max_length=250)


# Update_Volume_Payload
class UpdateVolumePayload(Payload):
    environment_name: str


# Create_Environment
class CreateEnvironmentPayload(Payload):
    name: str = Field(max_length=50)
    region: str


# Update_Environment, and the keypair rename body
class RenamePayload(Payload):
    name: str = Field(max_length=50)


# Import_Keypair_Payload
class ImportKeypairPayload(Payload):
    name: str = Field(max_length=50)
    environment_name: str
    public_key: str


# Create_Profile_Payload
class CreateProfilePayload(Payload):
    name: str = Field(max_length=50)
    description: str | None = Field(default=None, max_length=150)
    data: dict[str, str]


# Attach_Volumes_Payload
class AttachVolumesPayload(Payload):
    volume_ids: list[int] | None = None
    protected: bool = False


# Detach_Volumes_Payload
class DetachVolumesPayload(Payload):
    volume_ids: list[int] | None = None


# Update_Volume_Attachment_Payload
class UpdateVolumeAttachmentPayload(Payload):
    protected: bool


# Edit_label_of_an_existing_VM_Payload
class EditLabelsPayload(Payload):
    labels: list[str] = Field(default_factory=list)


# AttachCallbackPayload
class CallbackPayload(Payload):
    url: str = Field(max_length=250)


# InstanceResizePayload: accepted and refused, resize being disabled.
class ResizePayload(Payload):
    flavor_name: str | None = None


# Request_Instance_Logs_Payload
class RequestLogsPayload(Payload):
    length: int | None = None


# UserEnhancedMetricsPayload
class EnhancedMetricsPayload(Payload):
    enabled: bool


def timestamp(seconds: float | None) -> str | None:
    """Naive UTC ISO 8601, the one form every known client parses."""
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def envelope(message: str, **payload: Any) -> dict[str, Any]:
    """The `{status, message, ...}` wrapper most answers use."""
    return {"status": True, "message": message, **payload}


def _features(region: str) -> dict[str, Any]:
    return {
        "green_status": catalog.GREEN_STATUS[region],
        "network_optimised": region != "US-1",
    }


def _flavor_features(spec: catalog.FlavorSpec) -> dict[str, bool]:
    return {
        "network_optimised": spec.gpu_count == 8,
        "no_reboot": False,
        "no_hibernation": spec.no_hibernation,
        "no_snapshot": False,
        "local_storage_only": False,
        "api_only": False,
    }


def _labels(labels: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"id": index, "label": label} for index, label in enumerate(labels, 1)]


# Instance_Flavor_Fields, cached: flavors never change.
_INSTANCE_FLAVORS: dict[int, dict[str, Any]] = {
    flavor.id: {
        "id": flavor.id,
        "name": flavor.name,
        "cpu": flavor.spec.cpu,
        "ram": flavor.spec.ram,
        "disk": flavor.spec.disk,
        "ephemeral": flavor.spec.ephemeral,
        "gpu": flavor.spec.gpu,
        "gpu_count": flavor.spec.gpu_count,
        "labels": _labels(flavor.spec.labels),
        "features": _flavor_features(flavor.spec),
    }
    for flavor in catalog.FLAVORS
}


def render_environment(environment: Environment) -> dict[str, Any]:
    """Environment_Fields."""
    return {
        "id": environment.id,
        "name": environment.name,
        "region": environment.region,
        "created_at": timestamp(environment.created_at),
        "features": _features(environment.region),
    }


def render_rule(rule: SecurityRule) -> dict[str, Any]:
    """Security_Group_Rule_Fields, also the form inside an instance."""
    return {
        "id": rule.id,
        "direction": rule.direction,
        "ethertype": rule.ethertype,
        "protocol": rule.protocol,
        "port_range_min": rule.port_range_min,
        "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix,
        "status": rule.status,
        "created_at": timestamp(rule.created_at),
    }


def render_vm(tenant: Tenant, vm: VirtualMachine, detail: bool) -> dict[str, Any]:
    """Instance_Fields. Without a public IP, the detail form shows `""` and the
    list and create forms `null`, as the API's own examples do."""
    environment = tenant.environments.get(vm.environment_id)
    region = environment.region if environment else catalog.REGIONS[0][1]
    floating_ip = vm.floating_ip or ("" if detail else None)
    if vm.floating_ip is None:
        ports = "NO_FLOATING_IP"
    else:
        ports = "ENABLED" if vm.port_randomization else "DISABLED"
    attachments = []
    for attachment in tenant.attachments.values():
        if attachment.instance_id != vm.id:
            continue
        volume = tenant.volumes.get(attachment.volume_id)
        attachments.append(
            {
                "id": attachment.id,
                "status": attachment.status,
                "device": attachment.device,
                "protected": attachment.protected,
                "created_at": timestamp(attachment.created_at),
                "volume": None
                if volume is None
                else {
                    "id": volume.id,
                    "name": volume.name,
                    "description": volume.description,
                    "volume_type": volume.volume_type,
                    "bootable": volume.bootable,
                    "size": volume.size,
                },
            }
        )
    return {
        "id": vm.id,
        "name": vm.name,
        "status": vm.status,
        "vm_state": vm.vm_state,
        "power_state": vm.power_state,
        "environment": {
            "id": vm.environment_id,
            "name": environment.name if environment else None,
            "org_id": tenant.org_id,
            "region": region,
            "features": _features(region),
        },
        "image": None if vm.image_name is None else {"name": vm.image_name},
        "os": vm.image_name,
        "flavor": _INSTANCE_FLAVORS[vm.flavor_id],
        "keypair": {"name": vm.key_name},
        "fixed_ip": vm.fixed_ip,
        "floating_ip": floating_ip,
        "floating_ip_status": vm.floating_ip_status,
        "port_randomization": vm.port_randomization,
        "port_randomization_status": ports,
        "requires_public_ip": vm.requires_public_ip,
        "security_rules": [render_rule(rule) for rule in vm.security_rules],
        "volume_attachments": attachments,
        "callback_url": vm.callback_url,
        "labels": list(vm.labels),
        "locked": False,
        "contract_id": None,
        "created_at": timestamp(vm.created_at),
        "features": _features(region),
        "cluster_id": None,
        "dedicated_inference_id": None,
        "enhanced_metrics": {"enabled": vm.enhanced_monitoring},
    }


def render_vm_events(tenant: Tenant, vm: VirtualMachine) -> list[dict[str, Any]]:
    """InstanceEventsFields, newest last."""
    return [
        {
            "instance_id": vm.id,
            "user_id": tenant.user_id,
            "org_id": tenant.org_id,
            "time": timestamp(event.time),
            "type": event.type,
            "reason": event.reason,
            "object": vm.name,
            "message": event.message,
        }
        for event in vm.events
    ]


def render_attachment(attachment: Attachment) -> dict[str, Any]:
    """Attach_Volume_Fields."""
    return {
        "id": attachment.id,
        "instance_id": attachment.instance_id,
        "volume_id": attachment.volume_id,
        "device": attachment.device,
        "status": attachment.status,
        "protected": attachment.protected,
        "created_at": timestamp(attachment.created_at),
    }


def render_volume(tenant: Tenant, volume: Volume, detail: bool) -> dict[str, Any]:
    """Volume_Fields (detail) or Volumes_Fields (list, without `os_image`)."""
    environment = tenant.environments.get(volume.environment_id)
    region = environment.region if environment else catalog.REGIONS[0][1]
    body: dict[str, Any] = {
        "id": volume.id,
        "name": volume.name,
        "environment": {
            "name": environment.name if environment else None,
            "region": region,
            "features": _features(region),
        },
        "description": volume.description,
        "volume_type": volume.volume_type,
        "size": volume.size,
        "status": volume.status,
        "bootable": volume.bootable,
        "image_id": volume.image_id,
        "callback_url": volume.callback_url,
        "created_at": timestamp(volume.created_at),
        "updated_at": timestamp(volume.updated_at),
        "attachments": [
            {
                "id": attachment.id,
                "instance_id": attachment.instance_id,
                "device": attachment.device,
                "status": attachment.status,
                "protected": attachment.protected,
            }
            for attachment in tenant.attachments.values()
            if attachment.volume_id == volume.id
        ],
    }
    if detail:
        image = catalog.IMAGES_BY_ID.get(volume.image_id or 0)
        body["os_image"] = image.name if image else ""
    return body


def render_keypair(tenant: Tenant, keypair: Keypair) -> dict[str, Any]:
    """Keypair_Fields."""
    environment = tenant.environments.get(keypair.environment_id)
    return {
        "id": keypair.id,
        "name": keypair.name,
        "environment": None
        if environment is None
        else {
            "id": environment.id,
            "name": environment.name,
            "region": environment.region,
            "created_at": timestamp(environment.created_at),
            "features": _features(environment.region),
        },
        "public_key": keypair.public_key,
        "fingerprint": keypair.fingerprint,
        "created_at": timestamp(keypair.created_at),
    }


def render_profile(profile: Profile) -> dict[str, Any]:
    """Profile_Fields: `data` goes back as a JSON-encoded string."""
    return {
        "id": profile.id,
        "name": profile.name,
        "description": profile.description,
        "data": json.dumps(profile.data),
        "created_at": timestamp(profile.created_at),
    }


def render_flavor(flavor: catalog.Flavor, in_stock: bool) -> dict[str, Any]:
    """Flavor_Fields."""
    spec = flavor.spec
    return {
        "id": flavor.id,
        "name": spec.name,
        "display_name": None,
        "region_name": flavor.region,
        "cpu": spec.cpu,
        "ram": spec.ram,
        "disk": spec.disk,
        "ephemeral": spec.ephemeral,
        "gpu": spec.gpu,
        "gpu_count": spec.gpu_count,
        "stock_available": in_stock,
        "created_at": timestamp(catalog.CATALOG_CREATED_AT),
        "labels": _labels(spec.labels),
        "features": _flavor_features(spec),
    }


def render_image(image: catalog.Image) -> dict[str, Any]:
    """Image_Fields."""
    gib = image.size_bytes // 1024**3
    return {
        "id": image.id,
        "name": image.name,
        "region_name": image.region,
        "type": "Ubuntu",
        "version": image.version,
        "description": image.description,
        "size": image.size_bytes,
        "display_size": f"{gib} GiB",
        "is_public": True,
        "labels": _labels(image.labels),
        "flavor_restrictions": {
            "has_flavor_restrictions": False,
            "restriction_type": None,
            "compatible_flavors": [],
        },
        "snapshot": None,
        "created_at": timestamp(catalog.CATALOG_CREATED_AT),
    }


def availability(free: int) -> str:
    """Stock counts as the API words them: exact below ten, then floors."""
    for floor in (200, 100, 25, 10):
        if free >= floor:
            return f"{floor}+"
    return str(free)
