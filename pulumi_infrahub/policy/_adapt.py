"""Turns checks written as generators of messages into pulumi-policy validators.

A check yields one message per violation it can prove, then may raise
`UnknownInputError` for what it could not read; the messages already yielded
are reported before that error reaches the policy runtime.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

ResourceCheck = Callable[[ResourceValidationArgs], Iterable[str]]
StackCheck = Callable[[StackValidationArgs], Iterable[tuple[str, str | None]]]
ResourceValidate = Callable[[ResourceValidationArgs, ReportViolation], None]
StackValidate = Callable[[StackValidationArgs, ReportViolation], None]


def resource_validator(check: ResourceCheck) -> ResourceValidate:
    """A resource validator reporting each message `check` yields."""

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in check(args):
            report(message, None)

    validate.__name__ = check.__name__
    return validate


def stack_validator(check: StackCheck) -> StackValidate:
    """A stack validator reporting each `(message, urn)` that `check` yields."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for message, urn in check(args):
            report(message, urn)

    validate.__name__ = check.__name__
    return validate
