"""What every infrahub policy shares: type tokens, config, and reading props.

Three habits keep the policies honest:

- A policy reads only the props it needs and never the `__provider` blob that
  every dynamic resource carries.
- A value that is not known during preview stops only the check that needs it:
  a policy reports what it can prove first, then raises `UnknownInputError`,
  which the policy runtime turns into an advisory note naming the value.
- Numbers arrive as floats from both props and config, so they go through
  `whole_number` before they are compared or printed.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, NoReturn

from pulumi_policy import (
    PolicyConfigSchema,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.proxy import UnknownValueError

_TOKEN_PREFIX: Final = "pulumi-python:dynamic/infrahub:"
VIRTUAL_MACHINE: Final = _TOKEN_PREFIX + "VirtualMachine"
VOLUME: Final = _TOKEN_PREFIX + "Volume"
SECURITY_RULE: Final = _TOKEN_PREFIX + "SecurityRule"
VOLUME_ATTACHMENT: Final = _TOKEN_PREFIX + "VolumeAttachment"

# Listing at most this many resources keeps a stack-wide message readable in
# a terminal and in a pull-request comment.
MAX_LISTED: Final = 10


class PolicyConfigError(ValueError):
    """A policy's config has a key it does not know or a value of the wrong type.

    The engine validates config against each policy's schema before a preview
    runs, so this is raised only for a misspelt key (the schema cannot forbid
    extra keys) or when a policy is called outside the engine.
    """


class UnknownInputError(UnknownValueError):
    """Values a policy needs are not known until `pulumi up` runs.

    The policy runtime reports this as an advisory note instead of a
    violation, with `message` after its own prefix.
    """

    def __init__(self, cause: UnknownValueError, unknowns: Sequence[str]) -> None:
        super().__init__(cause.unknown_type_sentinel, cause.props)
        verb, them = ("is", "it") if len(unknowns) == 1 else ("are", "them")
        self.message = (
            f"{listing(unknowns)} {verb} not known until the update runs, so "
            f"this policy skipped {them} during preview; `pulumi up` checks "
            f"{them} again once known"
        )

    def __str__(self) -> str:
        return self.message


class _Unknown:
    """The marker `Unknowns.read` returns for a value not known during preview."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


class Unknowns:
    """Collects the values a policy could not read, so it can check the rest.

    `read` and `item` return `UNKNOWN` for such a value; a block of reads goes in
    `collect(subject)`, which ends the block at the first unknown value. After
    reporting what it could prove, the policy calls `skip_if_any()`.
    """

    def __init__(self) -> None:
        self._found: list[str] = []
        self._first: UnknownValueError | None = None

    def __bool__(self) -> bool:
        return self._first is not None

    def __len__(self) -> int:
        return len(self._found)

    def read(self, props: Mapping[str, Any], key: str, subject: str) -> Any:
        with self.collect(subject):
            return props.get(key)
        return UNKNOWN

    def item(self, items: Sequence[Any], index: int, subject: str) -> Any:
        with self.collect(subject):
            return items[index]
        return UNKNOWN

    @contextmanager
    def collect(self, subject: str) -> Iterator[None]:
        try:
            yield
        except UnknownValueError as error:
            path = ".".join(error.props) or "a value"
            self._found.append(f"{path} of {subject}")
            if self._first is None:
                self._first = error

    def skip_if_any(self) -> None:
        if self._first is not None:
            raise UnknownInputError(self._first, self._found)


def kind_of(resource_type: str) -> str:
    """The class name in a type token: `VirtualMachine` for a VM."""
    return resource_type.rsplit(":", 1)[-1]


def subject_of(resource_type: str, name: str) -> str:
    """How messages name a resource: its kind and its name in the program."""
    return f"{kind_of(resource_type)} '{name}'"


def require_type(args: ResourceValidationArgs, *resource_types: str) -> None:
    """Mark the policy not applicable unless the resource has one of the types."""
    if args.resource_type not in resource_types:
        kinds = " or ".join(kind_of(token) for token in resource_types)
        args.not_applicable(f"applies to {kinds} resources only")


def settings(
    args: ResourceValidationArgs | StackValidationArgs,
    policy_name: str,
    schema: PolicyConfigSchema,
) -> dict[str, Any]:
    """The policy's config: the schema's defaults overlaid with what was given."""
    given = dict(args.get_config())
    unknown = sorted(set(given) - set(schema.properties))
    if unknown:
        raise PolicyConfigError(
            f"policy {policy_name!r} has no config key {quoted(unknown)}; "
            f"its keys are {quoted(sorted(schema.properties))}"
        )
    merged = {
        key: spec["default"]
        for key, spec in schema.properties.items()
        if "default" in spec
    }
    merged.update(given)
    return merged


def config_count(config: Mapping[str, Any], key: str, policy_name: str) -> int:
    """A whole, non-negative number from config (`4.0` becomes 4)."""
    value = whole_number(config.get(key))
    if value is None or value < 0:
        _bad_config(policy_name, key, config.get(key), "a whole number of 0 or more")
    return value


def config_numbers(config: Mapping[str, Any], key: str, policy_name: str) -> list[int]:
    """A list of whole numbers from config (`22.0` becomes 22)."""
    value = config.get(key)
    if isinstance(value, Sequence) and not isinstance(value, str):
        numbers = [whole_number(item) for item in value]
        if all(number is not None for number in numbers):
            return [number for number in numbers if number is not None]
    _bad_config(policy_name, key, value, "a list of whole numbers")


def config_strings(config: Mapping[str, Any], key: str, policy_name: str) -> list[str]:
    """A list of non-empty strings from config, such as glob patterns."""
    value = config.get(key)
    if isinstance(value, Sequence) and not isinstance(value, str):
        patterns = list(value)
        if all(isinstance(item, str) and item for item in patterns):
            return patterns
    _bad_config(policy_name, key, value, "a list of non-empty strings")


def _bad_config(policy_name: str, key: str, value: Any, expected: str) -> NoReturn:
    raise PolicyConfigError(
        f"policy {policy_name!r}: config {key} must be {expected}, not {value!r}"
    )


def whole_number(value: Any) -> int | None:
    """`value` as an int when it is a whole number (floats included), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def allows_everything(patterns: Sequence[str]) -> bool:
    """True when a pattern list lets every value through, so no value is needed."""
    return "*" in patterns


def first_match(value: str, patterns: Sequence[str]) -> str | None:
    """The first glob pattern that matches `value`, ignoring case."""
    folded = value.casefold()
    for pattern in patterns:
        if fnmatch.fnmatchcase(folded, pattern.casefold()):
            return pattern
    return None


def counted(count: int, noun: str) -> str:
    """`1 GPU`, `2 GPUs`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def quoted(values: Sequence[object]) -> str:
    """`'a', 'b'` for messages."""
    return ", ".join(repr(value) for value in values)


def listing(items: Sequence[str]) -> str:
    """Items joined for a sentence, shortened to `MAX_LISTED` of them."""
    shown = list(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        shown.append(f"{len(items) - MAX_LISTED} more")
    if len(shown) <= 2:
        return " and ".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]
