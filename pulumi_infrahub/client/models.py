"""Infrahub API objects as pydantic models.

Field names and types follow the API. Ids are strict integers, so a server
that sends `"12"` is caught rather than silently accepted. Every other field
may be missing or `null`, lists read `null` as empty, and fields the client
does not know are kept (`model_extra`) rather than rejected, because the API
grows without notice. Status strings keep the API's casing: VM `status` is
upper case, volume `status` lower case.

Request payloads (`...Create`) are strict the other way: they forbid unknown
fields and check the limits the API documents, so a mistake is reported
before anything is sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
)

from pulumi_infrahub.client.errors import InvalidArgumentError

__all__ = [
    "AttachedVolume",
    "CustomFlavor",
    "Environment",
    "EnvironmentFeatures",
    "EnvironmentRef",
    "Flavor",
    "FlavorGroup",
    "Image",
    "ImageGroup",
    "InstanceEvent",
    "InstanceFlavor",
    "Keypair",
    "Label",
    "MetricSeries",
    "Name",
    "NameAvailability",
    "NamedRef",
    "Page",
    "PricebookEntry",
    "Profile",
    "ProfileCreate",
    "ProfileRef",
    "Region",
    "RegionStock",
    "SecurityRule",
    "SecurityRuleCreate",
    "StockModel",
    "Timestamp",
    "VMQuota",
    "VirtualMachine",
    "VirtualMachineCreate",
    "Volume",
    "VolumeAttachment",
    "VolumeCreate",
]


def _none_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


def _none_to_blank(value: Any) -> Any:
    return "" if value is None else value


Timestamp = Annotated[datetime | None, BeforeValidator(_blank_to_none)]
# A name the API sent as null reads as "", so one odd object cannot make a
# whole list unreadable.
Name = Annotated[str, BeforeValidator(_none_to_blank)]

T = TypeVar("T")


class APIModel(BaseModel):
    """Base of every object read from the API: tolerant of extras and nulls."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class PayloadModel(BaseModel):
    """Base of every request body: unknown fields are mistakes.

    Invalid values raise InvalidArgumentError naming each field and rule; the
    values themselves are left out, since one may be user data.
    """

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,
    )

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(body)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InvalidArgumentError(
                f"Invalid {type(self).__name__}: {problems}."
            ) from None

    def to_body(self) -> dict[str, Any]:
        """The JSON body to send: unset optional fields are left out."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class Page(BaseModel, Generic[T]):
    """One page of a list; `count`, `page` and `page_size` as the API sent
    them (each may be None)."""

    items: list[T]
    count: int | None = None
    page: int | None = None
    page_size: int | None = None


class Label(APIModel):
    id: StrictInt | None = None
    label: str | None = None


# -- environments -------------------------------------------------------------


class EnvironmentFeatures(APIModel):
    green_status: str | None = None
    network_optimised: bool | None = None


class Environment(APIModel):
    id: StrictInt
    name: Name
    region: str | None = None
    created_at: Timestamp = None
    features: EnvironmentFeatures | None = None


class EnvironmentRef(APIModel):
    """An environment as nested in a VM, volume or keypair (volumes give no
    id)."""

    id: StrictInt | None = None
    name: str | None = None
    org_id: StrictInt | None = None
    region: str | None = None
    created_at: Timestamp = None
    features: dict[str, Any] | None = None


class VMQuota(APIModel):
    current_vms: int | None = None
    max_vms: int | None = None
    available_vms: int | None = None
    percentage_used: float | None = None
    cidr: str | None = None


# -- keypairs -----------------------------------------------------------------


class Keypair(APIModel):
    id: StrictInt
    name: Name
    environment: EnvironmentRef | None = None
    public_key: str | None = None
    fingerprint: str | None = None
    created_at: Timestamp = None


# -- catalog: flavors, images, regions, stock, prices -------------------------


class Flavor(APIModel):
    id: StrictInt
    name: Name
    display_name: str | None = None
    region_name: str | None = None
    cpu: int | None = None
    ram: float | None = None
    disk: int | None = None
    ephemeral: int | None = None
    gpu: str | None = None
    gpu_count: int | None = None
    stock_available: bool | None = None
    created_at: Timestamp = None
    labels: Annotated[list[Label], BeforeValidator(_none_to_empty_list)] = []
    features: dict[str, Any] | None = None
    image_restrictions: dict[str, Any] | None = None


class FlavorGroup(APIModel):
    """Flavors grouped by GPU model and region, as `GET /core/flavors` sends."""

    gpu: str | None = None
    region_name: str | None = None
    flavors: Annotated[list[Flavor], BeforeValidator(_none_to_empty_list)] = []


class Image(APIModel):
    id: StrictInt
    name: Name
    region_name: str | None = None
    type: str | None = None
    version: str | None = None
    description: str | None = None
    size: int | None = Field(default=None, description="bytes, not GB")
    display_size: str | None = None
    is_public: bool | None = None
    labels: Annotated[list[Label], BeforeValidator(_none_to_empty_list)] = []
    flavor_restrictions: dict[str, Any] | None = None
    created_at: Timestamp = None


class ImageGroup(APIModel):
    region_name: str | None = None
    type: str | None = None
    logo: str | None = None
    images: Annotated[list[Image], BeforeValidator(_none_to_empty_list)] = []


class Region(APIModel):
    id: StrictInt
    name: Name
    country: str | None = None
    description: str | None = None
    green_status: str | None = None
    features: dict[str, Any] | None = None


class StockModel(APIModel):
    """Stock of one GPU model; counts are strings such as `"10+"`."""

    model: str | None = None
    available: str | None = None
    planned_7_days: str | None = None
    planned_30_days: str | None = None
    planned_100_days: str | None = None
    configurations: dict[str, int] | None = None


class RegionStock(APIModel):
    region: str | None = None
    stock_type: str | None = Field(default=None, alias="stock-type")
    models: Annotated[list[StockModel], BeforeValidator(_none_to_empty_list)] = []


class PricebookEntry(APIModel):
    """The hourly price of one resource kind, as `GET /pricebook` lists it."""

    id: StrictInt | None = None
    name: Name
    value: float | None = None
    original_value: float | None = None
    discount_applied: bool | None = None
    start_time: Timestamp = None
    end_time: Timestamp = None


class NameAvailability(APIModel):
    name: str | None = None
    available: bool
    message: str | None = None


# -- profiles -----------------------------------------------------------------


class Profile(APIModel):
    id: StrictInt
    name: Name
    description: str | None = None
    data: str | dict[str, Any] | None = None
    created_at: Timestamp = None

    @property
    def config(self) -> dict[str, Any]:
        """`data` decoded: the API returns the saved VM config as JSON text."""
        if self.data is None:
            return {}
        if isinstance(self.data, dict):
            return dict(self.data)
        decoded = json.loads(self.data)
        return decoded if isinstance(decoded, dict) else {}


class ProfileCreate(PayloadModel):
    name: str = Field(min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=150)
    data: dict[str, str]


class ProfileRef(PayloadModel):
    """Save a VM's create config as a profile, as a side effect of create."""

    name: str = Field(min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=150)


