"""Reads `.env` and the environment into :class:`Settings`, refusing values nightdesk can't use.

This is the only module that reads the environment.
"""

from __future__ import annotations

import os
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from dotenv import load_dotenv

from bot.clock import parse_instant
from bot.settings.process_settings import (
    LoadBalancerSettings,
    MessengerSettings,
    Settings,
    SettingsError,
    TeamChannelSettings,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite:///var/nightdesk.db"
DEFAULT_RASA_AUTH_TOKEN = "change-me-local-token"  # fine on loopback only; see nightdesk up
REST_CHANNEL_MODES = ("open", "token", "off")
"""`REST_CHANNEL`: open (development, loopback peers only), token (Bearer) or off (404)."""


def _absolute_sqlite_url(url: str, base: Path) -> str:
    """Turns `sqlite:///relative/path.db` into an absolute path under `base`."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    path = Path(url[len(prefix) :])
    if not path.is_absolute():
        path = base / path
    return prefix + str(path)


def _whole_number(name: str, raw: str, at_least: int) -> int:
    """A whole number no smaller than `at_least`."""
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < at_least:
        bound = "0 or more" if at_least == 0 else f"at least {at_least}"
        raise SettingsError(f"{name}: must be {bound}, got {value}")
    return value


def _positive_int(name: str, raw: str) -> int:
    return _whole_number(name, raw, at_least=1)


def _count(name: str, raw: str) -> int:
    """A whole number of things, zero or more ("0" turns the thing off)."""
    return _whole_number(name, raw, at_least=0)


def _positive_seconds(name: str, raw: str) -> float:
    """A duration in seconds above zero; fractions allowed ("0.5")."""
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise SettingsError(f"{name}: must be a number of seconds above 0, got {raw!r}")
    return value


def _redis_url(raw: str) -> str | None:
    """`REDIS_URL`: empty for none, else a redis:// (or TLS rediss://) URL."""
    url = raw.strip()
    if not url:
        return None
    if not url.startswith(("redis://", "rediss://")):
        raise SettingsError("REDIS_URL: expected redis://host:port/db or rediss://host:port/db "
                            "(the value is not shown: it may hold a password)")
    return url


def _rasa_instances(raw: str) -> tuple[str, ...]:
    """`NIGHTDESK_RASA_INSTANCES`: comma-separated http(s) URLs of the Rasa servers, or none."""
    urls = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SettingsError(f"NIGHTDESK_RASA_INSTANCES: expected http(s) URLs separated by "
                                f"commas (http://127.0.0.1:5005,http://127.0.0.1:5105), got "
                                f"{url!r}")
    if len(set(urls)) != len(urls):
        raise SettingsError("NIGHTDESK_RASA_INSTANCES: a Rasa server is listed twice")
    return urls


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Reads `.env` (without overriding real environment variables) into `Settings`.

    Args:
        environ: the variables to read; defaults to `os.environ` after loading `.env`.

    Raises:
        SettingsError: a variable has a value nightdesk cannot use.
    """
    if environ is None:
        home = Path(os.environ.get("NIGHTDESK_HOME", PROJECT_DIR))
        load_dotenv(home / ".env", override=False)
        environ = dict(os.environ)
    project_dir = Path(environ.get("NIGHTDESK_HOME", PROJECT_DIR)).resolve()
    backend = environ.get("ORDERS_BACKEND", "sql").strip().lower() or "sql"
    if backend not in {"sql", "http"}:
        raise SettingsError(f"ORDERS_BACKEND: expected 'sql' or 'http', got {backend!r}")
    shop_api_url = environ.get("SHOP_API_URL", "").strip() or None
    if backend == "http" and not shop_api_url:
        raise SettingsError("SHOP_API_URL: required when ORDERS_BACKEND=http")
    brand_file = Path(environ.get("BRAND_FILE", "brand.yml"))
    if not brand_file.is_absolute():
        brand_file = project_dir / brand_file
    rest_channel, rest_channel_token = _rest_channel(environ)
    return Settings(
        project_dir=project_dir,
        database_url=_absolute_sqlite_url(
            environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL, project_dir
        ),
        brand_file=brand_file,
        orders_backend=backend,
        shop_api_url=shop_api_url,
        shop_api_token=environ.get("SHOP_API_TOKEN", "").strip() or None,
        rasa_url=environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        rasa_auth_token=environ.get("RASA_AUTH_TOKEN", DEFAULT_RASA_AUTH_TOKEN),
        action_server_url=environ.get("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook"),
        proof_max_failures=_positive_int(
            "PROOF_MAX_FAILURES", environ.get("PROOF_MAX_FAILURES", "3")
        ),
        messenger=_messenger_settings(environ),
        desk_url=environ.get("DESK_URL", "http://127.0.0.1:8080").strip().rstrip("/"),
        desk_trusted_proxies=_trusted_proxies(environ.get("DESK_TRUSTED_PROXIES", "")),
        team=_team_settings(environ),
        frozen_now=_frozen_now(environ.get("NIGHTDESK_FROZEN_NOW", "")),
        action_server_host=environ.get("ACTION_SERVER_HOST", "").strip() or "127.0.0.1",
        action_server_token=environ.get("ACTION_SERVER_TOKEN", "").strip() or None,
        rest_channel=rest_channel,
        rest_channel_token=rest_channel_token,
        redis_url=_redis_url(environ.get("REDIS_URL", "")),
        load_balancer=_load_balancer_settings(environ),
        tracker_cache_conversations=_count(
            "TRACKER_CACHE_CONVERSATIONS", environ.get("TRACKER_CACHE_CONVERSATIONS", "256")),
        rasa_instances=_rasa_instances(environ.get("NIGHTDESK_RASA_INSTANCES", "")),
    )


def _port(name: str, raw: str) -> int:
    port = _positive_int(name, raw)
    if port > 65535:
        raise SettingsError(f"{name}: a TCP port is at most 65535, got {port}")
    return port


def _load_balancer_settings(environ: dict[str, str]) -> LoadBalancerSettings:
    """HAProxy's frontends for `nightdesk up --processes N`."""
    defaults = LoadBalancerSettings()

    def port(name: str, default: int) -> int:
        return _port(name, environ.get(name, "").strip() or str(default))

    return LoadBalancerSettings(
        public_host=environ.get("NIGHTDESK_PUBLIC_HOST", "").strip() or defaults.public_host,
        public_port=port("NIGHTDESK_PUBLIC_PORT", defaults.public_port),
        desk_port=port("NIGHTDESK_DESK_PORT", defaults.desk_port),
        internal_port=port("NIGHTDESK_INTERNAL_PORT", defaults.internal_port),
    )


def _rest_channel(environ: dict[str, str]) -> tuple[str, str | None]:
    """`REST_CHANNEL` (open by default) and `REST_CHANNEL_TOKEN`, which token mode requires."""
    mode = environ.get("REST_CHANNEL", "").strip().lower() or "open"
    if mode not in REST_CHANNEL_MODES:
        raise SettingsError(
            f"REST_CHANNEL: expected 'open', 'token' or 'off', got {mode!r}")
    token = environ.get("REST_CHANNEL_TOKEN", "").strip() or None
    if mode == "token" and not token:
        raise SettingsError("REST_CHANNEL_TOKEN: required when REST_CHANNEL=token")
    return mode, token


def _trusted_proxies(raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """`DESK_TRUSTED_PROXIES`: comma-separated addresses or CIDR networks, or none."""
    networks: list[IPv4Network | IPv6Network] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                f"DESK_TRUSTED_PROXIES: {item!r} is not an IP address or CIDR network"
            ) from None
    return tuple(networks)


def _frozen_now(raw: str) -> datetime | None:
    """`NIGHTDESK_FROZEN_NOW`, when set: an ISO 8601 instant with its offset."""
    if not raw.strip():
        return None
    try:
        return parse_instant(raw)
    except ValueError as error:
        raise SettingsError(f"NIGHTDESK_FROZEN_NOW: {error}") from None


def _team_settings(environ: dict[str, str]) -> TeamChannelSettings:
    """The private team channel part of the settings."""

    def optional(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    webhook = optional("TEAM_WEBHOOK_URL")
    if webhook and not webhook.startswith(("http://", "https://")):
        raise SettingsError(f"TEAM_WEBHOOK_URL: expected an http(s) URL, got {webhook!r}")
    email = optional("SUPPORT_EMAIL")
    if email and "@" not in email:
        raise SettingsError(f"SUPPORT_EMAIL: expected an e-mail address, got {email!r}")
    return TeamChannelSettings(
        webhook_url=webhook,
        support_email=email,
        smtp_host=optional("SMTP_HOST"),
        smtp_port=_positive_int("SMTP_PORT", environ.get("SMTP_PORT", "25")),
        smtp_user=optional("SMTP_USER"),
        smtp_password=optional("SMTP_PASSWORD"),
        smtp_from=optional("SMTP_FROM") or TeamChannelSettings.smtp_from,
        smtp_starttls=(optional("SMTP_STARTTLS") or "false").lower() in {"1", "true", "yes"},
    )


def _messenger_settings(environ: dict[str, str]) -> MessengerSettings:
    """The Messenger part of the settings."""

    def optional(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    graph_api_url = (optional("GRAPH_API_URL") or MessengerSettings.graph_api_url).rstrip("/")
    if not graph_api_url.startswith(("http://", "https://")):
        raise SettingsError(f"GRAPH_API_URL: expected an http(s) URL, got {graph_api_url!r}")
    return MessengerSettings(
        graph_api_url=graph_api_url,
        graph_api_version=optional("GRAPH_API_VERSION") or MessengerSettings.graph_api_version,
        page_access_token=optional("PAGE_ACCESS_TOKEN"),
        app_secret=optional("APP_SECRET"),
        verify_token=optional("VERIFY_TOKEN"),
        app_id=optional("META_APP_ID"),
        ingress_host=optional("MESSENGER_INGRESS_HOST") or MessengerSettings.ingress_host,
        ingress_port=_positive_int(
            "MESSENGER_INGRESS_PORT", environ.get("MESSENGER_INGRESS_PORT", "5006")
        ),
        inbox_workers=_positive_int(
            "MESSENGER_INBOX_WORKERS", environ.get("MESSENGER_INBOX_WORKERS", "8")
        ),
        heartbeat_seconds=_positive_seconds(
            "MESSENGER_HEARTBEAT_SECONDS",
            environ.get("MESSENGER_HEARTBEAT_SECONDS", str(MessengerSettings.heartbeat_seconds)),
        ),
        claim_timeout_seconds=_positive_seconds(
            "MESSENGER_CLAIM_TIMEOUT_SECONDS",
            environ.get("MESSENGER_CLAIM_TIMEOUT_SECONDS",
                        str(MessengerSettings.claim_timeout_seconds)),
        ),
        holding_after_seconds=_positive_int(
            "MESSENGER_HOLDING_AFTER_SECONDS",
            environ.get("MESSENGER_HOLDING_AFTER_SECONDS", "60"),
        ),
    )
