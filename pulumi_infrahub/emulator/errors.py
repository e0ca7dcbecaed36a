"""Errors the emulator answers with, in the API's shapes.

`ApiError` is raised anywhere below the routes and rendered as
`{"status": false, "message": ..., "error_reason": ...}`. Request validation
failures take the other shape the API uses,
`{"errors": {field: text}, "message": "Input payload validation failed"}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

VALIDATION_MESSAGE = "Input payload validation failed"

_REASONS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    409: "already_exist",
    500: "server_error",
}


class ApiError(Exception):
    """An answer other than success, with the API's status and reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def error_reason(self) -> str | None:
        return _REASONS.get(self.status)

    def body(self) -> dict[str, Any]:
        return error_body(self.status, self.message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)


def error_body(status: int, message: str) -> dict[str, Any]:
    body: dict[str, Any] = {"status": False, "message": message}
    reason = _REASONS.get(status)
    if reason is not None:
        body["error_reason"] = reason
    return body


def validation_error(errors: dict[str, str]) -> JSONResponse:
    return JSONResponse({"errors": errors, "message": VALIDATION_MESSAGE}, 400)


_JSON_TYPES = {
    "int_type": "integer",
    "int_parsing": "integer",
    "int_from_float": "integer",
    "float_type": "number",
    "float_parsing": "number",
    "bool_type": "boolean",
    "bool_parsing": "boolean",
    "string_type": "string",
    "list_type": "array",
    "dict_type": "object",
    "model_type": "object",
    "model_attributes_type": "object",
}


def _describe(error: dict[str, Any]) -> str:
    """One error in the words of JSON Schema, which the API's messages use."""
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return f"{error['loc'][-1]!r} is a required property"
    if kind in _JSON_TYPES:
        return f"{value!r} is not of type {_JSON_TYPES[kind]!r}"
    if kind == "string_too_long":
        return f"{value!r} is too long"
    if kind == "string_too_short":
        return f"{value!r} is too short"
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"{value!r} is not one of [{expected}]"
    if kind == "greater_than_equal":
        return f"{value!r} is less than the minimum of {error['ctx']['ge']}"
    if kind == "less_than_equal":
        return f"{value!r} is greater than the maximum of {error['ctx']['le']}"
    return str(error.get("msg", "is not valid"))


def _field_key(loc: Sequence[Any]) -> str:
    # The first element says where the value came from (body, query, path).
    parts = [str(part) for part in loc[1:]]
    return ".".join(parts) or "payload"


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc", ())
        if loc and loc[0] == "path":
            # A path segment of the wrong type matches no route on the API.
            return JSONResponse(error_body(404, _NOT_FOUND_MESSAGE), 404)
        if error["type"] == "json_invalid":
            detail = error.get("ctx", {}).get("error", "malformed document")
            message = f"The request body is not valid JSON: {detail}."
            return JSONResponse(error_body(400, message), 400)
        if tuple(loc) == ("body",) and isinstance(error.get("input"), bytes | str):
            # FastAPI hands over the raw bytes when the content type is not
            # JSON, whatever the bytes hold.
            message = (
                "The request body must be a JSON object sent with "
                "Content-Type: application/json."
            )
            return JSONResponse(error_body(400, message), 400)
        errors.setdefault(_field_key(loc), _describe(error))
    return validation_error(errors)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), exc.status)


_NOT_FOUND_MESSAGE = (
    "The requested URL was not found on the server. If you entered the URL "
    "manually please check your spelling and try again."
)
_NOT_ALLOWED_MESSAGE = "The method is not allowed for the requested URL."


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = _NOT_FOUND_MESSAGE
    elif exc.status_code == 405:
        message = _NOT_ALLOWED_MESSAGE
    else:
        message = str(exc.detail)
    return JSONResponse(error_body(exc.status_code, message), exc.status_code)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(error_body(500, "Internal Server Error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Answer every failure in one of the API's error shapes."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
