"""What every API area client shares: envelopes, parsing, paging, lookups."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from pulumi_infrahub.client._http import HTTPSession
from pulumi_infrahub.client.errors import (
    AmbiguousNameError,
    ResponseLostError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from pulumi_infrahub.client.models import Page

__all__ = ["PAGE_SIZE", "AreaClient", "adopt_after_ambiguous_failure"]

logger = logging.getLogger("pulumi_infrahub.client")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

# Large enough that one request lists a typical tenant; small enough that a
# big tenant does not get one enormous answer.
PAGE_SIZE = 100
_MAX_PAGES = 1000


@cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


class AreaClient:
    """Base of the per-area clients; holds the shared HTTP session."""

    def __init__(self, http: HTTPSession) -> None:
        self._http = http

    # -- reading answers --------------------------------------------------

    @staticmethod
    def _field(body: Any, key: str, method: str, path: str) -> Any:
        if not isinstance(body, dict) or key not in body:
            raise UnexpectedResponseError(method, path, f"no {key!r} in the answer")
        return body[key]

    @staticmethod
    def _one(model: type[M], data: Any, method: str, path: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise UnexpectedResponseError(
                method, path, _validation_summary(model.__name__, exc)
            ) from exc

    @staticmethod
    def _many(model: type[M], data: Any, method: str, path: str) -> list[M]:
        try:
            items: list[M] = _list_adapter(model).validate_python(
                [] if data is None else data
            )
        except ValidationError as exc:
            raise UnexpectedResponseError(
                method, path, _validation_summary(f"list of {model.__name__}", exc)
            ) from exc
        return items

    # -- lists ------------------------------------------------------------

    def _get_page(
        self,
        path: str,
        key: str,
        model: type[M],
        params: Mapping[str, Any],
    ) -> Page[M]:
        body = self._http.request("GET", path, params=_drop_none(params))
        items = self._many(model, self._field(body, key, "GET", path), "GET", path)
        return Page[M](
            items=items,
            count=body.get("count"),
            page=body.get("page"),
            page_size=body.get("page_size"),
        )

    def _get_every_page(
        self,
        path: str,
        key: str,
        model: type[M],
        params: Mapping[str, Any],
        *,
        size_param: str = "pageSize",
        id_of: Callable[[M], object] = lambda item: getattr(item, "id", None),
    ) -> list[M]:
        """Walk the pages until one comes back short.

        What the API's `count` means is not settled (page size or total), so
        the walk relies only on the length of each page; ids already seen are
        dropped, because pages are computed over live data and an insert
        between two requests shifts items onto the next page.
        """
        seen: set[object] = set()
        items: list[M] = []
        for number in range(1, _MAX_PAGES + 1):
            query = {**params, "page": number, size_param: PAGE_SIZE}
            page = self._get_page(path, key, model, query).items
            fresh = [item for item in page if id_of(item) not in seen]
            seen.update(id_of(item) for item in fresh)
            items.extend(fresh)
            if len(page) < PAGE_SIZE or not fresh:
                break
        return items

    @staticmethod
    def _only_named(
        items: Iterable[M], name: str, kind: str, *, where: str = ""
    ) -> M | None:
        matches = [item for item in items if getattr(item, "name", None) == name]
        if len(matches) > 1:
            ids = ", ".join(str(getattr(item, "id", "?")) for item in matches)
            raise AmbiguousNameError(
                f"{len(matches)} {kind}s are named {name!r}{where} (ids {ids}); "
                "narrow the lookup or use an id."
            )
        return matches[0] if matches else None


def adopt_after_ambiguous_failure(
    send: Callable[[], T],
    find: Callable[[], T | None],
    *,
    what: str,
) -> T:
    """Send a create once; if its outcome is unknown, look for what it made.

    A create is never sent twice: when the answer is lost or the API fails
    with a 5xx, the object may exist all the same. `find` then looks it up
    (by name); if found it is returned as if the create had answered,
    otherwise the original error is raised.
    """
    try:
        return send()
    except (ServerError, ResponseLostError) as failure:
        error: Exception = failure
    except TransportError:
        raise

    logger.warning("%s: outcome unknown (%s); looking it up", what, error)
    try:
        found = find()
    except Exception as lookup_error:
        raise error from lookup_error
    if found is None:
        raise error
    logger.warning("%s: adopted what the lost request made", what)
    return found


def _drop_none(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


def _validation_summary(what: str, exc: ValidationError) -> str:
    # Only locations and messages: `input` could hold user data or names.
    problems = "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or '(root)'}: {err['msg']}"
        for err in exc.errors()[:5]
    )
    return f"not a valid {what} ({problems})"
