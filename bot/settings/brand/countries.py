"""Country names as keys: "U.S.A.", "America" and "United States" are the same country.

Shipping zones list countries as brand.yml writes them; a customer writes them their own
way. Both are compared through :func:`country_key`.
"""

from __future__ import annotations

import unicodedata

_COUNTRY_ALIASES = {
    "uk": "united kingdom",
    "gb": "united kingdom",
    "great britain": "united kingdom",
    "britain": "united kingdom",
    "england": "united kingdom",
    "scotland": "united kingdom",
    "wales": "united kingdom",
    "northern ireland": "united kingdom",
    "us": "united states",
    "usa": "united states",
    "america": "united states",
    "united states of america": "united states",
    "deutschland": "germany",
    "italia": "italy",
    "espana": "spain",
    "holland": "netherlands",
    "nederland": "netherlands",
    "schweiz": "switzerland",
    "suisse": "switzerland",
    "svizzera": "switzerland",
    "osterreich": "austria",
    "belgique": "belgium",
    "belgie": "belgium",
    "polska": "poland",
    "sverige": "sweden",
    "danmark": "denmark",
    "norge": "norway",
    "eire": "ireland",
    "nippon": "japan",
    "nihon": "japan",
}


def country_key(name: str) -> str:
    """Reduce a country name to a comparable key.

    Lower-cases, drops accents, dots and a leading "the", collapses spaces and
    maps known variants to one English name ("U.S.A." and "America" both give
    ``"united states"``).

    Args:
        name: A country name.

    Returns:
        The key; empty for a blank name.
    """
    if not isinstance(name, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = plain.replace(".", "").split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    key = " ".join(words)
    return _COUNTRY_ALIASES.get(key, key)
