"""The GPU bill of a change: VMs, GPUs and hourly price before and after.

Counts come from the VirtualMachine steps of the preview: a VM's `gpu` and
`gpu_count` are added to its inputs by the provider's `check` from the flavor
catalog, and echoed into its outputs. Prices come from the API's pricebook,
which lists an hourly price per priced item (GPU models, flavors); the bill is
an estimate at those list prices, for VMs only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_infrahub.report.model import Preview, ResourceState
from pulumi_infrahub.report.values import Marker

__all__ = ["VM_TYPE", "Fleet", "GpuBill", "Pricebook", "gpu_bill"]

VM_TYPE = "pulumi-python:dynamic/infrahub:VirtualMachine"

# A step's old side exists before the change, its new side after it.
_OPS_WITH_BEFORE = frozenset({"same", "update", "replace", "delete", "read", "refresh"})
_OPS_WITH_AFTER = frozenset({"same", "update", "replace", "create", "read", "import"})


@dataclass(frozen=True)
class Pricebook:
    """Hourly prices by item name, matched without regard to case."""

    hourly: Mapping[str, float]

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any]]) -> Pricebook:
        """Build from the API's `GET /pricebook` list (`name`, `value`, ...)."""
        hourly: dict[str, float] = {}
        for entry in entries:
            name, value = entry.get("name"), entry.get("value")
            if isinstance(name, str) and isinstance(value, int | float):
                hourly[name.casefold()] = float(value)
        return cls(hourly)

    def price(self, name: str) -> float | None:
        return self.hourly.get(name.casefold())


@dataclass(frozen=True)
class Fleet:
    """The VMs of the stack on one side of the change."""

    vms: int = 0
    gpus: int = 0
    gpus_by_model: Mapping[str, int] = field(default_factory=dict)
    hourly: float = 0.0
    unpriced: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class GpuBill:
    """Before and after, and what the estimate could not cover.

    `prices_error` says why there are no prices (no pricebook was given, or
    fetching it failed). `unlisted_unchanged` counts unchanged resources the
    input did not describe, whose VMs are missing from both sides.
    """

    before: Fleet
    after: Fleet
    priced: bool
    prices_error: str = ""
    unlisted_unchanged: int = 0


def gpu_bill(
    preview: Preview, pricebook: Pricebook | None, prices_error: str = ""
) -> GpuBill:
    """Sum the VMs of a preview on both sides of the change."""
    before: list[tuple[str, ResourceState]] = []
    after: list[tuple[str, ResourceState]] = []
    for step in preview.steps:
        if step.type != VM_TYPE:
            continue
        if step.op in _OPS_WITH_BEFORE and step.old is not None:
            before.append((step.name, step.old))
        if step.op in _OPS_WITH_AFTER and step.new is not None:
            after.append((step.name, step.new))
    return GpuBill(
        before=_fleet(before, pricebook, prefer_outputs=True),
        after=_fleet(after, pricebook, prefer_outputs=False),
        priced=pricebook is not None,
        prices_error=prices_error if pricebook is None else "",
        unlisted_unchanged=preview.unchanged_not_listed,
    )


def _fleet(
    vms: list[tuple[str, ResourceState]],
    pricebook: Pricebook | None,
    *,
    prefer_outputs: bool,
) -> Fleet:
    gpus_by_model: Counter[str] = Counter()
    hourly = 0.0
    unpriced: list[str] = []
    unknown: list[str] = []
    for name, state in vms:
        flavor = _known_str(_read(state, "flavor_name", prefer_outputs))
        model = _known_str(_read(state, "gpu", prefer_outputs))
        count = _known_int(_read(state, "gpu_count", prefer_outputs))
        if count is None:
            unknown.append(name)
            continue
        if count and model:
            gpus_by_model[model] += count
        if pricebook is None:
            continue
        price = _vm_price(pricebook, flavor, model, count)
        if price is None:
            unpriced.append(name)
        else:
            hourly += price
    return Fleet(
        vms=len(vms),
        gpus=sum(gpus_by_model.values()),
        gpus_by_model=dict(sorted(gpus_by_model.items())),
        hourly=hourly,
        unpriced=tuple(unpriced),
        unknown=tuple(unknown),
    )


def _vm_price(
    pricebook: Pricebook, flavor: str | None, model: str | None, count: int
) -> float | None:
    # GPU VMs are billed per GPU hour; a flavor with its own entry (CPU-only
    # flavors have no GPU to price) is billed at that entry.
    if count and model and (per_gpu := pricebook.price(model)) is not None:
        return per_gpu * count
    if flavor and (per_vm := pricebook.price(flavor)) is not None:
        return per_vm
    return None


def _read(state: ResourceState, key: str, prefer_outputs: bool) -> Any:
    # Unchanged VMs are described by what the provider last returned; planned
    # ones by their checked inputs.
    first, second = (
        (state.outputs, state.inputs)
        if prefer_outputs
        else (state.inputs, state.outputs)
    )
    if key in first:
        return first[key]
    return second.get(key)


def _known_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _known_int(value: Any) -> int | None:
    if isinstance(value, Marker | bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    return None
