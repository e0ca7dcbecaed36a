"""What every router shares: the runtime, the caller's tenant, answers, paging."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from pulumi_infrahub.emulator.encoding import RawJson, encode
from pulumi_infrahub.emulator.errors import bad_request
from pulumi_infrahub.emulator.records import Tenant
from pulumi_infrahub.emulator.runtime import Runtime
from pulumi_infrahub.emulator.store import Store

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20


def caller(request: Request) -> tuple[Store, Tenant]:
    """The store and the caller's tenant.

    Routes call this rather than declaring dependencies: FastAPI's dependency
    injection costs more than the whole of a VM get.
    """
    runtime: Runtime = request.app.state.runtime
    # Put there by the gate, which refuses requests without a valid key.
    tenant: Tenant = request.scope["state"]["tenant"]
    return runtime.store, tenant


def cached(request: Request, key: Hashable, build: Callable[[], Any]) -> RawJson:
    """`build()` encoded, reused until the store changes."""
    runtime: Runtime = request.app.state.runtime
    return runtime.render_cache.get(runtime.store.generation, key, build)


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


# For the admin routes, where speed does not matter.
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
PageQuery = Annotated[int | None, Query()]
PageSizeQuery = Annotated[int | None, Query(alias="pageSize")]
SearchQuery = Annotated[str | None, Query(alias="search")]


def ok(message: str, status: int = 200, **payload: Any) -> Response:
    """A success in the `{status: true, message, ...}` envelope."""
    parts = [b'"status":true', b'"message":' + encode(message)]
    for key, value in payload.items():
        data = value.data if isinstance(value, RawJson) else encode(value)
        parts.append(encode(key) + b":" + data)
    body = b"{" + b",".join(parts) + b"}"
    return Response(body, status, media_type="application/json")


def bare(body: dict[str, Any]) -> Response:
    """A success without the envelope (stocks, metrics, name checks)."""
    return Response(encode(body), media_type="application/json")


def search(items: Sequence[T], text: str | None, key: Callable[[T], str]) -> list[T]:
    """Case-insensitive substring match, as the API's `search` does."""
    if not text:
        return list(items)
    needle = text.lower()
    return [item for item in items if needle in key(item).lower()]


def paginate(
    items: Sequence[Any], page: int | None, page_size: int | None
) -> tuple[list[Any], dict[str, Any]]:
    """One page and the `page`, `page_size`, `count` fields that go with it.

    Without paging parameters the whole collection comes back with `page` and
    `page_size` null. `count` is the number of items in this answer, as the
    vendor describes it, not the size of the collection.
    """
    if page is None and page_size is None:
        return list(items), {"page": None, "page_size": None, "count": len(items)}
    page = 1 if page is None else page
    page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if page < 1:
        raise bad_request(f"page must be 1 or more; got {page}.")
    if page_size < 1:
        raise bad_request(f"pageSize must be 1 or more; got {page_size}.")
    start = (page - 1) * page_size
    chosen = list(items[start : start + page_size])
    return chosen, {"page": page, "page_size": page_size, "count": len(chosen)}
