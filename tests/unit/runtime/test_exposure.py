"""REST_CHANNEL and REST_CHANNEL_TOKEN in the settings, and `unsafe_exposure` on them.

Also the production env file (deploy/nightdesk.env, installed as the systemd units'
/etc/nightdesk/nightdesk.env): the REST channel off, every secret a placeholder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot.runtime.exposure import is_loopback, refuse_unsafe_exposure, unsafe_exposure
from bot.settings import SettingsError, load_settings

PROJECT_DIR = Path(__file__).resolve().parents[3]
PRODUCTION_ENV = PROJECT_DIR / "deploy" / "nightdesk.env"


def _load(tmp_path: Path, **environ: str):  # noqa: ANN202
    return load_settings({"NIGHTDESK_HOME": str(tmp_path), **environ})


def test_the_rest_channel_is_open_without_a_token_by_default(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert settings.rest_channel == "open" and settings.rest_channel_token is None
    assert settings.as_environment()["REST_CHANNEL"] == "open"
    assert "REST_CHANNEL_TOKEN" not in settings.as_environment()


@pytest.mark.parametrize("raw, mode", [("off", "off"), (" OFF ", "off"), ("Open", "open"),
                                       ("", "open")])
def test_modes_are_read_case_and_space_insensitively(tmp_path: Path, raw: str,
                                                     mode: str) -> None:
    assert _load(tmp_path, REST_CHANNEL=raw).rest_channel == mode


def test_token_mode_keeps_the_token_and_children_get_both(tmp_path: Path) -> None:
    settings = _load(tmp_path, REST_CHANNEL="token", REST_CHANNEL_TOKEN=" t0ken-value ")
    assert settings.rest_channel == "token" and settings.rest_channel_token == "t0ken-value"
    environment = settings.as_environment()
    assert environment["REST_CHANNEL"] == "token"
    assert environment["REST_CHANNEL_TOKEN"] == "t0ken-value"
    assert load_settings(environment) == settings


@pytest.mark.parametrize("mode", ["open", "off"])
def test_other_modes_round_trip_through_the_environment(tmp_path: Path, mode: str) -> None:
    settings = _load(tmp_path, REST_CHANNEL=mode)
    assert load_settings(settings.as_environment()) == settings


@pytest.mark.parametrize("environ, message", [
    ({"REST_CHANNEL": "token"}, "REST_CHANNEL_TOKEN: required when REST_CHANNEL=token"),
    ({"REST_CHANNEL": "token", "REST_CHANNEL_TOKEN": "   "}, "REST_CHANNEL_TOKEN"),
    ({"REST_CHANNEL": "public"}, "REST_CHANNEL: expected 'open', 'token' or 'off'"),
    ({"REST_CHANNEL": "true"}, "REST_CHANNEL"),
])
def test_bad_rest_settings_are_clear_errors(tmp_path: Path, environ: dict[str, str],
                                            message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        _load(tmp_path, **environ)


# --- unsafe_exposure -------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost",
                                     "LOCALHOST", "::ffff:127.0.0.1"])
def test_loopback_addresses(address: str) -> None:
    assert is_loopback(address)


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "10.1.2.3", "192.168.1.10",
                                     "bot.example.com", "", "::ffff:10.1.2.3", "localhost.evil"])
def test_addresses_that_are_not_loopback(address: str) -> None:
    assert not is_loopback(address)


@pytest.mark.parametrize("rasa_url", ["http://127.0.0.1:5005", "http://localhost:5005",
                                      "http://[::1]:5005"])
def test_an_open_rest_channel_on_loopback_is_not_exposed(tmp_path: Path, rasa_url: str) -> None:
    assert unsafe_exposure(_load(tmp_path, RASA_URL=rasa_url)) == []


@pytest.mark.parametrize("rasa_url", ["http://0.0.0.0:5005", "http://10.1.2.3:5005",
                                      "http://bot.example.com:5005", "http://[::]:5005"])
def test_an_open_rest_channel_off_loopback_is_named(tmp_path: Path, rasa_url: str) -> None:
    [exposed] = unsafe_exposure(_load(tmp_path, RASA_URL=rasa_url,
                                      RASA_AUTH_TOKEN="a-real-secret"))
    assert "REST channel" in exposed and "REST_CHANNEL=open" in exposed
    assert "REST_CHANNEL=off" in exposed and f"{rasa_url}/webhooks/rest/webhook" in exposed


@pytest.mark.parametrize("environ", [
    {"REST_CHANNEL": "off"},
    {"REST_CHANNEL": "token", "REST_CHANNEL_TOKEN": "a-long-random-secret"},
])
def test_an_off_or_token_rest_channel_off_loopback_is_fine(tmp_path: Path,
                                                           environ: dict[str, str]) -> None:
    assert unsafe_exposure(_load(tmp_path, RASA_URL="http://0.0.0.0:5005", **environ)) == []


def test_refuse_unsafe_exposure_stops_with_what_is_exposed(tmp_path: Path) -> None:
    refuse_unsafe_exposure(_load(tmp_path))  # loopback, open: fine
    refuse_unsafe_exposure(_load(tmp_path, RASA_URL="http://0.0.0.0:5005", REST_CHANNEL="off"))
    with pytest.raises(SettingsError, match=r"^refusing to start: reachable without "
                                            r"authentication: the REST channel .*REST_CHANNEL"):
        refuse_unsafe_exposure(_load(tmp_path, RASA_URL="http://0.0.0.0:5005"))


def test_the_action_server_off_loopback_is_left_to_its_own_check(tmp_path: Path) -> None:
    from bot.runtime.action_server import check_exposure

    settings = _load(tmp_path, ACTION_SERVER_HOST="0.0.0.0")
    assert unsafe_exposure(settings) == []  # not repeated here ...
    with pytest.raises(SettingsError, match="ACTION_SERVER_TOKEN"):  # ... it refuses itself
        check_exposure(settings.action_server_host, settings.action_server_token)


# --- the production env file ---------------------------------------------------------------


def test_the_systemd_units_read_the_production_env_file_by_its_name() -> None:
    units = sorted((PROJECT_DIR / "deploy" / "systemd").glob("*.service"))
    assert units
    for unit in units:
        assert "EnvironmentFile=/etc/nightdesk/nightdesk.env" in unit.read_text(), unit.name


def test_the_production_env_file_turns_the_rest_channel_off() -> None:
    values = dotenv_values(PRODUCTION_ENV)
    assert values["REST_CHANNEL"] == "off"
    assert not values.get("REST_CHANNEL_TOKEN")
    assert str(values["DATABASE_URL"]).startswith("postgresql://")
    # the receiver, the desk and the command reach the Rasa servers through HAProxy, loopback
    assert values["RASA_URL"] == "http://127.0.0.1:5000"


def test_every_production_secret_is_a_placeholder_to_fill() -> None:
    values = dotenv_values(PRODUCTION_ENV)
    for name in ("RASA_AUTH_TOKEN", "PAGE_ACCESS_TOKEN", "APP_SECRET", "VERIFY_TOKEN",
                 "SMTP_PASSWORD"):
        assert str(values[name]).startswith("FILL-ME"), name
    assert "FILL-ME" in str(values["DATABASE_URL"])


def test_the_production_env_file_loads_and_exposes_nothing(tmp_path: Path) -> None:
    environ = {name: value or "" for name, value in dotenv_values(PRODUCTION_ENV).items()}
    environ["NIGHTDESK_HOME"] = str(tmp_path)
    settings = load_settings(environ)
    assert settings.rest_channel == "off"
    assert unsafe_exposure(settings) == []
