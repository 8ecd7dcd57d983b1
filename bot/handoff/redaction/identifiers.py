"""Identifiers found by their shape and check digits.

E-mail, IBAN, payment card, codice fiscale and partita IVA; and where a number may start,
which the phone rules share.
"""

from __future__ import annotations

import re

from bot.handoff.redaction.scanning import (
    _CARD_TAG,
    _IBAN_TAG,
    _TAX_CODE_TAG,
    _VAT_TAG,
    _glued_after,
)

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
