"""Volume: one Hyperstack block-storage volume as a Pulumi resource."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

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
    InfrahubError,
    NotFoundError,
    VolumesClient,
)
from pulumi_infrahub.client.models import Volume as APIVolume
from pulumi_infrahub.resources._inputs import (
    Failures,
    has_unknowns,
    is_unknown,
    read_name,
    timeout_for,
)
from pulumi_infrahub.resources._provider import (
    InfrahubProvider,
    NotInCatalogError,
    ResourceError,
    connection,
    existing,
    merge_options,
    settings_failures_reported,
)

__all__ = ["Volume", "VolumeArgs", "VolumeProvider"]

DEFAULT_TIMEOUTS: Mapping[str, float] = {
    "create": 600.0,
    "update": 600.0,
    "delete": 900.0,
}

DEFAULT_VOLUME_TYPE = "Cloud-SSD"
MIN_BOOTABLE_SIZE = 100

INPUTS = (
    "name",
    "name_prefix",
    "environment_name",
    "size",
    "volume_type",
    "description",
    "image_id",
    "callback_url",
    "timeouts",
    "adopt_id",
)
DERIVED = ("region",)

# The API has no way to change these on an existing volume.
REPLACE_ON_CHANGE = ("name", "size", "volume_type", "description", "image_id")

OUTPUTS = (
    "status",
    "bootable",
    "os_image",
    "created_at",
    "attachment_ids",
    "attached_to",
)


class VolumeProvider(InfrahubProvider):
    """The dynamic provider behind `Volume`."""

    @settings_failures_reported
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        olds = _olds
        failures = Failures()
        inputs: dict[str, Any] = {}

        for key in sorted(set(news) - set(INPUTS) - set(DERIVED) - {"__provider"}):
            failures.add(key, f"{key} is not an input of Volume.")

        def take(key: str, read: Any) -> None:
            value = news.get(key)
            value = value if has_unknowns(value) else read()
            if value is not None:
                inputs[key] = value

        take("adopt_id", lambda: _optional_id(failures, news, "adopt_id"))
        inputs["name"] = self._name(failures, olds, news, inputs.get("adopt_id"))
        if news.get("name") is None and news.get("name_prefix") is not None:
            inputs["name_prefix"] = news["name_prefix"]
        take(
            "environment_name",
            lambda: failures.string(news, "environment_name", required=True),
        )
        take("size", lambda: _size(failures, news))
        take("volume_type", lambda: failures.string(news, "volume_type"))
        take("description", lambda: failures.string(news, "description"))
        take("image_id", lambda: _optional_id(failures, news, "image_id"))
        take("callback_url", lambda: failures.callback_url(news, "callback_url"))
        take("timeouts", lambda: failures.timeouts(news, DEFAULT_TIMEOUTS))
        inputs.setdefault("volume_type", DEFAULT_VOLUME_TYPE)

        size, image_id = inputs.get("size"), inputs.get("image_id")
        if (
            isinstance(size, int)
            and isinstance(image_id, int)
            and size < MIN_BOOTABLE_SIZE
        ):
            failures.add(
                "size",
                f"size is {size} GB, but a bootable volume (image_id set) needs at "
                f"least {MIN_BOOTABLE_SIZE} GB.",
            )
        if not failures:
            self._check_catalog(failures, olds, inputs)

        if failures:
            return CheckResult(news, failures.items)
        return CheckResult(inputs, [])

    def _name(
        self,
        failures: Failures,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        adopt_id: Any,
    ) -> Any:
        # An adopted volume keeps its own name unless the program gives one.
        if (
            news.get("name") is None
            and isinstance(adopt_id, int)
            and olds.get("adopt_id") != adopt_id
        ):
            try:
                return connection().client.volumes.get(adopt_id).name
            except NotFoundError:
                failures.add(
                    "adopt_id", f"adopt_id {adopt_id}: there is no such volume."
                )
                return None
        return read_name(failures, olds, news)

    def _check_catalog(
        self, failures: Failures, olds: Mapping[str, Any], inputs: dict[str, Any]
    ) -> None:
        env_name = inputs["environment_name"]
        if is_unknown(env_name):
            inputs["region"] = env_name
            return
        catalog = connection().catalog
        same_env = olds.get("environment_name") == env_name and "region" in olds
        if same_env:
            region = olds["region"]
        else:
            try:
                region = catalog.environment(env_name).region or ""
            except NotInCatalogError as missing:
                failures.add("environment_name", str(missing))
                return
        inputs["region"] = region

        volume_type = inputs["volume_type"]
        if not is_unknown(volume_type) and volume_type != olds.get("volume_type"):
            types = catalog.volume_types()
            if volume_type not in types:
                failures.add(
                    "volume_type",
                    f"volume_type {volume_type!r} is not one the API offers: "
                    + ", ".join(repr(t) for t in types)
                    + ".",
                )
        image_id = inputs.get("image_id")
        if isinstance(image_id, int) and not (
            same_env and olds.get("image_id") == image_id
        ):
            try:
                image = connection().client.images.get(image_id)
            except NotFoundError:
                image = None
            if image is None or image.region_name not in (None, region):
                failures.add(
                    "image_id",
                    f"image_id {image_id} is not an image in region {region}; find "
                    f"one with get_images(region={region!r}).",
                )

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> DiffResult:
        olds, news = _olds, _news
        replaces = [key for key in REPLACE_ON_CHANGE if _differs(olds, news, key)]
        # A volume moves in place only between environments of one region.
        if _differs(olds, news, "environment_name") and _differs(olds, news, "region"):
            replaces.append("environment_name")
        if not replaces:
            return DiffResult(changes=None)

        if news.get("adopt_id") is not None:
            raise ResourceError(
                f"Volume {_id} was adopted through adopt_id and a change to "
                + ", ".join(replaces)
                + " would replace it. Remove adopt_id from the program (it has "
                "done its job once recorded) and run again, or keep those "
                "inputs as they are."
            )
        # Volume names are unique in an environment: a replacement that keeps
        # an explicit name must delete the old volume first.
        explicit_name = news.get("name_prefix") is None and "name" not in replaces
        return DiffResult(
            changes=None,
            replaces=replaces,
            delete_before_replace=explicit_name and "environment_name" not in replaces,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        volumes = connection().client.volumes
        deadline = time.monotonic() + timeout_for(props, "create", DEFAULT_TIMEOUTS)

        adopt_id = props.get("adopt_id")
        if adopt_id is not None:
            volume = self._adopt(volumes, int(adopt_id), props, deadline)
            return CreateResult(str(volume.id), _outputs(props, volume))

        volume = volumes.create(
            props["name"],
            environment_name=props["environment_name"],
            size=int(props["size"]),
            volume_type=props["volume_type"],
            description=props.get("description"),
            image_id=_int_or_none(props.get("image_id")),
            callback_url=props.get("callback_url"),
        )
        try:
            ready = volumes.wait_for_status(
                volume.id, "available", timeout=_left(deadline)
            )
        except Exception as failure:
            # Whatever went wrong, what was made must not outlive the error:
            # a failed create leaves nothing in Pulumi's state.
            self._roll_back(volumes, volume, failure, props)
        return CreateResult(str(ready.id), _outputs(props, ready))

    def _roll_back(
        self,
        volumes: VolumesClient,
        volume: APIVolume,
        failure: Exception,
        props: Mapping[str, Any],
    ) -> NoReturn:
        last = getattr(failure, "last", None)
        status = last.status if isinstance(last, APIVolume) else "unknown"
        what = f"Volume {volume.name!r} (id {volume.id}) did not become available"
        try:
            _delete_and_wait(
                volumes, volume.id, timeout_for(props, "delete", DEFAULT_TIMEOUTS)
            )
        except InfrahubError as cleanup:
            raise ResourceError(
                f"{what}: {failure} (last status {status}). Deleting it failed "
                f"too, so it may still exist: {cleanup}. Delete it in the console."
            ) from failure
        raise ResourceError(
            f"{what}: {failure} (last status {status}). It has been deleted, so "
            "nothing is left behind."
        ) from failure

    def _adopt(
        self,
        volumes: VolumesClient,
        volume_id: int,
        props: Mapping[str, Any],
        deadline: float,
    ) -> APIVolume:
        try:
            volume = volumes.get(volume_id)
        except NotFoundError:
            raise ResourceError(
                f"adopt_id {volume_id}: there is no volume with this id for this "
                "API key."
            ) from None
        live = _implied_inputs(volume, {})
        mismatches = [
            f"{key} is {props.get(key)!r} in the program but {live.get(key)!r} on "
            "the volume"
            for key in (
                "name",
                "environment_name",
                "size",
                "volume_type",
                "description",
                "image_id",
            )
            if props.get(key) != live.get(key)
        ]
        if mismatches:
            raise ResourceError(
                f"Volume {volume_id} cannot be adopted as it is: "
                + "; ".join(mismatches)
                + ". Set the inputs to the volume's values."
            )
        return self._converge(volumes, volume, props, deadline)

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> UpdateResult:
        volumes = connection().client.volumes
        deadline = time.monotonic() + timeout_for(_news, "update", DEFAULT_TIMEOUTS)
        try:
            volume = volumes.get(_parse_id(_id))
        except NotFoundError:
            raise ResourceError(
                f"Volume {_id} no longer exists. Run `pulumi refresh` to drop it "
                "from the state, then `pulumi up` to create it again."
            ) from None
        volume = self._converge(volumes, volume, _news, deadline)
        return UpdateResult(_outputs(_news, volume))

    def _converge(
        self,
        volumes: VolumesClient,
        volume: APIVolume,
        news: Mapping[str, Any],
        deadline: float,
    ) -> APIVolume:
        """Apply the in-place inputs (environment, callback) to a volume."""
        wanted_env = news["environment_name"]
        if _environment_name(volume) != wanted_env:
            if volume.attachments:
                raise ResourceError(
                    f"Volume {volume.id} ({volume.name}) is attached, and the API "
                    f"moves only detached volumes to another environment. Detach "
                    f"it (remove its VolumeAttachment), then move it to "
                    f"{wanted_env!r}."
                )
            volume = volumes.wait_for_status(
                volume.id, "available", timeout=_left(deadline)
            )
            volume = volumes.update(volume.id, environment_name=wanted_env)

        current, wanted = volume.callback_url or None, news.get("callback_url")
        if wanted is None and current is not None:
            volumes.delete_callback(volume.id)
        elif wanted is not None and current is None:
            volumes.attach_callback(volume.id, wanted)
        elif wanted is not None and wanted != current:
            volumes.update_callback(volume.id, wanted)
        return volumes.get(volume.id)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        volumes = connection().client.volumes
        try:
            volume = volumes.get(_parse_id(id_))
        except NotFoundError:
            return ReadResult("", {})
        inputs = _implied_inputs(volume, props)
        return ReadResult(id_, _outputs(inputs, volume), inputs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        volumes = connection().client.volumes
        _delete_and_wait(
            volumes, _parse_id(_id), timeout_for(_props, "delete", DEFAULT_TIMEOUTS)
        )


# -- helpers -----------------------------------------------------------------


def _optional_id(failures: Failures, news: Mapping[str, Any], key: str) -> int | None:
    if news.get(key) is None:
        return None
    return failures.object_id(news, key)


def _size(failures: Failures, news: Mapping[str, Any]) -> int | None:
    if news.get("size") is None:
        failures.add("size", "size is required: the volume's size in GB.")
        return None
    return failures.integer(news, "size", minimum=1)


def _differs(olds: Mapping[str, Any], news: Mapping[str, Any], key: str) -> bool:
    new = news.get(key)
    if has_unknowns(new):
        return True
    return bool(olds.get(key) != new)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _parse_id(id_: str) -> int:
    try:
        return int(id_)
    except ValueError:
        raise ResourceError(
            f"{id_!r} is not a volume id; volume ids are whole numbers."
        ) from None


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _environment_name(volume: APIVolume) -> str | None:
    return volume.environment.name if volume.environment else None


def _delete_and_wait(volumes: VolumesClient, volume_id: int, timeout: float) -> None:
    """Delete a volume and wait until it is gone; one already gone is fine.

    The API refuses to delete a volume that is attached or still being made.
    On a `pulumi destroy` the VM or attachment holding it is often being
    removed at the same moment, so the volume is waited for (within the same
    timeout) until it is free, and then deleted.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            volumes.delete(volume_id)
            break
        except NotFoundError:
            return
        except BadRequestError as refused:
            volume = volumes.wait_for(
                volume_id,
                lambda v: (
                    v is None
                    or (
                        not v.attachments
                        and v.status not in ("creating", "downloading")
                    )
                ),
                what=f"volume {volume_id} being detached before it is deleted",
                timeout=_left(deadline),
            )
            if volume is None:
                return
            if _left(deadline) <= 0:
                raise refused
    volumes.wait_until_deleted(volume_id, timeout=_left(deadline))


