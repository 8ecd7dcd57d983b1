"""Typed settings for every nightdesk process: `.env` and `brand.yml`, read once.

Only `bot.settings.environment` reads the environment. Everything else asks
`get_settings()` (secrets, URLs, limits) or `get_brand()` (the brand's facts); both are
loaded on first use and kept for the process.
"""

from __future__ import annotations

from functools import lru_cache

from bot.language.wording import Wording, load_wording
from bot.settings.brand import Brand, BrandError, load_brand
from bot.settings.environment import (
    DEFAULT_DATABASE_URL,
    DEFAULT_RASA_AUTH_TOKEN,
    PROJECT_DIR,
    REST_CHANNEL_MODES,
    load_settings,
)
from bot.settings.faq import Faq, FaqError, load_faq
from bot.settings.process_settings import (
    LoadBalancerSettings,
    MessengerSettings,
    Settings,
    SettingsError,
    TeamChannelSettings,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_RASA_AUTH_TOKEN",
    "PROJECT_DIR",
    "REST_CHANNEL_MODES",
    "Brand",
    "BrandError",
    "Faq",
    "FaqError",
    "LoadBalancerSettings",
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
