"""Every exception the Infrahub client raises.

```
InfrahubError
├── ConfigurationError          settings missing or malformed; nothing was sent
├── InvalidArgumentError        an argument breaks the API's rules; nothing was sent
├── AmbiguousNameError          a name matched more than one object
├── APIError                    the API answered with an error status
│   ├── BadRequestError         400: invalid input, or the object's state forbids it
│   ├── AuthenticationError     401: the key is missing, malformed or revoked
│   ├── PermissionDeniedError   403: the key may not touch this object
│   ├── NotFoundError           404: no such object, or not visible to this key
│   ├── ConflictError           409: the name or identity is taken
│   ├── RateLimitError          429: too many requests from this address
│   └── ServerError             5xx: the API failed; a change may have happened
├── UnexpectedResponseError     a success answer the client cannot read
├── TransportError              no answer at all
│   ├── ConnectionFailedError   never connected; the request was not sent
│   └── ResponseLostError       sent, but the answer never came (timeout, drop)
└── WaitError                   a wait for a status ended without it
    ├── WaitTimeoutError        the deadline passed first
    └── FailedStateError        the object settled in a failure state
```

No exception carries the API key: errors name the method and the path, never
the headers, the query or the request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIError",
    "AmbiguousNameError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionFailedError",
    "FailedStateError",
    "InfrahubError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseLostError",
    "ServerError",
    "TransportError",
    "UnexpectedResponseError",
    "WaitError",
    "WaitTimeoutError",
    "api_error_from_response",
]

_BODY_EXCERPT = 200


class InfrahubError(Exception):
    """Base of every error raised by the Infrahub client."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The subclasses take keyword arguments, which default exception
        # pickling cannot pass back; rebuild from the message and attributes.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(
    cls: type[InfrahubError], args: tuple[Any, ...], state: dict[str, Any]
) -> InfrahubError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class ConfigurationError(InfrahubError):
    """The client settings are missing or malformed; no request was sent."""


class InvalidArgumentError(InfrahubError, ValueError):
    """An argument breaks a rule the API documents; nothing was sent."""


class AmbiguousNameError(InfrahubError):
    """A lookup by name found several objects where one was expected."""


class APIError(InfrahubError):
    """The API answered with an HTTP error status.

    `status` is the HTTP code, `error_reason` the API's category (None when
    the body had none), `message` its text, and `field_errors` the per-field
    messages of a payload validation failure. `method` and `path` name the
    call; the path is relative to the base URL and carries no query.
    """

    hint = ""

    def __init__(
        self,
        *,
        status: int,
        message: str,
        method: str,
        path: str,
        error_reason: str | None = None,
        field_errors: Mapping[str, str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        self.error_reason = error_reason
        self.field_errors: dict[str, str] = dict(field_errors or {})
        self.retry_after = retry_after
        super().__init__(self._render())

    def _render(self) -> str:
        reason = f" {self.error_reason}" if self.error_reason else ""
        text = (
            f"Infrahub answered HTTP {self.status}{reason} to "
            f"{self.method} {self.path}: {self.message}"
        )
        if self.field_errors:
            fields = "; ".join(
                f"{k}: {v}" for k, v in sorted(self.field_errors.items())
            )
            text = f"{text} ({fields})"
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        return text


class BadRequestError(APIError):
    """400: the input was invalid, or the object is in the wrong state."""


class AuthenticationError(APIError):
    """401: the API key is missing, malformed or revoked."""

    hint = (
        "Check the API key: the stack config infrahub:apiKey, INFRAHUB_API_KEY "
        "or HYPERSTACK_API_KEY, or the client's api_key argument"
    )


class PermissionDeniedError(APIError):
    """403: the key may not act on this object."""


class NotFoundError(APIError):
    """404: the object does not exist or this key cannot see it."""


class ConflictError(APIError):
    """409: an object with this name or identity already exists."""

    hint = "Choose another name, or adopt the existing object"


class RateLimitError(APIError):
    """429: the address sent too many requests; retries were exhausted."""

    hint = "Send fewer requests a minute, or lower the client's rate limit"


class ServerError(APIError):
    """5xx: the API failed; a change it was asked for may have happened."""


class UnexpectedResponseError(InfrahubError):
    """A success answer whose body does not have the shape the API documents."""

    def __init__(self, method: str, path: str, problem: str) -> None:
        self.method = method
        self.path = path
        self.problem = problem
        super().__init__(
            f"Infrahub answered {method} {path} with a body the client cannot "
            f"read: {problem}"
        )


class TransportError(InfrahubError):
    """The request got no HTTP answer."""

    def __init__(self, method: str, path: str, cause: str) -> None:
        self.method = method
        self.path = path
        self.cause = cause
        super().__init__(self._render())

    def _render(self) -> str:
        return f"{self.method} {self.path} got no answer from Infrahub: {self.cause}"


class ConnectionFailedError(TransportError):
    """No connection was made, so the request was certainly not processed."""

    def _render(self) -> str:
        return (
            f"Could not connect to Infrahub for {self.method} {self.path}: "
            f"{self.cause}. Check the API URL and the network"
        )


class ResponseLostError(TransportError):
    """The request was sent but no answer came: it may have been processed."""


class WaitError(InfrahubError):
    """A wait for an object to reach a status ended without it."""

    def __init__(self, what: str, detail: str, last: Any = None) -> None:
        self.what = what
        self.detail = detail
        self.last = last
        super().__init__(f"{what}: {detail}")


class WaitTimeoutError(WaitError):
    """The deadline passed before the object reached the awaited status."""


class FailedStateError(WaitError):
    """The object settled in a failure state (for a VM, `ERROR`)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def api_error_from_response(
    *,
    status: int,
    method: str,
    path: str,
    body: Any,
    text: str,
    retry_after: float | None = None,
) -> APIError:
    """Build the APIError for an error answer.

    `body` is the decoded JSON (or None when the body was not JSON) and `text`
    the raw body, used only when there is no JSON message to show.
    """
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIError

    message, reason, fields = _read_error_body(body)
    if message is None:
        excerpt = " ".join(text.split())[:_BODY_EXCERPT]
        message = excerpt or "(empty body)"
    return cls(
        status=status,
        message=message,
        method=method,
        path=path,
        error_reason=reason,
        field_errors=fields,
        retry_after=retry_after,
    )


def _read_error_body(body: Any) -> tuple[str | None, str | None, dict[str, str]]:
    if not isinstance(body, dict):
        return None, None, {}

    message = body.get("message")
    reason = body.get("error_reason")
    raw_fields = body.get("errors")
    fields: dict[str, str] = {}
    if isinstance(raw_fields, dict):
        fields = {str(k): str(v) for k, v in raw_fields.items()}
    if reason is None and fields:
        # The validation shape has no `error_reason`; the vendor documents a
        # missing reason as meaning `bad_request`.
        reason = "bad_request"
    return (
        str(message) if message is not None else None,
        str(reason) if reason is not None else None,
        fields,
    )
