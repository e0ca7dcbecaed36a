"""A synchronous client of the Infrahub (Hyperstack) API, built on httpx and
pydantic. It imports neither Pulumi nor the emulator.

    from pulumi_infrahub.client import InfrahubClient

    with InfrahubClient() as infrahub:          # key from INFRAHUB_API_KEY
        [vm] = infrahub.virtual_machines.create(
            "train-1",
            environment_name="default-CANADA-1",
            flavor_name="n3-A100x1",
            key_name="my-key",
            image_name="Ubuntu Server 22.04 LTS R535 CUDA 12.2",
        )
        vm = infrahub.virtual_machines.wait_until_active(vm.id)

Retries, create adoption and rate limiting are described in
`pulumi_infrahub.client._client`; errors in `pulumi_infrahub.client.errors`.
"""

from pulumi_infrahub.client._client import DEFAULT_TIMEOUT, InfrahubClient
from pulumi_infrahub.client._http import (
    DEFAULT_REQUESTS_PER_MINUTE,
    RateLimiter,
    RetryPolicy,
    RollingRateLimiter,
)
from pulumi_infrahub.client.catalog import (
    FlavorsClient,
    ImagesClient,
    PricebookClient,
    ProtocolsClient,
    RegionsClient,
    StocksClient,
)
from pulumi_infrahub.client.environments import EnvironmentsClient
from pulumi_infrahub.client.errors import (
    AmbiguousNameError,
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ConnectionFailedError,
    FailedStateError,
    InfrahubError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseLostError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    WaitError,
    WaitTimeoutError,
)
from pulumi_infrahub.client.keypairs import KeypairsClient
from pulumi_infrahub.client.profiles import ProfilesClient
from pulumi_infrahub.client.virtual_machines import VirtualMachinesClient
from pulumi_infrahub.client.volumes import VolumesClient
from pulumi_infrahub.client.waiting import PollSchedule, SharedPoller

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "DEFAULT_TIMEOUT",
    "APIError",
    "AmbiguousNameError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionFailedError",
    "EnvironmentsClient",
    "FailedStateError",
    "FlavorsClient",
    "ImagesClient",
    "InfrahubClient",
    "InfrahubError",
    "InvalidArgumentError",
    "KeypairsClient",
    "NotFoundError",
    "PermissionDeniedError",
    "PollSchedule",
    "PricebookClient",
    "ProfilesClient",
    "ProtocolsClient",
    "RateLimitError",
    "RateLimiter",
    "RegionsClient",
    "ResponseLostError",
    "RetryPolicy",
    "RollingRateLimiter",
    "ServerError",
    "SharedPoller",
    "StocksClient",
    "TransportError",
    "UnexpectedResponseError",
    "VirtualMachinesClient",
    "VolumesClient",
    "WaitError",
    "WaitTimeoutError",
]
