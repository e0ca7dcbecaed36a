"""How large a volume may be."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from ._adapt import resource_validator
from ._support import (
    VOLUME,
    Unknowns,
    config_count,
    require_type,
    settings,
    subject_of,
)

MAX_VOLUME_SIZE: Final = "infrahub-volume-max-size"

_SCHEMA = PolicyConfigSchema(
    properties={
        "maxSizeGb": {
            "type": "integer",
            "minimum": 1,
            "default": 1024,
            "description": "The largest size, in GB, a volume may have.",
        },
    }
)


def _size_violations(args: ResourceValidationArgs) -> Iterator[str]:
    require_type(args, VOLUME)
    config = settings(args, MAX_VOLUME_SIZE, _SCHEMA)
    limit = config_count(config, "maxSizeGb", MAX_VOLUME_SIZE)

    subject = subject_of(args.resource_type, args.name)
    unknowns = Unknowns()
    size = unknowns.read(args.props, "size", subject)
    unknowns.skip_if_any()

    if isinstance(size, bool) or not isinstance(size, int | float):
        found = "no size" if size is None else f"size {size!r}"
        yield (
            f"{subject} has {found} instead of a number of GB, so it cannot be "
            f"checked against the limit of {limit} GB. Set size."
        )
    elif size > limit:
        yield (
            f"{subject} has size {size:g} GB; the limit is {limit} GB "
            f"(maxSizeGb). Choose at most {limit} GB, split the data over "
            "several volumes, or raise maxSizeGb."
        )


max_volume_size = ResourceValidationPolicy(
    name=MAX_VOLUME_SIZE,
    display_name="Volume size",
    description="Checks that no volume is larger than maxSizeGb.",
    validate=resource_validator(_size_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
    severity=Severity.MEDIUM,
    tags=["infrahub", "storage", "cost"],
    remediation_steps="Make the volume smaller, or raise maxSizeGb.",
)
