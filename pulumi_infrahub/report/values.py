"""Property values as the engine serialises them, made safe to show.

The engine writes secrets as signature objects (or, in `--json` output, as the
string `[secret]`) and values not known until apply as a fixed UUID string.
`clean_properties` turns both into markers once, when a preview is read, so
that no plaintext secret survives past parsing even when the CLI was run with
`--show-secrets`.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ALWAYS_SECRET",
    "MISSING",
    "SECRET",
    "UNKNOWN",
    "Marker",
    "clean_properties",
    "contains_secret",
    "format_value",
    "is_internal_key",
    "lookup",
    "parse_path",
    "secret_keys",
]

# The engine's signature key and the signature that marks a secret value.
_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"

# What the engine writes for a value that is computed during apply.
_UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# `--json` output replaces each secret by this string.
_BLINDED_SECRET = "[secret]"

# Properties hidden whatever their serialised form says: a program that passes
# cloud-init data as a plain string must not see it printed in a pull request.
ALWAYS_SECRET = frozenset({"user_data", "api_key", "apiKey"})


class Marker(enum.Enum):
    """A value the report shows by a fixed label instead of its content."""

    SECRET = "[secret]"
    UNKNOWN = "(known after apply)"
    MISSING = "-"


SECRET = Marker.SECRET
UNKNOWN = Marker.UNKNOWN
MISSING = Marker.MISSING


def is_internal_key(key: str) -> bool:
    """Whether a top-level property is engine or provider bookkeeping.

    Dynamic resources carry `__provider` (the pickled provider); the engine
    may add other double-underscore keys. None of them is the user's.
    """
    return key.startswith("__")


def secret_keys(*property_maps: Mapping[str, Any] | None) -> frozenset[str]:
    """Top-level keys that are secret in any of the given raw property maps.

    A value that is secret on one side of a change (for example in the outputs
    but not in the inputs) is hidden on every side.
    """
    found = set(ALWAYS_SECRET)
    for properties in property_maps:
        for key, value in (properties or {}).items():
            if _is_raw_secret(value):
                found.add(key)
    return frozenset(found)


def clean_properties(
    properties: Mapping[str, Any] | None, hidden: Iterable[str] = ()
) -> dict[str, Any]:
    """Drop internal keys and replace secrets and unknowns by markers."""
    hidden_keys = set(hidden) | ALWAYS_SECRET
    cleaned: dict[str, Any] = {}
    for key, value in (properties or {}).items():
        if is_internal_key(key):
            continue
        cleaned[key] = SECRET if key in hidden_keys else _clean_value(value)
    return cleaned


def contains_secret(value: Any) -> bool:
    """Whether a cleaned value is, or holds, a secret marker."""
    if value is SECRET:
        return True
    if isinstance(value, Mapping):
        return any(contains_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_secret(item) for item in value)
    return False


_PATH_TOKEN = re.compile(r'\.?([^.\[\]"]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


def parse_path(path: str) -> list[str | int]:
    """Split an engine property path such as `labels.team` or `rules[2].port`.

    Keys with dots or brackets are quoted (`["a.b"]`). A path that does not
    parse is taken as a single top-level key.
    """
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None or match.end() == position:
            return [path]
        plain, index, quoted = match.groups()
        if plain is not None:
            parts.append(plain)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(json.loads(f'"{quoted}"'))
        position = match.end()
    return parts or [path]


def lookup(properties: Mapping[str, Any], path: str) -> Any:
    """The cleaned value at `path`, `MISSING` if absent.

    Walking into a secret or unknown value yields that marker: the part of a
    secret object that changed is as secret as the whole.
    """
    current: Any = properties
    for part in parse_path(path):
        if isinstance(current, Marker):
            return current
        if isinstance(part, int) and isinstance(current, list):
            if part >= len(current):
                return MISSING
            current = current[part]
        elif isinstance(current, Mapping) and str(part) in current:
            current = current[str(part)]
        else:
            return MISSING
    return current


def format_value(value: Any, limit: int = 120) -> str:
    """One line for a cleaned value, at most `limit` characters long."""
    if isinstance(value, Marker):
        return value.value
    text = json.dumps(_displayable(value), ensure_ascii=False, sort_keys=True)
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 1)] + "…"


def _is_raw_secret(value: Any) -> bool:
    if isinstance(value, Mapping):
        return bool(value.get(_SIG_KEY) == _SECRET_SIG)
    return bool(value == _BLINDED_SECRET)


def _clean_value(value: Any) -> Any:
    if _is_raw_secret(value):
        return SECRET
    if value == _UNKNOWN_SENTINEL:
        return UNKNOWN
    if isinstance(value, Mapping):
        signature = value.get(_SIG_KEY)
        if signature == _RESOURCE_REFERENCE_SIG:
            return f"[resource {value.get('urn', '?')}]"
        if signature == _ASSET_SIG:
            return "[asset]"
        if signature == _ARCHIVE_SIG:
            return "[archive]"
        return {key: _clean_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clean_value(item) for item in value]
    return value


def _displayable(value: Any) -> Any:
    if isinstance(value, Marker):
        return value.value
    if isinstance(value, float) and value.is_integer():
        # The engine carries every number as a float; `4` reads better than `4.0`.
        return int(value)
    if isinstance(value, Mapping):
        return {str(key): _displayable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_displayable(item) for item in value]
    return value
