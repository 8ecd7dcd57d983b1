"""The rules of the page's Messenger Profile in brand.yml: greeting, ice breakers, menu.

Messenger's own limits (lengths, counts, https links) are checked here, and the nightdesk
rules on top: the greeting says the customer talks to an automated assistant, and the
persistent menu always lets a customer reach a person.
"""

from __future__ import annotations

import difflib
import re

from bot.settings.brand.model import IceBreaker, Localized, MenuItem, MessengerProfile
from bot.settings.brand.problems import _item, _key, _Problem, _show
from bot.settings.brand.value_checks import (
    _fields,
    _list,
    _localized,
    _mapping,
    _text,
    _url,
)

HUMAN_REQUEST_PAYLOAD = "/human_request"
"""The payload of the persistent menu's "Talk to a person" item (the ``human_request`` intent)."""

GREETING_PLACEHOLDERS = ("{{user_first_name}}", "{{user_last_name}}", "{{user_full_name}}")
"""The template strings Messenger fills in a greeting with the customer's name."""


MAX_GREETING_LENGTH = 160
MAX_ICE_BREAKERS = 4
MAX_ICE_BREAKER_QUESTION = 80
MAX_MENU_ITEMS = 20
MAX_MENU_TITLE = 30
MAX_PAYLOAD = 1000
MAX_URL = 2000
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_AUTOMATED_WORDING = re.compile(
    r"\b(?:automated|bot|chatbot|(?:virtual|digital|ai)\s+assistant"
    r"|assistente\s+(?:virtuale|automatico|digitale)|automatic[oa])\b",
    re.IGNORECASE,
)
_PAYLOAD = re.compile(r"^/[A-Za-z0-9_][^\s{]*(?:\{.*\})?$", re.DOTALL)
_MENU_KEYS = ("title", "payload", "url")


def _length(text: str, path: str, limit: int) -> str:
    """Require text of at most ``limit`` characters."""
    if len(text) > limit:
        raise _Problem(path, f"is {len(text)} characters long; Messenger allows at most {limit}")
    return text


def _greeting(value: object, path: str) -> str:
    """Parse the greeting: short, honest about being automated, known placeholders only."""
    text = _length(_text(value, path), path, MAX_GREETING_LENGTH)
    for placeholder in _PLACEHOLDER.findall(text):
        if placeholder not in GREETING_PLACEHOLDERS:
            raise _Problem(
                path,
                f"{placeholder} is not a Messenger placeholder (use "
                f"{', '.join(GREETING_PLACEHOLDERS)}, or none)",
            )
    if not _AUTOMATED_WORDING.search(_PLACEHOLDER.sub(" ", text)):
        raise _Problem(
            path,
            "must tell the customer they are talking to an automated assistant (say "
            '"automated", "bot", "chatbot" or "virtual assistant"; in Italian "assistente '
            'virtuale" or "automatico"), got ' + _show(text),
        )
    return text


def _payload(value: object, path: str) -> str:
    """Require an intent trigger such as ``/order_status`` (sent to the bot verbatim)."""
    text = _length(_text(value, path), path, MAX_PAYLOAD)
    if not _PAYLOAD.match(text):
        raise _Problem(
            path,
            'expected an intent trigger starting with "/", like "/order_status", got '
            + _show(text),
        )
    return text


def _https_url(value: object, path: str) -> str:
    """Require an https web address (Messenger opens it in its webview)."""
    text = _length(_text(value, path), path, MAX_URL)
    if not re.match(r"^https://[^\s/?#]+\.[^\s/?#]+\S*$", text, re.IGNORECASE):
        raise _Problem(path, f"expected a web address starting with https://, got {_show(text)}")
    return text


def _refuse_repeats(text: Localized[str], where: str, index: int, seen: dict[str, int],
                    path: str, verb: str) -> None:
    """Each language's form once in a list: a repeat names the item of `path` that has it."""
    for code, form in text.by_language.items():
        folded = f"{code}:{form.casefold()}"
        if folded in seen:
            raise _Problem(_key(where, code),
                           f"{_show(form)} is already {verb} by {_item(path, seen[folded])}")
        seen[folded] = index


