"""Unit tests of the GPU bill: counts and prices before and after a change."""

from __future__ import annotations

import pytest
from preview_events import UNKNOWN, VM, VOLUME, log, state, step, summary, vm_inputs

from pulumi_infrahub.report import Pricebook, gpu_bill, parse_event_log

PRICES = Pricebook.from_entries(
    [
        {"id": 1, "name": "A100-80G-PCIe", "value": 1.35, "original_value": 1.35},
        {"id": 2, "name": "H100-80G-PCIe", "value": 1.90, "original_value": 2.10},
        {"id": 3, "name": "n1-cpu-small", "value": 0.05},
    ]
)


def a100(count: int = 1) -> dict[str, object]:
    return vm_inputs(flavor=f"n3-A100x{count}", gpu="A100-80G-PCIe", count=count)


def h100(count: int = 1) -> dict[str, object]:
    return vm_inputs(flavor=f"n3-H100x{count}", gpu="H100-80G-PCIe", count=count)


def test_bill_counts_every_side_of_every_step() -> None:
    lines = log(
        step(
            "same",
            VM,
            "kept",
            old=state(VM, "kept", a100()),
            new=state(VM, "kept", a100()),
        ),
        step("create", VM, "added", new=state(VM, "added", h100(2))),
        step("delete", VM, "gone", old=state(VM, "gone", a100(4))),
        step(
            "replace",
            VM,
            "grown",
            old=state(VM, "grown", a100(1)),
            new=state(VM, "grown", h100(4)),
            detailed={"flavor_name": "update-replace"},
        ),
        step("create", VOLUME, "data", new=state(VOLUME, "data", {"size": 100.0})),
        summary(),
    )

    bill = gpu_bill(parse_event_log(lines), PRICES)

    assert (bill.before.vms, bill.after.vms) == (3, 3)
    assert (bill.before.gpus, bill.after.gpus) == (6, 7)
    assert bill.before.gpus_by_model == {"A100-80G-PCIe": 6}
    assert bill.after.gpus_by_model == {"A100-80G-PCIe": 1, "H100-80G-PCIe": 6}
    assert bill.before.hourly == pytest.approx(6 * 1.35)
    assert bill.after.hourly == pytest.approx(1.35 + 6 * 1.90)


def test_cpu_flavor_is_priced_by_its_own_entry() -> None:
    cpu = vm_inputs(flavor="n1-cpu-small", gpu="", count=0)
    lines = log(step("create", VM, "cpu", new=state(VM, "cpu", cpu)), summary())

    bill = gpu_bill(parse_event_log(lines), PRICES)

    assert (bill.after.vms, bill.after.gpus) == (1, 0)
    assert bill.after.hourly == pytest.approx(0.05)
    assert bill.after.unpriced == ()


def test_vm_without_a_pricebook_entry_is_named_not_guessed() -> None:
    odd = vm_inputs(flavor="n9-L40x1", gpu="L40", count=1)
    lines = log(step("create", VM, "odd", new=state(VM, "odd", odd)), summary())

    bill = gpu_bill(parse_event_log(lines), PRICES)

    assert bill.after.unpriced == ("odd",)
    assert bill.after.hourly == 0.0
    assert bill.after.gpus == 1


def test_gpu_count_unknown_at_preview_is_reported_not_counted() -> None:
    pending = vm_inputs(gpu_count=UNKNOWN)
    lines = log(
        step("create", VM, "pending", new=state(VM, "pending", pending)), summary()
    )

    bill = gpu_bill(parse_event_log(lines), PRICES)

    assert bill.after.vms == 1
    assert bill.after.gpus == 0
    assert bill.after.unknown == ("pending",)


def test_unchanged_vm_is_read_from_its_outputs() -> None:
    # The provider's check added gpu fields to the outputs of an older state
    # whose inputs predate them.
    old_inputs = {"name": "kept", "flavor_name": "n3-A100x2"}
    old = state(VM, "kept", old_inputs, {**old_inputs, **a100(2)})
    lines = log(step("same", VM, "kept", old=old, new=old), summary())

    bill = gpu_bill(parse_event_log(lines), PRICES)

    assert bill.before.gpus == 2
    assert bill.before.hourly == pytest.approx(2 * 1.35)


def test_without_pricebook_the_bill_says_why() -> None:
    lines = log(step("create", VM, "web", new=state(VM, "web", a100())), summary())

    bill = gpu_bill(parse_event_log(lines), None, "the API key is not set")

    assert not bill.priced
    assert bill.prices_error == "the API key is not set"
    assert bill.after.gpus == 1


def test_pricebook_names_match_without_regard_to_case() -> None:
    assert PRICES.price("a100-80g-pcie") == pytest.approx(1.35)
    assert PRICES.price("unknown") is None
