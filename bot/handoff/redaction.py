"""Personal-data redaction for log lines and handoff transcripts.

Customers paste e-mail addresses, phone numbers, card numbers, IBANs, postal
addresses, tax codes and VAT numbers into the chat. Nothing of that may reach a log
file or a transcript that leaves the desk, so every such text goes through `redact`
first, which swaps each item for a placeholder: ``[email]``, ``[phone]``,
``[card]``, ``[iban]``, ``[address]``, ``[tax_code]`` or ``[vat_number]``.

The rules lean towards keeping what an agent needs to help: order numbers
(``10023``), prices (``59.90``, ``9,90 €``), dates, times, bare postcodes and
tracking codes that mix letters and digits stay as they are. Card numbers must
start with 2 to 6, be grouped like a card and pass the Luhn check, and IBANs must
pass the mod-97 check, so a mistyped number is left alone rather than guessed at. A
phone number is a run of 8 to 15 digits, so any other long bare number (a timestamp,
a numeric id) is redacted as ``[phone]`` too.

Italian formats have rules of their own:

* a codice fiscale (``RSSMRA80A01H501U``, any case, omocodia letters included)
  becomes ``[tax_code]``; its check letter is only required when every digit has
  been replaced by a letter, which is the one shape an ordinary word could take;
* a partita IVA becomes ``[vat_number]``: always after a label (``P.IVA``,
  ``partita IVA``, ``VAT``), which stays, and otherwise (bare or ``IT``-prefixed)
  only when its check digit is right; a bare 11-digit number that fails the check
  is still caught by the phone rule;
* Italian mobiles (``+39 347 765 4321``) and landlines (``02 1234 5678``) are
  found by their shape before the generic phone rule, so an order number or a
  postcode written next to them (``10023 3477654321``) is kept; a short landline
  of 6 or 7 digits counts only after a word such as ``tel.``;
* an Italian street address is redacted even without a postcode (``Via Roma 12``),
  as long as the house number is not followed by a unit (``via mail 3 volte``),
  a date, a time or a price.

The kinds are applied in a fixed order: e-mail, tax code, IBAN, card, VAT number,
address, phone. IBANs and cards come before phones so the looser phone rule can
never eat half of them; addresses come before phones so a house number next to a
postcode is not read as a phone number.

`redact_card_numbers` replaces card numbers alone, for the transcripts kept on the desk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["contains_personal_data", "redact", "redact_card_numbers", "redact_mapping"]

_EMAIL_TAG = "[email]"
_PHONE_TAG = "[phone]"
_CARD_TAG = "[card]"
_IBAN_TAG = "[iban]"
_ADDRESS_TAG = "[address]"
_TAX_CODE_TAG = "[tax_code]"
_VAT_TAG = "[vat_number]"
_CIRCULAR = "[circular]"

# A handler looks at one regex match and returns ``(end, replacement)``: the text
# from the match start to ``end`` becomes ``replacement``. ``None`` means "no
# match here after all"; the scan then tries again one character further on.
_Handler = Callable[[str, "re.Match[str]"], "tuple[int, str] | None"]


def _scan(text: str, pattern: re.Pattern[str], handler: _Handler) -> str:
    """Apply ``handler`` to every match of ``pattern``, left to right.

    Unlike `re.sub`, a handler can shorten a match or reject it so that the search
    resumes inside it, and lookbehinds always see the original text.

    Args:
        text: The text to scan.
        pattern: What to look for.
        handler: Decides what each match becomes.

    Returns:
        The text with the handler's replacements applied.
    """
    pieces: list[str] = []
    copied = 0
    search_from = 0
    while search_from <= len(text):
        match = pattern.search(text, search_from)
        if match is None:
            break
        result = handler(text, match)
        if result is None:
            search_from = match.start() + 1
            continue
        end, replacement = result
        pieces.append(text[copied : match.start()])
        pieces.append(replacement)
        copied = end
        search_from = max(end, match.start() + 1)
    pieces.append(text[copied:])
    return "".join(pieces)


def _glued_after(text: str, end: int) -> bool:
    """Whether the digits ending at ``end`` continue into a longer token.

    True for a letter or digit right after (``12345678AB``) and for a decimal part
    (``12345678,90``, ``10:30``).
    """
    if end >= len(text):
        return False
    char = text[end]
    if char.isalnum() or char == "_":
        return True
    return char in ".,:" and end + 1 < len(text) and text[end + 1].isdigit()


# --- e-mail -------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.%+'-])[\w.%+'-]+@(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])")


# --- IBAN ---------------------------------------------------------------------------

_IBAN_RE = re.compile(r"(?<![^\W_])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![^\W_])")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def _iban_is_valid(compact: str) -> bool:
    """Check an IBAN without spaces against ISO 13616 shape and mod-97."""
    candidate = compact.upper()
    if not _IBAN_SHAPE.fullmatch(candidate):
        return False
    rearranged = candidate[4:] + candidate[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _iban_handler(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """Replace the longest valid IBAN that starts at the match.

    The pattern may run on into a following word (``... 456 EUR``), so shorter
    candidates ending at a space are tried too.
    """
    raw = match.group()
    ends = [len(raw)] + [i for i in range(len(raw) - 1, 0, -1) if raw[i] == " "]
    for end in ends:
        if _iban_is_valid(raw[:end].replace(" ", "")):
            return match.start() + end, _IBAN_TAG
    return None


# --- payment cards ------------------------------------------------------------------

_CARD_RUN_RE = re.compile(r"(?<!\w)(?<!\d[ \-.,])\d+(?!\d)(?:[ \-]\d+(?!\d))*")
_DIGITS_RE = re.compile(r"\d+")


def _luhn_is_valid(digits: str) -> bool:
    """Luhn (mod 10) check of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_shaped(lengths: list[int]) -> bool:
    """Whether digit groups of these lengths are laid out like a card number.

    One unbroken group, groups of four with a shorter or equal last group
    (Visa, Mastercard, 19-digit cards), or 4-6-5 / 4-6-4 (Amex, Diners).
    """
    if len(lengths) == 1:
        return True
    if lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(length == 4 for length in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _is_card(run: str, groups: list[tuple[int, int]], first: int, last: int) -> bool:
    """Whether the digit groups ``first..last`` of a run form a valid card number."""
    window = groups[first : last + 1]
    lengths = [end - start for start, end in window]
    digits = "".join(run[start:end] for start, end in window)
    # Card networks issue numbers starting with 2 to 6 (Mastercard 2-series, Amex,
    # Diners, JCB, Visa, Mastercard, Maestro, Discover, UnionPay); the rule keeps
    # most long numeric ids and timestamps out.
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456" or not _card_shaped(lengths):
        return False
    return _luhn_is_valid(digits)


def _card_handler(text: str, match: re.Match[str]) -> tuple[int, str]:
    """Replace the valid card numbers inside a run of digit groups."""
    run = match.group()
    groups = [(group.start(), group.end()) for group in _DIGITS_RE.finditer(run)]
    if _glued_after(text, match.end()):
        groups.pop()
    pieces: list[str] = []
    copied = 0
    first = 0
    while first < len(groups):
        # A card-shaped window has at most five groups (4-4-4-4-3).
        for last in range(min(len(groups) - 1, first + 4), first - 1, -1):
            if _is_card(run, groups, first, last):
                pieces.append(run[copied : groups[first][0]])
                pieces.append(_CARD_TAG)
                copied = groups[last][1]
                first = last + 1
                break
        else:
            first += 1
    pieces.append(run[copied:])
    return match.end(), "".join(pieces)


# --- codice fiscale -----------------------------------------------------------------

# Surname and name (3 + 3 letters), year (2), month letter, day (2), place (letter
# + 3) and a check letter. With omocodia the digits may be the letters L-V; spaces
# are allowed only between the usual groups (``RSS MRA 80A01 H501U``).
_OMO_DIGIT = "[0-9LMNPQRSTUV]"
_TAX_CODE_RE = re.compile(
    rf"(?<![^\W_])[A-Z]{{3}} ?[A-Z]{{3}} ?{_OMO_DIGIT}{{2}}[A-Z]{_OMO_DIGIT}{{2}}"
    rf" ?[A-Z]{_OMO_DIGIT}{{3}} ?[A-Z](?![^\W_])",
    re.IGNORECASE,
)
_TAX_CODE_DIGIT_POSITIONS = (6, 7, 9, 10, 12, 13, 14)
_TAX_CODE_MONTHS = "ABCDEHLMPRST"
_TAX_CODE_ODD_VALUES = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] * 2
        + [2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23],
        strict=True,
    )
)