def _ice_breakers(value: object, path: str) -> tuple[IceBreaker, ...]:
    """Parse one to four ice breakers with different questions."""
    items = _list(value, path)
    if not 1 <= len(items) <= MAX_ICE_BREAKERS:
        raise _Problem(
            path, f"must list 1 to {MAX_ICE_BREAKERS} questions (Messenger shows at most "
            f"{MAX_ICE_BREAKERS}), got {len(items)}"
        )
    found: list[IceBreaker] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = _item(path, index)
        fields = _fields(item, where, ("question", "payload"))
        question = _localized(
            fields["question"], _key(where, "question"),
            lambda text, at: _length(_text(text, at), at, MAX_ICE_BREAKER_QUESTION),
        )
        _refuse_repeats(question, _key(where, "question"), index, seen, path, "asked")
        found.append(IceBreaker(question, _payload(fields["payload"], _key(where, "payload"))))
    return tuple(found)


def _menu_item(value: object, path: str) -> MenuItem:
    """Parse one menu item: a title and either a payload or a url."""
    mapping = _mapping(value, path)
    for name in mapping:
        if name not in _MENU_KEYS:
            hint = difflib.get_close_matches(str(name), _MENU_KEYS, n=1)
            suggestion = (
                f"did you mean {hint[0]}?" if hint else f"expected one of {', '.join(_MENU_KEYS)}"
            )
            raise _Problem(_key(path, name), f"unknown key ({suggestion})")
    if "title" not in mapping:
        raise _Problem(_key(path, "title"), "missing")
    title = _localized(
        mapping["title"], _key(path, "title"),
        lambda text, at: _length(_text(text, at), at, MAX_MENU_TITLE),
    )
    if "payload" in mapping and "url" in mapping:
        raise _Problem(
            _key(path, "url"),
            "give either payload (a message to the bot) or url (a web page), not both",
        )
    if "payload" in mapping:
        return MenuItem(title, payload=_payload(mapping["payload"], _key(path, "payload")))
    if "url" in mapping:
        return MenuItem(title, url=_https_url(mapping["url"], _key(path, "url")))
    raise _Problem(
        _key(path, "payload"),
        'missing (give payload, an intent trigger like "/order_status", or url, an https link)',
    )


def _persistent_menu(value: object, path: str) -> tuple[MenuItem, ...]:
    """Parse one to twenty menu items with different titles, "Talk to a person" among them."""
    items = _list(value, path)
    if not 1 <= len(items) <= MAX_MENU_ITEMS:
        raise _Problem(
            path, f"must list 1 to {MAX_MENU_ITEMS} items (Messenger shows at most "
            f"{MAX_MENU_ITEMS}), got {len(items)}"
        )
    menu: list[MenuItem] = []
    titles: dict[str, int] = {}
    for index, item in enumerate(items):
        where = _item(path, index)
        parsed = _menu_item(item, where)
        _refuse_repeats(parsed.title, _key(where, "title"), index, titles, path, "used")
        menu.append(parsed)
    if not any(item.payload == HUMAN_REQUEST_PAYLOAD for item in menu):
        raise _Problem(
            path,
            f'must have an item with payload "{HUMAN_REQUEST_PAYLOAD}" (such as "Talk to a '
            'person"), so a customer can always reach a person',
        )
    return tuple(menu)


def _messenger(value: object, path: str) -> MessengerProfile:
    """Parse the ``messenger`` section (the page's Messenger Profile)."""
    mapping = _mapping(value, path)
    if "get_started" in mapping:
        raise _Problem(
            _key(path, "get_started"),
            "is not configurable: the Get Started button always sends the payload the "
            "Messenger channel answers with a greeting; remove this key",
        )
    fields = _fields(
        mapping, path, ("greeting", "ice_breakers", "persistent_menu", "order_card_image")
    )
    return MessengerProfile(
        greeting=_localized(fields["greeting"], _key(path, "greeting"), _greeting),
        ice_breakers=_ice_breakers(fields["ice_breakers"], _key(path, "ice_breakers")),
        persistent_menu=_persistent_menu(
            fields["persistent_menu"], _key(path, "persistent_menu")
        ),
        order_card_image=_card_image(
            fields["order_card_image"], _key(path, "order_card_image")
        ),
    )


def _card_image(value: object, path: str) -> str:
    """An https picture address whose only placeholder is ``{sku}``."""
    text = _url(value, path)
    if not text.startswith("https://"):
        raise _Problem(path, f"Messenger only shows https pictures, got {_show(value)}")
    unknown = [name for name in re.findall(r"\{([^}]*)\}", text) if name != "sku"]
    if unknown:
        raise _Problem(path, f"the only placeholder is {{sku}}, not {{{unknown[0]}}}")
    return text
