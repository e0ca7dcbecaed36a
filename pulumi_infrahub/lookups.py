"""Lookups for Pulumi programs: what can be ordered, and where.

These run while the program runs (preview included) and return the client's
typed models. Settings come from the stack config (`infrahub:apiKey`,
`infrahub:apiUrl`), else from `INFRAHUB_API_KEY` / `INFRAHUB_API_URL` (or
`HYPERSTACK_API_KEY` / `HYPERSTACK_API_ADDRESS`), as for the resources.

    import pulumi_infrahub as infrahub

    flavor = infrahub.get_flavors(region="CANADA-1", gpu="A100", in_stock=True)[0]
    env = infrahub.get_environment("prod-canada")
"""

from __future__ import annotations

import pulumi

from pulumi_infrahub.client import InfrahubClient
from pulumi_infrahub.client.models import (
    Environment,
    Flavor,
    Image,
    Keypair,
    Region,
    RegionStock,
)
from pulumi_infrahub.resources._inputs import did_you_mean
from pulumi_infrahub.resources._provider import connection, use_stack_config

__all__ = [
    "NotFoundInCatalogError",
    "get_environment",
    "get_flavor",
    "get_flavors",
    "get_images",
    "get_keypair",
    "get_regions",
    "get_stock",
]


class NotFoundInCatalogError(LookupError):
    """A lookup by name found nothing; the message names close matches."""


def _client() -> InfrahubClient:
    config = pulumi.Config("infrahub")
    use_stack_config(config.get("apiKey"), config.get("apiUrl"))
    return connection().client


def get_flavors(
    *,
    region: str | None = None,
    gpu: str | None = None,
    min_gpu_count: int | None = None,
    in_stock: bool | None = None,
) -> list[Flavor]:
    """Flavors, optionally only those in `region`, with a GPU model containing
    `gpu` (case-insensitive, so `"A100"` matches `A100-80G-PCIe`), with at
    least `min_gpu_count` GPUs, and (with `in_stock=True`) in stock. Sorted by
    region, GPU count and name."""
    client = _client()
    _check_region(client, region)
    flavors = client.flavors.get_all(region=region)
    if gpu is not None:
        wanted = gpu.casefold()
        flavors = [f for f in flavors if wanted in (f.gpu or "").casefold()]
    if min_gpu_count is not None:
        flavors = [f for f in flavors if (f.gpu_count or 0) >= min_gpu_count]
    if in_stock is not None:
        flavors = [f for f in flavors if bool(f.stock_available) == in_stock]
    return sorted(
        flavors, key=lambda f: (f.region_name or "", f.gpu_count or 0, f.name)
    )


def get_flavor(name: str, *, region: str | None = None) -> Flavor:
    """The flavor called `name` (in `region`, or the first region that has
    it). Raises NotFoundInCatalogError naming close matches."""
    client = _client()
    _check_region(client, region)
    flavors = client.flavors.get_all(region=region)
    for flavor in flavors:
        if flavor.name == name:
            return flavor
    where = f" in region {region}" if region else ""
    raise NotFoundInCatalogError(
        f"There is no flavor {name!r}{where}."
        + did_you_mean(name, {f.name for f in flavors})
    )


def get_images(*, region: str | None = None) -> list[Image]:
    """The images (in `region`, if given), sorted by region and name."""
    client = _client()
    _check_region(client, region)
    images = client.images.get_all(region=region)
    return sorted(images, key=lambda i: (i.region_name or "", i.name))


def get_environment(name: str) -> Environment:
    """The environment called `name`. Raises NotFoundInCatalogError naming
    close matches."""
    environments = _client().environments.get_all()
    for environment in environments:
        if environment.name == name:
            return environment
    raise NotFoundInCatalogError(
        f"There is no environment {name!r}."
        + did_you_mean(name, [e.name for e in environments])
    )


def get_keypair(name: str, *, environment: str | None = None) -> Keypair:
    """The keypair called `name` (in `environment`, if given). Raises
    NotFoundInCatalogError naming close matches."""
    keypairs = _client().keypairs.get_all()
    if environment is not None:
        keypairs = [
            k
            for k in keypairs
            if k.environment is None or k.environment.name in (None, environment)
        ]
    for keypair in keypairs:
        if keypair.name == name:
            return keypair
    where = f" in environment {environment!r}" if environment else ""
    raise NotFoundInCatalogError(
        f"There is no keypair {name!r}{where}."
        + did_you_mean(name, [k.name for k in keypairs])
    )


def get_regions() -> list[Region]:
    """Every region, sorted by name."""
    return sorted(_client().regions.get_all(), key=lambda r: r.name)


def get_stock(*, region: str | None = None) -> list[RegionStock]:
    """GPU stock per region (only `region`, if given). Counts are the API's
    strings, such as `"10+"`."""
    client = _client()
    _check_region(client, region)
    stocks = client.stocks.get_all()
    if region is not None:
        stocks = [s for s in stocks if s.region == region]
    return stocks


def _check_region(client: InfrahubClient, region: str | None) -> None:
    if region is None:
        return
    names = [r.name for r in client.regions.get_all()]
    if region not in names:
        raise NotFoundInCatalogError(
            f"There is no region {region!r}."
            + did_you_mean(region, names)
            + " Regions: "
            + ", ".join(sorted(names))
            + "."
        )
