"""What can be ordered and at what price: flavors, images, regions, firewall
protocols, GPU stock and the pricebook. All read-only."""

from __future__ import annotations

from typing import TypeVar

from pulumi_infrahub.client._base import AreaClient
from pulumi_infrahub.client.errors import AmbiguousNameError, NotFoundError
from pulumi_infrahub.client.models import (
    Flavor,
    FlavorGroup,
    Image,
    ImageGroup,
    PricebookEntry,
    Region,
    RegionStock,
)

N = TypeVar("N", Flavor, Image)

__all__ = [
    "FlavorsClient",
    "ImagesClient",
    "PricebookClient",
    "ProtocolsClient",
    "RegionsClient",
    "StocksClient",
]


def _not_in_list(kind: str, key: object, path: str) -> NotFoundError:
    return NotFoundError(
        status=404,
        message=f"No {kind} {key} in the list.",
        method="GET",
        path=path,
        error_reason="not_found",
    )


class FlavorsClient(AreaClient):
    """Flavors (hardware sizes), with GPU model, GPU count and stock flag."""

    _PATH = "/core/flavors"

    def get_groups(self, *, region: str | None = None) -> list[FlavorGroup]:
        """Flavors grouped by GPU model and region, as the API sends them."""
        body = self._http.request("GET", self._PATH, params=_only(region=region))
        raw = self._field(body, "data", "GET", self._PATH)
        return self._many(FlavorGroup, raw, "GET", self._PATH)

    def get_all(self, *, region: str | None = None) -> list[Flavor]:
        """Every flavor (in `region`, if given), with `region_name` and `gpu`
        filled from the group when a flavor lacks them."""
        flavors: list[Flavor] = []
        for group in self.get_groups(region=region):
            for flavor in group.flavors:
                fill = {}
                if flavor.region_name is None and group.region_name is not None:
                    fill["region_name"] = group.region_name
                if flavor.gpu is None and group.gpu is not None:
                    fill["gpu"] = group.gpu
                flavors.append(flavor.model_copy(update=fill) if fill else flavor)
        return flavors

    def get(self, flavor_id: int) -> Flavor:
        """One flavor by id (read through the list)."""
        for flavor in self.get_all():
            if flavor.id == flavor_id:
                return flavor
        raise _not_in_list("flavor", flavor_id, self._PATH)

    def get_by_name(self, name: str, *, region: str | None = None) -> Flavor | None:
        """The flavor with this name (in `region`, if given), or None. The same
        name exists in several regions; without `region` a name found in more
        than one raises AmbiguousNameError."""
        matches = [f for f in self.get_all(region=region) if f.name == name]
        return _pick_by_region(matches, name, "flavor", region)


class ImagesClient(AreaClient):
    """OS images; VMs refer to them by name, and names repeat across regions."""

    _PATH = "/core/images"

    def get_groups(
        self,
        *,
        region: str | None = None,
        include_public: bool | None = None,
        search: str | None = None,
    ) -> list[ImageGroup]:
        """Images grouped by region and type, as the API sends them."""
        params = _only(region=region, include_public=include_public, search=search)
        body = self._http.request("GET", self._PATH, params=params)
        raw = self._field(body, "images", "GET", self._PATH)
        return self._many(ImageGroup, raw, "GET", self._PATH)

    def get_all(
        self,
        *,
        region: str | None = None,
        include_public: bool | None = None,
        search: str | None = None,
    ) -> list[Image]:
        """Every image matching the filters, with `region_name` and `type`
        filled from the group when an image lacks them."""
        images: list[Image] = []
        groups = self.get_groups(
            region=region, include_public=include_public, search=search
        )
        for group in groups:
            for image in group.images:
                fill = {}
                if image.region_name is None and group.region_name is not None:
                    fill["region_name"] = group.region_name
                if image.type is None and group.type is not None:
                    fill["type"] = group.type
                images.append(image.model_copy(update=fill) if fill else image)
        return images

    def get(self, image_id: int) -> Image:
        """One image; raises NotFoundError if it does not exist."""
        path = f"{self._PATH}/{image_id}"
        body = self._http.request("GET", path)
        return self._one(Image, self._field(body, "image", "GET", path), "GET", path)

    def get_by_name(self, name: str, *, region: str | None = None) -> Image | None:
        """The image with this name (in `region`, if given), or None; a name
        found in several regions without `region` raises AmbiguousNameError."""
        images = self.get_all(region=region, search=name)
        matches = [image for image in images if image.name == name]
        return _pick_by_region(matches, name, "image", region)


class RegionsClient(AreaClient):
    """Regions such as `CANADA-1` and `NORWAY-1`."""

    _PATH = "/core/regions"

    def get_all(self) -> list[Region]:
        body = self._http.request("GET", self._PATH)
        raw = self._field(body, "regions", "GET", self._PATH)
        return self._many(Region, raw, "GET", self._PATH)

    def get(self, region_id: int) -> Region:
        """One region by id (read through the list)."""
        for region in self.get_all():
            if region.id == region_id:
                return region
        raise _not_in_list("region", region_id, self._PATH)

    def get_by_name(self, name: str) -> Region | None:
        return self._only_named(self.get_all(), name, "region")


class ProtocolsClient(AreaClient):
    """The protocol names a firewall rule accepts (`tcp`, `udp`, `icmp`, ...)."""

    _PATH = "/core/sg-rules-protocols"

    def get_all(self) -> list[str]:
        body = self._http.request("GET", self._PATH)
        raw = self._field(body, "protocols", "GET", self._PATH)
        return [str(protocol) for protocol in raw or []]


class StocksClient(AreaClient):
    """GPU stock per region and model."""

    _PATH = "/core/stocks"

    def get_all(self) -> list[RegionStock]:
        body = self._http.request("GET", self._PATH)
        raw = self._field(body, "stocks", "GET", self._PATH)
        return self._many(RegionStock, raw, "GET", self._PATH)

    def get_by_region(self, region: str) -> RegionStock | None:
        """The stock of one region, or None if the API lists none for it."""
        for stock in self.get_all():
            if stock.region == region:
                return stock
        return None


class PricebookClient(AreaClient):
    """Hourly prices of every resource kind, for cost estimates."""

    _PATH = "/pricebook"

    def get_all(self) -> list[PricebookEntry]:
        """Every price entry. The API answers with a bare list."""
        body = self._http.request("GET", self._PATH)
        return self._many(PricebookEntry, body, "GET", self._PATH)

    def get_by_name(self, name: str) -> PricebookEntry | None:
        """The entry for one resource name (e.g. a flavor name), or None."""
        return self._only_named(self.get_all(), name, "pricebook entry")


def _only(**params: object) -> dict[str, object]:
    return {key: value for key, value in params.items() if value is not None}


def _pick_by_region(
    matches: list[N], name: str, kind: str, region: str | None
) -> N | None:
    if region is not None:
        matches = [m for m in matches if m.region_name in (None, region)]
    if len(matches) > 1:
        regions = ", ".join(sorted({str(m.region_name) for m in matches}))
        raise AmbiguousNameError(
            f"{len(matches)} {kind}s are named {name!r} (regions {regions}); "
            "pass region= to choose one."
        )
    return matches[0] if matches else None
