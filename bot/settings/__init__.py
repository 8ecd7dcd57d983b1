"""Typed settings for every nightdesk process: `.env` and `brand.yml`, read once.

This is the only module that reads the environment. Everything else asks
`get_settings()` (secrets, URLs, limits) or `get_brand()` (the brand's facts).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from dotenv import load_dotenv

from bot.clock import Clock, frozen_clock, parse_instant, system_clock
from bot.language.wording import Wording, load_wording
from bot.settings.brand import Brand, BrandError, load_brand
from bot.settings.faq import Faq, FaqError, load_faq

__all__ = [
    "Brand",
    "BrandError",
    "Faq",
    "FaqError",
    "MessengerSettings",
    "Settings",
    "SettingsError",
    "TeamChannelSettings",
    "get_brand",
    "get_faq",
    "get_settings",
    "get_wording",
    "load_settings",
]

PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "sqlite:///var/nightdesk.db"
DEFAULT_RASA_AUTH_TOKEN = "change-me-local-token"  # fine on loopback only; see nightdesk up
REST_CHANNEL_MODES = ("open", "token", "off")
"""`REST_CHANNEL`: open (development, loopback peers only), token (Bearer) or off (404)."""


class SettingsError(ValueError):
    """A value in `.env` or the environment is missing or malformed."""


@dataclass(frozen=True)
class MessengerSettings:
    """The Facebook Page connection (Graph API and webhook secrets).

    Attributes:
        graph_api_url: Graph's base URL without the version (the fake's URL in tests).
        graph_api_version: the version in Graph paths, such as "v19.0".
        page_access_token: the Page access token; None when Messenger is not set up.
        app_secret: the Meta app's secret, which signs webhooks.
        verify_token: what Meta must send in the webhook verification handshake.
        app_id: our Meta app's id, to tell thread-control events about us from others.
        ingress_host: where the webhook receiver (`bot.messenger.ingress`) listens.
        ingress_port: its port; Meta's webhook points at it (through your HTTPS proxy).
        inbox_workers: how many conversations one Rasa process works on at once.
        recover_after_seconds: how long an event may stay 'processing' before a restarted
            process takes it over (keep it above the slowest answer with several processes).
        holding_after_seconds: how long a customer's message may wait while the bot is down
            before the webhook receiver sends them a holding message and opens a case.
    """

    graph_api_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v19.0"
    page_access_token: str | None = None
    app_secret: str | None = None
    verify_token: str | None = None
    app_id: str | None = None
    ingress_host: str = "127.0.0.1"
    ingress_port: int = 5006
    inbox_workers: int = 8
    recover_after_seconds: int = 300
    holding_after_seconds: int = 60

    @property
    def ingress_url(self) -> str:
        """The webhook receiver's base URL."""
        return f"http://{self.ingress_host}:{self.ingress_port}"

    @property
    def configured(self) -> bool:
        """Whether the webhook can run: token, app secret and verify token are all set."""
        return bool(self.page_access_token and self.app_secret and self.verify_token)


@dataclass(frozen=True)
class TeamChannelSettings:
    """Where new tickets' transcripts go besides the desk (each optional).

    Attributes:
        webhook_url: a Slack-compatible incoming webhook of a private team channel.
        support_email: the support address that gets each transcript by e-mail.
        smtp_host: the mail server; e-mail is off without it.
        smtp_port: its port.
        smtp_user: login for the mail server, if it needs one.
        smtp_password: its password.
        smtp_from: the sender address of those e-mails.
        smtp_starttls: whether to switch the connection to TLS first.
    """

    webhook_url: str | None = None
    support_email: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "nightdesk@localhost"
    smtp_starttls: bool = False

    @property
    def email_configured(self) -> bool:
        """Whether transcripts can be e-mailed."""
        return bool(self.support_email and self.smtp_host)


