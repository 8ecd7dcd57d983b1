"""An amount of money as plain text (``€9.90``, ``9.90 CHF``), the same in every language.

What a customer reads goes through the language's own format instead
(:meth:`bot.language.Phrasing.money`).
"""

from __future__ import annotations

_CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def format_money(amount: float, currency: str) -> str:
    """Format an amount for a customer, e.g. ``€9.90`` or ``9.90 CHF``.

    Euro, pound and dollar amounts get their symbol in front; other currencies
    get their code after the number. Two decimals, comma thousands separator.

    Args:
        amount: The amount.
        currency: ISO 4217 code (any case).

    Returns:
        The formatted amount.
    """
    code = currency.strip().upper()
    digits = f"{abs(amount):,.2f}"
    sign = "-" if amount < 0 and digits.strip("0.,") else ""
    symbol = _CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}"
