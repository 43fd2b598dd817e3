"""Configuration from credentials.yml and the environment."""

from __future__ import annotations

from bot.channels.line.config import DEFAULT_API_BASE_URL, LineConfig, derive_data_base_url


def test_environment_configures_the_channel():
    env = {
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "LINE_API_BASE_URL": "http://proxy:8080/",
    }
    config = LineConfig.from_sources(None, environ=env)
    assert config.enabled
    assert (config.channel_secret, config.access_token) == ("s", "t")
    assert config.api_base_url == "http://proxy:8080"
    assert config.data_base_url == "http://proxy:8080"


def test_credentials_win_over_environment_and_empty_values_fall_through():
    env = {"LINE_CHANNEL_SECRET": "from-env", "LINE_CHANNEL_ACCESS_TOKEN": "env-token"}
    config = LineConfig.from_sources({"channel_secret": "from-yml", "channel_access_token": ""}, environ=env)
    assert config.channel_secret == "from-yml"
    assert config.access_token == "env-token"


def test_without_secret_the_channel_is_off():
    config = LineConfig.from_sources({}, environ={})
    assert not config.enabled
    assert config.api_base_url == DEFAULT_API_BASE_URL


def test_data_host_is_derived_or_overridden():
    assert derive_data_base_url("https://api.line.me") == "https://api-data.line.me"
    assert derive_data_base_url("https://api.line.me:443/") == "https://api-data.line.me:443"
    assert derive_data_base_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"
    env = {"LINE_API_DATA_BASE_URL": "https://data.proxy.example/"}
    assert LineConfig.from_sources(None, environ=env).data_base_url == "https://data.proxy.example"
    assert LineConfig.from_sources(None, environ={}).data_base_url == "https://api-data.line.me"
