"""Provisioning profiles: saved VM create configs, `/core/profiles`."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_infrahub.client._base import AreaClient, adopt_after_ambiguous_failure
from pulumi_infrahub.client._http import Repeat
from pulumi_infrahub.client.models import Profile, ProfileCreate

__all__ = ["ProfilesClient"]

_ROOT = "/core/profiles"


class ProfilesClient(AreaClient):
    """Create, read and delete provisioning profiles (there is no update)."""

    def get(self, profile_id: int) -> Profile:
        """One profile; raises NotFoundError if it does not exist."""
        path = f"{_ROOT}/{profile_id}"
        body = self._http.request("GET", path)
        return self._one(
            Profile, self._field(body, "profile", "GET", path), "GET", path
        )

    def get_all(self) -> list[Profile]:
        """Every profile (the API does not page this list)."""
        body = self._http.request("GET", _ROOT)
        return self._many(
            Profile, self._field(body, "profiles", "GET", _ROOT), "GET", _ROOT
        )

    def get_by_name(self, name: str) -> Profile | None:
        """The profile with exactly this name, or None."""
        return self._only_named(self.get_all(), name, "profile")

    def create(
        self,
        name: str,
        *,
        data: Mapping[str, str],
        description: str | None = None,
    ) -> Profile:
        """Save a VM create config; `data` values must be strings (the API's
        rule), e.g. `{"count": "1", "flavor_name": "n1-cpu-small"}`.

        Sent once; after a lost answer or a 5xx it is looked up by name."""
        payload = ProfileCreate(name=name, description=description, data=dict(data))

        def send() -> Profile:
            body = self._http.request(
                "POST",
                _ROOT,
                json=payload.to_body(),
                repeat=Repeat.IF_UNPROCESSED,
                ok=(201,),
            )
            raw = self._field(body, "profile", "POST", _ROOT)
            return self._one(Profile, raw, "POST", _ROOT)

        return adopt_after_ambiguous_failure(
            send, lambda: self.get_by_name(name), what=f"Creating profile {name!r}"
        )

    def delete(self, profile_id: int) -> None:
        self._http.request("DELETE", f"{_ROOT}/{profile_id}")
