"""Where the API URL and key come from, and in what order.

Each setting is taken from the first place that has it:

1. the argument passed by the caller (for the Pulumi provider: stack config
   `infrahub:apiUrl` / `infrahub:apiKey`);
2. `INFRAHUB_API_URL` / `INFRAHUB_API_KEY`;
3. `HYPERSTACK_API_ADDRESS` / `HYPERSTACK_API_KEY`, the names the vendor's own
   tools read;
4. for the URL only, the public API at `DEFAULT_API_URL`.

An empty string counts as unset everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pulumi_infrahub.client.errors import ConfigurationError

__all__ = [
    "API_KEY_VARIABLES",
    "API_URL_VARIABLES",
    "DEFAULT_API_URL",
    "Settings",
    "resolve_settings",
]

DEFAULT_API_URL = "https://infrahub-api.nexgencloud.com/v1"
API_URL_VARIABLES = ("INFRAHUB_API_URL", "HYPERSTACK_API_ADDRESS")
API_KEY_VARIABLES = ("INFRAHUB_API_KEY", "HYPERSTACK_API_KEY")


@dataclass(frozen=True)
class Settings:
    """A resolved API URL (no trailing slash) and key."""

    api_url: str
    api_key: str = field(repr=False)


def resolve_settings(
    api_key: str | None = None,
    api_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the API URL and key from arguments, then the environment.

    Raises ConfigurationError when no key is found or the URL is not an
    http(s) URL with a host.
    """
    env = os.environ if environ is None else environ

    key = _first(api_key, *(env.get(name) for name in API_KEY_VARIABLES))
    if key is None:
        names = " or ".join(API_KEY_VARIABLES)
        raise ConfigurationError(
            f"No Infrahub API key: set {names}, or give the client its api_key "
            "(Pulumi stacks: pulumi config set --secret infrahub:apiKey <key>)."
        )
    if key != key.strip() or any(c in key for c in "\r\n"):
        raise ConfigurationError(
            "The Infrahub API key has leading or trailing whitespace or a line "
            "break; copy the key again without them."
        )

    url = _first(api_url, *(env.get(name) for name in API_URL_VARIABLES))
    return Settings(api_url=normalise_api_url(url or DEFAULT_API_URL), api_key=key)


def normalise_api_url(url: str) -> str:
    """Check that `url` is an http(s) URL with a host; drop a trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"The Infrahub API URL {url!r} is not an http(s) URL with a host; "
            f"use a value like {DEFAULT_API_URL!r}."
        )
    if parts.query or parts.fragment:
        raise ConfigurationError(
            f"The Infrahub API URL {url!r} has a query or fragment; give only "
            f"scheme, host, port and path, like {DEFAULT_API_URL!r}."
        )
    return url.strip().rstrip("/")


def _first(*values: str | None) -> str | None:
    for value in values:
        if value:
            return value
    return None
