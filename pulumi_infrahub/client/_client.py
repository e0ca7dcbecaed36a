"""The Infrahub client: one object holding a client per API area.

Retry policy
------------

Which failures are retried depends on whether the request could have taken
effect and on whether repeating it could change the outcome:

| Failure | Reads, deletes, replace-all PUTs | Creates, actions (start, attach, ...) |
| --- | --- | --- |
| No connection made (connect error or timeout) | retried | retried |
| 429 (rate limited; the API did nothing) | retried | retried |
| 500, 502, 503, 504 | retried | not retried |
| Answer lost (read timeout, dropped connection) | retried | not retried |
| Any other 4xx | not retried | not retried |

"Repeat cannot change the outcome" covers GET reads, DELETE, and the PUTs
that replace a whole value (labels, callback URL, names). A DELETE whose
answer was lost or a 5xx, and whose retry then finds nothing (404), counts
as done. The actions that the
API exposes as GETs (start, stop, hard-reboot, hibernate, hibernate-restore)
change state, so they are treated as actions: repeated in the new state they
would be refused with 400.

Retries are bounded: `RetryPolicy.attempts` tries in all (5 by default),
waiting 1, 2, 4, 8 s (doubling, capped at 30 s), each shortened by a random
share of up to half so parallel clients spread out; this follows the
vendor's advice to wait at least a second, double, and stop after five
tries. A 429 is the exception: the API refuses everything until its
one-minute window ends, so a request may be throttled 12 times before it
gives up, with waits capped at 10 s, about 80 s in all; giving up after five
tries (15 s) would fail a stack that only had to wait. A `Retry-After`
header, which the API does not document but a proxy may add, lengthens the
wait to what it asks, up to two minutes.

A create is never sent twice, because the API has no idempotency key and a
repeated create makes a second object. When a create's outcome is unknown
(answer lost, or a 5xx), the client looks the object up by name (VMs and
volumes in their environment; a firewall rule by its exact settings on the
VM; attachments on the VM) and returns it as if the create had answered. If
nothing is found the original error is raised; the object may still appear
later, which the next lookup by name will find.

Every request first takes a token from a rate limiter (300 requests a
minute, bursts of 20, by default), well below the API's 500 a minute per
address. Waits for status changes share their polls (see `waiting`).
"""

from __future__ import annotations

import logging
from types import TracebackType

import httpx

import pulumi_infrahub.config as _config
from pulumi_infrahub.client._http import HTTPSession, RateLimiter, RetryPolicy
from pulumi_infrahub.client.catalog import (
    FlavorsClient,
    ImagesClient,
    PricebookClient,
    ProtocolsClient,
    RegionsClient,
    StocksClient,
)
from pulumi_infrahub.client.environments import EnvironmentsClient
from pulumi_infrahub.client.keypairs import KeypairsClient
from pulumi_infrahub.client.profiles import ProfilesClient
from pulumi_infrahub.client.virtual_machines import VirtualMachinesClient
from pulumi_infrahub.client.volumes import VolumesClient
from pulumi_infrahub.client.waiting import PollSchedule

__all__ = ["DEFAULT_TIMEOUT", "InfrahubClient"]

logger = logging.getLogger("pulumi_infrahub.client")

# Connecting should be quick; the API itself can be slow to answer.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class InfrahubClient:
    """A synchronous client of the Infrahub (Hyperstack) API.

    `api_key` and `base_url` default to the environment (see
    `pulumi_infrahub.config`). `transport` replaces the network, e.g. with an
    `httpx.MockTransport` in tests. The client is thread-safe; share one per
    process so that its rate limit and shared polls cover every caller.

        with InfrahubClient() as infrahub:
            vm = infrahub.virtual_machines.get(42)
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        poll_schedule: PollSchedule | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        settings = _config.resolve_settings(api_key=api_key, api_url=base_url)
        self.base_url = settings.api_url
        self._http = HTTPSession(
            settings.api_url,
            settings.api_key,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            rate_limiter=rate_limiter or RateLimiter(),
            transport=transport,
        )

        self.virtual_machines = VirtualMachinesClient(
            self._http, schedule=poll_schedule
        )
        self.volumes = VolumesClient(self._http, schedule=poll_schedule)
        self.environments = EnvironmentsClient(self._http)
        self.keypairs = KeypairsClient(self._http)
        self.flavors = FlavorsClient(self._http)
        self.images = ImagesClient(self._http)
        self.regions = RegionsClient(self._http)
        self.protocols = ProtocolsClient(self._http)
        self.stocks = StocksClient(self._http)
        self.profiles = ProfilesClient(self._http)
        self.pricebook = PricebookClient(self._http)

    @property
    def retry(self) -> RetryPolicy:
        return self._http.retry

    @property
    def rate_limiter(self) -> RateLimiter:
        return self._http.rate_limiter

    def close(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        self._http.close()

    def __enter__(self) -> InfrahubClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"InfrahubClient(base_url={self.base_url!r})"