def _implied_inputs(volume: APIVolume, props: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs that describe `volume` as it is now; timeouts, adopt_id and
    name_prefix are carried over from `props`."""
    inputs: dict[str, Any] = {key: props[key] for key in INPUTS if key in props}
    inputs["name"] = volume.name
    if volume.environment is not None:
        if volume.environment.name:
            inputs["environment_name"] = volume.environment.name
        if volume.environment.region:
            inputs["region"] = volume.environment.region
    elif "region" in props:
        inputs["region"] = props["region"]
    if volume.size is not None:
        inputs["size"] = volume.size
    inputs["volume_type"] = volume.volume_type or DEFAULT_VOLUME_TYPE
    for key, value in (
        ("description", volume.description or None),
        ("image_id", volume.image_id),
        ("callback_url", volume.callback_url or None),
    ):
        if value is None:
            inputs.pop(key, None)
        else:
            inputs[key] = value
    return inputs


def _outputs(inputs: Mapping[str, Any], volume: APIVolume) -> dict[str, Any]:
    """Every input, echoed for policies, plus what the API computed."""
    outs = {key: value for key, value in inputs.items() if key != "__provider"}
    outs.update(
        id=volume.id,
        status=volume.status,
        bootable=volume.bootable,
        os_image=volume.os_image or None,
        created_at=volume.created_at.isoformat() if volume.created_at else None,
        attachment_ids=[a.id for a in volume.attachments if a.id is not None],
        attached_to=[
            a.instance_id for a in volume.attachments if a.instance_id is not None
        ],
    )
    if volume.environment is not None and volume.environment.region:
        outs["region"] = volume.environment.region
    return outs


# -- the resource ------------------------------------------------------------


@dataclass(kw_only=True)
class VolumeArgs:
    """The inputs of a `Volume`. Changing a field marked *replaces* makes a
    new volume; every other field changes in place."""

    environment_name: pulumi.Input[str]
    """Environment to create the volume in, by name. Moving to another
    environment of the same region happens in place (the volume must be
    detached); another region *replaces*."""

    size: pulumi.Input[int]
    """Size in GB (at least 100 with `image_id`). *Replaces.*"""

    name: pulumi.Input[str] | None = None
    """Volume name, at most 50 characters and unique in the environment. Left
    out, it is the resource name plus a random suffix. *Replaces.*"""

    volume_type: pulumi.Input[str] | None = None
    """Volume type (default `Cloud-SSD`). *Replaces.*"""

    description: pulumi.Input[str] | None = None
    """Free text. *Replaces* (the API cannot edit it)."""

    image_id: pulumi.Input[int] | None = None
    """Image to make the volume bootable from; see `get_images()`.
    *Replaces.*"""

    callback_url: pulumi.Input[str] | None = None
    """http(s) URL the API posts this volume's events to."""

    timeouts: pulumi.Input[Mapping[str, pulumi.Input[float]]] | None = None
    """Seconds allowed for `create`, `update` and `delete` (defaults 600,
    600, 900)."""

    adopt_id: pulumi.Input[int | str] | None = None
    """Id of an existing volume to take over instead of creating one."""


class Volume(pulumi.dynamic.Resource, module="infrahub", name="Volume"):
    """One Hyperstack block-storage volume; create returns once it is
    `available`, delete waits until it is gone."""

    name: pulumi.Output[str]
    """The volume's name."""
    environment_name: pulumi.Output[str]
    """The environment the volume is in, by name."""
    size: pulumi.Output[int]
    """Size in GB."""
    volume_type: pulumi.Output[str]
    """The volume type, `Cloud-SSD` unless another was given."""
    description: pulumi.Output[str | None]
    """The free-text description; None when there is none."""
    image_id: pulumi.Output[int | None]
    """Id of the image the volume was made bootable from; None when there is
    none."""
    callback_url: pulumi.Output[str | None]
    """The URL the API posts this volume's events to; None when there is
    none."""
    timeouts: pulumi.Output[dict[str, float] | None]
    """Seconds allowed per operation, as given; None for the defaults (600 for
    create and update, 900 for delete)."""
    adopt_id: pulumi.Output[int | None]
    """Id of the existing volume this resource took over; None when it made
    its own."""
    region: pulumi.Output[str]
    """Region of the volume's environment."""
    status: pulumi.Output[str]
    """The API's status (`available`, ...)."""
    bootable: pulumi.Output[bool]
    """Whether the API reports the volume as bootable."""
    os_image: pulumi.Output[str | None]
    """The OS image a bootable volume was made from, as the API names it; None
    for a volume that is not bootable."""
    created_at: pulumi.Output[str]
    """When the volume was created, as an ISO 8601 timestamp."""
    attachment_ids: pulumi.Output[list[int]]
    """Ids of the volume's attachments."""
    attached_to: pulumi.Output[list[int]]
    """Ids of the VMs the volume is attached to."""

    def __init__(
        self,
        resource_name: str,
        args: VolumeArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """Create a volume named `resource_name` in Pulumi from `args`, or
        from the same fields given as keyword arguments."""
        if args is None:
            args = VolumeArgs(**kwargs)
        elif kwargs:
            raise TypeError("pass either args or keyword arguments, not both")

        props: dict[str, Any] = {
            key: getattr(args, key) for key in INPUTS if key != "name_prefix"
        }
        if args.name is None:
            props["name_prefix"] = resource_name
        for key in DERIVED + OUTPUTS:
            props.setdefault(key, None)
        super().__init__(
            VolumeProvider(),
            resource_name,
            props,
            merge_options(opts, secret_outputs=[]),
        )

    @staticmethod
    def get(
        resource_name: str,
        id_: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> Volume:
        """The existing volume with id `id_`, read-only."""
        return existing(
            Volume,
            VolumeProvider(),
            resource_name,
            id_,
            INPUTS + DERIVED + OUTPUTS,
            opts,
        )
