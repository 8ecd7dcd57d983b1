"""The typed settings of a nightdesk process: secrets, URLs, limits, the Messenger connection.

:func:`bot.settings.environment.load_settings` fills them from `.env` and the environment;
every process asks `bot.settings.get_settings()` for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from bot.clock import Clock, frozen_clock, system_clock


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
        heartbeat_seconds: how often a Rasa process renews the claims of the events it is
            working on.
        claim_timeout_seconds: how long a claim may go without renewal before another
            process takes the event over (its process died); more than twice the heartbeat.
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
    heartbeat_seconds: float = 2.0
    claim_timeout_seconds: float = 10.0
    holding_after_seconds: int = 60

    def __post_init__(self) -> None:
        """Refuses a claim timeout a healthy process could miss.

        Raises:
            SettingsError: the heartbeat or the timeout is not above zero, or the timeout is
                not more than twice the heartbeat.
        """
        if self.heartbeat_seconds <= 0:
            raise SettingsError("MESSENGER_HEARTBEAT_SECONDS: must be more than 0, got "
                                f"{self.heartbeat_seconds:g}")
        if self.claim_timeout_seconds <= 2 * self.heartbeat_seconds:
            raise SettingsError(
                f"MESSENGER_CLAIM_TIMEOUT_SECONDS ({self.claim_timeout_seconds:g}) must be more "
                f"than twice MESSENGER_HEARTBEAT_SECONDS ({self.heartbeat_seconds:g}): a Rasa "
                "process that missed one renewal would have its events taken over while it "
                "is still working on them"
            )

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
class LoadBalancerSettings:
    """Where HAProxy listens when `nightdesk up --processes N` (N > 1) runs it.

    Attributes:
        public_host: the interface of the public and desk frontends (loopback by default;
            put your TLS terminator in front, or bind them wider on purpose).
        public_port: the public frontend: the web chat and the Messenger webhook.
        desk_port: the agents' desk's frontend.
        internal_port: the loopback frontend to the Rasa servers for our own processes
            (the receiver's and the desk's RASA_URL: hand back, wake-ups).
    """

    public_host: str = "127.0.0.1"
    public_port: int = 8000
    desk_port: int = 8088
    internal_port: int = 5000


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
    redis_url: str | None = None
    """`REDIS_URL` (redis:// or rediss://): what several processes share beyond the database
    (Rasa's lock store, the inbox's wake-ups); empty for one process on its own."""
    load_balancer: LoadBalancerSettings = field(default_factory=lambda: LoadBalancerSettings())
    """NIGHTDESK_PUBLIC_HOST/_PORT, NIGHTDESK_DESK_PORT, NIGHTDESK_INTERNAL_PORT: HAProxy's
    frontends under `nightdesk up --processes N`."""
    tracker_cache_conversations: int = 256
    """`TRACKER_CACHE_CONVERSATIONS`: how many conversations each Rasa process holds between
    turns (`bot.store.tracker_cache`); 0 reads every turn's conversation from the database."""
    rasa_instances: tuple[str, ...] = ()
    """`NIGHTDESK_RASA_INSTANCES`: every Rasa server's own URL, comma-separated, where systemd
    runs them (deploy/: nightdesk-rasa@N), for `nightdesk promote` and `rollback`; empty
    where `nightdesk up` runs them (it records its own, `bot.runtime.rasa_instances`)."""

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
            "TRACKER_CACHE_CONVERSATIONS": str(self.tracker_cache_conversations),
            "DESK_URL": self.desk_url,
            "REST_CHANNEL": self.rest_channel,
        }
        if self.desk_trusted_proxies:
            env["DESK_TRUSTED_PROXIES"] = ",".join(str(n) for n in self.desk_trusted_proxies)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        balancer = self.load_balancer
        env["NIGHTDESK_PUBLIC_HOST"] = balancer.public_host
        env["NIGHTDESK_PUBLIC_PORT"] = str(balancer.public_port)
        env["NIGHTDESK_DESK_PORT"] = str(balancer.desk_port)
        env["NIGHTDESK_INTERNAL_PORT"] = str(balancer.internal_port)
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
        env["MESSENGER_HEARTBEAT_SECONDS"] = str(messenger.heartbeat_seconds)
        env["MESSENGER_CLAIM_TIMEOUT_SECONDS"] = str(messenger.claim_timeout_seconds)
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
