"""Virtual machines: `/core/virtual-machines`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Literal

from pulumi_infrahub.client._base import (
    PAGE_SIZE,
    AreaClient,
    adopt_after_ambiguous_failure,
)
from pulumi_infrahub.client._http import HTTPSession, Repeat
from pulumi_infrahub.client.errors import NotFoundError
from pulumi_infrahub.client.models import (
    CustomFlavor,
    InstanceEvent,
    MetricSeries,
    NameAvailability,
    Page,
    ProfileRef,
    SecurityRule,
    SecurityRuleCreate,
    VirtualMachine,
    VirtualMachineCreate,
    VolumeAttachment,
)
from pulumi_infrahub.client.waiting import (
    Listing,
    PollSchedule,
    SharedPoller,
    wait_for,
)

__all__ = ["MetricsDuration", "VirtualMachinesClient"]

_ROOT = "/core/virtual-machines"

MetricsDuration = Literal["1h", "2h", "4h", "6h", "12h", "1d", "3d", "7d", "15d", "30d"]


class VirtualMachinesClient(AreaClient):
    """Create, read, change and delete VMs, and wait for their status."""

    def __init__(
        self, http: HTTPSession, *, schedule: PollSchedule | None = None
    ) -> None:
        super().__init__(http)
        self.schedule = schedule or PollSchedule()
        self.poller: SharedPoller[VirtualMachine] = SharedPoller(self._all_by_id)

    # -- read ---------------------------------------------------------------

    def get(self, vm_id: int) -> VirtualMachine:
        """One VM; raises NotFoundError if it does not exist."""
        path = f"{_ROOT}/{vm_id}"
        body = self._http.request("GET", path)
        return self._one(
            VirtualMachine, self._field(body, "instance", "GET", path), "GET", path
        )

    def get_recent(self, vm_id: int, *, max_age: float = 1.0) -> VirtualMachine:
        """One VM as a list of every VM fetched at most `max_age` seconds ago
        shows it, else read on its own; raises NotFoundError if it does not
        exist. The list is shared with the waits and every other caller (see
        `waiting`), so a fleet's worth of callers costs one request, not one
        each. For reads where a second-old view is as good as a fresh one."""
        found = self.poller.recent(max_age).get(vm_id)
        return found if found is not None else self.get(vm_id)

    def get_list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
        environment: str | None = None,
        exact_environment_match: bool | None = None,
        exclude_firewalls: Sequence[int] | None = None,
    ) -> Page[VirtualMachine]:
        """One page of VMs, oldest first; `search` matches part of the name,
        case-insensitively."""
        return self._get_page(
            _ROOT,
            "instances",
            VirtualMachine,
            {
                "page": page,
                "pageSize": page_size,
                "search": search,
                "environment": environment,
                "exact_environment_match": exact_environment_match,
                "exclude_firewalls": list(exclude_firewalls or []) or None,
            },
        )

    def get_all(
        self,
        *,
        search: str | None = None,
        environment: str | None = None,
        exact_environment_match: bool | None = None,
    ) -> list[VirtualMachine]:
        """Every VM matching the filters, all pages walked."""
        return self._get_every_page(
            _ROOT,
            "instances",
            VirtualMachine,
            {
                "search": search,
                "environment": environment,
                "exact_environment_match": exact_environment_match,
            },
        )

    def get_by_name(
        self, name: str, *, environment: str | None = None
    ) -> VirtualMachine | None:
        """The VM with exactly this name (in `environment`, if given), or
        None; raises AmbiguousNameError if several have it."""
        vms = self.get_all(
            search=name,
            environment=environment,
            exact_environment_match=True if environment else None,
        )
        where = f" in environment {environment!r}" if environment else ""
        return self._only_named(vms, name, "VM", where=where)

    def is_name_available(self, name: str, *, count: int = 1) -> NameAvailability:
        """Whether `name` is free for `count` new VMs."""
        path = f"{_ROOT}/name-availability/{name}"
        body = self._http.request("GET", path, params={"count": count})
        return self._one(NameAvailability, body, "GET", path)

    # -- create and delete --------------------------------------------------

    def create(
        self,
        name: str,
        *,
        environment_name: str,
        flavor_name: str,
        key_name: str,
        image_name: str | None = None,
        count: int = 1,
        volume_name: str | None = None,
        create_bootable_volume: bool | None = None,
        user_data: str | None = None,
        callback_url: str | None = None,
        assign_floating_ip: bool | None = None,
        enable_port_randomization: bool | None = None,
        enhanced_monitoring_enabled: bool | None = None,
        labels: Sequence[str] | None = None,
        security_rules: Sequence[SecurityRuleCreate] | None = None,
        profile: ProfileRef | None = None,
        flavor: CustomFlavor | None = None,
    ) -> list[VirtualMachine]:
        """Create `count` VMs; returns them in their first state (`CREATING`).

        The request is sent once. If its answer is lost or the API fails with
        a 5xx, the VMs are looked up by name in the environment and returned
        if they exist (see the retry policy in `pulumi_infrahub.client`).
        Invalid arguments raise InvalidArgumentError before anything is sent.
        """
        payload = VirtualMachineCreate(
            name=name,
            environment_name=environment_name,
            flavor_name=flavor_name,
            key_name=key_name,
            image_name=image_name,
            count=count,
            volume_name=volume_name,
            create_bootable_volume=create_bootable_volume,
            user_data=user_data,
            callback_url=callback_url,
            assign_floating_ip=assign_floating_ip,
            enable_port_randomization=enable_port_randomization,
            enhanced_monitoring_enabled=enhanced_monitoring_enabled,
            labels=list(labels) if labels is not None else None,
            security_rules=list(security_rules) if security_rules is not None else None,
            profile=profile,
            flavor=flavor,
        )
        return self.create_from(payload)

    def create_from(self, payload: VirtualMachineCreate) -> list[VirtualMachine]:
        """`create` with a ready-made payload."""

        def send() -> list[VirtualMachine]:
            body = self._http.request(
                "POST", _ROOT, json=payload.to_body(), repeat=Repeat.IF_UNPROCESSED
            )
            vms = self._field(body, "instances", "POST", _ROOT)
            return self._many(VirtualMachine, vms, "POST", _ROOT)

        def find() -> list[VirtualMachine] | None:
            return self._find_created(payload) or None

        return adopt_after_ambiguous_failure(
            send, find, what=f"Creating VM {payload.name!r}"
        )

    def _find_created(self, payload: VirtualMachineCreate) -> list[VirtualMachine]:
        # How the API names the extra VMs of a `count > 1` create is not
        # documented; take the exact name and the name followed by a
        # separator, and only accept a complete set.
        candidates = self.get_all(
            search=payload.name,
            environment=payload.environment_name,
            exact_environment_match=True,
        )
        if payload.count == 1:
            same = [vm for vm in candidates if vm.name == payload.name]
            # Two VMs with the name: one predates this create, and which one
            # is new cannot be told, so adopt neither.
            return same if len(same) == 1 else []
        made = [
            vm
            for vm in candidates
            if vm.name == payload.name or vm.name.startswith(payload.name + "-")
        ]
        return made if len(made) == payload.count else []

    def delete(self, vm_id: int) -> None:
        """Start deleting a VM (it shows `DELETING`, then disappears).

        Raises NotFoundError if there is no such VM."""
        self._http.request("DELETE", f"{_ROOT}/{vm_id}")

    # -- power and hibernation ---------------------------------------------

    def start(self, vm_id: int) -> None:
        """Start a `SHUTOFF` VM; any other state is a BadRequestError."""
        self._action(vm_id, "start")

    def stop(self, vm_id: int) -> None:
        """Stop an `ACTIVE` or `ERROR` VM."""
        self._action(vm_id, "stop")

    def hard_reboot(self, vm_id: int) -> None:
        """Hard-reboot an `ACTIVE` or `ERROR` VM."""
        self._action(vm_id, "hard-reboot")

    def hibernate(self, vm_id: int, *, retain_ip: bool = False) -> None:
        """Hibernate an `ACTIVE` VM; without `retain_ip` its public IP is
        released and a new one given on restore."""
        self._action(vm_id, "hibernate", params={"retain_ip": retain_ip})

    def hibernate_restore(self, vm_id: int) -> None:
        """Restore a `HIBERNATED` VM."""
        self._action(vm_id, "hibernate-restore")

    def resize(self, vm_id: int, *, flavor_name: str) -> None:
        """Ask for another flavor. The live API answers that the feature is
        disabled (BadRequestError): a flavor change needs a new VM."""
        path = f"{_ROOT}/{vm_id}/resize"
        self._http.request(
            "POST",
            path,
            json={"flavor_name": flavor_name},
            repeat=Repeat.IF_UNPROCESSED,
        )

    def _action(
        self, vm_id: int, action: str, *, params: Mapping[str, Any] | None = None
    ) -> None:
        # Actions are GETs that change state, so they are not repeated after
        # a lost answer: a repeat in the new state would be refused with 400.
        path = f"{_ROOT}/{vm_id}/{action}"
        self._http.request("GET", path, params=params, repeat=Repeat.IF_UNPROCESSED)

    # -- labels, public IP, callback ---------------------------------------

    def set_labels(self, vm_id: int, labels: Sequence[str]) -> None:
        """Replace the VM's labels with `labels`."""
        path = f"{_ROOT}/{vm_id}/label"
        self._http.request("PUT", path, json={"labels": list(labels)})

    def attach_public_ip(self, vm_id: int) -> None:
        """Ask for a public IP; it shows in `floating_ip` some time later."""
        path = f"{_ROOT}/{vm_id}/attach-floatingip"
        self._http.request("POST", path, repeat=Repeat.IF_UNPROCESSED)

    def detach_public_ip(self, vm_id: int) -> None:
        """Release the VM's public IP."""
        path = f"{_ROOT}/{vm_id}/detach-floatingip"
        self._http.request("POST", path, repeat=Repeat.IF_UNPROCESSED)

    def attach_callback(self, vm_id: int, url: str) -> str:
        """Set the URL the API posts this VM's events to; returns it."""
        return self._callback(
            "POST", vm_id, "attach-callback", url, Repeat.IF_UNPROCESSED
        )

    def update_callback(self, vm_id: int, url: str) -> str:
        """Replace the VM's callback URL; returns it."""
        return self._callback("PUT", vm_id, "update-callback", url, Repeat.ALWAYS)

    def delete_callback(self, vm_id: int) -> None:
        """Remove the VM's callback URL."""
        self._http.request("DELETE", f"{_ROOT}/{vm_id}/delete-callback")

    def _callback(
        self, method: str, vm_id: int, action: str, url: str, repeat: Repeat
    ) -> str:
        path = f"{_ROOT}/{vm_id}/{action}"
        body = self._http.request(method, path, json={"url": url}, repeat=repeat)
        answered = body.get("url") if isinstance(body, dict) else None
        return str(answered) if answered is not None else url

    # -- volumes ----------------------------------------------------------

    def attach_volumes(
        self, vm_id: int, volume_ids: Sequence[int], *, protected: bool = False
    ) -> list[VolumeAttachment]:
        """Attach `available` volumes (at most 10 per VM); returns the new
        attachments, `ATTACHING` at first.

        After a lost answer or a 5xx the VM is read back: if every volume is
        attached the attachments are returned, otherwise the error is raised.
        """
        path = f"{_ROOT}/{vm_id}/attach-volumes"
        wanted = set(volume_ids)

        def send() -> list[VolumeAttachment]:
            body = self._http.request(
                "POST",
                path,
                json={"volume_ids": list(volume_ids), "protected": protected},
                repeat=Repeat.IF_UNPROCESSED,
            )
            raw = self._field(body, "volume_attachments", "POST", path)
            return self._many(VolumeAttachment, raw, "POST", path)

        def find() -> list[VolumeAttachment] | None:
            attachments = [
                a for a in self.get(vm_id).volume_attachments if _volume_id(a) in wanted
            ]
            found = {_volume_id(a) for a in attachments}
            return attachments if found == wanted else None

        return adopt_after_ambiguous_failure(
            send, find, what=f"Attaching volumes {sorted(wanted)} to VM {vm_id}"
        )

    def detach_volumes(
        self, vm_id: int, volume_ids: Sequence[int]
    ) -> list[VolumeAttachment]:
        """Detach volumes; returns their attachments, `DETACHING` at first."""
        path = f"{_ROOT}/{vm_id}/detach-volumes"
        gone = set(volume_ids)

        def send() -> list[VolumeAttachment]:
            body = self._http.request(
                "POST",
                path,
                json={"volume_ids": list(volume_ids)},
                repeat=Repeat.IF_UNPROCESSED,
            )
            raw = self._field(body, "volume_attachments", "POST", path)
            return self._many(VolumeAttachment, raw, "POST", path)

        def find() -> list[VolumeAttachment] | None:
            remaining = [
                a
                for a in self.get(vm_id).volume_attachments
                if _volume_id(a) in gone and a.status != "DETACHING"
            ]
            return [] if not remaining else None

        return adopt_after_ambiguous_failure(
            send, find, what=f"Detaching volumes {sorted(gone)} from VM {vm_id}"
        )

    # -- firewall rules ---------------------------------------------------

    def create_security_rule(
        self,
        vm_id: int,
        *,
        direction: Literal["ingress", "egress"],
        protocol: str,
        remote_ip_prefix: str,
        ethertype: Literal["IPv4", "IPv6"] = "IPv4",
        port_range_min: int | None = None,
        port_range_max: int | None = None,
    ) -> SecurityRule:
        """Add a firewall rule to the VM; it is `pending`, then `SUCCESS`.

        After a lost answer or a 5xx, the newest rule on the VM with exactly
        these settings is adopted, if there is one.
        """
        rule = SecurityRuleCreate(
            direction=direction,
            protocol=protocol,
            remote_ip_prefix=remote_ip_prefix,
            ethertype=ethertype,
            port_range_min=port_range_min,
            port_range_max=port_range_max,
        )
        return self.create_security_rule_from(vm_id, rule)

    def create_security_rule_from(
        self, vm_id: int, rule: SecurityRuleCreate
    ) -> SecurityRule:
        """`create_security_rule` with a ready-made payload."""
        path = f"{_ROOT}/{vm_id}/sg-rules"

        def send() -> SecurityRule:
            body = self._http.request(
                "POST", path, json=rule.to_body(), repeat=Repeat.IF_UNPROCESSED
            )
            raw = self._field(body, "security_rule", "POST", path)
            return self._one(SecurityRule, raw, "POST", path)

        def find() -> SecurityRule | None:
            same = [r for r in self.get(vm_id).security_rules if rule.matches(r)]
            return max(same, key=lambda r: r.id) if same else None

        return adopt_after_ambiguous_failure(
            send, find, what=f"Creating a firewall rule on VM {vm_id}"
        )

    def delete_security_rule(self, vm_id: int, rule_id: int) -> None:
        """Remove a firewall rule from the VM."""
        self._http.request("DELETE", f"{_ROOT}/{vm_id}/sg-rules/{rule_id}")

    # -- observability ----------------------------------------------------

    def get_metrics(
        self, vm_id: int, *, duration: MetricsDuration | None = None
    ) -> dict[str, MetricSeries]:
        """Metric series by name (`cpu`, `memory.usages`, `network.in`, ...)."""
        path = f"{_ROOT}/{vm_id}/metrics"
        body = self._http.request(
            "GET", path, params={"duration": duration} if duration else None
        )
        if not isinstance(body, dict):
            return {}
        return {
            key: self._one(MetricSeries, value, "GET", path)
            for key, value in body.items()
            if isinstance(value, dict)
        }

    def get_events(self, vm_id: int) -> list[InstanceEvent]:
        """The VM's event history."""
        path = f"{_ROOT}/{vm_id}/events"
        body = self._http.request("GET", path)
        raw = self._field(body, "instance_events", "GET", path)
        return self._many(InstanceEvent, raw, "GET", path)

    # -- waiting ----------------------------------------------------------

    def wait_for(
        self,
        vm_id: int,
        until: Callable[[VirtualMachine | None], bool],
        *,
        what: str,
        timeout: float = 900.0,
        failed: Callable[[VirtualMachine | None], str | None] | None = None,
    ) -> VirtualMachine | None:
        """Poll until `until(vm)` holds (vm is None once the VM is gone).

        Polls are shared with every other wait on this client's VMs.
        """
        return wait_for(
            self.poller,
            vm_id,
            until,
            what=what,
            timeout=timeout,
            failed=failed,
            confirm=self._get_or_none,
            schedule=self.schedule,
            describe=_describe,
        )

    def wait_for_status(
        self,
        vm_id: int,
        status: str | Collection[str],
        *,
        timeout: float = 900.0,
        public_ip: bool = False,
    ) -> VirtualMachine:
        """Wait until the VM's `status` is one of `status` (and, with
        `public_ip`, it has a public IP). A VM that turns `ERROR` (unless
        awaited) or disappears raises FailedStateError."""
        wanted = {status} if isinstance(status, str) else set(status)
        label = " or ".join(sorted(wanted)) + (" with a public IP" if public_ip else "")

        def until(vm: VirtualMachine | None) -> bool:
            if vm is None:
                return False
            return vm.status in wanted and (not public_ip or bool(vm.public_ip))

        vm = self.wait_for(
            vm_id,
            until,
            what=f"VM {vm_id} becoming {label}",
            timeout=timeout,
            failed=lambda vm: _failure(vm, wanted),
        )
        assert vm is not None
        return vm

    def wait_until_active(
        self, vm_id: int, *, public_ip: bool = False, timeout: float = 900.0
    ) -> VirtualMachine:
        """Wait until the VM is `ACTIVE` (with a public IP, if asked)."""
        return self.wait_for_status(
            vm_id, "ACTIVE", public_ip=public_ip, timeout=timeout
        )

    def wait_until_deleted(self, vm_id: int, *, timeout: float = 600.0) -> None:
        """Wait until the VM no longer exists."""
        self.wait_for(
            vm_id,
            lambda vm: vm is None,
            what=f"VM {vm_id} being deleted",
            timeout=timeout,
        )

    def _get_or_none(self, vm_id: int) -> VirtualMachine | None:
        try:
            return self.get(vm_id)
        except NotFoundError:
            return None

    def _all_by_id(self) -> Listing[VirtualMachine]:
        vms = self.get_all()
        # Fewer than a page: one answer held them all.
        return Listing({vm.id: vm for vm in vms}, complete=len(vms) < PAGE_SIZE)


def _volume_id(attachment: VolumeAttachment) -> int | None:
    if attachment.volume_id is not None:
        return attachment.volume_id
    return attachment.volume.id if attachment.volume else None


def _failure(vm: VirtualMachine | None, wanted: Collection[str]) -> str | None:
    if vm is None:
        return "the VM no longer exists"
    if vm.status == "ERROR" and "ERROR" not in wanted:
        return f"VM {vm.id} ({vm.name}) went into ERROR"
    return None


def _describe(vm: VirtualMachine | None) -> str:
    if vm is None:
        return "missing"
    ip = vm.public_ip or "no public IP"
    return f"{vm.status} (vm_state {vm.vm_state}, power_state {vm.power_state}, {ip})"
