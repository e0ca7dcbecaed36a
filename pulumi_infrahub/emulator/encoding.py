"""JSON encoding of answers, and a cache of encoded objects for hot reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any


class RawJson:
    """A value already encoded as JSON, spliced into an answer as it is."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class RenderCache:
    """Encoded objects, kept until the store's generation moves on, so that
    polling the same VMs does not render them again and again."""

    def __init__(self) -> None:
        self._generation = -1
        self._entries: dict[Hashable, bytes] = {}

    def get(self, generation: int, key: Hashable, build: Callable[[], Any]) -> RawJson:
        if generation != self._generation:
            self._entries.clear()
            self._generation = generation
        data = self._entries.get(key)
        if data is None:
            data = self._entries[key] = encode(build())
        return RawJson(data)
