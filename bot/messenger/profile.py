"""The page's Messenger Profile, built from ``brand.yml`` and sent by ``nightdesk messenger setup``.

The Messenger Profile is what a customer sees around the conversation before and besides the
bot's messages: the Get Started button, the welcome-screen greeting, the ice breakers and the
persistent menu. The brand writes the wording in the ``messenger`` section of ``brand.yml``
(validated by :mod:`bot.settings.brand`); this module turns it into the body of Graph's
``POST /me/messenger_profile`` and sends it.

Every payload is what the Messenger channel expects back in a postback: ``GET_STARTED`` for
the Get Started button (answered with a greeting), and intent triggers such as
``/human_request`` for ice breakers and menu items.
"""

from __future__ import annotations

from typing import Any

from bot.language import Wording
from bot.messenger.event_types import GET_STARTED_PAYLOAD
from bot.messenger.graph_client import GraphClient
from bot.settings import MessengerSettings
from bot.settings.brand import MenuItem, MessengerProfile

__all__ = ["DEFAULT_LOCALE", "MissingTokenError", "messenger_profile_body", "set_up_profile"]

DEFAULT_LOCALE = "default"
"""The locale Messenger falls back to; every localised profile field must have it."""


class MissingTokenError(RuntimeError):
    """The Page access token is not configured, so nothing can be sent to Graph."""


def _menu_button(item: MenuItem, language: str) -> dict[str, str]:
    """One persistent-menu item in Graph's shape: a postback or a web_url button."""
    title = item.title.of(language)
    if item.url is not None:
        return {"type": "web_url", "title": title, "url": item.url}
    if item.payload is None:
        raise ValueError(f"menu item {title!r} has neither a payload nor a url")
    return {"type": "postback", "title": title, "payload": item.payload}


def profile_locales(languages: tuple[str, ...], wording: Wording) -> list[tuple[str, str]]:
    """(Messenger locale, language) pairs for the profile's localised fields.

    ``default`` (in the brand's default language) first, then every locale wording.yml names
    for each language (``messenger_locales``).
    """
    pairs = [(DEFAULT_LOCALE, languages[0])]
    for language in languages:
        for locale in wording.get(language, "messenger_locales").split():
            pairs.append((locale, language))
    return pairs


def messenger_profile_body(
    profile: MessengerProfile, languages: tuple[str, ...], wording: Wording
) -> dict[str, Any]:
    """The JSON body of ``POST /me/messenger_profile`` for the brand's Messenger section.

    Args:
        profile: The validated ``messenger`` section of ``brand.yml``.
        languages: The brand's languages, the default first.
        wording: Which Messenger locales each language is shown to.

    Returns:
        ``get_started``, ``greeting``, ``ice_breakers`` and ``persistent_menu`` in Meta's
        localised format: one entry per locale, ``default`` (the brand's default language)
        first. The composer stays enabled: customers can always type.
    """
    locales = profile_locales(languages, wording)
    return {
        "get_started": {"payload": GET_STARTED_PAYLOAD},
        "greeting": [
            {"locale": locale, "text": profile.greeting.of(language)}
            for locale, language in locales
        ],
        "ice_breakers": [
            {
                "locale": locale,
                "call_to_actions": [
                    {"question": breaker.question.of(language), "payload": breaker.payload}
                    for breaker in profile.ice_breakers
                ],
            }
            for locale, language in locales
        ],
        "persistent_menu": [
            {
                "locale": locale,
                "composer_input_disabled": False,
                "call_to_actions": [
                    _menu_button(item, language) for item in profile.persistent_menu
                ],
            }
            for locale, language in locales
        ],
    }


async def set_up_profile(
    profile: MessengerProfile,
    languages: tuple[str, ...],
    wording: Wording,
    messenger: MessengerSettings,
    *,
    max_attempts: int = 3,
    backoff_seconds: float = 0.5,
) -> dict[str, Any]:
    """Sends the brand's Messenger Profile to the page.

    Args:
        profile: The validated ``messenger`` section of ``brand.yml``.
        languages: The brand's languages, the default first.
        wording: Which Messenger locales each language is shown to.
        messenger: The Graph connection (URL, version, Page access token, app secret).
        max_attempts: Attempts for the call, the first included (5xx and rate limits are
            retried, other refusals are final).
        backoff_seconds: The wait before the second attempt; it doubles each time.

    Returns:
        The body that was sent.

    Raises:
        MissingTokenError: ``PAGE_ACCESS_TOKEN`` is not set.
        GraphSendError: Graph refused the profile or could not be reached; the message holds
            no token.
    """
    if not messenger.page_access_token:
        raise MissingTokenError(
            "PAGE_ACCESS_TOKEN is not set: put the Page access token in .env (or the "
            "environment) to set up the Messenger Profile"
        )
    body = messenger_profile_body(profile, languages, wording)
    client = GraphClient(
        messenger.graph_api_url,
        messenger.page_access_token,
        api_version=messenger.graph_api_version,
        max_attempts=max_attempts,
        backoff_seconds=backoff_seconds,
        app_secret=messenger.app_secret,
    )
    async with client:
        await client.set_messenger_profile(body)
    return body