@dataclass(frozen=True)
class Settings:
    """Everything a nightdesk process needs to know about its surroundings."""

    project_dir: Path
    database_url: str
    brand_file: Path
    orders_backend: str
    shop_api_url: str | None
    shop_api_token: str | None
    rasa_url: str
    rasa_auth_token: str
    action_server_url: str
    proof_max_failures: int
    messenger: MessengerSettings = field(default_factory=lambda: MessengerSettings())
    desk_url: str = "http://127.0.0.1:8080"
    desk_trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    """`DESK_TRUSTED_PROXIES`: proxies whose X-Forwarded-For the desk believes (none by default)."""
    team: TeamChannelSettings = field(default_factory=lambda: TeamChannelSettings())
    frozen_now: datetime | None = None
    """`NIGHTDESK_FROZEN_NOW`: the instant the whole product believes it is (tests, demos)."""
    action_server_host: str = "127.0.0.1"
    """`ACTION_SERVER_HOST`: the interface the action server listens on (loopback)."""
    action_server_token: str | None = None
    """`ACTION_SERVER_TOKEN`: the secret Rasa sends the action server; needed off loopback."""
    rest_channel: str = "open"
    """`REST_CHANNEL`: the REST channel (`bot.runtime.rest_channel`): open, token or off."""
    rest_channel_token: str | None = None
    """`REST_CHANNEL_TOKEN`: the Bearer token the REST channel requires when REST_CHANNEL=token."""

    def clock(self) -> Clock:
        """The process's clock: frozen at `frozen_now` when set, else the machine's."""
        return frozen_clock(self.frozen_now) if self.frozen_now else system_clock

    def as_environment(self) -> dict[str, str]:
        """The settings as environment variables, for child processes we start."""
        env = {
            "NIGHTDESK_HOME": str(self.project_dir),
            "DATABASE_URL": self.database_url,
            "BRAND_FILE": str(self.brand_file),
            "ORDERS_BACKEND": self.orders_backend,
            "RASA_URL": self.rasa_url,
            "RASA_AUTH_TOKEN": self.rasa_auth_token,
            "ACTION_SERVER_URL": self.action_server_url,
            "ACTION_SERVER_HOST": self.action_server_host,
            # always set: endpoints.yml reads it (empty means no token)
            "ACTION_SERVER_TOKEN": self.action_server_token or "",
            "PROOF_MAX_FAILURES": str(self.proof_max_failures),
            "DESK_URL": self.desk_url,
            "REST_CHANNEL": self.rest_channel,
        }
        if self.desk_trusted_proxies:
            env["DESK_TRUSTED_PROXIES"] = ",".join(str(n) for n in self.desk_trusted_proxies)
        if self.frozen_now:
            env["NIGHTDESK_FROZEN_NOW"] = self.frozen_now.isoformat()
        if self.shop_api_url:
            env["SHOP_API_URL"] = self.shop_api_url
        if self.shop_api_token:
            env["SHOP_API_TOKEN"] = self.shop_api_token
        messenger = self.messenger
        env["GRAPH_API_URL"] = messenger.graph_api_url
        env["GRAPH_API_VERSION"] = messenger.graph_api_version
        env["MESSENGER_INGRESS_HOST"] = messenger.ingress_host
        env["MESSENGER_INGRESS_PORT"] = str(messenger.ingress_port)
        env["MESSENGER_INBOX_WORKERS"] = str(messenger.inbox_workers)
        env["MESSENGER_RECOVER_AFTER_SECONDS"] = str(messenger.recover_after_seconds)
        env["MESSENGER_HOLDING_AFTER_SECONDS"] = str(messenger.holding_after_seconds)
        team = self.team
        env["SMTP_PORT"] = str(team.smtp_port)
        env["SMTP_FROM"] = team.smtp_from
        env["SMTP_STARTTLS"] = "true" if team.smtp_starttls else "false"
        for name, value in (
            ("TEAM_WEBHOOK_URL", team.webhook_url),
            ("SUPPORT_EMAIL", team.support_email),
            ("SMTP_HOST", team.smtp_host),
            ("SMTP_USER", team.smtp_user),
            ("SMTP_PASSWORD", team.smtp_password),
            ("PAGE_ACCESS_TOKEN", messenger.page_access_token),
            ("APP_SECRET", messenger.app_secret),
            ("VERIFY_TOKEN", messenger.verify_token),
            ("META_APP_ID", messenger.app_id),
            ("REST_CHANNEL_TOKEN", self.rest_channel_token),
        ):
            if value:
                env[name] = value
        return env


def _absolute_sqlite_url(url: str, base: Path) -> str:
    """Turns `sqlite:///relative/path.db` into an absolute path under `base`."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    path = Path(url[len(prefix) :])
    if not path.is_absolute():
        path = base / path
    return prefix + str(path)


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name}: must be at least 1, got {value}")
    return value


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
        recover_after_seconds=_positive_int(
            "MESSENGER_RECOVER_AFTER_SECONDS",
            environ.get("MESSENGER_RECOVER_AFTER_SECONDS", "300"),
        ),
        holding_after_seconds=_positive_int(
            "MESSENGER_HOLDING_AFTER_SECONDS",
            environ.get("MESSENGER_HOLDING_AFTER_SECONDS", "60"),
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, loaded on first use."""
    return load_settings()


@lru_cache(maxsize=1)
def get_brand() -> Brand:
    """The process-wide brand facts, loaded and validated on first use."""
    return load_brand(get_settings().brand_file)


@lru_cache(maxsize=1)
def get_faq() -> Faq:
    """The brand's product FAQ (faq.yml beside brand.yml), loaded and validated on first use."""
    return load_faq(get_settings().brand_file.parent / "faq.yml", get_brand().languages)


@lru_cache(maxsize=1)
def get_wording() -> Wording:
    """The words the code puts in responses (wording.yml beside brand.yml), in every language."""
    brand = get_brand()
    return load_wording(get_settings().brand_file.parent / "wording.yml", brand.languages)
