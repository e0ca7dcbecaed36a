"""What every Infrahub provider shares: settings, one client per process, and
a cache of the catalog that `check` reads.

Pulumi pickles each provider object (with dill) into the state of every
resource that uses it, and unpickles it in the dynamic-provider process. So
provider objects hold nothing at all: the API key and URL arrive through
`configure()` from the stack config and are kept in this module, and the
client is built on first use. The provider process serves several calls at
once on a thread pool, so everything here is guarded by one lock and the
client is shared by every thread.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    ResourceProvider,
)

from pulumi_infrahub.client import InfrahubClient, RollingRateLimiter
from pulumi_infrahub.client.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectionFailedError,
    InfrahubError,
)
from pulumi_infrahub.client.models import Environment, Flavor, Image, Keypair
from pulumi_infrahub.config import API_KEY_VARIABLES, Settings, resolve_settings
from pulumi_infrahub.resources._inputs import did_you_mean

__all__ = [
    "API_KEY_CONFIG",
    "API_URL_CONFIG",
    "DEFAULT_REQUESTS_PER_MINUTE",
    "MISSING_KEY_MESSAGE",
    "REQUESTS_PER_MINUTE_CONFIG",
    "REQUESTS_PER_MINUTE_VARIABLE",
    "Catalog",
    "InfrahubProvider",
    "NotInCatalogError",
    "ResourceError",
    "build_client",
    "connection",
    "existing",
    "merge_options",
    "requests_per_minute",
    "settings_failures_reported",
    "use_stack_config",
]

API_KEY_CONFIG = "infrahub:apiKey"
API_URL_CONFIG = "infrahub:apiUrl"
REQUESTS_PER_MINUTE_CONFIG = "infrahub:requestsPerMinute"
REQUESTS_PER_MINUTE_VARIABLE = "INFRAHUB_REQUESTS_PER_MINUTE"

# One provider process serves a whole stack, so its budget is the stack's:
# half the API's 500 requests a minute per address, leaving the other half
# to whatever else runs from the same address (a second stack, a policy pack,
# scripts). A rolling minute rather than a token bucket lets a fleet's burst
# of creates go out at once while it fits.
DEFAULT_REQUESTS_PER_MINUTE = 250

MISSING_KEY_MESSAGE = (
    "No Infrahub API key is configured, so nothing was sent to the API. Set "
    "it for this stack with `pulumi config set --secret infrahub:apiKey <key>`"
    " (or export " + " or ".join(API_KEY_VARIABLES) + ")."
)

# How long catalog answers (flavors, images, environments, keypairs,
# protocols) are reused. A preview checks every resource, and one list
# request per kind and minute keeps a preview of hundreds of resources cheap.
# A name that is not found triggers one fresh read before it is reported.
CATALOG_TTL = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class _StackConfig:
    api_key: str | None = field(default=None, repr=False)
    api_url: str | None = None
    requests_per_minute: str | None = None


@dataclass
class _Connection:
    settings: Settings
    client: InfrahubClient
    catalog: Catalog


_lock = threading.Lock()
_stack_config = _StackConfig()
_current: _Connection | None = None


def use_stack_config(
    api_key: str | None, api_url: str | None, requests_per_minute: str | None = None
) -> None:
    """Record the stack's `infrahub:apiKey`, `infrahub:apiUrl` and
    `infrahub:requestsPerMinute` for this process; a change of key or URL
    takes effect on the next API call, the request budget when the client is
    next built."""
    global _stack_config
    with _lock:
        _stack_config = _StackConfig(
            api_key or None, api_url or None, requests_per_minute or None
        )


def connection() -> _Connection:
    """The client and catalog for the current settings, built on first use.

    Raises ConfigurationError, naming the command that fixes it, when no API
    key is set anywhere.
    """
    global _current
    with _lock:
        stack = _stack_config
    if stack.api_key is None and not any(os.environ.get(v) for v in API_KEY_VARIABLES):
        raise ConfigurationError(MISSING_KEY_MESSAGE)
    settings = resolve_settings(api_key=stack.api_key, api_url=stack.api_url)

    with _lock:
        if _current is None or _current.settings != settings:
            client = build_client(settings)
            _current = _Connection(settings, client, Catalog(client))
        return _current


def _default_client(settings: Settings) -> InfrahubClient:
    return InfrahubClient(
        api_key=settings.api_key,
        base_url=settings.api_url,
        rate_limiter=RollingRateLimiter(requests_per_minute()),
    )


def requests_per_minute() -> int:
    """The process's API budget: stack config `infrahub:requestsPerMinute`,
    else `INFRAHUB_REQUESTS_PER_MINUTE`, else 250. Raises ConfigurationError
    for a value that is not a whole number from 1 to 500."""
    # Read without the lock, which `connection()` holds while it builds the
    # client: the frozen config object is replaced whole, never changed.
    given = _stack_config.requests_per_minute
    source = REQUESTS_PER_MINUTE_CONFIG
    if given is None:
        given = os.environ.get(REQUESTS_PER_MINUTE_VARIABLE) or None
        source = REQUESTS_PER_MINUTE_VARIABLE
    if given is None:
        return DEFAULT_REQUESTS_PER_MINUTE
    try:
        budget = int(str(given).strip())
    except ValueError:
        budget = 0
    if not 1 <= budget <= 500:
        raise ConfigurationError(
            f"{source} is {given!r}; set it to a whole number of requests a "
            "minute from 1 to 500 (the API's own limit), or leave it unset for "
            f"{DEFAULT_REQUESTS_PER_MINUTE}."
        )
    return budget


# How a process builds its client; tests swap in one that polls fast and
# does not back off, so that waits on a zero-delay emulator take no time.
build_client: Callable[[Settings], InfrahubClient] = _default_client


CheckHook = Callable[[Any, dict[str, Any], dict[str, Any]], CheckResult]


def settings_failures_reported(check: CheckHook) -> CheckHook:
    """Turn settings problems met during `check` (no key, a malformed URL, a
    key the API refuses, an API that cannot be reached) into one check
    failure of the whole resource, so the engine shows the fix in one line
    and stops before anything is created.

    The settings are tried against the API before every check, even one that
    needs nothing from it, so that a preview with a revoked key fails instead
    of reporting no changes; the catalog's cache makes that one request per
    process and minute."""

    @functools.wraps(check)
    def wrapper(self: Any, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        try:
            connection().catalog.verify_access()
            return check(self, olds, news)
        except (
            ConfigurationError,
            AuthenticationError,
            ConnectionFailedError,
        ) as problem:
            return CheckResult(news, [CheckFailure("", str(problem))])

    return wrapper


class InfrahubProvider(ResourceProvider):
    """Base of the four providers: reads the stack config, holds nothing."""

    def configure(self, req: ConfigureRequest) -> None:
        budget = req.config.get(REQUESTS_PER_MINUTE_CONFIG)
        use_stack_config(
            _text(req.config.get(API_KEY_CONFIG)),
            _text(req.config.get(API_URL_CONFIG)),
            None if budget is None else str(budget),
        )

    def __getstate__(self) -> dict[str, Any]:
        # Pulumi pickles the provider into every resource's state; whatever a
        # subclass might set on an instance must never travel with it.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass


def merge_options(
    opts: pulumi.ResourceOptions | None, *, secret_outputs: list[str]
) -> pulumi.ResourceOptions:
    """The caller's options plus the outputs this resource always keeps
    secret."""
    defaults = pulumi.ResourceOptions(additional_secret_outputs=secret_outputs)
    return pulumi.ResourceOptions.merge(defaults, opts)


R = TypeVar("R", bound=pulumi.dynamic.Resource)


def existing(
    cls: type[R],
    provider: InfrahubProvider,
    resource_name: str,
    id_: pulumi.Input[str],
    keys: tuple[str, ...],
    opts: pulumi.ResourceOptions | None,
) -> R:
    """A read-only `cls` for the object with id `id_`: Pulumi reads it through
    the provider's `read` instead of creating it."""
    resource = cls.__new__(cls)
    pulumi.dynamic.Resource.__init__(
        resource,
        provider,
        resource_name,
        dict.fromkeys(keys),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id_)),
    )
    return resource


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class NotInCatalogError(LookupError):
    """A name given as input matches nothing in the catalog."""


