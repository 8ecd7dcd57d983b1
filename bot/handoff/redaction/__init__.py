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

from bot.handoff.redaction.redactor import (
    contains_personal_data,
    redact,
    redact_card_numbers,
    redact_mapping,
)

__all__ = ["contains_personal_data", "redact", "redact_card_numbers", "redact_mapping"]
