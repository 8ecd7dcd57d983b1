"""Postal addresses found in a text.

With a postcode (Italian, European, UK, US forms), and Italian street addresses with a
house number and no postcode.
"""

from __future__ import annotations

import re

from bot.handoff.redaction.scanning import _ADDRESS_TAG

# --- postal addresses ---------------------------------------------------------------

_LETTER = r"[^\W\d_]"
_UPPER = r"[A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĘĚŁŃŇŐŒŘŚŠŤŮŰŸŹŻŽ]"
_WORD = rf"{_LETTER}[\w'’.\-]*"
_CAPWORD = rf"{_UPPER}[\w'’\-]*"
_NAME = rf"{_WORD}(?:[ \t]+{_WORD}){{0,4}}"
_CITY = rf"{_LETTER}[\w'’.\-]*(?:[ \t]+{_LETTER}[\w'’.\-]*){{0,3}}(?:[ \t]*\([A-Z]{{2}}\))?"
_HOUSE = (
    r"(?:(?i:n[°º]?|nr|no)\.?[ \t]*)?\d{1,5}(?!\d)"
    r"(?:[ ]?[A-Za-z](?![^\W_]))?(?:[/\-](?:\d{1,4}[A-Za-z]?|[A-Za-z])(?![^\W_]))?"
)
_POSTCODE = r"(?:[A-Z]{1,2}-)?(?:\d{4}[ ]?[A-Z]{2}(?![^\W_])|\d{4,5}(?![\d\w]))"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]*\d[A-Z]{2}(?![^\W_])"
_US_ZIP = r"\d{5}(?:-\d{4})?(?!\d)"
_EU_TAIL = (
    rf"(?:,?\s*(?:[-–][ \t]*)?{_POSTCODE}[ \t]+(?P<tcity>{_CITY})"
    rf"|,?\s*(?P<pcity>{_CITY}),?\s+{_POSTCODE})"
)
# Words that make "<word> <5 digits>" an order number rather than a city and its
# postcode ("Via Roma 12, ordine 10023").
_NOT_CITY_WORDS = frozenset(
    "ordine ordini ordinazione order orders bestellung bestellnummer commande pedido"
    " n nr no num numero number rif ref".split()
)
_STREET_FIRST_TYPES = (
    r"via|viale|v\.le|piazza|p\.zza|p\.za|piazzale|p\.le|corso|c\.so|largo|l\.go|vicolo|vico"
    r"|strada|contrada|lungomare|lungotevere|borgo|salita|calle|avenida|avda|plaza"
    r"|paseo|camino|carrer|passeig|rua|travessa|rue|avenue|boulevard|bd|place"
    r"|chemin|allée|allee|quai|impasse|cours"
)
_NUMBER_FIRST_TYPES = (
    r"rue|avenue|av|boulevard|bd|bld|place|chemin|allée|allee|quai|impasse|route"
    r"|cours|passage|square|via|viale|calle|avenida|rua"
)
_STREET_SUFFIXES = (
    r"straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|steig"
    r"|pfad|markt|graben|straat|laan|gracht|plein|kade|vej|gade|gatan|vägen|gata|veien"
)
_ENGLISH_TYPES = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|place|pl"
    r"|square|sq|court|ct|terrace|crescent|close|parkway|pkwy|highway|hwy|row"
    r"|gardens|mews|walk|grove|hill"
)

_ADDRESS_PATTERNS = (
    # "Via Roma 12, 20121 Milano", "Calle Mayor 5, 28013 Madrid"
    re.compile(rf"(?<![^\W_])(?i:{_STREET_FIRST_TYPES})\.?[ \t]+{_NAME},?[ \t]+{_HOUSE}{_EU_TAIL}"),
    # "12 rue de Rivoli 75001 Paris"
    re.compile(
        r"(?<![^\W_])\d{1,5}(?!\d)(?:[ \t]?(?i:bis|ter)(?![^\W_]))?,?[ \t]+"
        rf"(?i:{_NUMBER_FIRST_TYPES})\.?[ \t]+{_NAME}{_EU_TAIL}"
    ),
    # "Hauptstraße 5, 10115 Berlin", "Berliner Straße 12a, 10713 Berlin"
    re.compile(
        rf"(?<![^\W_])(?:{_CAPWORD}[ \t]+){{0,2}}(?:{_LETTER}[\w'’\-]*?)?"
        rf"(?i:{_STREET_SUFFIXES})\.?[ \t]+{_HOUSE}{_EU_TAIL}"
    ),
    # "221B Baker Street, London NW1 6XE", "1600 Amphitheatre Parkway, Mountain
    # View, CA 94043"
    re.compile(
        r"(?<![^\W_])\d{1,5}[A-Za-z]?(?:[/\-]\d{1,4}[A-Za-z]?)?(?![^\W_])[ \t]+"
        rf"(?:{_WORD}[ \t]+){{1,4}}(?i:{_ENGLISH_TYPES})\.?(?![^\W_])"
        r"(?:,?[ \t]+(?i:apt|apartment|suite|unit|flat)\.?[ \t]*\w+)?"
        rf"(?:,?\s*{_CITY}(?:,?[ \t]+[A-Z]{{2}})?,?\s+(?:{_UK_POSTCODE}|{_US_ZIP})"
        rf"|,?\s*{_UK_POSTCODE}(?:[ \t]+(?P<tcity>{_CITY}))?"
        rf"|,?\s*[A-Z]{{2}}[ \t]+{_US_ZIP})"
    ),
)
_NON_SPACE_RE = re.compile(r"\S+")


