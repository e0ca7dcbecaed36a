"""A pack with one mandatory policy: a memo must not hold the banned text.

The message names the stack, the project and a stack config value, which the
pack only knows if the language host started it with the stack's details.
"""

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

MEMO_TYPE = "pulumi-python:dynamic/e2e:Memo"


def no_banned_text(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != MEMO_TYPE:
        return
    banned = args.get_config()["banned"]
    if args.props.get("text") == banned:
        folder = pulumi.Config("memo").get("folder")
        report(
            f"memo text {banned!r} is banned on stack {pulumi.get_stack()} "
            f"of project {pulumi.get_project()} (folder {folder})"
        )


PolicyPack(
    name="memo-policy",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        ResourceValidationPolicy(
            name="no-banned-text",
            description="Memos must not hold the banned text.",
            validate=no_banned_text,
            config_schema=PolicyConfigSchema(
                properties={"banned": {"type": "string"}}, required=["banned"]
            ),
        )
    ],
)
