"""Unit tests of property paths, secret handling and value display."""

from __future__ import annotations

import pytest

from pulumi_infrahub.report.values import (
    MISSING,
    SECRET,
    clean_properties,
    format_value,
    lookup,
    parse_path,
)

SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("flavor_name", ["flavor_name"]),
        ("labels.team", ["labels", "team"]),
        ("rules[2].port", ["rules", 2, "port"]),
        ('labels["a.b"]', ["labels", "a.b"]),
        ('["odd key"].x', ["odd key", "x"]),
    ],
)
def test_parse_path_splits_keys_indexes_and_quoted_keys(
    path: str, parts: list[str | int]
) -> None:
    assert parse_path(path) == parts


def test_lookup_into_a_secret_yields_the_secret_marker() -> None:
    cleaned = clean_properties({"config": {SIG_KEY: SECRET_SIG, "ciphertext": "x"}})

    assert lookup(cleaned, "config.password") is SECRET


def test_lookup_of_absent_path_is_missing() -> None:
    cleaned = clean_properties({"rules": [{"port": 22}]})

    assert lookup(cleaned, "rules[0].port") == 22
    assert lookup(cleaned, "rules[3].port") is MISSING
    assert lookup(cleaned, "labels.team") is MISSING


def test_nested_secret_inside_an_object_is_replaced() -> None:
    cleaned = clean_properties(
        {"labels": {"token": {SIG_KEY: SECRET_SIG, "plaintext": '"s3cr3t"'}}}
    )

    assert cleaned == {"labels": {"token": SECRET}}
    assert format_value(cleaned["labels"]) == '{"token": "[secret]"}'


def test_whole_numbers_read_without_a_decimal_point() -> None:
    assert format_value(4.0) == "4"
    assert format_value(0.5) == "0.5"
    assert format_value(True) == "true"


def test_long_values_are_clipped_to_the_limit() -> None:
    text = format_value("x" * 500, limit=40)

    assert len(text) == 40
    assert text.endswith("…")
