"""Environments: `/core/environments`."""

from __future__ import annotations

from pulumi_infrahub.client._base import AreaClient, adopt_after_ambiguous_failure
from pulumi_infrahub.client._http import Repeat
from pulumi_infrahub.client.models import Environment, NameAvailability, Page, VMQuota

__all__ = ["EnvironmentsClient"]

_ROOT = "/core/environments"


class EnvironmentsClient(AreaClient):
    """Environments: a region-bound group of VMs, volumes and keypairs."""

    def get(self, environment_id: int) -> Environment:
        """One environment; raises NotFoundError if it does not exist."""
        path = f"{_ROOT}/{environment_id}"
        body = self._http.request("GET", path)
        raw = self._field(body, "environment", "GET", path)
        return self._one(Environment, raw, "GET", path)

    def get_list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
    ) -> Page[Environment]:
        """One page of environments; `search` matches id, name or region."""
        return self._get_page(
            _ROOT,
            "environments",
            Environment,
            {"page": page, "pageSize": page_size, "search": search},
        )

    def get_all(self, *, search: str | None = None) -> list[Environment]:
        """Every environment matching `search`, all pages walked."""
        return self._get_every_page(
            _ROOT, "environments", Environment, {"search": search}
        )

    def get_by_name(self, name: str) -> Environment | None:
        """The environment with exactly this name, or None (names are unique
        across the organisation)."""
        return self._only_named(self.get_all(search=name), name, "environment")

    def is_name_available(self, name: str) -> NameAvailability:
        path = f"{_ROOT}/name-availability/{name}"
        body = self._http.request("GET", path)
        return self._one(NameAvailability, body, "GET", path)

    def get_vm_quota(self, environment_id: int) -> VMQuota:
        """How many more VMs fit in the environment's subnet."""
        path = f"{_ROOT}/{environment_id}/vm-quota"
        body = self._http.request("GET", path)
        return self._one(VMQuota, body, "GET", path)

    def create(self, name: str, *, region: str) -> Environment:
        """Create an environment in `region` (e.g. `CANADA-1`).

        Sent once; after a lost answer or a 5xx it is looked up by name."""

        def send() -> Environment:
            body = self._http.request(
                "POST",
                _ROOT,
                json={"name": name, "region": region},
                repeat=Repeat.IF_UNPROCESSED,
            )
            raw = self._field(body, "environment", "POST", _ROOT)
            return self._one(Environment, raw, "POST", _ROOT)

        def find() -> Environment | None:
            found = self.get_by_name(name)
            return found if found is not None and found.region == region else None

        return adopt_after_ambiguous_failure(
            send, find, what=f"Creating environment {name!r}"
        )

    def update(self, environment_id: int, *, name: str) -> Environment:
        """Rename an environment (its region cannot change)."""
        path = f"{_ROOT}/{environment_id}"
        body = self._http.request("PUT", path, json={"name": name})
        raw = self._field(body, "environment", "PUT", path)
        return self._one(Environment, raw, "PUT", path)

    def delete(self, environment_id: int) -> None:
        """Delete an empty environment; one that still holds VMs, volumes,
        firewalls or keypairs is refused with APIError 405 `not_allowed`."""
        self._http.request("DELETE", f"{_ROOT}/{environment_id}")
