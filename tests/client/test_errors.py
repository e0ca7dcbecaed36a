from __future__ import annotations

import pickle

import httpx
import pytest

from pulumi_infrahub.client import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InfrahubClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from pulumi_infrahub.client.errors import api_error_from_response

from .fakes import API_KEY, FakeAPI, error


def test_api_error_renders_status_reason_call_and_message() -> None:
    err = NotFoundError(
        status=404,
        message="VM 793869 does not exists.",
        method="GET",
        path="/core/virtual-machines/793869",
        error_reason="not_found",
    )

    assert str(err) == (
        "Infrahub answered HTTP 404 not_found to GET "
        "/core/virtual-machines/793869: VM 793869 does not exists."
    )


def test_api_error_rendering_appends_the_class_hint() -> None:
    err = AuthenticationError(
        status=401,
        message="Invalid API key",
        method="GET",
        path="/core/flavors",
        error_reason="unauthorized",
    )

    assert str(err) == (
        "Infrahub answered HTTP 401 unauthorized to GET /core/flavors: "
        "Invalid API key. Check the API key: the stack config infrahub:apiKey, "
        "INFRAHUB_API_KEY or HYPERSTACK_API_KEY, or the client's api_key argument"
    )


def test_hint_follows_a_message_that_ends_a_sentence_without_a_second_stop() -> None:
    err = AuthenticationError(
        status=401,
        message="The API key is invalid.",
        method="GET",
        path="/core/flavors",
        error_reason="unauthorized",
    )

    assert "invalid. Check the API key" in str(err)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (405, APIError),
        (402, APIError),
    ],
)
def test_error_class_follows_the_http_status(
    status: int, expected: type[APIError]
) -> None:
    err = api_error_from_response(
        status=status,
        method="POST",
        path="/core/volumes",
        body={"status": False, "message": "m", "error_reason": "r"},
        text="",
    )

    assert type(err) is expected
    assert err.status == status


def test_validation_shape_lists_field_errors_and_counts_as_bad_request() -> None:
    body = {
        "errors": {
            "size": "'size' is a required property",
            "name": "'name' is a required property",
        },
        "message": "Input payload validation failed",
    }

    err = api_error_from_response(
        status=400, method="POST", path="/core/volumes", body=body, text=""
    )

    assert isinstance(err, BadRequestError)
    assert err.error_reason == "bad_request"
    assert err.field_errors == {
        "size": "'size' is a required property",
        "name": "'name' is a required property",
    }
    assert str(err) == (
        "Infrahub answered HTTP 400 bad_request to POST /core/volumes: Input "
        "payload validation failed (name: 'name' is a required property; "
        "size: 'size' is a required property)"
    )


def test_non_json_body_becomes_the_message_in_one_line() -> None:
    text = "<html>\n<body>502 Bad   Gateway</body>\n</html>"

    err = api_error_from_response(
        status=502, method="GET", path="/core/regions", body=None, text=text
    )

    assert isinstance(err, ServerError)
    assert err.error_reason is None
    assert str(err) == (
        "Infrahub answered HTTP 502 to GET /core/regions: "
        "<html> <body>502 Bad Gateway</body> </html>"
    )


def test_empty_error_body_says_so() -> None:
    err = api_error_from_response(
        status=500, method="DELETE", path="/core/volumes/3", body=None, text=""
    )

    assert err.message == "(empty body)"


def test_error_from_the_wire_never_contains_the_key_or_query(api: FakeAPI) -> None:
    api.on("GET", "/core/virtual-machines", error(401, "Invalid key", "unauthorized"))
    transport = httpx.MockTransport(api)

    c = InfrahubClient(API_KEY, "https://api.test/v1", transport=transport)

    with c, pytest.raises(AuthenticationError) as caught:
        c.virtual_machines.get_list(search="secret-project")

    rendered = str(caught.value) + repr(caught.value.__dict__)
    assert API_KEY not in rendered
    assert "secret-project" not in rendered
    assert caught.value.path == "/core/virtual-machines"


def test_errors_survive_pickling_with_their_fields() -> None:
    err = ConflictError(
        status=409,
        message="Name taken",
        method="POST",
        path="/core/virtual-machines",
        error_reason="already_exist",
    )

    copy = pickle.loads(pickle.dumps(err))

    assert type(copy) is ConflictError
    assert str(copy) == str(err)
    assert copy.status == 409
    assert copy.error_reason == "already_exist"
