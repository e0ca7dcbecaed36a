"""VolumeAttachment: one volume attached to one VM, as a Pulumi resource.

One resource per attachment, so adding a second volume to a VM never touches
the first, and attachments to one VM can be made side by side.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from pulumi_infrahub.client import (
    BadRequestError,
    InfrahubClient,
    InfrahubError,
    NotFoundError,
)
from pulumi_infrahub.client.models import Volume as APIVolume
from pulumi_infrahub.client.models import VolumeAttachment as APIAttachment
from pulumi_infrahub.resources._inputs import Failures, has_unknowns, timeout_for
from pulumi_infrahub.resources._provider import (
    InfrahubProvider,
    ResourceError,
    connection,
    existing,
    merge_options,
    settings_failures_reported,
)

__all__ = ["VolumeAttachment", "VolumeAttachmentArgs", "VolumeAttachmentProvider"]

DEFAULT_TIMEOUTS: Mapping[str, float] = {
    "create": 600.0,
    "update": 300.0,
    "delete": 600.0,
}

INPUTS = ("virtual_machine_id", "volume_id", "protected", "timeouts", "adopt_id")
REPLACE_ON_CHANGE = ("virtual_machine_id", "volume_id")
OUTPUTS = ("status", "device", "created_at")


class VolumeAttachmentProvider(InfrahubProvider):
    """The dynamic provider behind `VolumeAttachment`."""

    @settings_failures_reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _olds
        failures = Failures()
        inputs: dict[str, Any] = {}

        for key in sorted(set(news) - set(INPUTS) - {"__provider"}):
            failures.add(key, f"{key} is not an input of VolumeAttachment.")

        for key in ("virtual_machine_id", "volume_id"):
            value = news.get(key)
            inputs[key] = (
                value if has_unknowns(value) else failures.object_id(news, key)
            )
        for key, read in (
            ("protected", lambda: failures.boolean(news, "protected")),
            ("timeouts", lambda: failures.timeouts(news, DEFAULT_TIMEOUTS)),
            ("adopt_id", lambda: failures.object_id(news, "adopt_id")),
        ):
            value = news.get(key)
            if value is not None:
                inputs[key] = value if has_unknowns(value) else read()
        inputs.setdefault("protected", False)

        vm_id, volume_id = inputs["virtual_machine_id"], inputs["volume_id"]
        changed = vm_id != olds.get("virtual_machine_id") or volume_id != olds.get(
            "volume_id"
        )
        if (
            not failures
            and changed
            and isinstance(vm_id, int)
            and isinstance(volume_id, int)
        ):
            _check_pair(failures, connection().client, vm_id, volume_id)

        if failures:
            return CheckResult(news, failures.items)
        return CheckResult(inputs, [])

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> DiffResult:
        replaces = [
            key
            for key in REPLACE_ON_CHANGE
            if has_unknowns(_news.get(key)) or _olds.get(key) != _news.get(key)
        ]
        if not replaces:
            return DiffResult(changes=None)
        # A volume is attached to one VM at a time: detach before attaching
        # it anew.
        return DiffResult(changes=None, replaces=replaces, delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = connection().client
        deadline = time.monotonic() + timeout_for(props, "create", DEFAULT_TIMEOUTS)
        vm_id, volume_id = int(props["virtual_machine_id"]), int(props["volume_id"])
        protected = bool(props.get("protected"))

        volume = _get_volume(client, volume_id)
        held = _attachment_to(volume, vm_id)
        adopt_id = props.get("adopt_id")
        if adopt_id is not None:
            if held is None or held.id != int(adopt_id):
                raise ResourceError(
                    f"adopt_id {adopt_id}: volume {volume_id} has no attachment "
                    f"{adopt_id} to VM {vm_id}."
                )
            attachment_id = int(adopt_id)
        elif held is not None or volume.attachments:
            where = held or volume.attachments[0]
            raise ResourceError(
                f"Volume {volume_id} is already attached to VM {where.instance_id} "
                f"(attachment {where.id}). To manage that attachment with this "
                f"resource set adopt_id={where.id}; otherwise detach it first."
            )
        else:
            made = client.virtual_machines.attach_volumes(
                vm_id, [volume_id], protected=protected
            )
            found = next((a for a in made if _volume_of(a) == volume_id), None)
            if found is None or found.id is None:
                raise ResourceError(
                    f"Attaching volume {volume_id} to VM {vm_id}: the API answered "
                    "without the new attachment."
                )
            attachment_id = found.id

        try:
            volume, attachment = _wait_attached(
                client, volume_id, attachment_id, deadline
            )
            if bool(attachment.protected) != protected:
                client.volumes.update_attachment(attachment_id, protected=protected)
                volume = client.volumes.get(volume_id)
        except Exception as failure:
            what = f"Volume {volume_id} did not attach to VM {vm_id}: {failure}."
            if adopt_id is not None:
                raise ResourceError(what) from failure
            try:
                _detach_and_wait(
                    client, vm_id, volume_id, attachment_id, _delete_timeout(props)
                )
            except InfrahubError as cleanup:
                raise ResourceError(
                    f"{what} Detaching it failed too, so it may still be attached: "
                    f"{cleanup}"
                ) from failure
            raise ResourceError(f"{what} It has been detached again.") from failure
        return CreateResult(str(attachment_id), _outputs(props, volume, attachment_id))

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> UpdateResult:
        client = connection().client
        attachment_id = _parse_id(_id)
        volume_id = int(_news["volume_id"])
        try:
            volume = client.volumes.get(volume_id)
        except NotFoundError:
            volume = None
        attachment = _find(volume, attachment_id) if volume else None
        if volume is None or attachment is None:
            raise ResourceError(
                f"Attachment {attachment_id} of volume {volume_id} no longer exists. "
                "Run `pulumi refresh` to drop it from the state, then `pulumi up` "
                "to attach the volume again."
            )
        protected = bool(_news.get("protected"))
        if bool(attachment.protected) != protected:
            client.volumes.update_attachment(attachment_id, protected=protected)
            volume = client.volumes.get(volume_id)
        return UpdateResult(_outputs(_news, volume, attachment_id))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = connection().client
        attachment_id = _parse_id(id_)
        volume = _volume_holding(client, attachment_id, props.get("volume_id"))
        attachment = _find(volume, attachment_id) if volume else None
        if volume is None or attachment is None:
            return ReadResult("", {})

        inputs: dict[str, Any] = {
            key: props[key] for key in ("timeouts", "adopt_id") if key in props
        }
        inputs.update(
            virtual_machine_id=attachment.instance_id,
            volume_id=volume.id,
            protected=bool(attachment.protected),
        )
        return ReadResult(id_, _outputs(inputs, volume, attachment_id), inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        client = connection().client
        attachment_id = _parse_id(_id)
        vm_id, volume_id = int(_props["virtual_machine_id"]), int(_props["volume_id"])
        # A second-old view is enough: if it still shows an attachment that
        # has just gone, the detach is answered "not attached", which counts
        # as done.
        volume = _volume_holding(client, attachment_id, volume_id, max_age=1.0)
        attachment = _find(volume, attachment_id) if volume else None
        if attachment is None:
            return
        if attachment.protected:
            raise ResourceError(
                f"Attachment {attachment_id} of volume {volume_id} to VM {vm_id} is "
                "protected, and the API refuses to detach it. Set protected=False, "
                "run `pulumi up`, then remove the attachment."
            )
        _detach_and_wait(
            client, vm_id, volume_id, attachment_id, _delete_timeout(_props)
        )


# -- helpers -----------------------------------------------------------------


def _check_pair(
    failures: Failures, client: InfrahubClient, vm_id: int, volume_id: int
) -> None:
    """The VM and volume exist and share an environment."""
    # Existence and environment do not change from one second to the next:
    # recent list snapshots serve a fleet's checks with a request or two.
    try:
        vm = client.virtual_machines.get_recent(vm_id)
    except NotFoundError:
        failures.add("virtual_machine_id", f"virtual_machine_id {vm_id}: no such VM.")
        return
    try:
        volume = client.volumes.get_recent(volume_id)
    except NotFoundError:
        failures.add("volume_id", f"volume_id {volume_id}: no such volume.")
        return
    vm_env = vm.environment.name if vm.environment else None
    volume_env = volume.environment.name if volume.environment else None
    if vm_env and volume_env and vm_env != volume_env:
        failures.add(
            "volume_id",
            f"volume {volume.name!r} is in environment {volume_env!r} but VM "
            f"{vm.name!r} is in {vm_env!r}; a volume attaches only within its "
            "environment. Move the volume (its environment_name) or pick another.",
        )


def _get_volume(client: InfrahubClient, volume_id: int) -> APIVolume:
    # A second-old view is enough: the API itself refuses to attach a volume
    # that is attached already.
    try:
        return client.volumes.get_recent(volume_id)
    except NotFoundError:
        raise ResourceError(
            f"volume_id {volume_id}: there is no such volume for this API key."
        ) from None


def _volume_of(attachment: APIAttachment) -> int | None:
    if attachment.volume_id is not None:
        return attachment.volume_id
    return attachment.volume.id if attachment.volume else None


def _find(volume: APIVolume, attachment_id: int) -> APIAttachment | None:
    return next((a for a in volume.attachments if a.id == attachment_id), None)


def _attachment_to(volume: APIVolume, vm_id: int) -> APIAttachment | None:
    return next((a for a in volume.attachments if a.instance_id == vm_id), None)


def _volume_holding(
    client: InfrahubClient,
    attachment_id: int,
    volume_id: Any,
    *,
    max_age: float = 0.0,
) -> APIVolume | None:
    """The volume with attachment `attachment_id`: `volume_id` when known
    (refresh, delete), else found among every volume (`VolumeAttachment.get`).
    A list snapshot started at most `max_age` seconds before the call serves
    a fleet's worth of calls at once; an attachment it lacks is confirmed gone
    by a read of its own, as it may be newer than the snapshot, and list
    pages over live data can skip an item."""
    if volume_id is not None:
        try:
            volume = client.volumes.get_recent(int(volume_id), max_age=max_age)
            if _find(volume, attachment_id) is None:
                volume = client.volumes.get(int(volume_id))
        except NotFoundError:
            return None
        return volume
    return next(
        (v for v in client.volumes.get_all() if _find(v, attachment_id) is not None),
        None,
    )


def _wait_attached(
    client: InfrahubClient, volume_id: int, attachment_id: int, deadline: float
) -> tuple[APIVolume, APIAttachment]:
    def attached(volume: APIVolume | None) -> bool:
        found = _find(volume, attachment_id) if volume else None
        return found is not None and found.status == "ATTACHED"

    def gone(volume: APIVolume | None) -> str | None:
        if volume is not None and _find(volume, attachment_id) is None:
            return f"attachment {attachment_id} disappeared"
        return None

    volume = client.volumes.wait_for(
        volume_id,
        attached,
        what=f"volume {volume_id} being attached",
        timeout=max(0.0, deadline - time.monotonic()),
        failed=gone,
    )
    assert volume is not None
    attachment = _find(volume, attachment_id)
    assert attachment is not None
    return volume, attachment


def _detach_and_wait(
    client: InfrahubClient,
    vm_id: int,
    volume_id: int,
    attachment_id: int,
    timeout: float,
) -> None:
    """Detach a volume and wait until it is free again; a VM, volume or
    attachment already gone is fine."""
    try:
        client.virtual_machines.detach_volumes(vm_id, [volume_id])
    except NotFoundError:
        return
    except BadRequestError:
        # "Some volumes are not attached with the given VM": already detached.
        # Any other refusal leaves the attachment in place, which the wait
        # below reports with the volume's last state.
        pass
    client.volumes.wait_for(
        volume_id,
        lambda v: v is None or _find(v, attachment_id) is None,
        what=f"volume {volume_id} being detached from VM {vm_id}",
        timeout=timeout,
    )


def _delete_timeout(props: Mapping[str, Any]) -> float:
    return timeout_for(props, "delete", DEFAULT_TIMEOUTS)


def _parse_id(id_: str) -> int:
    try:
        return int(id_)
    except ValueError:
        raise ResourceError(
            f"{id_!r} is not an attachment id; attachment ids are whole numbers."
        ) from None


def _outputs(
    inputs: Mapping[str, Any], volume: APIVolume, attachment_id: int
) -> dict[str, Any]:
    outs = {key: value for key, value in inputs.items() if key != "__provider"}
    attachment = _find(volume, attachment_id)
    outs.update(
        id=attachment_id,
        status=attachment.status if attachment else None,
        device=attachment.device if attachment else None,
        created_at=(
            attachment.created_at.isoformat()
            if attachment and attachment.created_at
            else None
        ),
    )
    return outs


# -- the resource ------------------------------------------------------------


@dataclass(kw_only=True)
class VolumeAttachmentArgs:
    """The inputs of a `VolumeAttachment`. Changing the VM or the volume
    detaches and attaches anew; `protected` changes in place."""

    virtual_machine_id: pulumi.Input[int | str]
    """The VM, e.g. `vm.id`."""

    volume_id: pulumi.Input[int | str]
    """The volume, e.g. `volume.id`; it must be in the VM's environment."""

    protected: pulumi.Input[bool] | None = None
    """Protect the attachment from being detached (default false). A
    protected attachment must be unprotected before it can be removed."""

    timeouts: pulumi.Input[Mapping[str, pulumi.Input[float]]] | None = None
    """Seconds allowed for `create`, `update` and `delete` (defaults 600,
    300, 600)."""

    adopt_id: pulumi.Input[int | str] | None = None
    """Id of the existing attachment of this volume to this VM to take over."""


