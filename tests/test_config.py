from __future__ import annotations

import pytest

from pulumi_infrahub.client import ConfigurationError, InfrahubClient
from pulumi_infrahub.config import DEFAULT_API_URL, Settings, resolve_settings


def test_arguments_win_over_the_environment() -> None:
    env = {"INFRAHUB_API_KEY": "env-key", "INFRAHUB_API_URL": "http://env:1/v1"}

    settings = resolve_settings("arg-key", "http://arg:2/v1/", environ=env)

    assert settings == Settings(api_url="http://arg:2/v1", api_key="arg-key")


def test_infrahub_variables_win_over_the_hyperstack_ones() -> None:
    env = {
        "INFRAHUB_API_KEY": "infrahub-key",
        "HYPERSTACK_API_KEY": "hyperstack-key",
        "INFRAHUB_API_URL": "http://infrahub:1/v1",
        "HYPERSTACK_API_ADDRESS": "http://hyperstack:2/v1",
    }

    settings = resolve_settings(environ=env)

    assert (settings.api_key, settings.api_url) == (
        "infrahub-key",
        "http://infrahub:1/v1",
    )


def test_hyperstack_variables_are_read_and_url_defaults_to_the_public_api() -> None:
    settings = resolve_settings(
        environ={"HYPERSTACK_API_KEY": "k", "INFRAHUB_API_URL": ""}
    )

    assert (settings.api_key, settings.api_url) == ("k", DEFAULT_API_URL)


def test_missing_key_names_every_place_to_set_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(environ={})

    assert "INFRAHUB_API_KEY or HYPERSTACK_API_KEY" in str(caught.value)
    assert "infrahub:apiKey" in str(caught.value)


@pytest.mark.parametrize(
    "url", ["infrahub-api.nexgencloud.com/v1", "ftp://x/v1", "http:///v1"]
)
def test_url_without_http_scheme_or_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="not an http\\(s\\) URL"):
        resolve_settings("k", url, environ={})


def test_key_with_a_line_break_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings("secret-key\n", environ={})

    assert "secret-key" not in str(caught.value)


def test_settings_repr_hides_the_key() -> None:
    assert "k3y" not in repr(Settings(api_url=DEFAULT_API_URL, api_key="k3y"))


def test_client_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRAHUB_API_KEY", "from-env")
    monkeypatch.setenv("INFRAHUB_API_URL", "http://127.0.0.1:9/v1")

    with InfrahubClient() as client:
        assert client.base_url == "http://127.0.0.1:9/v1"
        assert "from-env" not in repr(client)
