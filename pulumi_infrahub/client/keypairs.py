"""SSH keypairs: `/core/keypairs` (list, import) and `/core/keypair/{id}`."""

from __future__ import annotations

from pulumi_infrahub.client._base import AreaClient, adopt_after_ambiguous_failure
from pulumi_infrahub.client._http import Repeat
from pulumi_infrahub.client.errors import NotFoundError
from pulumi_infrahub.client.models import Keypair, Page

__all__ = ["KeypairsClient"]

_ROOT = "/core/keypairs"


class KeypairsClient(AreaClient):
    """Import, list, rename and delete SSH public keys.

    The API has no GET by id for keypairs; `get` reads them through the list.
    """

    def get(self, keypair_id: int) -> Keypair:
        """One keypair; raises NotFoundError if it does not exist."""
        for keypair in self.get_all():
            if keypair.id == keypair_id:
                return keypair
        raise NotFoundError(
            status=404,
            message=f"Keypair {keypair_id} is not in the keypair list.",
            method="GET",
            path=_ROOT,
            error_reason="not_found",
        )

    def get_list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
    ) -> Page[Keypair]:
        """One page of keypairs; `search` matches part of the name."""
        return self._get_page(
            _ROOT,
            "keypairs",
            Keypair,
            {"page": page, "pageSize": page_size, "search": search},
        )

    def get_all(self, *, search: str | None = None) -> list[Keypair]:
        """Every keypair matching `search`, all pages walked."""
        return self._get_every_page(_ROOT, "keypairs", Keypair, {"search": search})

    def get_by_name(
        self, name: str, *, environment: str | None = None
    ) -> Keypair | None:
        """The keypair with exactly this name (in `environment`, if given), or
        None; raises AmbiguousNameError if several have it."""
        keypairs = self.get_all(search=name)
        if environment is not None:
            keypairs = [
                k
                for k in keypairs
                if k.environment and k.environment.name == environment
            ]
        where = f" in environment {environment!r}" if environment else ""
        return self._only_named(keypairs, name, "keypair", where=where)

    def create(self, name: str, *, environment_name: str, public_key: str) -> Keypair:
        """Import a public key (`ssh-ed25519 ...`, `ssh-rsa ...`) into an
        environment. Sent once; after a lost answer or a 5xx it is looked up
        by name."""

        def send() -> Keypair:
            body = self._http.request(
                "POST",
                _ROOT,
                json={
                    "name": name,
                    "environment_name": environment_name,
                    "public_key": public_key,
                },
                repeat=Repeat.IF_UNPROCESSED,
            )
            raw = self._field(body, "keypair", "POST", _ROOT)
            return self._one(Keypair, raw, "POST", _ROOT)

        def find() -> Keypair | None:
            return self.get_by_name(name, environment=environment_name)

        return adopt_after_ambiguous_failure(
            send, find, what=f"Importing keypair {name!r}"
        )

    import_key = create

    def rename(self, keypair_id: int, name: str) -> Keypair:
        """Give a keypair a new name."""
        path = f"/core/keypair/{keypair_id}"
        body = self._http.request("PUT", path, json={"name": name})
        raw = self._field(body, "keypair", "PUT", path)
        return self._one(Keypair, raw, "PUT", path)

    def delete(self, keypair_id: int) -> None:
        """Delete a keypair; VMs that use it keep working."""
        self._http.request("DELETE", f"/core/keypair/{keypair_id}")
