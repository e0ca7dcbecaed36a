"""Reading and checking provider inputs: unknowns, numbers, names, URLs.

Inputs reach a dynamic provider as plain Python values decoded from the
engine's protobuf structs, which has three consequences every hook must
handle: numbers arrive as floats (`22.0`), a property set to None is absent,
and during a preview a value that depends on a resource not yet created is an
unknown (`pulumi.output.Unknown`, or the `pulumi.runtime.rpc.UNKNOWN`
sentinel string in older paths). Unknowns are never validated as values and
never sent to the API.
"""

from __future__ import annotations

import difflib
import math
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pulumi.dynamic import CheckFailure
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as UNKNOWN_SENTINEL

__all__ = [
    "MAX_CALLBACK_URL",
    "MAX_DESCRIPTION",
    "MAX_NAME",
    "Failures",
    "as_int",
    "close_matches",
    "did_you_mean",
    "has_unknowns",
    "is_unknown",
    "known",
    "read_name",
    "timeout_for",
]

MAX_NAME = 50
MAX_CALLBACK_URL = 250
MAX_DESCRIPTION = 150


def is_unknown(value: Any) -> bool:
    """Whether `value` is a preview-time unknown."""
    return isinstance(value, Unknown) or (
        isinstance(value, str) and value == UNKNOWN_SENTINEL
    )


def has_unknowns(value: Any) -> bool:
    """Whether `value` is unknown or holds an unknown anywhere inside."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(has_unknowns(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_unknowns(item) for item in value)
    return False


def known(props: Mapping[str, Any], *keys: str) -> bool:
    """Whether every one of `keys` is known (absent counts as known)."""
    return not any(has_unknowns(props.get(key)) for key in keys)


def close_matches(word: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates closest to `word`, best first; case is ignored."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    found = difflib.get_close_matches(
        word.casefold(), list(by_folded), n=limit, cutoff=0.5
    )
    return [by_folded[item] for item in found]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A sentence naming the close matches of `word`, or an empty string."""
    matches = close_matches(word, candidates)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"


