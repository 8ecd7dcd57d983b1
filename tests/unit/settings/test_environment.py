from __future__ import annotations

from pathlib import Path

import pytest

from actions.session import first_name_from_metadata
from bot.settings import SettingsError, load_settings


def test_defaults_put_the_sqlite_file_under_the_project(tmp_path: Path):
    settings = load_settings({"NIGHTDESK_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'var' / 'nightdesk.db'}"
    assert settings.orders_backend == "sql" and settings.proof_max_failures == 3
    assert settings.brand_file == tmp_path.resolve() / "brand.yml"


def test_postgres_url_is_kept_and_environment_round_trips(tmp_path: Path):
    url = "postgresql://postgres@127.0.0.1:5432/test"
    settings = load_settings({"NIGHTDESK_HOME": str(tmp_path), "DATABASE_URL": url})
    assert settings.database_url == url
    assert load_settings(settings.as_environment()) == settings


@pytest.mark.parametrize("environ, message", [
    ({"ORDERS_BACKEND": "ftp"}, "ORDERS_BACKEND"),
    ({"ORDERS_BACKEND": "http"}, "SHOP_API_URL"),
    ({"PROOF_MAX_FAILURES": "three"}, "PROOF_MAX_FAILURES"),
    ({"PROOF_MAX_FAILURES": "0"}, "at least 1"),
    ({"MESSENGER_HEARTBEAT_SECONDS": "often"}, "MESSENGER_HEARTBEAT_SECONDS: expected a number"),
    ({"MESSENGER_HEARTBEAT_SECONDS": "0"}, "MESSENGER_HEARTBEAT_SECONDS: must be a number"),
    ({"MESSENGER_CLAIM_TIMEOUT_SECONDS": "-10"}, "MESSENGER_CLAIM_TIMEOUT_SECONDS: must be"),
    ({"MESSENGER_CLAIM_TIMEOUT_SECONDS": "nan"}, "MESSENGER_CLAIM_TIMEOUT_SECONDS: must be"),
    ({"MESSENGER_CLAIM_TIMEOUT_SECONDS": "4"},
     r"MESSENGER_CLAIM_TIMEOUT_SECONDS \(4\) must be more than twice "
     r"MESSENGER_HEARTBEAT_SECONDS \(2\)"),
    ({"MESSENGER_HEARTBEAT_SECONDS": "5", "MESSENGER_CLAIM_TIMEOUT_SECONDS": "10"},
     "more than twice"),
])
def test_bad_values_are_clear_errors(tmp_path: Path, environ, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"NIGHTDESK_HOME": str(tmp_path), **environ})


def test_first_name_from_channel_metadata():
    assert first_name_from_metadata({"first_name": "Anna"}) == "Anna"
    assert first_name_from_metadata({"name": "Anna Rossi"}) == "Anna"
    assert first_name_from_metadata({}) is None
    assert first_name_from_metadata(None) is None
    assert first_name_from_metadata({"first_name": "  "}) is None


def test_default_rasa_token_is_refused_off_loopback(tmp_path: Path):
    from bot.cli import refuse_default_token_off_loopback

    local = load_settings({"NIGHTDESK_HOME": str(tmp_path)})
    refuse_default_token_off_loopback(local)  # loopback: fine
    public = load_settings({"NIGHTDESK_HOME": str(tmp_path), "RASA_URL": "http://10.1.2.3:5005"})
    with pytest.raises(SettingsError, match="RASA_AUTH_TOKEN"):
        refuse_default_token_off_loopback(public)
    secret = load_settings({"NIGHTDESK_HOME": str(tmp_path), "RASA_URL": "http://10.1.2.3:5005",
                            "RASA_AUTH_TOKEN": "s3cret"})
    refuse_default_token_off_loopback(secret)


def test_cli_reports_a_broken_brand_file_with_its_key(tmp_path: Path, monkeypatch, capsys):
    import bot.settings as settings_module
    from bot.cli import main

    (tmp_path / "brand.yml").write_text("brand:\n  name: X\ntimezone: Europe/Rom\n")
    monkeypatch.setenv("NIGHTDESK_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    settings_module.get_settings.cache_clear()
    settings_module.get_brand.cache_clear()
    try:
        assert main(["tickets"]) == 2
    finally:
        settings_module.get_settings.cache_clear()
        settings_module.get_brand.cache_clear()
    assert "brand.yml" in capsys.readouterr().err


def test_haproxys_frontends_default_to_loopback_and_round_trip(tmp_path: Path):
    settings = load_settings({"NIGHTDESK_HOME": str(tmp_path), "NIGHTDESK_PUBLIC_PORT": "9000",
                              "NIGHTDESK_PUBLIC_HOST": "0.0.0.0"})
    balancer = settings.load_balancer
    assert (balancer.public_host, balancer.public_port) == ("0.0.0.0", 9000)
    assert (balancer.desk_port, balancer.internal_port) == (8088, 5000)
    assert load_settings(settings.as_environment()) == settings
    assert load_settings({"NIGHTDESK_HOME": str(tmp_path)}).load_balancer.public_host == (
        "127.0.0.1")


@pytest.mark.parametrize("name", ["NIGHTDESK_PUBLIC_PORT", "NIGHTDESK_DESK_PORT",
                                  "NIGHTDESK_INTERNAL_PORT"])
@pytest.mark.parametrize("value", ["0", "65536", "http"])
def test_a_frontend_port_that_is_no_port_is_a_clear_error(tmp_path: Path, name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({"NIGHTDESK_HOME": str(tmp_path), name: value})


def test_the_messenger_claim_timeout_and_heartbeat(tmp_path: Path):
    messenger = load_settings({"NIGHTDESK_HOME": str(tmp_path)}).messenger
    assert (messenger.heartbeat_seconds, messenger.claim_timeout_seconds) == (2.0, 10.0)
    settings = load_settings({"NIGHTDESK_HOME": str(tmp_path),
                              "MESSENGER_HEARTBEAT_SECONDS": "0.2",
                              "MESSENGER_CLAIM_TIMEOUT_SECONDS": "1"})
    assert (settings.messenger.heartbeat_seconds, settings.messenger.claim_timeout_seconds) == (
        0.2, 1.0)
    assert load_settings(settings.as_environment()) == settings
    assert "MESSENGER_RECOVER_AFTER_SECONDS" not in settings.as_environment()
