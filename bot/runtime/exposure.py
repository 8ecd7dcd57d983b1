"""What `nightdesk up` would expose to other hosts without authentication, named before it starts.

`unsafe_exposure(settings)` lists each such listener, one sentence each, with what to change;
an empty list means nothing is exposed that way. The processes `nightdesk up` starts
(`bot.runtime.supervisor.product_children`) and how each is guarded:

* the Rasa server, on the host of RASA_URL: Rasa's HTTP API needs RASA_AUTH_TOKEN (and
  `nightdesk up` already refuses the default token off loopback, `bot.cli`); the model loader
  channel needs the same token; the Messenger channel checks Meta's signature (APP_SECRET);
  the web chat is a public page by design (which conversation a page may write to is
  `bot.webchat`'s concern, not checked here); the REST channel (`bot.runtime.rest_channel`)
  takes any `sender` and so can write into any customer's conversation, a Messenger one
  included, unless REST_CHANNEL is `token` or `off`: **that one is named here** when Rasa
  listens off loopback with REST_CHANNEL=open (its loopback-peer check would still refuse
  other hosts, but a proxy on the same machine makes everyone a loopback peer);
* the action server, on ACTION_SERVER_HOST: it refuses to start off loopback without
  ACTION_SERVER_TOKEN itself (`bot.runtime.action_server.check_exposure`), so not repeated;
* the Messenger webhook receiver, on MESSENGER_INGRESS_HOST (only when Messenger is set
  up): every webhook POST is checked against Meta's signature;
* the agents' desk, on the host of DESK_URL: every page but the login needs a session.

Nothing here imports Rasa: the check runs before anything heavy is loaded.
"""

from __future__ import annotations

from ipaddress import ip_address
from urllib.parse import urlsplit

from bot.settings import Settings, SettingsError

__all__ = ["is_loopback", "refuse_unsafe_exposure", "unsafe_exposure"]


def is_loopback(address: str) -> bool:
    """Whether an IP address or host name is this machine only (127.0.0.0/8, ::1, localhost).

    An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) counts as its IPv4 address; brackets
    and an IPv6 zone are ignored. Anything else, an empty string, another host name or a
    wildcard such as ``0.0.0.0`` included, is not loopback.
    """
    text = address.strip().strip("[]").split("%", 1)[0]
    if text.lower().rstrip(".") == "localhost":
        return True
    try:
        parsed = ip_address(text)
    except ValueError:
        return False
    mapped = getattr(parsed, "ipv4_mapped", None)
    return (mapped or parsed).is_loopback


def _host(url: str) -> str:
    """The host of a URL (empty when it has none)."""
    return urlsplit(url).hostname or ""


def unsafe_exposure(settings: Settings) -> list[str]:
    """What would be reachable from other hosts without authentication, one sentence each.

    Args:
        settings: the settings `nightdesk up` starts the processes with.

    Returns:
        One sentence per exposed listener (what, where, what to set); empty when none is.
    """
    found: list[str] = []
    rasa_host = _host(settings.rasa_url)
    if settings.rest_channel == "open" and not is_loopback(rasa_host):
        found.append(
            f"the REST channel ({settings.rasa_url}/webhooks/rest/webhook) is open "
            f"(REST_CHANNEL=open) while Rasa listens on {rasa_host or 'every interface'}: "
            "it accepts any sender, so whoever reaches that port could write into any "
            "customer's conversation. Set REST_CHANNEL=off in .env (or REST_CHANNEL=token "
            "with a secret REST_CHANNEL_TOKEN), or serve Rasa on 127.0.0.1 (RASA_URL)"
        )
    return found


def refuse_unsafe_exposure(settings: Settings) -> None:
    """Stops `nightdesk up` before it starts anything when `unsafe_exposure` names something.

    Raises:
        SettingsError: "refusing to start: reachable without authentication: <each, joined
            by '; '>" (`bot.cli.main` prints it as ``nightdesk: ...`` and exits 2).
    """
    exposed = unsafe_exposure(settings)
    if exposed:
        raise SettingsError(
            "refusing to start: reachable without authentication: " + "; ".join(exposed))