@dataclass
class Failures:
    """Per-property check failures, collected while reading inputs.

    Each reader returns the normalised value, or None after recording why the
    value is unusable, so a check reports every bad property at once.
    """

    items: list[CheckFailure] = field(default_factory=list)

    def add(self, prop: str, reason: str) -> None:
        self.items.append(CheckFailure(prop, reason))

    def __bool__(self) -> bool:
        return bool(self.items)

    def props(self) -> list[str]:
        return [item.property for item in self.items]

    # -- typed readers -------------------------------------------------------

    def string(
        self,
        props: Mapping[str, Any],
        key: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        what: str = "",
    ) -> str | None:
        value = props.get(key)
        if value is None or value == "":
            if required:
                self.add(key, f"{key} is required{what}; set it to a non-empty text.")
            return None
        if not isinstance(value, str):
            self.add(key, f"{key} must be text, not {_kind(value)}.")
            return None
        if max_length is not None and len(value) > max_length:
            self.add(
                key,
                f"{key} is {len(value)} characters long; the API accepts at "
                f"most {max_length}. Shorten it.",
            )
            return None
        return value

    def name(self, props: Mapping[str, Any], key: str = "name") -> str | None:
        """An object name: 1 to 50 characters, no leading or trailing blanks."""
        if props.get(key) == "":
            self.add(key, f"{key} is empty; give a name, or leave {key} out.")
            return None
        value = self.string(props, key, max_length=MAX_NAME)
        if value is not None and value != value.strip():
            self.add(
                key,
                f"{key} {value!r} starts or ends with blanks; remove them.",
            )
            return None
        return value

    def boolean(self, props: Mapping[str, Any], key: str) -> bool | None:
        value = props.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.add(key, f"{key} must be true or false, not {_kind(value)}.")
            return None
        return value

    def integer(
        self,
        props: Mapping[str, Any],
        key: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        label: str | None = None,
        value: Any = None,
    ) -> int | None:
        """A whole number; the engine sends every number as a float."""
        raw = props.get(key) if value is None else value
        label = label or key
        if raw is None:
            return None
        number = as_int(raw)
        if number is None:
            self.add(label, f"{label} must be a whole number, not {raw!r}.")
            return None
        if minimum is not None and number < minimum:
            self.add(label, f"{label} is {number}; it must be at least {minimum}.")
            return None
        if maximum is not None and number > maximum:
            self.add(label, f"{label} is {number}; it must be at most {maximum}.")
            return None
        return number

    def object_id(self, props: Mapping[str, Any], key: str) -> int | None:
        """An API id: a positive whole number, or the digits of one (as a
        resource's `id` output gives it)."""
        raw = props.get(key)
        if raw is None or raw == "":
            self.add(key, f"{key} is required; pass the id of an existing object.")
            return None
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        return self.integer(props, key, minimum=1, value=raw)

    def callback_url(self, props: Mapping[str, Any], key: str) -> str | None:
        value = self.string(props, key, max_length=MAX_CALLBACK_URL)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            self.add(
                key,
                f"{key} {value!r} is not an http(s) URL with a host; use a value "
                "like 'https://hooks.example.com/infrahub'.",
            )
            return None
        return value

    def choice(
        self,
        props: Mapping[str, Any],
        key: str,
        choices: Iterable[str],
        *,
        default: str | None = None,
    ) -> str | None:
        """One of `choices`, compared without regard to case."""
        allowed = list(choices)
        value = props.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            for option in allowed:
                if option.casefold() == value.casefold():
                    return option
        listed = ", ".join(repr(option) for option in allowed)
        self.add(key, f"{key} {value!r} is not one of {listed}.")
        return None

    def string_list(self, props: Mapping[str, Any], key: str) -> list[str] | None:
        value = props.get(key)
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            self.add(key, f"{key} must be a list of texts, not {_kind(value)}.")
            return None
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                self.add(
                    f"{key}[{index}]",
                    f"{key}[{index}] must be a non-empty text, not {item!r}.",
                )
                return None
            items.append(item)
        return items

    def timeouts(
        self, props: Mapping[str, Any], defaults: Mapping[str, float]
    ) -> dict[str, float] | None:
        """Seconds per operation; only the operations in `defaults` exist."""
        value = props.get("timeouts")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.add("timeouts", "timeouts must map operations to seconds.")
            return None
        result: dict[str, float] = {}
        for operation, seconds in value.items():
            if operation not in defaults:
                known_ops = ", ".join(sorted(defaults))
                self.add(
                    "timeouts",
                    f"timeouts has no operation {operation!r}; use {known_ops}.",
                )
                continue
            if (
                isinstance(seconds, bool)
                or not isinstance(seconds, (int, float))
                or not math.isfinite(seconds)
                or seconds <= 0
            ):
                self.add(
                    f"timeouts.{operation}",
                    f"timeouts.{operation} must be a number of seconds above 0, "
                    f"not {seconds!r}.",
                )
                continue
            result[operation] = float(seconds)
        return result


_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
_SUFFIX_LENGTH = 7


def read_name(
    failures: Failures, olds: Mapping[str, Any], news: Mapping[str, Any]
) -> Any:
    """The object's name: the `name` input if given, else a generated one.

    A generated name is `name_prefix` (the Pulumi resource name) plus a random
    suffix, made once and then carried over from the old inputs, even when the
    resource is renamed in Pulumi with an alias. When the engine replaces the
    resource it checks the inputs again without old ones, so the replacement
    gets a fresh name and can be created before the old object is deleted.
    """
    name = news.get("name")
    if is_unknown(name):
        return name
    if name is not None:
        return failures.name(news, "name")

    prefix = news.get("name_prefix")
    if is_unknown(prefix):
        return prefix
    prefix = failures.string(
        news, "name_prefix", required=True, what=" when name is left out"
    )
    if prefix is None:
        return None
    old_name = olds.get("name")
    old_was_generated = olds.get("name_prefix") is not None
    if old_was_generated and isinstance(old_name, str) and old_name:
        return old_name
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(_SUFFIX_LENGTH))
    return f"{prefix[: MAX_NAME - _SUFFIX_LENGTH - 1].rstrip()}-{suffix}"


def as_int(value: Any) -> int | None:
    """`value` as an int when it is a whole number (floats included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def timeout_for(
    props: Mapping[str, Any], operation: str, defaults: Mapping[str, float]
) -> float:
    """Seconds allowed for `operation`, from the `timeouts` input or defaults."""
    given = props.get("timeouts")
    if isinstance(given, Mapping):
        seconds = given.get(operation)
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
            return float(seconds)
    return defaults[operation]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a map"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__