def _tax_code_check_letter(first15: str) -> str:
    """The check letter of a codice fiscale, from its first 15 characters (upper case)."""
    total = 0
    for index, char in enumerate(first15):
        if index % 2 == 0:  # odd positions, counting from 1
            total += _TAX_CODE_ODD_VALUES[char]
        else:
            total += int(char) if char.isdigit() else ord(char) - ord("A")
    return chr(ord("A") + total % 26)


def _tax_code_handler(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """Replace a codice fiscale.

    The shape alone is enough while at least one digit is left. A code whose digits
    are all omocodia letters is sixteen letters long, like a word, so it must be
    written without spaces, have a real month letter and the right check letter.
    """
    raw = match.group()
    code = raw.replace(" ", "").upper()
    if not code.isascii():
        return None  # [A-Z] matched a look-alike letter under IGNORECASE
    if any(code[index].isdigit() for index in _TAX_CODE_DIGIT_POSITIONS):
        return match.end(), _TAX_CODE_TAG
    if " " in raw or code[8] not in _TAX_CODE_MONTHS:
        return None
    if _tax_code_check_letter(code[:15]) != code[15]:
        return None
    return match.end(), _TAX_CODE_TAG


# --- where a number may start -------------------------------------------------------

# Not inside a word or inside another number, except right after a lone 5-digit
# number and a space ("10023 3477654321": an order number or a postcode, then the
# number), so that the 5-digit number is kept.
_NUMBER_START = (
    r"(?<![\w+])(?:(?<!\d[ \u00a0.,:\-/])"
    r"|(?<=(?<![\w.,:\-/+])\d{5}[ \u00a0]))"
)


# --- partita IVA --------------------------------------------------------------------

_VAT_LABEL = (
    r"p\.?[ \t]?iva|p\.[ \t]?i\.|partita[ \t]+i\.?v\.?a\.?"
    r"|vat(?:[ \t]+(?:number|no\.?|id|n\.))?"
)
_VAT_LABELLED_RE = re.compile(
    rf"(?<![^\W_])(?i:{_VAT_LABEL})(?![^\W_])"
    r"[ \t]*[:.]?[ \t]*(?:(?i:n|nr|no|num|numero)\.?[ \t]*|(?i:è|e')[ \t]+|(?i:is)[ \t]+)?"
    r"(?P<number>(?i:it)?[ \t]?\d{11})(?!\d)"
)
_VAT_RE = re.compile(rf"{_NUMBER_START}(?P<number>(?:IT[ \t]|(?i:it))?\d{{11}})(?!\d)")
_CURRENCY_AFTER_RE = re.compile(
    r"[ \u00a0]?(?:[€$£¥]|(?i:eur|usd|gbp|chf|euros?|dollars?)(?![^\W_]))"
)


def _vat_labelled_handler(text: str, match: re.Match[str]) -> tuple[int, str]:
    """Replace the 11 digits after a VAT label, valid or not; the label stays."""
    label = text[match.start() : match.start("number")]
    return match.end(), label + _VAT_TAG


def _vat_handler(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """Replace an unlabelled 11-digit number (``IT`` optional) with a valid check digit.

    The partita IVA check digit is the Luhn check over all 11 digits.
    """
    if _glued_after(text, match.end()):
        return None
    if text[: match.start()].rstrip(" \u00a0").endswith(("€", "$", "£", "¥")):
        return None
    if _CURRENCY_AFTER_RE.match(text, match.end()):
        return None
    if not _luhn_is_valid(match.group("number")[-11:]):
        return None
    return match.end(), _VAT_TAG


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


# --- phone numbers ------------------------------------------------------------------

_SEP = r"[ \u00a0.\-/]"
_PHONE_RUN_RE = re.compile(
    rf"(?<![\w+])(?<!\d[ \u00a0.,:\-/])(?:\+[ ]?)?(?:\(\d{{1,6}}\)|\d+(?!\d))"
    rf"(?:{_SEP}?\(\d{{1,6}}\)|(?:{_SEP}|(?<=\)))\d+(?!\d))*"
)
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")

# Numbers that look like a phone number to the run pattern but are something else.
# They are hidden behind placeholders while phones are looked for.
_DAY_MONTH_YEAR_RE = re.compile(
    r"(?<![\d.\-/])(\d{1,2})([\-/.])(\d{1,2})\2(\d{4}|\d{2})(?!\d|[.\-/]\d)"
)
_YEAR_MONTH_DAY_RE = re.compile(r"(?<![\d.\-/])(\d{4})([\-/.])(\d{1,2})\2(\d{1,2})(?!\d|[.\-/]\d)")
_NOT_PHONES = (
    # 20261122
    re.compile(r"(?<!\d)(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),
    # 10:30, 10:30:15,123
    re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?(?!\d)"),
    # 59.90, 1.299,00
    re.compile(r"(?<![\d.,])\d+(?:[.,]\d{3})*[.,]\d{2}(?!\d|[.,]\d)"),
    # € 1299, 1299 EUR
    re.compile(r"(?:[€$£¥]|\b(?:EUR|USD|GBP|CHF)\b)[ \u00a0]?\d[\d.,]*"),
    re.compile(r"(?<![\d.,])\d[\d.,]*[ \u00a0]?(?:[€$£¥]|(?i:eur|usd|gbp|chf|euros?|dollars?)\b)"),
    # 192.168.100.200
    re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d|\.\d)"),
)
_MASK_OPEN = "\ue000"
_MASK_CLOSE = "\ue001"
_MASK_BASE = 0xF0000
_MASK_RE = re.compile(f"{_MASK_OPEN}(.){_MASK_CLOSE}", re.DOTALL)


def _plausible_date(first: int, second: int) -> bool:
    """Whether two numbers can be day and month in either order."""
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


def _mask_non_phones(text: str) -> tuple[str, list[str]]:
    """Hide dates, times, prices and IP addresses behind digit-free placeholders.

    Returns:
        The masked text and the hidden originals, in placeholder order.
    """
    hidden: list[str] = []

    def hide(original: str) -> str:
        hidden.append(original)
        return f"{_MASK_OPEN}{chr(_MASK_BASE + len(hidden) - 1)}{_MASK_CLOSE}"

    def hide_date(match: re.Match[str], day_month: tuple[int, int]) -> str:
        return hide(match.group()) if _plausible_date(*day_month) else match.group()

    text = _YEAR_MONTH_DAY_RE.sub(lambda m: hide_date(m, (int(m.group(4)), int(m.group(3)))), text)
    text = _DAY_MONTH_YEAR_RE.sub(lambda m: hide_date(m, (int(m.group(1)), int(m.group(3)))), text)
    for pattern in _NOT_PHONES:
        text = pattern.sub(lambda m: hide(m.group()), text)
    return text, hidden


def _unmask(text: str, hidden: list[str]) -> str:
    """Put back what `_mask_non_phones` hid."""
    return _MASK_RE.sub(lambda m: hidden[ord(m.group(1)) - _MASK_BASE], text)


def _phone_handler(text: str, match: re.Match[str]) -> tuple[int, str]:
    """Replace a run of digits that reads as a phone number; keep anything else."""
    run = match.group()
    keep = (match.end(), run)
    lengths = [len(group) for group in _DIGITS_RE.findall(run)]
    if not 8 <= sum(lengths) <= 15 or _glued_after(text, match.end()):
        return keep
    before = text[: match.start()].rstrip(" \u00a0")
    if before.endswith(("€", "$", "£", "¥")):
        return keep
    if not run.startswith("+") and len(lengths) > 1:
        separators = set(re.sub(r"[\d()]", "", run))
        if _THOUSANDS_RE.fullmatch(run):
            return keep  # 12.345.678, an amount
        if all(length == 5 for length in lengths) and separators <= {"-", "/"}:
            return keep  # 10023-10025, a range of order numbers
        if sum(lengths) >= 13 and _card_shaped(lengths):
            return keep  # a mistyped card number is not a phone number either
    return match.end(), _PHONE_TAG


# Italian numbers, found by shape before the generic run rule: +39 / 0039 / 39
# optional, then a mobile (3xx and 6-7 more digits) or a landline (0, area code and
# number: 6 to 11 digits), with or without separators.
_IT_PHONE_RE = re.compile(
    rf"{_NUMBER_START}"
    rf"(?:(?P<prefix>(?:\+[ ]?|00)39|\(\+?39\)|39){_SEP}?)?"
    rf"(?:(?P<mobile>3(?:{_SEP}?\d){{8,9}})|(?P<landline>0[1-9](?:{_SEP}?\d){{4,9}}))"
    r"(?!\d)"
)
_RUN_CONTINUES_RE = re.compile(rf"(?:{_SEP}\d+(?!\d))+")
_SEPARATE_NUMBER_RE = re.compile(r"[ \u00a0]\d{5}")
_PHONE_WORD_BEFORE_RE = re.compile(
    r"(?i:\b(?:tel|telefono|telefonami|telefonare|cell|cellulare|fisso|fax|chiam\w*|phone"
    r"|call))\b[^\w\n]{0,4}(?:(?i:al|allo|il|n|nr|numero|me|on|at)\b[^\w\n]{0,4}){0,2}$"
)


def _italian_phone_handler(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """Replace an Italian mobile or landline number; ``None`` leaves it to the run rule.

    The number may be followed, after a space, by a number of 5 digits or more
    (``3477654321 10023``), which is kept, unless the two together are laid out like
    a card. Any other digits run on into are left to the run rule, as they may be
    part of the same number. A landline of 6 or 7 digits needs ``tel.`` or a similar
    word before it.
    """
    if _glued_after(text, match.end()):
        return None
    before = text[: match.start()].rstrip(" \u00a0")
    if before.endswith(("€", "$", "£", "¥")):
        return None
    number = match.group("mobile") or match.group("landline")
    rest = _RUN_CONTINUES_RE.match(text, match.end())
    if rest is not None and not _SEPARATE_NUMBER_RE.match(rest.group()):
        return None
    whole = match.group() + (rest.group() if rest else "")
    lengths = [len(group) for group in _DIGITS_RE.findall(whole)]
    if not whole.startswith("+"):
        separators = set(re.sub(r"[\d()+]", "", whole))
        if all(length == 5 for length in lengths) and separators <= {"-", "/"}:
            return None  # 31234-31299, a range of order numbers
        if sum(lengths) >= 13 and _card_shaped(lengths):
            return None  # a mistyped card number
    if match.group("landline") and sum(char.isdigit() for char in number) < 8:
        context = text[max(0, match.start() - 40) : match.start()]
        if rest is not None or not _PHONE_WORD_BEFORE_RE.search(context):
            return None
    return match.end(), _PHONE_TAG


def _redact_phones(text: str) -> str:
    """Replace phone numbers, leaving dates, times, prices and amounts alone."""
    if _MASK_OPEN in text or _MASK_CLOSE in text:
        text = _scan(text, _IT_PHONE_RE, _italian_phone_handler)
        return _scan(text, _PHONE_RUN_RE, _phone_handler)
    masked, hidden = _mask_non_phones(text)
    masked = _scan(masked, _IT_PHONE_RE, _italian_phone_handler)
    return _unmask(_scan(masked, _PHONE_RUN_RE, _phone_handler), hidden)


# --- public API ---------------------------------------------------------------------


def redact(text: str) -> str:
    """Replace personal data in a text with placeholders.

    E-mail addresses become ``[email]``, codici fiscali ``[tax_code]``, IBANs
    ``[iban]``, payment card numbers ``[card]``, partite IVA ``[vat_number]``, street
    addresses (with a postcode, or Italian ones with a house number) ``[address]``
    and phone numbers ``[phone]``. Order numbers, prices, dates, times, bare
    postcodes and tracking codes are kept. Redacting twice gives the same result as
    redacting once.

    Args:
        text: Any text: a chat message, a log line, a traceback.

    Returns:
        The text with every item of personal data replaced.

    Raises:
        TypeError: If ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact() needs a str, not {type(text).__name__}")
    if "@" in text:
        text = _EMAIL_RE.sub(_EMAIL_TAG, text)
    text = _scan(text, _TAX_CODE_RE, _tax_code_handler)
    if not any(char.isdigit() for char in text):
        return text
    text = _scan(text, _IBAN_RE, _iban_handler)
    text = _scan(text, _CARD_RUN_RE, _card_handler)
    text = _scan(text, _VAT_LABELLED_RE, _vat_labelled_handler)
    text = _scan(text, _VAT_RE, _vat_handler)
    for pattern in _ADDRESS_PATTERNS:
        text = _scan(text, pattern, _address_handler)
    text = _scan(text, _SHORT_ADDRESS_RE, _short_address_handler)
    return _redact_phones(text)


def redact_card_numbers(text: str) -> str:
    """Replace payment card numbers only (``[card]``), the same way `redact` finds them.

    For texts kept for the people who answer the customer (a ticket's transcript): they may
    need an address or a phone number, but nobody on the desk needs a card number, and it
    must not be stored.
    """
    if not any(char.isdigit() for char in text):
        return text
    return _scan(text, _CARD_RUN_RE, _card_handler)


def contains_personal_data(text: str) -> bool:
    """Tell whether `redact` would change a text.

    Args:
        text: The text to check.

    Returns:
        True if the text holds at least one e-mail address, phone number, card
        number, IBAN, street address, tax code or VAT number.
    """
    return redact(text) != text


def redact_mapping(obj: Any) -> Any:
    """Redact every string inside a nested structure, returning a new structure.

    Dicts (and other mappings, returned as dicts), lists, tuples (named tuples keep
    their type), sets and frozensets are rebuilt with their strings redacted; dict
    keys are redacted too, so two keys that redact alike collapse into one. Other
    values (numbers, None, bytes, objects) are returned as they are. A container
    that contains itself is cut off with ``"[circular]"``.

    Args:
        obj: A log payload or a JSON-like transcript.

    Returns:
        A redacted copy of ``obj``; ``obj`` itself is not changed.
    """
    return _redact_nested(obj, set())


def _redact_nested(obj: Any, active: set[int]) -> Any:
    """Recursive part of `redact_mapping`; ``active`` holds the open containers."""
    if isinstance(obj, str):
        return redact(obj)
    if not isinstance(obj, (Mapping, list, tuple, set, frozenset)):
        return obj
    if id(obj) in active:
        return _CIRCULAR
    active.add(id(obj))
    try:
        if isinstance(obj, Mapping):
            return {
                _redact_nested(key, active): _redact_nested(value, active)
                for key, value in obj.items()
            }
        items = [_redact_nested(item, active) for item in obj]
        if isinstance(obj, tuple):
            return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
        if isinstance(obj, frozenset):
            return frozenset(items)
        if isinstance(obj, set):
            return set(items)
        return items
    finally:
        active.discard(id(obj))