def _address_handler(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """Replace an address, trimming words that were only swept up as its city.

    The city pattern takes up to four words. Words after the first are dropped when
    another address starts there, and trailing lowercase words ("Milano e poi") are
    dropped too; a sentence's full stop is left outside the placeholder. A "city"
    before the postcode that holds a word like "ordine" is an order number: the
    match is dropped (a shorter rule may still take the street).
    """
    if "pcity" in match.re.groupindex and match.group("pcity") is not None:
        words = {word.strip(".,:#°º").lower() for word in match.group("pcity").split()}
        if words & _NOT_CITY_WORDS:
            return None
    end = match.end()
    start, city_end = match.span("tcity") if "tcity" in match.re.groupindex else (-1, -1)
    if start != -1 and city_end == end:
        words = [word.span() for word in _NON_SPACE_RE.finditer(text, start, city_end)]
        keep = 1
        for index in range(1, len(words)):
            previous = text[words[index - 1][0] : words[index - 1][1]]
            if previous.endswith(".") and len(previous) > 3:
                break  # "Milano. Ordine ...": a full stop, not "St. Gallen"
            if any(pattern.match(text, words[index][0]) for pattern in _ADDRESS_PATTERNS):
                break
            keep = index + 1
        while keep > 1 and text[words[keep - 1][0]].islower():
            keep -= 1
        end = words[keep - 1][1]
    while end > match.start() + 1 and text[end - 1] in ".,":
        end -= 1
    return end, _ADDRESS_TAG


# Italian street addresses without a postcode: "Via Roma 12", "C.so Buenos Aires,
# 33", "Via 4 Novembre 7/B". The tail with postcode and city is optional here; the
# full form is normally taken whole by the first pattern above already.
_IT_STREET_TYPES = (
    r"via|viale|v\.le|piazza|p\.zza|p\.za|piazzale|p\.le|corso|c\.so|largo|l\.go"
    r"|vicolo|vico|strada|contrada|lungomare|lungotevere|borgo|salita"
)
_IT_MONTHS = (
    r"gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre"
    r"|novembre|dicembre"
)
_SHORT_HOUSE = (
    r"(?:(?i:n[°º]?|nr)\.?[ \t]*)?\d{1,4}(?!\d)"
    r"(?:[A-Za-z](?![^\W_])|[ \t]?(?i:bis|ter)(?![^\W_]))?"
    r"(?:[/\-](?:\d{1,4}[A-Za-z]?|[A-Za-z])(?![^\W_]))?"
    r"(?!\d|[.,:/\-]\d)"
)
_SHORT_ADDRESS_RE = re.compile(
    rf"(?<![^\W_])(?P<type>(?i:{_IT_STREET_TYPES}))\.?[ \t]+"
    rf"(?P<name>(?:\d{{1,2}}[ \t]+(?=(?i:{_IT_MONTHS})(?![^\W_])))?{_NAME}),?[ \t]+{_SHORT_HOUSE}"
    rf"(?P<tail>{_EU_TAIL})?"
)
# "via" also means "by" (via mail, via DHL) and "corso" "in progress": a first word
# like these is not a street name.
_NOT_STREET_NAMES = frozenset(
    "mail email e-mail posta pec sms whatsapp telegram messenger instagram facebook"
    " chat telefono internet web app sito bonifico paypal satispay amazon ebay dhl ups"
    " gls brt sda tnt fedex bartolini corriere poste raccomandata e ed o che non mi ti"
    " ci si ho ha hanno sono è taglia misura numero size the a an and or to my your our"
    " their".split()
)
# Street types that are also everyday words ("è un po' largo", "ordine in corso"):
# without a postcode, written all in lower case, they are not taken for a street.
_EVERYDAY_TYPES = frozenset({"largo", "corso", "strada", "salita", "borgo", "vico", "contrada"})
# A number followed by one of these is a quantity, not a house number.
_QUANTITY_AFTER_RE = re.compile(
    r"[ \t]*(?:[€$£%°]|(?i:volt[ae]|giorn[oi]|gg|or[ae]|minut[oi]|min|settiman[ae]|mes[ei]"
    r"|ann[oi]|euro|eur|pai[ao]|pezz[oi]|pz|articol[oi]|prodott[oi]|ordini|cm|mm|km|kg"
    r"|days?|hours?|weeks?|months?|years?|times?|pairs?|items?|euros?|am|pm"
    rf"|{_IT_MONTHS})(?![^\W_]))"
)


def _short_address_handler(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """Replace an Italian street address that may lack a postcode.

    Without a postcode the match is rejected when the street name starts with a word
    that makes "via" mean "by" (``via mail 2``), when the number is a quantity
    (``corso di formazione 3 giorni``), and when a street type that is also an
    everyday word is written all in lower case (``largo sul collo 42``).
    """
    end = match.end()
    if match.group("tail") is not None:
        full = _address_handler(text, match)
        if full is not None:
            return full
        end = match.start("tail")  # "Via Roma 12, ordine 10023": the street alone
    name = match.group("name")
    if name.split()[0].lower().rstrip(".'’") in _NOT_STREET_NAMES:
        return None
    if _QUANTITY_AFTER_RE.match(text, end):
        return None
    street_type = match.group("type")
    if street_type in _EVERYDAY_TYPES and name == name.lower():
        return None
    return end, _ADDRESS_TAG
