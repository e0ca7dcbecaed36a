"""Volumes: `/core/volumes`, `/core/volume-types`, volume name availability."""

from __future__ import annotations

from collections.abc import Callable, Collection

from pulumi_infrahub.client._base import (
    PAGE_SIZE,
    AreaClient,
    adopt_after_ambiguous_failure,
)
from pulumi_infrahub.client._http import HTTPSession, Repeat
from pulumi_infrahub.client.errors import NotFoundError
from pulumi_infrahub.client.models import (
    NameAvailability,
    Page,
    Volume,
    VolumeAttachment,
    VolumeCreate,
)
from pulumi_infrahub.client.waiting import (
    Listing,
    PollSchedule,
    SharedPoller,
    wait_for,
)

__all__ = ["VolumesClient"]

_ROOT = "/core/volumes"

# Statuses from which a volume will not become usable on its own.
FAILED_STATUSES = frozenset({"error", "deleted", "deleteed", "error_deleting"})


class VolumesClient(AreaClient):
    """Create, read and delete volumes, and wait for their status."""

    def __init__(
        self, http: HTTPSession, *, schedule: PollSchedule | None = None
    ) -> None:
        super().__init__(http)
        self.schedule = schedule or PollSchedule()
        self.poller: SharedPoller[Volume] = SharedPoller(self._all_by_id)

    def get(self, volume_id: int) -> Volume:
        """One volume; raises NotFoundError if it does not exist."""
        path = f"{_ROOT}/{volume_id}"
        body = self._http.request("GET", path)
        return self._one(Volume, self._field(body, "volume", "GET", path), "GET", path)

    def get_recent(self, volume_id: int, *, max_age: float = 1.0) -> Volume:
        """One volume as a list of every volume fetched at most `max_age`
        seconds ago shows it, else read on its own; raises NotFoundError if
        it does not exist. Like `VirtualMachinesClient.get_recent`, many
        callers at once cost one request."""
        found = self.poller.recent(max_age).get(volume_id)
        return found if found is not None else self.get(volume_id)

    def get_list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        search: str | None = None,
        environment: str | None = None,
    ) -> Page[Volume]:
        """One page of volumes; `environment` is an environment id or name."""
        return self._get_page(
            _ROOT,
            "volumes",
            Volume,
            {
                "page": page,
                "pageSize": page_size,
                "search": search,
                "environment": environment,
            },
        )

    def get_all(
        self, *, search: str | None = None, environment: str | None = None
    ) -> list[Volume]:
        """Every volume matching the filters, all pages walked."""
        return self._get_every_page(
            _ROOT, "volumes", Volume, {"search": search, "environment": environment}
        )

    def get_by_name(
        self, name: str, *, environment: str | None = None
    ) -> Volume | None:
        """The volume with exactly this name (in `environment`, if given), or
        None; raises AmbiguousNameError if several have it."""
        volumes = self.get_all(search=name, environment=environment)
        if environment is not None:
            volumes = [
                v for v in volumes if _environment_name(v) in (None, environment)
            ]
        where = f" in environment {environment!r}" if environment else ""
        return self._only_named(volumes, name, "volume", where=where)

    def get_types(self) -> list[str]:
        """Volume type names, such as `Cloud-SSD`."""
        path = "/core/volume-types"
        body = self._http.request("GET", path)
        types = self._field(body, "volume_types", "GET", path)
        return [str(t) for t in types or []]

    def is_name_available(self, name: str) -> NameAvailability:
        path = f"/core/volume/name-availability/{name}"
        body = self._http.request("GET", path)
        return self._one(NameAvailability, body, "GET", path)

    def create(
        self,
        name: str,
        *,
        environment_name: str,
        size: int,
        volume_type: str,
        description: str | None = None,
        image_id: int | None = None,
        callback_url: str | None = None,
    ) -> Volume:
        """Create a volume of `size` GB; it is `creating`, then `available`.

        Sent once; after a lost answer or a 5xx the volume is looked up by
        name in the environment and returned if it exists.
        """
        payload = VolumeCreate(
            name=name,
            environment_name=environment_name,
            size=size,
            volume_type=volume_type,
            description=description,
            image_id=image_id,
            callback_url=callback_url,
        )

        def send() -> Volume:
            body = self._http.request(
                "POST", _ROOT, json=payload.to_body(), repeat=Repeat.IF_UNPROCESSED
            )
            raw = self._field(body, "volume", "POST", _ROOT)
            return self._one(Volume, raw, "POST", _ROOT)

        def find() -> Volume | None:
            return self.get_by_name(name, environment=environment_name)

        return adopt_after_ambiguous_failure(
            send, find, what=f"Creating volume {name!r}"
        )

    def update(self, volume_id: int, *, environment_name: str) -> Volume:
        """Move a detached volume to another environment of the same region."""
        path = f"{_ROOT}/{volume_id}"
        body = self._http.request(
            "PATCH", path, json={"environment_name": environment_name}
        )
        return self._one(
            Volume, self._field(body, "volume", "PATCH", path), "PATCH", path
        )

    def delete(self, volume_id: int) -> None:
        """Delete a detached volume; an attached one is a BadRequestError."""
        self._http.request("DELETE", f"{_ROOT}/{volume_id}")

    def attach_callback(self, volume_id: int, url: str) -> None:
        """Set the URL the API posts this volume's events to."""
        path = f"{_ROOT}/{volume_id}/attach-callback"
        self._http.request(
            "POST", path, json={"url": url}, repeat=Repeat.IF_UNPROCESSED
        )

    def update_callback(self, volume_id: int, url: str) -> None:
        """Replace the volume's callback URL."""
        path = f"{_ROOT}/{volume_id}/update-callback"
        self._http.request("PUT", path, json={"url": url})

    def delete_callback(self, volume_id: int) -> None:
        """Remove the volume's callback URL."""
        self._http.request("DELETE", f"{_ROOT}/{volume_id}/delete-callback")

    def update_attachment(
        self, attachment_id: int, *, protected: bool
    ) -> VolumeAttachment | None:
        """Set whether an attachment is protected from detaching. Returns the
        attachment when the API sends it back."""
        path = f"/core/volume-attachments/{attachment_id}"
        body = self._http.request("PATCH", path, json={"protected": protected})
        # The API is documented to send `volume_attachments` but its example
        # sends a single `attachment`; read whichever came.
        if isinstance(body, dict) and isinstance(body.get("attachment"), dict):
            return self._one(VolumeAttachment, body["attachment"], "PATCH", path)
        if isinstance(body, dict) and body.get("volume_attachments"):
            found = self._many(
                VolumeAttachment, body["volume_attachments"], "PATCH", path
            )
            return found[0]
        return None

    # -- waiting ----------------------------------------------------------

    def wait_for(
        self,
        volume_id: int,
        until: Callable[[Volume | None], bool],
        *,
        what: str,
        timeout: float = 600.0,
        failed: Callable[[Volume | None], str | None] | None = None,
    ) -> Volume | None:
        """Poll until `until(volume)` holds (None once the volume is gone).

        Polls are shared with every other wait on this client's volumes."""
        return wait_for(
            self.poller,
            volume_id,
            until,
            what=what,
            timeout=timeout,
            failed=failed,
            confirm=self._get_or_none,
            schedule=self.schedule,
            describe=lambda v: "missing" if v is None else f"{v.status}",
        )

    def wait_for_status(
        self,
        volume_id: int,
        status: str | Collection[str] = "available",
        *,
        timeout: float = 600.0,
    ) -> Volume:
        """Wait until the volume's status is one of `status` (lower case).
        A volume in a failure status (`error`, ...) or gone raises
        FailedStateError."""
        wanted = {status} if isinstance(status, str) else set(status)

        def failed(volume: Volume | None) -> str | None:
            if volume is None:
                return "the volume no longer exists"
            if volume.status in FAILED_STATUSES and volume.status not in wanted:
                return f"volume {volume.id} ({volume.name}) is {volume.status}"
            return None

        volume = self.wait_for(
            volume_id,
            lambda v: v is not None and v.status in wanted,
            what=f"volume {volume_id} becoming {' or '.join(sorted(wanted))}",
            timeout=timeout,
            failed=failed,
        )
        assert volume is not None
        return volume

    def wait_until_deleted(self, volume_id: int, *, timeout: float = 600.0) -> None:
        """Wait until the volume no longer exists."""
        self.wait_for(
            volume_id,
            lambda v: v is None,
            what=f"volume {volume_id} being deleted",
            timeout=timeout,
        )

    def _get_or_none(self, volume_id: int) -> Volume | None:
        try:
            return self.get(volume_id)
        except NotFoundError:
            return None

    def _all_by_id(self) -> Listing[Volume]:
        volumes = self.get_all()
        # Fewer than a page: one answer held them all.
        return Listing(
            {volume.id: volume for volume in volumes},
            complete=len(volumes) < PAGE_SIZE,
        )


def _environment_name(volume: Volume) -> str | None:
    return volume.environment.name if volume.environment else None
