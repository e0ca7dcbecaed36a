"""The emulator's state: tenants and their resources, the lifecycle clock, locking.

Every operation takes the store lock, first applies the lifecycle steps that
have come due (`_settle`), then looks up, checks and changes. Steps are kept in
a heap ordered by due time, so a VM created with a boot delay of six seconds
shows `CREATING`, then `BUILD`, then `ACTIVE` to whoever asks in between, and
with zero delays it settles on the very next request.

Ids are global integers, as on the real API, so an id from one tenant is
simply not found in another (404).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import ipaddress
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pulumi_infrahub.emulator import catalog
from pulumi_infrahub.emulator.errors import ApiError, bad_request, conflict, not_found
from pulumi_infrahub.emulator.faults import FaultState
from pulumi_infrahub.emulator.records import (
    NO_FLOATING_IP,
    Attachment,
    Environment,
    Keypair,
    Profile,
    SecurityRule,
    Tenant,
    VirtualMachine,
    Volume,
    tenant_from_dict,
)
from pulumi_infrahub.emulator.schemas import (
    CreateInstancesPayload,
    CreateSecurityRulePayload,
)
from pulumi_infrahub.emulator.settings import (
    DEMO_ENVIRONMENT,
    DEMO_KEYPAIR,
    DEMO_REGION,
    EmulatorSettings,
)

NO_FLOATING_IP_PORTS = "NO_FLOATING_IP"
MAX_VOLUMES_PER_VM = 10
MAX_VMS_PER_ENVIRONMENT = 250
MAX_COUNT = 20
STATE_VERSION = 1

# A well-formed ed25519 public key whose private half nobody holds.
DEMO_PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKfLx52tvLo1kBAb3uWyl16EOcUMB02Sg4qITRwtmLq/"
    " demo@infrahub-emulator"
)

# Two egress rules, IPv4 and IPv6, that every VM gets once it is ACTIVE; the
# IPv6 one carries an IPv4 prefix because that is what the API shows.
DEFAULT_EGRESS_RULES: tuple[dict[str, Any], ...] = tuple(
    {
        "direction": "egress",
        "ethertype": ethertype,
        "protocol": "any",
        "port_range_min": 1,
        "port_range_max": 65535,
        "remote_ip_prefix": "0.0.0.0/0",
    }
    for ethertype in ("IPv4", "IPv6")
)


def tenant_id_for_key(key: str) -> str:
    """A stable, non-reversible name for the tenant behind a key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def key_fingerprint(public_key: str) -> str:
    """The colon-separated MD5 of an OpenSSH public key's blob."""
    parts = public_key.split()
    if len(parts) < 2 or parts[0] not in catalog.SUPPORTED_KEY_TYPES:
        supported = ", ".join(catalog.SUPPORTED_KEY_TYPES)
        raise bad_request(
            f"The public key is not a supported OpenSSH key; it must start with "
            f"one of: {supported}."
        )
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(
            "The public key is not valid: its second field is not base64."
        ) from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def validate_rule(payload: CreateSecurityRulePayload) -> None:
    """The checks the API makes on a firewall rule beyond its schema."""
    if payload.direction not in ("ingress", "egress"):
        raise bad_request(
            f"Invalid direction {payload.direction!r}: use 'ingress' or 'egress'."
        )
    if payload.ethertype not in ("IPv4", "IPv6"):
        raise bad_request(
            f"Invalid ethertype {payload.ethertype!r}: use 'IPv4' or 'IPv6'."
        )
    try:
        ipaddress.ip_network(payload.remote_ip_prefix, strict=False)
    except ValueError:
        raise bad_request(
            f"Invalid remote_ip_prefix {payload.remote_ip_prefix!r}: give a CIDR "
            "such as 0.0.0.0/0 or 203.0.113.0/24."
        ) from None
    low, high = payload.port_range_min, payload.port_range_max
    for name, port in (("port_range_min", low), ("port_range_max", high)):
        if port is not None and not 1 <= port <= 65535:
            raise bad_request(f"Invalid {name} {port}: ports run from 1 to 65535.")
    if low is not None and high is not None and low > high:
        raise bad_request(
            f"port_range_min ({low}) must not be greater than port_range_max ({high})."
        )


def _rule_identity(rule: dict[str, Any] | SecurityRule) -> tuple[Any, ...]:
    values = asdict(rule) if isinstance(rule, SecurityRule) else rule
    return tuple(
        values.get(name)
        for name in (
            "direction",
            "ethertype",
            "protocol",
            "remote_ip_prefix",
            "port_range_min",
            "port_range_max",
        )
    )


def _wrong_state(vm: VirtualMachine, action: str, allowed: tuple[str, ...]) -> ApiError:
    need = " or ".join(allowed)
    return bad_request(
        f"VM {vm.name} cannot be {action} while its status is {vm.status}; "
        f"the VM must be {need}."
    )


Step = Callable[["Tenant", float, tuple[int, ...]], None]


