"""Phone numbers found in a text.

Italian mobiles and landlines by their shape first, then any run of 8 to 15 digits that
is not a date, a price or a thousands figure.
"""

from __future__ import annotations

import re

from bot.handoff.redaction.identifiers import _DIGITS_RE, _NUMBER_START, _card_shaped
from bot.handoff.redaction.scanning import _PHONE_TAG, _glued_after, _scan

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