# -- security rules -----------------------------------------------------------


class SecurityRule(APIModel):
    id: StrictInt
    direction: str | None = None
    ethertype: str | None = None
    protocol: str | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = None
    status: str | None = Field(default=None, description="`pending`, then `SUCCESS`")
    created_at: Timestamp = None


class SecurityRuleCreate(PayloadModel):
    direction: Literal["ingress", "egress"]
    ethertype: Literal["IPv4", "IPv6"]
    protocol: str = Field(min_length=1)
    remote_ip_prefix: str = Field(min_length=1)
    port_range_min: int | None = Field(default=None, ge=1, le=65535)
    port_range_max: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("protocol")
    @classmethod
    def _lower_case_protocol(cls, value: str) -> str:
        if value != value.lower():
            raise ValueError(
                f"protocol {value!r} must be lower case, e.g. {value.lower()!r}"
            )
        return value

    def matches(self, rule: SecurityRule) -> bool:
        """Whether an existing rule has exactly these settings."""
        return (
            rule.direction == self.direction
            and rule.ethertype == self.ethertype
            and rule.protocol == self.protocol
            and rule.remote_ip_prefix == self.remote_ip_prefix
            and rule.port_range_min == self.port_range_min
            and rule.port_range_max == self.port_range_max
        )


# -- volumes and attachments --------------------------------------------------


class AttachedVolume(APIModel):
    """The volume summary nested in a VM's `volume_attachments`."""

    id: StrictInt | None = None
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    bootable: bool | None = None
    size: int | None = None


class VolumeAttachment(APIModel):
    """An attachment as nested in a VM or volume, or as attach/detach return
    it; `status` is upper case (`ATTACHING`, `ATTACHED`, `DETACHING`)."""

    id: StrictInt | None = None
    instance_id: StrictInt | None = None
    volume_id: StrictInt | None = None
    status: str | None = None
    device: str | None = None
    protected: bool | None = None
    created_at: Timestamp = None
    volume: AttachedVolume | None = None