class Store:
    """All tenants' state, behind one lock."""

    def __init__(self, settings: EmulatorSettings, faults: FaultState) -> None:
        self.settings = settings
        self.faults = faults
        self.clock = settings.clock
        self._lock = threading.RLock()
        self._generation = 0
        self._accepted = {tenant_id_for_key(key) for key in settings.accepted_keys}
        self._steps: dict[str, Step] = {
            name.removeprefix("_step_"): getattr(self, name)
            for name in dir(self)
            if name.startswith("_step_")
        }
        self._clear()
        if settings.state_file is not None and settings.state_file.exists():
            self._load(settings.state_file)

    # -- bookkeeping ----------------------------------------------------

    def _clear(self) -> None:
        self._generation += 1
        self.tenants: dict[str, Tenant] = {}
        self._pending: list[tuple[float, int, str, str, tuple[int, ...]]] = []
        self._sequence = 0
        self._next_ids: dict[str, int] = {
            "org": 1201,
            "environment": 3101,
            "keypair": 4101,
            "vm": 7601,
            "volume": 5101,
            "attachment": 6101,
            "rule": 9101,
            "profile": 801,
            "ip": 11,
        }

    def _new_id(self, kind: str) -> int:
        value = self._next_ids[kind]
        self._next_ids[kind] = value + 1
        return value

    @property
    def generation(self) -> int:
        """A number that changes whenever any state may have changed."""
        return self._generation

    @contextmanager
    def reading(self) -> Iterator[float]:
        """Hold the lock with every due step applied; yields the time."""
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            yield now

    @contextmanager
    def changing(self) -> Iterator[float]:
        """Like `reading`, and save the state afterwards when it has a file."""
        with self._lock:
            now = self.clock.now()
            self._settle(now)
            try:
                yield now
            finally:
                self._generation += 1
            self._save()

    def tenant_for_key(self, key: str) -> Tenant | None:
        """The tenant behind an accepted key, made on first use; else None."""
        tenant_id = tenant_id_for_key(key)
        if tenant_id not in self._accepted:
            return None
        tenant = self.tenants.get(tenant_id)
        if tenant is not None:
            return tenant
        with self._lock:
            return self._tenant(tenant_id)

    def _tenant(self, tenant_id: str) -> Tenant:
        tenant = self.tenants.get(tenant_id)
        if tenant is None:
            org_id = self._new_id("org")
            tenant = Tenant(id=tenant_id, org_id=org_id, user_id=org_id + 50_000)
            self.tenants[tenant_id] = tenant
            if self.settings.seed_demo_resources:
                self._seed(tenant)
        return tenant

    def _seed(self, tenant: Tenant) -> None:
        now = self.clock.now()
        environment = Environment(
            self._new_id("environment"), DEMO_ENVIRONMENT, DEMO_REGION, now
        )
        tenant.environments[environment.id] = environment
        keypair = Keypair(
            self._new_id("keypair"),
            DEMO_KEYPAIR,
            environment.id,
            DEMO_PUBLIC_KEY,
            key_fingerprint(DEMO_PUBLIC_KEY),
            now,
        )
        tenant.keypairs[keypair.id] = keypair

    def reset(self) -> None:
        """Forget every tenant's resources; tenants start afresh on next use."""
        with self._lock:
            self._clear()
            self._save()

    def _schedule(self, tenant: Tenant, due: float, step: str, *args: int) -> None:
        self._sequence += 1
        heapq.heappush(self._pending, (due, self._sequence, tenant.id, step, args))

    def _settle(self, now: float) -> None:
        pending = self._pending
        while pending and pending[0][0] <= now:
            due, _, tenant_id, step, args = heapq.heappop(pending)
            self._generation += 1
            tenant = self.tenants.get(tenant_id)
            if tenant is not None:
                self._steps[step](tenant, due, args)

    # -- persistence ----------------------------------------------------

    def _save(self) -> None:
        path = self.settings.state_file
        if path is None:
            return
        document = {
            "version": STATE_VERSION,
            "next_ids": self._next_ids,
            "sequence": self._sequence,
            "pending": [list(entry) for entry in self._pending],
            "tenants": [asdict(tenant) for tenant in self.tenants.values()],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name)
        with os.fdopen(handle, "w") as stream:
            json.dump(document, stream)
        os.replace(temporary, path)

    def _load(self, path: Path) -> None:
        try:
            document = json.loads(path.read_text())
            if document.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported version {document.get('version')!r}")
            self._next_ids.update(document["next_ids"])
            self._sequence = document["sequence"]
            self._pending = [
                (due, seq, tenant, step, tuple(args))
                for due, seq, tenant, step, args in document["pending"]
            ]
            heapq.heapify(self._pending)
            for raw in document["tenants"]:
                tenant = tenant_from_dict(raw)
                self.tenants[tenant.id] = tenant
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"Cannot load the emulator state from {path}: {error}. Delete the "
                "file to start with an empty cloud."
            ) from error

    # -- lookups --------------------------------------------------------

    def vm(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = tenant.vms.get(vm_id)
        if vm is None:
            raise not_found(f"VM {vm_id} does not exists.")
        return vm

    def volume(self, tenant: Tenant, volume_id: int) -> Volume:
        volume = tenant.volumes.get(volume_id)
        if volume is None:
            raise not_found(f"Volume {volume_id} does not exist.")
        return volume

    def environment(self, tenant: Tenant, environment_id: int) -> Environment:
        environment = tenant.environments.get(environment_id)
        if environment is None:
            raise not_found(f"Environment {environment_id} does not exist.")
        return environment

    def environment_by_name(self, tenant: Tenant, name: str) -> Environment:
        environment = tenant.environment_named(name)
        if environment is None:
            raise not_found(
                f"Environment {name} does not exist. Create it first or pick one "
                "from GET /core/environments."
            )
        return environment

    def keypair(self, tenant: Tenant, keypair_id: int) -> Keypair:
        keypair = tenant.keypairs.get(keypair_id)
        if keypair is None:
            raise not_found(f"Keypair {keypair_id} does not exist.")
        return keypair

    def profile(self, tenant: Tenant, profile_id: int) -> Profile:
        profile = tenant.profiles.get(profile_id)
        if profile is None:
            raise not_found(f"Profile {profile_id} does not exist.")
        return profile

    def attachment(self, tenant: Tenant, attachment_id: int) -> Attachment:
        attachment = tenant.attachments.get(attachment_id)
        if attachment is None:
            raise not_found(f"Volume attachment {attachment_id} does not exist.")
        return attachment

    def flavor_of(self, vm: VirtualMachine) -> catalog.Flavor:
        return _FLAVORS_BY_ID[vm.flavor_id]

    # -- stock ------------------------------------------------------------

    def gpus_in_use(self, region: str, model: str) -> int:
        """GPUs of one model held by every tenant's VMs in a region."""
        used = 0
        for tenant in self.tenants.values():
            for vm in tenant.vms.values():
                flavor = _FLAVORS_BY_ID[vm.flavor_id]
                if flavor.region == region and flavor.spec.gpu == model:
                    used += flavor.spec.gpu_count
        return used

    def gpus_free(self, region: str, model: str) -> int:
        capacity = catalog.GPU_CAPACITY.get((region, model), 0)
        return max(0, capacity - self.gpus_in_use(region, model))

    # -- environments -----------------------------------------------------

    def create_environment(self, tenant: Tenant, name: str, region: str) -> Environment:
        if region not in catalog.REGION_NAMES:
            regions = ", ".join(sorted(catalog.REGION_NAMES))
            raise not_found(f"Region {region} does not exist; use one of {regions}.")
        if tenant.environment_named(name) is not None:
            raise conflict(f"Environment with name {name} already exists.")
        environment = Environment(
            self._new_id("environment"), name, region, self.clock.now()
        )
        tenant.environments[environment.id] = environment
        return environment

    def rename_environment(
        self, tenant: Tenant, environment_id: int, name: str
    ) -> Environment:
        environment = self.environment(tenant, environment_id)
        other = tenant.environment_named(name)
        if other is not None and other.id != environment_id:
            raise conflict(f"Environment with name {name} already exists.")
        environment.name = name
        return environment

    def delete_environment(self, tenant: Tenant, environment_id: int) -> None:
        environment = self.environment(tenant, environment_id)
        vms = sum(
            1 for vm in tenant.vms.values() if vm.environment_id == environment_id
        )
        volumes = sum(
            1 for v in tenant.volumes.values() if v.environment_id == environment_id
        )
        keypairs = sum(
            1 for k in tenant.keypairs.values() if k.environment_id == environment_id
        )
        if vms or volumes or keypairs:
            raise ApiError(
                405,
                "Sorry but this request cannot be fulfilled because the environment "
                f"contains {vms} virtual-machines, {volumes} volumes, 0 firewalls & "
                f"{keypairs} key pairs in it. Please delete these before deleting "
                "the environment",
            )
        del tenant.environments[environment.id]

    # -- keypairs -----------------------------------------------------------

    def import_keypair(
        self, tenant: Tenant, name: str, environment_name: str, public_key: str
    ) -> Keypair:
        environment = self.environment_by_name(tenant, environment_name)
        fingerprint = key_fingerprint(public_key)
        for keypair in tenant.keypairs.values():
            if keypair.name == name and keypair.environment_id == environment.id:
                raise conflict(
                    f"Keypair with name {name} already exists in environment "
                    f"{environment.name}."
                )
        keypair = Keypair(
            self._new_id("keypair"),
            name,
            environment.id,
            public_key,
            fingerprint,
            self.clock.now(),
        )
        tenant.keypairs[keypair.id] = keypair
        return keypair

    def rename_keypair(self, tenant: Tenant, keypair_id: int, name: str) -> Keypair:
        keypair = self.keypair(tenant, keypair_id)
        for other in tenant.keypairs.values():
            if (
                other.id != keypair_id
                and other.name == name
                and other.environment_id == keypair.environment_id
            ):
                raise conflict(f"Keypair with name {name} already exists.")
        keypair.name = name
        return keypair

    def delete_keypair(self, tenant: Tenant, keypair_id: int) -> None:
        self.keypair(tenant, keypair_id)
        del tenant.keypairs[keypair_id]

    # -- virtual machines ---------------------------------------------------

    def create_vms(
        self, tenant: Tenant, payload: CreateInstancesPayload
    ) -> list[VirtualMachine]:
        now = self.clock.now()
        environment = self.environment_by_name(tenant, payload.environment_name)
        region = environment.region
        flavor = catalog.FLAVORS_BY_REGION_NAME.get((region, payload.flavor_name))
        if flavor is None:
            raise not_found(
                f"Flavor {payload.flavor_name} does not exist in region {region}. "
                "List the flavors of the region with GET /core/flavors?region="
                f"{region}."
            )
        if payload.image_name is not None and (
            (region, payload.image_name) not in catalog.IMAGES_BY_REGION_NAME
        ):
            raise not_found(
                f"Image {payload.image_name} does not exist in region {region}."
            )
        if payload.image_name is None and payload.volume_name is None:
            raise bad_request(
                "image_name is required unless the VM boots from an existing "
                "volume given as volume_name."
            )
        if not any(
            k.name == payload.key_name and k.environment_id == environment.id
            for k in tenant.keypairs.values()
        ):
            raise not_found(
                f"Keypair {payload.key_name} does not exist in environment "
                f"{environment.name}."
            )
        if not 1 <= payload.count <= MAX_COUNT:
            raise bad_request(
                f"count must be between 1 and {MAX_COUNT}; got {payload.count}."
            )
        boot_volume = self._boot_volume(tenant, environment, payload)
        rules = [rule.model_dump() for rule in payload.security_rules or []]
        for rule in payload.security_rules or []:
            validate_rule(rule)
        in_environment = sum(
            1 for vm in tenant.vms.values() if vm.environment_id == environment.id
        )
        if in_environment + payload.count > MAX_VMS_PER_ENVIRONMENT:
            raise bad_request(
                f"Environment {environment.name} can hold at most "
                f"{MAX_VMS_PER_ENVIRONMENT} VMs; it has {in_environment}."
            )
        spec = flavor.spec
        if spec.gpu:
            wanted = spec.gpu_count * payload.count
            free = self.gpus_free(region, spec.gpu)
            if wanted > free:
                raise bad_request(
                    f"Not enough {spec.gpu} GPUs in {region} for {payload.count} x "
                    f"{spec.name}: {wanted} needed, {free} available. Try another "
                    "region or flavor (GET /core/stocks)."
                )

        names = (
            [payload.name]
            if payload.count == 1
            else [f"{payload.name}-{index}" for index in range(1, payload.count + 1)]
        )
        created = []
        for name in names:
            vm = VirtualMachine(
                id=self._new_id("vm"),
                name=name,
                environment_id=environment.id,
                flavor_id=flavor.id,
                image_name=payload.image_name,
                key_name=payload.key_name,
                created_at=now,
                requires_public_ip=bool(payload.assign_floating_ip),
                port_randomization=payload.enable_port_randomization is not False,
                labels=list(payload.labels or []),
                callback_url=payload.callback_url,
                enhanced_monitoring=bool(payload.enhanced_monitoring_enabled),
                requested_rules=rules,
                boot_volume_id=boot_volume.id if boot_volume else None,
            )
            vm.record(
                now,
                "InstanceCreationRequest",
                f"Instance {name} Creation Request Sent.",
            )
            tenant.vms[vm.id] = vm
            created.append(vm)
            self._schedule_boot(tenant, vm, now)
        if payload.profile is not None:
            self._save_profile_from_create(tenant, payload, now)
        return created

    def _boot_volume(
        self,
        tenant: Tenant,
        environment: Environment,
        payload: CreateInstancesPayload,
    ) -> Volume | None:
        if payload.volume_name is None:
            return None
        if payload.count != 1:
            raise bad_request("volume_name can only be used with count 1.")
        for volume in tenant.volumes.values():
            if (
                volume.name == payload.volume_name
                and volume.environment_id == environment.id
            ):
                if volume.status != "available" or tenant.attachments_of_volume(
                    volume.id
                ):
                    raise bad_request("We can process with only available volumes.")
                return volume
        raise not_found(
            f"Volume {payload.volume_name} does not exist in environment "
            f"{environment.name}."
        )

    def _save_profile_from_create(
        self, tenant: Tenant, payload: CreateInstancesPayload, now: float
    ) -> None:
        assert payload.profile is not None
        data = payload.model_dump(
            exclude={"profile", "user_data", "security_rules", "flavor"},
            exclude_none=True,
        )
        profile = Profile(
            self._new_id("profile"),
            payload.profile.name,
            payload.profile.description,
            {key: str(value) for key, value in data.items()},
            now,
        )
        tenant.profiles[profile.id] = profile

    def _schedule_boot(self, tenant: Tenant, vm: VirtualMachine, now: float) -> None:
        fate, _ = self.faults.vm_fate(vm.name)
        if fate == "stuck":
            return
        boot = self.settings.delays.boot
        self._schedule(tenant, now + boot / 2, "vm_build", vm.id)
        self._schedule(
            tenant, now + boot, "vm_active" if fate == "active" else "vm_error", vm.id
        )

    def delete_vm(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status in ("CREATING", "BUILD"):
            raise bad_request(
                f"VM {vm.name} is currently being created and cannot be deleted "
                "yet. Please wait until the creation process is finished before "
                "attempting deletion."
            )
        if vm.status == "DELETING":
            return vm
        now = self.clock.now()
        vm.status = "DELETING"
        self._schedule(tenant, now + self.settings.delays.delete, "vm_deleted", vm.id)
        return vm

    def start_vm(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status != "SHUTOFF":
            raise _wrong_state(vm, "started", ("SHUTOFF",))
        self._power_step(tenant, vm, "STARTING", "vm_running")
        return vm

    def stop_vm(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status not in ("ACTIVE", "ERROR"):
            raise _wrong_state(vm, "stopped", ("ACTIVE", "ERROR"))
        self._power_step(tenant, vm, "STOPPING", "vm_stopped")
        return vm

    def reboot_vm(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status not in ("ACTIVE", "ERROR"):
            raise _wrong_state(vm, "rebooted", ("ACTIVE", "ERROR"))
        self._power_step(tenant, vm, "REBOOTING", "vm_running")
        return vm

    def _power_step(
        self, tenant: Tenant, vm: VirtualMachine, status: str, step: str
    ) -> None:
        vm.status = status
        self._schedule(
            tenant, self.clock.now() + self.settings.delays.power, step, vm.id
        )

    def hibernate_vm(
        self, tenant: Tenant, vm_id: int, retain_ip: bool
    ) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status != "ACTIVE":
            raise _wrong_state(vm, "hibernated", ("ACTIVE",))
        if self.flavor_of(vm).spec.no_hibernation:
            raise bad_request(
                f"Flavor {self.flavor_of(vm).name} of VM {vm.name} does not support "
                "hibernation."
            )
        vm.status = "HIBERNATING"
        due = self.clock.now() + self.settings.delays.hibernate
        self._schedule(tenant, due, "vm_hibernated", vm.id, int(retain_ip))
        return vm

    def restore_vm(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status == "HIBERNATING":
            raise bad_request(
                "The VM hibernation process is still going on. Please try later."
            )
        if vm.status != "HIBERNATED":
            raise _wrong_state(vm, "restored", ("HIBERNATED",))
        vm.status = "RESTORING"
        due = self.clock.now() + self.settings.delays.restore
        self._schedule(tenant, due, "vm_restored", vm.id)
        return vm

    def set_labels(
        self, tenant: Tenant, vm_id: int, labels: list[str]
    ) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status == "DELETING":
            raise bad_request(f"VM {vm.name} is being deleted; its labels are final.")
        vm.labels = list(labels)
        return vm

    def attach_public_ip(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status not in ("ACTIVE", "SHUTOFF"):
            raise _wrong_state(vm, "given a public IP", ("ACTIVE", "SHUTOFF"))
        if vm.floating_ip_status != NO_FLOATING_IP:
            raise bad_request(
                f"VM {vm.name} already has a public IP ({vm.floating_ip_status})."
            )
        vm.requires_public_ip = True
        vm.floating_ip_status = "ATTACHING"
        due = self.clock.now() + self.settings.delays.public_ip
        self._schedule(tenant, due, "vm_public_ip", vm.id)
        return vm

    def detach_public_ip(self, tenant: Tenant, vm_id: int) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        if vm.status not in ("ACTIVE", "SHUTOFF"):
            raise _wrong_state(vm, "detached from its public IP", ("ACTIVE", "SHUTOFF"))
        if vm.floating_ip_status != "ATTACHED":
            raise bad_request(f"VM {vm.name} has no public IP to detach.")
        vm.requires_public_ip = False
        vm.floating_ip_status = "DETACHING"
        due = self.clock.now() + self.settings.delays.detach
        self._schedule(tenant, due, "vm_public_ip_released", vm.id)
        return vm

    def set_vm_callback(
        self, tenant: Tenant, vm_id: int, url: str | None
    ) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        vm.callback_url = url
        return vm

    def set_enhanced_metrics(
        self, tenant: Tenant, vm_id: int, enabled: bool
    ) -> VirtualMachine:
        vm = self.vm(tenant, vm_id)
        vm.enhanced_monitoring = enabled
        return vm

    # -- volume attachments -------------------------------------------------

    def attach_volumes(
        self, tenant: Tenant, vm_id: int, volume_ids: list[int], protected: bool
    ) -> list[Attachment]:
        vm = self.vm(tenant, vm_id)
        if vm.status not in ("ACTIVE", "SHUTOFF"):
            raise _wrong_state(vm, "given volumes", ("ACTIVE", "SHUTOFF"))
        if not volume_ids:
            raise bad_request("volume_ids must list at least one volume id.")
        if len(set(volume_ids)) != len(volume_ids):
            raise bad_request("volume_ids lists the same volume more than once.")
        volumes = [self.volume(tenant, volume_id) for volume_id in volume_ids]
        for volume in volumes:
            if tenant.attachments_of_volume(volume.id):
                raise bad_request("There are already attached Volumes")
            if volume.status != "available":
                raise bad_request("We can process with only available volumes.")
            if volume.environment_id != vm.environment_id:
                raise bad_request(
                    f"Volume {volume.name} is in another environment than VM "
                    f"{vm.name}; move it with PATCH /core/volumes/{volume.id} first."
                )
        held = len(tenant.attachments_of_vm(vm.id))
        if held + len(volumes) > MAX_VOLUMES_PER_VM:
            raise bad_request(
                f"A VM can have at most {MAX_VOLUMES_PER_VM} volumes attached; VM "
                f"{vm.name} has {held} and the request adds {len(volumes)}."
            )
        return [self._attach(tenant, vm, volume, protected) for volume in volumes]

    def _attach(
        self, tenant: Tenant, vm: VirtualMachine, volume: Volume, protected: bool
    ) -> Attachment:
        now = self.clock.now()
        serial = hashlib.sha1(f"{volume.id}".encode(), usedforsecurity=False)
        attachment = Attachment(
            id=self._new_id("attachment"),
            instance_id=vm.id,
            volume_id=volume.id,
            device=f"/dev/disk/by-id/virtio-{serial.hexdigest()[:20]}",
            protected=protected,
            created_at=now,
        )
        tenant.attachments[attachment.id] = attachment
        due = now + self.settings.delays.attach
        self._schedule(tenant, due, "attachment_attached", attachment.id)
        return attachment

    def detach_volumes(
        self, tenant: Tenant, vm_id: int, volume_ids: list[int]
    ) -> list[Attachment]:
        vm = self.vm(tenant, vm_id)
        if vm.status not in ("ACTIVE", "SHUTOFF"):
            raise _wrong_state(vm, "detached from volumes", ("ACTIVE", "SHUTOFF"))
        if not volume_ids:
            raise bad_request("volume_ids must list at least one volume id.")
        by_volume = {a.volume_id: a for a in tenant.attachments_of_vm(vm.id)}
        if any(volume_id not in by_volume for volume_id in volume_ids):
            raise bad_request("Some volumes are not attached with the given VM.")
        attachments = [by_volume[volume_id] for volume_id in volume_ids]
        for attachment in attachments:
            if attachment.protected:
                raise bad_request(
                    f"Volume {attachment.volume_id} is protected on VM {vm.name}; "
                    f"unprotect it (PATCH /core/volume-attachments/{attachment.id}) "
                    "before detaching it."
                )
        due = self.clock.now() + self.settings.delays.detach
        for attachment in attachments:
            if attachment.status != "DETACHING":
                attachment.status = "DETACHING"
                self._schedule(tenant, due, "attachment_detached", attachment.id)
        return attachments

    def protect_attachment(
        self, tenant: Tenant, attachment_id: int, protected: bool
    ) -> Attachment:
        attachment = self.attachment(tenant, attachment_id)
        attachment.protected = protected
        return attachment

    # -- firewall rules -------------------------------------------------------

    def create_rule(
        self, tenant: Tenant, vm_id: int, payload: CreateSecurityRulePayload
    ) -> SecurityRule:
        vm = self.vm(tenant, vm_id)
        if vm.status in ("CREATING", "BUILD", "DELETING", "ERROR"):
            raise _wrong_state(
                vm, "given firewall rules", ("ACTIVE", "SHUTOFF", "HIBERNATED")
            )
        validate_rule(payload)
        identity = _rule_identity(payload.model_dump())
        if any(_rule_identity(rule) == identity for rule in vm.security_rules):
            raise conflict(f"This security rule already exists on VM {vm.name}.")
        now = self.clock.now()
        rule = SecurityRule(
            id=self._new_id("rule"),
            status="pending",
            created_at=now,
            **payload.model_dump(),
        )
        vm.security_rules.append(rule)
        self._schedule(
            tenant, now + self.settings.delays.rule, "rule_success", vm.id, rule.id
        )
        return rule

    def delete_rule(self, tenant: Tenant, vm_id: int, rule_id: int) -> None:
        vm = self.vm(tenant, vm_id)
        for rule in vm.security_rules:
            if rule.id == rule_id:
                vm.security_rules.remove(rule)
                return
        raise not_found(f"Security rule {rule_id} does not exist on VM {vm_id}.")

    # -- volumes ------------------------------------------------------------------

    def create_volume(
        self,
        tenant: Tenant,
        name: str,
        environment_name: str,
        size: int,
        volume_type: str,
        description: str | None,
        image_id: int | None,
        callback_url: str | None,
    ) -> Volume:
        environment = self.environment_by_name(tenant, environment_name)
        if volume_type not in catalog.VOLUME_TYPES:
            types = ", ".join(catalog.VOLUME_TYPES)
            raise bad_request(f"Volume type {volume_type} does not exist; use {types}.")
        if not 1 <= size <= 102_400:
            raise bad_request(f"size must be between 1 and 102400 GB; got {size}.")
        if image_id is not None:
            image = catalog.IMAGES_BY_ID.get(image_id)
            if image is None or image.region != environment.region:
                raise not_found(f"Image with ID {image_id} not found.")
            if size < 100:
                raise bad_request("A bootable volume needs a size of at least 100 GB.")
        if any(
            v.name == name and v.environment_id == environment.id
            for v in tenant.volumes.values()
        ):
            raise conflict(
                f"Volume with name {name} already exists in environment "
                f"{environment.name}."
            )
        now = self.clock.now()
        volume = Volume(
            id=self._new_id("volume"),
            name=name,
            environment_id=environment.id,
            description=description or "",
            volume_type=volume_type,
            size=size,
            created_at=now,
            image_id=image_id,
            callback_url=callback_url,
        )
        tenant.volumes[volume.id] = volume
        self._schedule(
            tenant, now + self.settings.delays.volume, "volume_available", volume.id
        )
        return volume

    def delete_volume(self, tenant: Tenant, volume_id: int) -> None:
        volume = self.volume(tenant, volume_id)
        for attachment in tenant.attachments_of_volume(volume.id):
            vm = tenant.vms.get(attachment.instance_id)
            name = vm.name if vm else attachment.instance_id
            raise bad_request(
                f'The Volume is currently attached to vm "{name}". Please detach it '
                "before deleting the volume."
            )
        if volume.status == "creating":
            raise bad_request(
                f"Volume {volume.name} is still being created; delete it once it is "
                "available."
            )
        if volume.status == "deleting":
            return
        now = self.clock.now()
        volume.status = "deleting"
        volume.updated_at = now
        self._schedule(
            tenant, now + self.settings.delays.delete, "volume_deleted", volume.id
        )

    def move_volume(
        self, tenant: Tenant, volume_id: int, environment_name: str
    ) -> tuple[Volume, dict[str, Any]]:
        volume = self.volume(tenant, volume_id)
        target = self.environment_by_name(tenant, environment_name)
        source = tenant.environments[volume.environment_id]
        if tenant.attachments_of_volume(volume.id):
            raise bad_request(
                f"Volume {volume.name} is attached; detach it before moving it."
            )
        if volume.status != "available":
            raise bad_request(
                f"Volume {volume.name} is {volume.status}; only available volumes "
                "can move."
            )
        if target.region != source.region:
            raise bad_request(
                f"Environment {target.name} is in {target.region} but the volume is "
                f"in {source.region}; a volume can only move within its region."
            )
        volume.environment_id = target.id
        volume.updated_at = self.clock.now()
        return volume, {"environment_name": target.name}

    def set_volume_callback(
        self, tenant: Tenant, volume_id: int, url: str | None
    ) -> Volume:
        volume = self.volume(tenant, volume_id)
        volume.callback_url = url
        return volume

    # -- profiles -------------------------------------------------------------------

    def create_profile(
        self, tenant: Tenant, name: str, description: str | None, data: dict[str, str]
    ) -> Profile:
        if any(p.name == name for p in tenant.profiles.values()):
            raise conflict(f"Profile with name {name} already exists.")
        profile = Profile(
            self._new_id("profile"), name, description, dict(data), self.clock.now()
        )
        tenant.profiles[profile.id] = profile
        return profile

    def delete_profile(self, tenant: Tenant, profile_id: int) -> Profile:
        profile = self.profile(tenant, profile_id)
        del tenant.profiles[profile_id]
        return profile

    # -- out-of-band changes (drift) ----------------------------------------------

    def drift_labels(self, tenant: Tenant, vm_id: int, labels: list[str]) -> None:
        self.vm(tenant, vm_id).labels = list(labels)

    def drift_stop(self, tenant: Tenant, vm_id: int) -> None:
        vm = self.vm(tenant, vm_id)
        if vm.status not in ("ACTIVE", "ERROR", "STOPPING"):
            raise _wrong_state(vm, "stopped", ("ACTIVE", "ERROR"))
        self._set_stopped(vm)
        vm.record(
            self.clock.now(),
            "InstanceStopSuccess",
            f"Instance {vm.name} was stopped outside the API.",
        )

    def drift_delete_vm(self, tenant: Tenant, vm_id: int) -> None:
        self.vm(tenant, vm_id)
        self._remove_vm(tenant, vm_id)

    def drift_delete_volume(self, tenant: Tenant, volume_id: int) -> None:
        self.volume(tenant, volume_id)
        for attachment in tenant.attachments_of_volume(volume_id):
            del tenant.attachments[attachment.id]
        del tenant.volumes[volume_id]

    def drift_delete_rule(self, tenant: Tenant, vm_id: int, rule_id: int) -> None:
        self.delete_rule(tenant, vm_id, rule_id)

    def drift_tenant_of_vm(self, vm_id: int) -> Tenant:
        for tenant in self.tenants.values():
            if vm_id in tenant.vms:
                return tenant
        raise not_found(f"VM {vm_id} does not exists.")

    def drift_tenant_of_volume(self, volume_id: int) -> Tenant:
        for tenant in self.tenants.values():
            if volume_id in tenant.volumes:
                return tenant
        raise not_found(f"Volume {volume_id} does not exist.")

    # -- lifecycle steps ------------------------------------------------------------
    # Each step finds its object again: it may have gone since it was scheduled.

    def _step_vm_build(self, tenant: Tenant, due: float, args: tuple[int, ...]) -> None:
        vm = tenant.vms.get(args[0])
        if vm is not None and vm.status == "CREATING":
            vm.status = "BUILD"
            vm.vm_state = "building"

    def _step_vm_active(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is None or vm.status not in ("CREATING", "BUILD"):
            return
        vm.status, vm.vm_state, vm.power_state = "ACTIVE", "active", "RUNNING"
        vm.fixed_ip = self._fixed_ip(tenant, vm)
        for rule in (*DEFAULT_EGRESS_RULES, *vm.requested_rules):
            if any(
                _rule_identity(r) == _rule_identity(rule) for r in vm.security_rules
            ):
                continue
            vm.security_rules.append(
                SecurityRule(
                    id=self._new_id("rule"), status="SUCCESS", created_at=due, **rule
                )
            )
        vm.requested_rules = []
        if vm.boot_volume_id is not None:
            volume = tenant.volumes.get(vm.boot_volume_id)
            if volume is not None and not tenant.attachments_of_volume(volume.id):
                self._attach(tenant, vm, volume, protected=False).status = "ATTACHED"
        vm.record(
            due, "InstanceCreationSuccess", f"Instance {vm.name} Created Successfully."
        )
        if vm.requires_public_ip:
            vm.floating_ip_status = "ATTACHING"
            self._schedule(
                tenant, due + self.settings.delays.public_ip, "vm_public_ip", vm.id
            )

    def _step_vm_error(self, tenant: Tenant, due: float, args: tuple[int, ...]) -> None:
        vm = tenant.vms.get(args[0])
        if vm is None or vm.status not in ("CREATING", "BUILD"):
            return
        vm.status, vm.vm_state, vm.power_state = "ERROR", "error", "NOSTATE"
        reason = self.faults.faults.vm_error_reason
        vm.record(
            due,
            "InstanceCreationFailed",
            f"Instance {vm.name} Creation Failed: {reason}",
            kind="warning",
        )

    def _step_vm_public_ip(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is None or vm.floating_ip_status != "ATTACHING":
            return
        vm.floating_ip = self._public_ip()
        vm.floating_ip_status = "ATTACHED"

    def _step_vm_public_ip_released(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is not None and vm.floating_ip_status == "DETACHING":
            vm.floating_ip = None
            vm.floating_ip_status = NO_FLOATING_IP

    def _step_vm_running(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is not None and vm.status in ("STARTING", "REBOOTING"):
            started = vm.status == "STARTING"
            reason = "InstanceStartSuccess" if started else "InstanceRebootSuccess"
            vm.status, vm.vm_state, vm.power_state = "ACTIVE", "active", "RUNNING"
            vm.record(due, reason, f"Instance {vm.name} is ACTIVE.")

    def _step_vm_stopped(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is not None and vm.status == "STOPPING":
            self._set_stopped(vm)
            vm.record(
                due, "InstanceStopSuccess", f"Instance {vm.name} Stopped Successfully."
            )

    def _set_stopped(self, vm: VirtualMachine) -> None:
        vm.status, vm.vm_state, vm.power_state = "SHUTOFF", "stopped", "SHUTDOWN"

    def _step_vm_hibernated(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is None or vm.status != "HIBERNATING":
            return
        vm.status, vm.vm_state, vm.power_state = (
            "HIBERNATED",
            "shelved_offloaded",
            "SHUTDOWN",
        )
        retain_ip = bool(args[1])
        if not retain_ip and vm.floating_ip_status != NO_FLOATING_IP:
            vm.floating_ip = None
            vm.floating_ip_status = NO_FLOATING_IP
            vm.restore_public_ip = True
        vm.record(
            due,
            "HibernateInstanceSuccess",
            f"Instance {vm.name} Hibernated Successfully.",
        )

    def _step_vm_restored(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is None or vm.status != "RESTORING":
            return
        vm.status, vm.vm_state, vm.power_state = "ACTIVE", "active", "RUNNING"
        if vm.restore_public_ip:
            vm.restore_public_ip = False
            vm.floating_ip_status = "ATTACHING"
            self._schedule(
                tenant, due + self.settings.delays.public_ip, "vm_public_ip", vm.id
            )
        vm.record(
            due,
            "RestoreHibernationInstanceSuccess",
            f"Instance {vm.name} Restored Successfully.",
        )

    def _step_vm_deleted(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is not None and vm.status == "DELETING":
            self._remove_vm(tenant, vm.id)

    def _remove_vm(self, tenant: Tenant, vm_id: int) -> None:
        for attachment in tenant.attachments_of_vm(vm_id):
            del tenant.attachments[attachment.id]
        del tenant.vms[vm_id]

    def _step_volume_available(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        volume = tenant.volumes.get(args[0])
        if volume is not None and volume.status == "creating":
            volume.status = "available"
            volume.updated_at = due

    def _step_volume_deleted(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        volume = tenant.volumes.get(args[0])
        if volume is not None and volume.status == "deleting":
            del tenant.volumes[volume.id]

    def _step_attachment_attached(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        attachment = tenant.attachments.get(args[0])
        if attachment is not None and attachment.status == "ATTACHING":
            attachment.status = "ATTACHED"

    def _step_attachment_detached(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        attachment = tenant.attachments.get(args[0])
        if attachment is not None and attachment.status == "DETACHING":
            del tenant.attachments[attachment.id]

    def _step_rule_success(
        self, tenant: Tenant, due: float, args: tuple[int, ...]
    ) -> None:
        vm = tenant.vms.get(args[0])
        if vm is None:
            return
        for rule in vm.security_rules:
            if rule.id == args[1] and rule.status == "pending":
                rule.status = "SUCCESS"

    # -- addresses --------------------------------------------------------------------

    def _fixed_ip(self, tenant: Tenant, vm: VirtualMachine) -> str:
        tenant.ip_counter += 1
        subnet = vm.environment_id % 250
        return f"10.{subnet // 250}.{subnet}.{10 + tenant.ip_counter % 240}"

    def _public_ip(self) -> str:
        value = self._new_id("ip")
        block = ("203.0.113", "198.51.100")[(value // 240) % 2]
        return f"{block}.{10 + value % 240}"


_FLAVORS_BY_ID: dict[int, catalog.Flavor] = {f.id: f for f in catalog.FLAVORS}
