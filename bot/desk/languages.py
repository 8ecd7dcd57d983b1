"""A conversation's language as the desk's reports and team messages name it ("Italian").

The desk is in English; the names come from CLDR through Babel ("it" is "Italian"), so a
third brand language needs no code here. Knows nothing of HTTP. (The badges the pages show
are the templates' ``language_badge``, ``language_tag`` and ``language_label`` macros.)
"""

from __future__ import annotations

from bot.language.names import language_name

__all__ = ["language_name"]
