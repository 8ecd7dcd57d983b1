"""The web chat page: the HTML shell with the brand's face, and its static files.

The page itself is static (``static/index.html``, ``chat.css``, ``chat.js``); what differs per
brand (names, avatar, welcome text, ice breakers, menu) goes in as one JSON block the script
reads, escaped so no brand text can end the script element.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings.brand import Brand

STATIC_DIR = Path(__file__).resolve().parent / "static"
PLACEHOLDER = re.compile(r"\{\{(lang|title|base|config)\}\}")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True)
class StaticFile:
    """A file the page loads, read once."""

    body: bytes
    content_type: str


def initials(name: str) -> str:
    """One or two letters standing in for an avatar that does not load ("Nora" -> "N")."""
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _language_config(brand: Brand, language: str) -> dict[str, Any]:
    """The page's words in one language: its own texts, the welcome, ice breakers, menu."""
    profile = brand.messenger
    return {
        "texts": brand.web_chat.for_language(language),
        "greeting": profile.greeting.of(language),
        "iceBreakers": [{"title": i.question.of(language), "payload": i.payload}
                        for i in profile.ice_breakers],
        "menu": [
            {"title": m.title.of(language), "payload": m.payload, "url": m.url}
            for m in profile.persistent_menu
        ],
    }


def page_language(brand: Brand, asked: str | None, accept_language: str | None) -> str:
    """The page's first language: `?lang=`, else the browser's preference, else the default."""
    if asked and asked.lower() in brand.languages:
        return asked.lower()
    preferences = []
    for position, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if weight <= 0:  # q=0: "not this one"
            continue
        preferences.append((-weight, position, tag[:2].lower()))
    for _, _, code in sorted(preferences):
        if code in brand.languages:
            return code
    return brand.language


def page_config(brand: Brand, base_path: str, language: str | None = None) -> dict[str, Any]:
    """What the script needs to know about the brand and the channel, in every language."""
    return {
        "webhook": f"{base_path}/webhook",
        "agentMessages": f"{base_path}/agent_messages",
        "session": f"{base_path}/session",
        "botName": brand.bot_name,
        "brandName": brand.name,
        "avatarUrl": brand.avatar_url,
        "initials": initials(brand.bot_name),
        "language": language if language in brand.languages else brand.language,
        "languages": {code: _language_config(brand, code) for code in brand.languages},
    }


def render_page(brand: Brand, base_path: str, language: str | None = None) -> str:
    """The HTML page for this brand in `language` (its first one by default).

    ``base_path`` is where the channel is mounted; the script switches language with the
    conversation.
    """
    config = json.dumps(page_config(brand, base_path, language), ensure_ascii=False)
    # inside <script> only "</" and "<!--" matter; escaping every "<" covers both
    config = config.replace("<", "\\u003c")
    values = {
        "lang": html.escape(language if language in brand.languages else brand.language),
        "title": html.escape(f"{brand.bot_name} · {brand.name}"),
        "base": html.escape(base_path),
        "config": config,
    }
    template = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    # one pass, so a brand text that looks like a placeholder stays text
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def load_static_files() -> dict[str, StaticFile]:
    """The page's CSS and script by file name."""
    return {
        path.name: StaticFile(path.read_bytes(), STATIC_TYPES[path.suffix])
        for path in STATIC_DIR.iterdir()
        if path.suffix in STATIC_TYPES
    }