class ResourceError(InfrahubError):
    """A provider hook could not do its work. The message names the object,
    what went wrong, the API's reason, and what was left behind."""


class Catalog:
    """Short-lived, thread-safe copies of the lists `check` looks names up in.

    Each entry is read at most once per `CATALOG_TTL`; a lookup that misses
    reads its list again once before it gives up, so an object made a moment
    ago is still found.
    """

    def __init__(self, client: InfrahubClient, ttl: float = CATALOG_TTL) -> None:
        self._client = client
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Any]] = {}

    def _cached(self, key: str, load: Callable[[], T], *, fresh: bool = False) -> T:
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and not fresh and time.monotonic() - entry[0] < self._ttl:
            value: T = entry[1]
            return value
        loaded = load()
        with self._lock:
            self._entries[key] = (time.monotonic(), loaded)
        return loaded

    def _find(
        self,
        key: str,
        load: Callable[[], list[T]],
        match: Callable[[T], bool],
    ) -> tuple[T | None, list[T]]:
        items = self._cached(key, load)
        found = next((item for item in items if match(item)), None)
        if found is None:
            items = self._cached(key, load, fresh=True)
            found = next((item for item in items if match(item)), None)
        return found, items

    # -- lookups -------------------------------------------------------------

    def verify_access(self) -> None:
        """Reads the environment list, as lookups do, so that a key the API
        refuses or an API out of reach raises here."""
        self._cached("environments", self._client.environments.get_all)

    def environment(self, name: str) -> Environment:
        found, items = self._find(
            "environments",
            self._client.environments.get_all,
            lambda env: env.name == name,
        )
        if found is None:
            raise NotInCatalogError(
                f"environment_name {name!r} is not an environment of this "
                "account." + did_you_mean(name, [env.name for env in items])
            )
        return found

    def flavors(self, region: str | None = None) -> list[Flavor]:
        key = f"flavors:{region or ''}"
        return self._cached(key, lambda: self._client.flavors.get_all(region=region))

    def flavor(self, name: str, region: str) -> Flavor:
        found, items = self._find(
            f"flavors:{region}",
            lambda: self._client.flavors.get_all(region=region),
            lambda flavor: flavor.name == name,
        )
        if found is None:
            raise NotInCatalogError(
                f"flavor_name {name!r} is not a flavor in region {region}."
                + did_you_mean(name, [flavor.name for flavor in items])
                + " List them with pulumi_infrahub.get_flavors(region="
                + repr(region)
                + ")."
            )
        return found

    def image(self, name: str, region: str) -> Image:
        found, items = self._find(
            f"images:{region}",
            lambda: self._client.images.get_all(region=region),
            lambda image: image.name == name,
        )
        if found is None:
            raise NotInCatalogError(
                f"image_name {name!r} is not an image in region {region}."
                + did_you_mean(name, [image.name for image in items])
                + " List them with pulumi_infrahub.get_images(region="
                + repr(region)
                + ")."
            )
        return found

    def keypair(self, name: str, environment: str) -> Keypair:
        def in_environment(keypair: Keypair) -> bool:
            env = keypair.environment
            return env is None or env.name in (None, environment)

        found, items = self._find(
            "keypairs",
            self._client.keypairs.get_all,
            lambda keypair: keypair.name == name and in_environment(keypair),
        )
        if found is None:
            names = [k.name for k in items if in_environment(k)]
            raise NotInCatalogError(
                f"key_name {name!r} is not a keypair in environment "
                f"{environment!r}." + did_you_mean(name, names)
            )
        return found

    def protocols(self) -> list[str]:
        return self._cached("protocols", self._client.protocols.get_all)

    def volume_types(self) -> list[str]:
        return self._cached("volume_types", self._client.volumes.get_types)
