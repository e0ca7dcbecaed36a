"""Helpers for driving an emulator from tests and tools: admin calls, handles.

These talk plain HTTP with httpx; they do not use the project's API client,
so that tests of the client cannot borrow its mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from pulumi_infrahub.emulator.faults import Faults
from pulumi_infrahub.emulator.runtime import Runtime
from pulumi_infrahub.emulator.server import EmulatorServer
from pulumi_infrahub.emulator.settings import EmulatorSettings


class EmulatorAdmin:
    """The `/_emulator/...` endpoints as methods."""

    def __init__(self, root_url: str, timeout: float = 10.0) -> None:
        self.url = root_url.rstrip("/") + "/_emulator"
        self._timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, self.url + path, timeout=self._timeout, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._call("POST", "/reset")

    def set_faults(self, faults: Faults | None = None, **fields: Any) -> dict[str, Any]:
        """Replace the faults in force, from a `Faults` or its fields."""
        chosen = faults if faults is not None else Faults(**fields)
        result: dict[str, Any] = self._call("PUT", "/faults", json=chosen.model_dump())
        return result

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first."""
        result: list[dict[str, Any]] = self._call("GET", "/requests")["requests"]
        return result

    def clear_requests(self) -> None:
        self._call("DELETE", "/requests")

    def summary(self, api_key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "GET", "/summary", headers={"api_key": api_key}
        )
        return result

    def drift_labels(self, vm_id: int, labels: list[str]) -> None:
        self._call(
            "POST", f"/drift/virtual-machines/{vm_id}/labels", json={"labels": labels}
        )

    def drift_stop(self, vm_id: int) -> None:
        self._call("POST", f"/drift/virtual-machines/{vm_id}/stop")

    def drift_delete_vm(self, vm_id: int) -> None:
        self._call("DELETE", f"/drift/virtual-machines/{vm_id}")

    def drift_delete_volume(self, volume_id: int) -> None:
        self._call("DELETE", f"/drift/volumes/{volume_id}")

    def drift_delete_rule(self, vm_id: int, rule_id: int) -> None:
        self._call("DELETE", f"/drift/virtual-machines/{vm_id}/sg-rules/{rule_id}")


@dataclass(frozen=True)
class RunningEmulator:
    """A started emulator as tests see it."""

    server: EmulatorServer
    api_key: str
    """The key of the tenant tests act as."""
    other_api_key: str
    """A second tenant's key, for isolation tests."""

    @property
    def base_url(self) -> str:
        """Ends in `/v1`, like the real API's base URL."""
        return self.server.base_url

    @property
    def root_url(self) -> str:
        return self.server.root_url

    @property
    def admin(self) -> EmulatorAdmin:
        return EmulatorAdmin(self.server.root_url)

    @property
    def runtime(self) -> Runtime:
        """In-process access to the store, faults and log."""
        return self.server.runtime

    @property
    def settings(self) -> EmulatorSettings:
        return self.runtime.settings

    @property
    def headers(self) -> dict[str, str]:
        return {"api_key": self.api_key}