class Volume(APIModel):
    id: StrictInt
    name: Name
    environment: EnvironmentRef | None = None
    description: str | None = None
    volume_type: str | None = None
    size: int | None = Field(default=None, description="GB")
    status: str | None = Field(default=None, description="lower case")
    bootable: bool | None = None
    image_id: int | None = None
    os_image: str | None = None
    callback_url: str | None = None
    created_at: Timestamp = None
    updated_at: Timestamp = None
    attachments: Annotated[
        list[VolumeAttachment], BeforeValidator(_none_to_empty_list)
    ] = []


class VolumeCreate(PayloadModel):
    name: str = Field(min_length=1, max_length=50)
    environment_name: str = Field(min_length=1)
    size: int = Field(ge=1, description="GB")
    volume_type: str = Field(min_length=1)
    description: str | None = None
    image_id: int | None = None
    callback_url: str | None = Field(default=None, max_length=250)


# -- virtual machines ---------------------------------------------------------


class InstanceFlavor(APIModel):
    id: StrictInt | None = None
    name: str | None = None
    cpu: int | None = None
    ram: float | None = None
    disk: int | None = None
    ephemeral: int | None = None
    gpu: str | None = None
    gpu_count: int | None = None
    labels: Annotated[list[Label], BeforeValidator(_none_to_empty_list)] = []
    features: dict[str, Any] | None = None


class NamedRef(APIModel):
    name: str | None = None


class VirtualMachine(APIModel):
    """A VM. `status` (upper case), `vm_state` (lower case) and `power_state`
    (upper case) move independently; `floating_ip` is None or `""` when the
    VM has no public IP."""

    id: StrictInt
    name: Name
    status: str | None = None
    vm_state: str | None = None
    power_state: str | None = None
    environment: EnvironmentRef | None = None
    image: NamedRef | None = None
    os: str | None = None
    flavor: InstanceFlavor | None = None
    keypair: NamedRef | None = None
    fixed_ip: str | None = None
    floating_ip: str | None = None
    floating_ip_status: str | None = None
    port_randomization: bool | None = None
    port_randomization_status: str | None = None
    requires_public_ip: bool | None = None
    security_rules: Annotated[
        list[SecurityRule], BeforeValidator(_none_to_empty_list)
    ] = []
    volume_attachments: Annotated[
        list[VolumeAttachment], BeforeValidator(_none_to_empty_list)
    ] = []
    callback_url: str | None = None
    labels: Annotated[list[str], BeforeValidator(_none_to_empty_list)] = []
    locked: bool | None = None
    contract_id: int | None = None
    created_at: Timestamp = None
    features: dict[str, Any] | None = None
    cluster_id: int | None = None
    dedicated_inference_id: int | None = None
    enhanced_metrics: dict[str, Any] | None = None

    @property
    def public_ip(self) -> str | None:
        """The public IP, or None: the API sends None or `""` for none."""
        return self.floating_ip or None


class CustomFlavor(PayloadModel):
    cpu: int | None = None
    ram: float | None = None
    disk: int | None = None
    gpu: str | None = None
    gpu_count: int | None = None


class VirtualMachineCreate(PayloadModel):
    """Body of `POST /core/virtual-machines`. `user_data` is kept out of
    `repr` so that it cannot reach a log through one."""

    name: str = Field(min_length=1, max_length=50)
    environment_name: str = Field(min_length=1)
    flavor_name: str = Field(min_length=1)
    key_name: str = Field(min_length=1)
    count: int = Field(default=1, ge=1)
    image_name: str | None = None
    volume_name: str | None = None
    create_bootable_volume: bool | None = None
    user_data: str | None = Field(default=None, repr=False)
    callback_url: str | None = Field(default=None, max_length=250)
    assign_floating_ip: bool | None = None
    enable_port_randomization: bool | None = None
    enhanced_monitoring_enabled: bool | None = None
    labels: list[str] | None = None
    security_rules: list[SecurityRuleCreate] | None = None
    profile: ProfileRef | None = None
    flavor: CustomFlavor | None = None


class InstanceEvent(APIModel):
    instance_id: int | None = None
    user_id: int | None = None
    org_id: int | None = None
    time: Timestamp = None
    type: str | None = None
    reason: str | None = None
    object: str | None = None
    message: str | None = None


class MetricSeries(APIModel):
    """One metric: rows of `[time, granularity, value]` under `columns`."""

    unit: str | None = None
    columns: Annotated[list[str], BeforeValidator(_none_to_empty_list)] = []
    data: Annotated[list[list[Any]], BeforeValidator(_none_to_empty_list)] = []
