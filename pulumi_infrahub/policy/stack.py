"""Stack-wide limits: how many GPUs and VMs one stack may hold.

Stack policies see every resource the stack will hold after the operation,
with its outputs: new and changed VMs show their checked inputs during a
preview, VMs that are not changing show what the provider last stored. The
VM provider echoes every input, `gpu_count` included, into its outputs, so
unchanged VMs count like the others. Resources being deleted are left out.

A stack policy runs after the operation's steps. `pulumi up` previews first,
so a mandatory violation stops it before anything changes; with
`--skip-preview` the violation is found only after the changes are made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from ._adapt import stack_validator
from ._support import (
    UNKNOWN,
    VIRTUAL_MACHINE,
    Unknowns,
    config_count,
    counted,
    listing,
    settings,
    subject_of,
    whole_number,
)

MAX_STACK_GPUS: Final = "infrahub-stack-max-gpus"
MAX_STACK_VMS: Final = "infrahub-stack-max-vms"


def _virtual_machines(args: StackValidationArgs) -> list[PolicyResource]:
    return [
        resource
        for resource in args.resources
        if resource.resource_type == VIRTUAL_MACHINE
    ]


_GPUS_SCHEMA = PolicyConfigSchema(
    properties={
        "maxTotalGpus": {
            "type": "integer",
            "minimum": 0,
            "default": 8,
            "description": (
                "The most GPUs all VMs of the stack may have together, counting "
                "new, changed and unchanged VMs."
            ),
        },
    }
)


def _stack_gpu_violations(
    args: StackValidationArgs,
) -> Iterator[tuple[str, str | None]]:
    config = settings(args, MAX_STACK_GPUS, _GPUS_SCHEMA)
    limit = config_count(config, "maxTotalGpus", MAX_STACK_GPUS)

    unknowns = Unknowns()
    gpus: list[tuple[str, int]] = []
    for vm in _virtual_machines(args):
        subject = subject_of(vm.resource_type, vm.name)
        value = unknowns.read(vm.props, "gpu_count", subject)
        if value is UNKNOWN:
            continue
        count = whole_number(value)
        if count is None:
            found = "no gpu_count" if value is None else f"gpu_count {value!r}"
            yield (
                f"{subject} has {found} instead of a whole number, so the "
                f"stack's GPUs cannot be counted against maxTotalGpus ({limit}). "
                "The provider takes gpu_count from the flavor catalog during "
                "check: make sure flavor_name names a flavor of the catalog "
                "and the provider is up to date.",
                vm.urn,
            )
            continue
        gpus.append((vm.name, count))

    total = sum(count for _, count in gpus)
    if total > limit:
        ranked = sorted(
            (item for item in gpus if item[1] > 0),
            key=lambda item: (-item[1], item[0]),
        )
        shares = listing([f"'{name}' {count}" for name, count in ranked])
        uncounted = (
            f" That leaves out {counted(len(unknowns), 'VM')} whose GPU count is "
            "not known yet."
            if unknowns
            else ""
        )
        yield (
            f"The stack has {counted(total, 'GPU')} ({shares}); the limit is "
            f"{limit} (maxTotalGpus).{uncounted} Remove VMs or choose flavors "
            "with fewer GPUs, or raise maxTotalGpus.",
            None,
        )
        # The limit is broken whatever the unknown counts turn out to be.
        return
    unknowns.skip_if_any()


max_stack_gpus = StackValidationPolicy(
    name=MAX_STACK_GPUS,
    display_name="GPUs per stack",
    description="Checks that the stack's VMs have at most maxTotalGpus GPUs together.",
    validate=stack_validator(_stack_gpu_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_GPUS_SCHEMA,
    severity=Severity.HIGH,
    tags=["infrahub", "gpu", "cost"],
    remediation_steps=(
        "Remove GPU VMs from the stack, choose flavors with fewer GPUs, or "
        "raise maxTotalGpus in the policy config."
    ),
)


_VMS_SCHEMA = PolicyConfigSchema(
    properties={
        "maxVms": {
            "type": "integer",
            "minimum": 0,
            "default": 10,
            "description": (
                "The most VMs the stack may hold, counting new, changed and "
                "unchanged VMs."
            ),
        },
    }
)


def _stack_vm_violations(
    args: StackValidationArgs,
) -> Iterator[tuple[str, str | None]]:
    config = settings(args, MAX_STACK_VMS, _VMS_SCHEMA)
    limit = config_count(config, "maxVms", MAX_STACK_VMS)

    names = sorted(vm.name for vm in _virtual_machines(args))
    if len(names) > limit:
        yield (
            f"The stack has {counted(len(names), 'VM')} "
            f"({listing([repr(name) for name in names])}); the limit is {limit} "
            "(maxVms). Remove VMs, or raise maxVms.",
            None,
        )


max_stack_vms = StackValidationPolicy(
    name=MAX_STACK_VMS,
    display_name="VMs per stack",
    description="Checks that the stack holds at most maxVms VMs.",
    validate=stack_validator(_stack_vm_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_VMS_SCHEMA,
    severity=Severity.MEDIUM,
    tags=["infrahub", "cost"],
    remediation_steps="Remove VMs from the stack, or raise maxVms.",
)
