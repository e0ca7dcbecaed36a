"""Where VMs and volumes may live: allowed regions and environments."""

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
    UNKNOWN,
    VIRTUAL_MACHINE,
    VOLUME,
    Unknowns,
    allows_everything,
    config_strings,
    first_match,
    quoted,
    require_type,
    settings,
    subject_of,
)

ALLOWED_LOCATIONS: Final = "infrahub-allowed-locations"

_SCHEMA = PolicyConfigSchema(
    properties={
        "allowedRegions": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "default": ["*"],
            "description": (
                "Glob patterns of the regions (such as 'CANADA-1') VMs and "
                "volumes may live in, matched ignoring case; '*' allows all."
            ),
        },
        "allowedEnvironments": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "default": ["*"],
            "description": (
                "Glob patterns of the environments VMs and volumes may be "
                "created in, matched ignoring case; '*' allows all."
            ),
        },
    }
)

# (prop, config key, what the message calls it, what to change to comply)
_RULES: Final = (
    ("region", "allowedRegions", "region", "an environment in an allowed region"),
    (
        "environment_name",
        "allowedEnvironments",
        "environment",
        "an allowed environment_name",
    ),
)


def _location_violations(args: ResourceValidationArgs) -> Iterator[str]:
    require_type(args, VIRTUAL_MACHINE, VOLUME)
    config = settings(args, ALLOWED_LOCATIONS, _SCHEMA)
    subject = subject_of(args.resource_type, args.name)
    unknowns = Unknowns()

    for prop, key, noun, fix in _RULES:
        allowed = config_strings(config, key, ALLOWED_LOCATIONS)
        if allows_everything(allowed):
            continue
        value = unknowns.read(args.props, prop, subject)
        if value is UNKNOWN:
            continue
        if not isinstance(value, str) or not value:
            yield (
                f"{subject} has no {prop}, so its {noun} cannot be checked "
                f"against {key} ({quoted(allowed)}). Set environment_name; the "
                "provider resolves the region from it during check."
            )
        elif first_match(value, allowed) is None:
            yield (
                f"{subject} is in {noun} '{value}', which matches none of {key} "
                f"({quoted(allowed)}). Use {fix}, or add the {noun} to {key}."
            )
    unknowns.skip_if_any()


allowed_locations = ResourceValidationPolicy(
    name=ALLOWED_LOCATIONS,
    display_name="Allowed regions and environments",
    description="Checks that VMs and volumes live in allowed regions and environments.",
    validate=resource_validator(_location_violations),
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=_SCHEMA,
    severity=Severity.MEDIUM,
    tags=["infrahub", "placement"],
    remediation_steps=(
        "Use an environment_name in an allowed region, or extend allowedRegions "
        "and allowedEnvironments in the policy config."
    ),
)