class VolumeAttachment(
    pulumi.dynamic.Resource, module="infrahub", name="VolumeAttachment"
):
    """One volume attached to one VM; create returns once it is attached,
    delete once the volume is free again."""

    virtual_machine_id: pulumi.Output[int]
    """Id of the VM the volume is attached to."""
    volume_id: pulumi.Output[int]
    """Id of the attached volume."""
    protected: pulumi.Output[bool]
    """Whether the attachment is protected, so that the API refuses to detach
    it."""
    timeouts: pulumi.Output[dict[str, float] | None]
    """Seconds allowed per operation, as given; None for the defaults (600
    for create and delete, 300 for update)."""
    adopt_id: pulumi.Output[int | None]
    """Id of the existing attachment this resource took over; None when it
    made its own."""
    status: pulumi.Output[str]
    """The API's status: `ATTACHED` once usable."""
    device: pulumi.Output[str]
    """The device path inside the VM, e.g. `/dev/disk/by-id/virtio-...`."""
    created_at: pulumi.Output[str]
    """When the volume was attached, as an ISO 8601 timestamp."""

    def __init__(
        self,
        resource_name: str,
        args: VolumeAttachmentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """Attach a volume, named `resource_name` in Pulumi, from `args` or
        from the same fields given as keyword arguments."""
        if args is None:
            args = VolumeAttachmentArgs(**kwargs)
        elif kwargs:
            raise TypeError("pass either args or keyword arguments, not both")

        props: dict[str, Any] = {key: getattr(args, key) for key in INPUTS}
        for key in OUTPUTS:
            props.setdefault(key, None)
        super().__init__(
            VolumeAttachmentProvider(),
            resource_name,
            props,
            merge_options(opts, secret_outputs=[]),
        )

    @staticmethod
    def get(
        resource_name: str,
        id_: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> VolumeAttachment:
        """The existing attachment with id `id_`, read-only."""
        return existing(
            VolumeAttachment,
            VolumeAttachmentProvider(),
            resource_name,
            id_,
            INPUTS + OUTPUTS,
            opts,
        )
