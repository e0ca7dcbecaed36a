"""The records the store keeps: one dataclass per API object, plus the tenant.

They hold what the API would store, not what it answers; `schemas` renders
them into the API's shapes. All are plain data, so the state saves as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_FLOATING_IP = "NO FLOATING IP"


@dataclass
class Environment:
    id: int
    name: str
    region: str
    created_at: float


@dataclass
class Keypair:
    id: int
    name: str
    environment_id: int
    public_key: str
    fingerprint: str
    created_at: float


@dataclass
class SecurityRule:
    id: int
    direction: str
    ethertype: str
    protocol: str
    remote_ip_prefix: str
    port_range_min: int | None
    port_range_max: int | None
    status: str
    created_at: float


@dataclass
class VmEvent:
    time: float
    type: str
    reason: str
    message: str


@dataclass
class VirtualMachine:
    id: int
    name: str
    environment_id: int
    flavor_id: int
    image_name: str | None
    key_name: str
    created_at: float
    requires_public_ip: bool = False
    port_randomization: bool = True
    labels: list[str] = field(default_factory=list)
    callback_url: str | None = None
    enhanced_monitoring: bool = False
    status: str = "CREATING"
    vm_state: str | None = None
    power_state: str | None = None
    fixed_ip: str | None = None
    floating_ip: str | None = None
    floating_ip_status: str = NO_FLOATING_IP
    security_rules: list[SecurityRule] = field(default_factory=list)
    requested_rules: list[dict[str, Any]] = field(default_factory=list)
    boot_volume_id: int | None = None
    restore_public_ip: bool = False
    events: list[VmEvent] = field(default_factory=list)

    def record(
        self, when: float, reason: str, message: str, kind: str = "normal"
    ) -> None:
        """Add an entry to the VM's event history."""
        self.events.append(VmEvent(when, kind, reason, message))


@dataclass
class Volume:
    id: int
    name: str
    environment_id: int
    description: str
    volume_type: str
    size: int
    created_at: float
    image_id: int | None = None
    callback_url: str | None = None
    status: str = "creating"
    updated_at: float | None = None

    @property
    def bootable(self) -> bool:
        return self.image_id is not None


@dataclass
class Attachment:
    id: int
    instance_id: int
    volume_id: int
    device: str
    protected: bool
    created_at: float
    status: str = "ATTACHING"


@dataclass
class Profile:
    id: int
    name: str
    description: str | None
    data: dict[str, str]
    created_at: float


@dataclass
class Tenant:
    """Everything one API key owns. `id` is a hash: keys are never stored."""

    id: str
    org_id: int
    user_id: int
    environments: dict[int, Environment] = field(default_factory=dict)
    keypairs: dict[int, Keypair] = field(default_factory=dict)
    vms: dict[int, VirtualMachine] = field(default_factory=dict)
    volumes: dict[int, Volume] = field(default_factory=dict)
    attachments: dict[int, Attachment] = field(default_factory=dict)
    profiles: dict[int, Profile] = field(default_factory=dict)
    ip_counter: int = 0

    def environment_named(self, name: str) -> Environment | None:
        for environment in self.environments.values():
            if environment.name == name:
                return environment
        return None

    def attachments_of_vm(self, vm_id: int) -> list[Attachment]:
        return [a for a in self.attachments.values() if a.instance_id == vm_id]

    def attachments_of_volume(self, volume_id: int) -> list[Attachment]:
        return [a for a in self.attachments.values() if a.volume_id == volume_id]


def tenant_from_dict(raw: dict[str, Any]) -> Tenant:
    """A tenant back from its saved form."""

    def vm_from(data: dict[str, Any]) -> VirtualMachine:
        data = dict(data)
        data["security_rules"] = [SecurityRule(**r) for r in data["security_rules"]]
        data["events"] = [VmEvent(**e) for e in data["events"]]
        return VirtualMachine(**data)

    return Tenant(
        id=raw["id"],
        org_id=raw["org_id"],
        user_id=raw["user_id"],
        ip_counter=raw["ip_counter"],
        environments={int(k): Environment(**v) for k, v in raw["environments"].items()},
        keypairs={int(k): Keypair(**v) for k, v in raw["keypairs"].items()},
        vms={int(k): vm_from(v) for k, v in raw["vms"].items()},
        volumes={int(k): Volume(**v) for k, v in raw["volumes"].items()},
        attachments={int(k): Attachment(**v) for k, v in raw["attachments"].items()},
        profiles={int(k): Profile(**v) for k, v in raw["profiles"].items()},
    )
