"""The brand's facts file (``brand.yml``): its typed model and the loader that checks it.

A brand edits ``brand.yml``, never the code. :func:`load_brand` reads that file once,
checks every value, and returns frozen dataclasses the rest of the bot can trust; a
mistake raises :class:`BrandError` with the file name and the exact key path.

The package's parts: ``model`` (the dataclasses), ``loader`` (reading the file),
``value_checks`` and ``section_checks`` (the validators), ``messenger_profile`` (the page's
greeting, ice breakers and menu), ``problems`` (how a mistake is reported), ``strict_yaml``
(the YAML dialect), ``countries`` and ``money`` (country keys and amounts).
"""

from bot.settings.brand.countries import country_key
from bot.settings.brand.loader import DEFAULT_BRAND_PATH, load_brand
from bot.settings.brand.messenger_profile import GREETING_PLACEHOLDERS, HUMAN_REQUEST_PAYLOAD
from bot.settings.brand.model import (
    WEEKDAYS,
    Brand,
    Contact,
    Express,
    IceBreaker,
    Localized,
    MenuItem,
    MessengerProfile,
    Refunds,
    Returns,
    Shift,
    Shipping,
    ShippingZone,
    WebChatTexts,
)
from bot.settings.brand.money import format_money
from bot.settings.brand.problems import BrandError

__all__ = [
    "DEFAULT_BRAND_PATH",
    "Brand",
    "BrandError",
    "Contact",
    "Express",
    "GREETING_PLACEHOLDERS",
    "HUMAN_REQUEST_PAYLOAD",
    "IceBreaker",
    "Localized",
    "MenuItem",
    "MessengerProfile",
    "Refunds",
    "Returns",
    "Shift",
    "Shipping",
    "ShippingZone",
    "WebChatTexts",
    "WEEKDAYS",
    "country_key",
    "format_money",
    "load_brand",
]
