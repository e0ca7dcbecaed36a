"""The vendor's OpenAPI document as a judge of recorded exchanges.

The document is read from the path in `INFRAHUB_OPENAPI_SPEC`, or from
`../shared/reference/infrahub-openapi.yaml` beside the repository. It is never
copied into the project. Where the document is known to be wrong, the fix is
applied in memory below, each with the reason the API's own behaviour gives.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml
from openapi_core import OpenAPI
from openapi_core.templating.paths.exceptions import PathNotFound
from openapi_core.testing import MockRequest, MockResponse

from pulumi_infrahub.emulator import Exchange

SPEC_VARIABLE = "INFRAHUB_OPENAPI_SPEC"
REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPOSITORY.parent / "shared" / "reference" / "infrahub-openapi.yaml"
SERVER = "https://infrahub-api.nexgencloud.com"

# A timestamp as the API sends it: the Terraform provider's Go client only
# parses naive `2006-01-02T15:04:05`, so the API has sent those; zoned forms
# appear in the vendor's examples.
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"

# Operations newer than the document (the Python SDK 1.56 has them, the
# document is the 1.52 one): nothing to check them against.
NEWER_THAN_DOCUMENT = {
    ("GET", "/v1/core/supported-keypairs"),
    ("PATCH", "/v1/core/virtual-machines/{id}/enhanced-metrics"),
}

# Each structure is checked this many times; further exchanges of exactly the
# same shape add nothing but time.
CHECKS_PER_SHAPE = 3


class SpecNotFound(Exception):
    """The vendor document is not where the environment says."""


def locate_spec() -> Path:
    """The vendor document's path, or `SpecNotFound` saying how to fix it."""
    configured = os.environ.get(SPEC_VARIABLE)
    path = Path(configured) if configured else DEFAULT_SPEC
    if not path.is_file():
        source = f"{SPEC_VARIABLE}={configured}" if configured else "default path"
        raise SpecNotFound(
            f"The vendor OpenAPI document was not found at {path} ({source}). "
            f"Set {SPEC_VARIABLE} to the path of infrahub-openapi.yaml; the "
            "contract tests cannot run without it."
        )
    return path


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _fix_known_defects(document: dict[str, Any]) -> None:
    """Fixes that hold for requests and responses alike."""
    schemas = document["components"]["schemas"]

    # The document names an `accessToken` scheme in its security
    # requirements but never defines it; the API takes `api_key` only.
    document["security"] = [{"apiKey": []}]
    for node in _walk(document["paths"]):
        if "security" in node and isinstance(node["security"], list):
            node["security"] = [{"apiKey": []}]

    # `virtual_machine_id` is required but not a property: a leftover of the
    # vendor's patch script. The VM id travels in the path.
    rule = schemas["Create_Security_Rule_Payload"]
    rule["required"] = [
        name for name in rule["required"] if name != "virtual_machine_id"
    ]

    # Metric rows are `[time, granularity, value]` arrays of scalars; the
    # document says arrays of objects, which no real row matches.
    schemas["MetricItemFields"]["properties"]["data"]["items"] = {"type": "array"}


def _loosen_responses(document: dict[str, Any]) -> None:
    """Fixes for responses only, so requests are still held to the letter."""
    for node in _walk(document["components"]["schemas"]):
        properties = node.get("properties")
        if not isinstance(properties, dict):
            continue
        for schema in properties.values():
            # The API answers `null` for fields it has no value for (a VM's
            # `floating_ip` and `power_state` right after create, its `image`
            # when it boots from a volume); the document marks none of them
            # nullable. Fields that refer to a component are covered below.
            if isinstance(schema, dict):
                schema["nullable"] = True
    for schema in document["components"]["schemas"].values():
        # `nullable` beside a `$ref` is ignored, so the component says it.
        schema["nullable"] = True
    for node in _walk(document):
        if node.get("type") == "string" and node.get("format") == "date-time":
            del node["format"]
            node["pattern"] = TIMESTAMP_PATTERN


def _load(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as stream:
        document: dict[str, Any] = yaml.load(stream, Loader=loader)
    return document


@dataclass(frozen=True)
class Problem:
    """One way an exchange departs from the document."""

    exchange: str
    side: str
    detail: str

    def __str__(self) -> str:
        return f"{self.exchange} [{self.side}] {self.detail}"


def _describe(error: Exception) -> str:
    parts = [type(error).__name__]
    cause: BaseException | None = error
    while cause is not None:
        for schema_error in getattr(cause, "schema_errors", None) or []:
            where = "/".join(str(p) for p in schema_error.absolute_path) or "(body)"
            parts.append(f"{where}: {schema_error.message}")
        cause = cause.__cause__
    if len(parts) == 1:
        parts.append(str(error)[:500])
    return "; ".join(parts)[:2000]


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((key, _shape(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(sorted({repr(_shape(item)) for item in value})))
    return type(value).__name__


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return body


_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def _is_error_body(body: Any) -> bool:
    """One of the two error shapes the API uses (see the errors reference)."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return False
    if "errors" in body:
        return isinstance(body["errors"], dict) and all(
            isinstance(text, str) for text in body["errors"].values()
        )
    return body.get("status") is False and isinstance(body.get("error_reason", ""), str)


class VendorContract:
    """Checks exchanges against the vendor document, exceptions applied."""

    def __init__(self, path: Path) -> None:
        requests = _load(path)
        _fix_known_defects(requests)
        responses = _load(path)
        _fix_known_defects(responses)
        _loosen_responses(responses)
        self._requests = OpenAPI.from_dict(requests)
        self._responses = OpenAPI.from_dict(responses)
        self._declared = {
            (method.upper(), "/v1" + route): {
                str(code) for code in operation["responses"]
            }
            for route, item in requests["paths"].items()
            for method, operation in item.items()
            if isinstance(operation, dict) and "responses" in operation
        }
        self._seen: dict[Any, int] = {}

    def check_all(self, exchanges: Iterable[Exchange]) -> list[Problem]:
        problems: list[Problem] = []
        for exchange in exchanges:
            problems.extend(self.check(exchange))
        return problems

    def check(self, exchange: Exchange) -> list[Problem]:
        template = _ID_SEGMENT.sub("/{id}", exchange.path)
        label = f"{exchange.method} {exchange.path} -> {exchange.status}"
        if (exchange.method, template) in NEWER_THAN_DOCUMENT:
            return []
        request_body = _parse(exchange.request_body)
        response_body = _parse(exchange.response_body)
        key = (
            exchange.method,
            template,
            tuple(sorted({name for name, _ in parse_qsl(exchange.query)})),
            exchange.status,
            _shape(request_body),
            _shape(response_body),
        )
        self._seen[key] = self._seen.get(key, 0) + 1
        if self._seen[key] > CHECKS_PER_SHAPE:
            return []

        request = MockRequest(
            SERVER,
            exchange.method.lower(),
            exchange.path,
            args=parse_qsl(exchange.query, keep_blank_values=True),  # type: ignore[arg-type]
            headers=exchange.request_headers,
            data=exchange.request_body or None,
            content_type=exchange.request_headers.get(
                "content-type", "application/json"
            ),
        )
        if exchange.status >= 400:
            return self._check_error(exchange, request, response_body, label)

        problems = [
            Problem(label, "request", _describe(error))
            for error in self._requests.iter_request_errors(request)
        ]
        if not exchange.response_body:
            # The connection was dropped on purpose after the change was made.
            return problems
        response = MockResponse(
            exchange.response_body,
            exchange.status,
            headers=exchange.response_headers,
            content_type=exchange.response_headers.get("content-type", ""),
        )
        problems.extend(
            Problem(label, "response", _describe(error))
            for error in self._responses.iter_response_errors(request, response)
        )
        return problems

    def _check_error(
        self, exchange: Exchange, request: MockRequest, body: Any, label: str
    ) -> list[Problem]:
        # Requests that earned an error were often wrong on purpose, so only
        # the answer is checked. The vendor's errors page applies its codes
        # (401, 404, 429, 5xx, ...) to every endpoint, while the per-operation
        # lists leave many out and give 500 no body: an undeclared error
        # status passes when its body is one of the API's error shapes.
        if not _is_error_body(body):
            return [Problem(label, "response", f"not an error shape: {body!r:.500}")]
        declared = self._declared_statuses(exchange)
        if str(exchange.status) not in declared or exchange.status >= 500:
            return []
        response = MockResponse(
            exchange.response_body,
            exchange.status,
            headers=exchange.response_headers,
            content_type=exchange.response_headers.get("content-type", ""),
        )
        try:
            errors = list(self._responses.iter_response_errors(request, response))
        except PathNotFound:
            return []
        return [Problem(label, "response", _describe(error)) for error in errors]

    def _declared_statuses(self, exchange: Exchange) -> set[str]:
        for (method, route), statuses in self._declared.items():
            if method == exchange.method and _route_matches(route, exchange.path):
                return statuses
        return set()


def _route_matches(route: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", route) + "$"
    return re.match(pattern, path) is not None
