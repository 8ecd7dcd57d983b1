"""Tests for bot.handoff.redaction and bot.handoff.log_redaction."""

from __future__ import annotations

import io
import logging
from collections import OrderedDict, namedtuple

import pytest

from bot.handoff.log_redaction import RedactingFormatter, install_log_redaction
from bot.handoff.redaction import contains_personal_data, redact, redact_mapping

PERSONAL = {
    "email": "mario.rossi@example.com",
    "phone": "+39 02 1234 5678",
    "card": "4111 1111 1111 1111",
    "iban": "IT60 X054 2811 1010 0000 0123 456",
    "address": "Via Roma 12, 20121 Milano",
    "tax_code": "RSSMRA80A01H501U",
    "vat_number": "IT12345678903",
}
SECRETS = (
    "mario.rossi@example.com",
    "example.com",
    "1234 5678",
    "4111",
    "X054",
    "Via Roma",
    "RSSMRA",
    "H501U",
    "12345678903",
)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked in {text!r}"


# --- e-mail --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "mario.rossi@example.com",
        "a@b.co",
        "first+tag@sub.domain.co.uk",
        "o'brien@example.ie",
        "MIXED.Case_99@Example.ORG",
        "jürgen.müller@beispiel.de",
        "zoë@exämple.it",
        "user-name@my-shop.store",
    ],
)
def test_email_is_redacted(email: str) -> None:
    assert redact(f"write to {email} please") == "write to [email] please"


@pytest.mark.parametrize(
    "text",
    ["no at sign here", "meet @ noon", "twitter @nightdesk", "user@localhost", "a@b", "x@1.2"],
)
def test_not_an_email_is_kept(text: str) -> None:
    assert redact(text) == text


def test_email_keeps_sentence_punctuation() -> None:
    assert redact("Mail: mario@rossi.it.") == "Mail: [email]."
    assert redact("(mario@rossi.it)") == "([email])"
    assert redact("<mario@rossi.it>, luigi@verdi.it;") == "<[email]>, [email];"


# --- phone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "+39 02 1234 5678",
        "+39 333 123 4567",
        "+39 (0)2 1234 5678",
        "+44 7700 900123",
        "+44 20 7946 0958",
        "+49 30 1234567",
        "+1 (555) 123-4567",
        "+33 6 12 34 56 78",
        "0039 02 12345678",
        "0044 7700 900123",
        "02 1234 5678",
        "02-1234-5678",
        "02.1234.5678",
        "02/12345678",
        "(02) 1234-5678",
        "(02)12345678",
        "333 123 4567",
        "347-1234567",
        "3331234567",
        "020 7946 0958",
        "07700 900123",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "555-123-4567",
        "030 1234567",
    ],
)
def test_phone_is_redacted(phone: str) -> None:
    assert redact(f"call me on {phone} tonight") == "call me on [phone] tonight"
    assert redact(phone) == "[phone]"


@pytest.mark.parametrize(
    "text",
    [
        "order 10023",
        "orders 10001 and 10999",
        "orders 10023-10025",
        "orders 10023/10024",
        "price 59.90",
        "total 1.299,00 €",
        "€ 1299",
        "1299 EUR",
        "$ 12345678",
        "amount 12.345.678",
        "date 2026-11-22",
        "date 22/11/2026",
        "date 22.11.2026",
        "date 22-11-2026",
        "date 20261122",
        "at 10:30",
        "2026-11-22 10:30:00,123 INFO started",
        "from 10:30 to 11:45:59",
        "tracking 1Z999AA10123456784",
        "tracking JJD0001234567890",
        "tracking RR123456789IT",
        "tracking TBA123456789012",
        "server 192.168.100.200",
        "postcode 20121",
        "1234567",
        "123 4567",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "build v1.2.3",
        "room 12345678abc",
        "ratio 12345678,90",
    ],
)
def test_not_a_phone_is_kept(text: str) -> None:
    assert redact(text) == text


def test_phone_next_to_order_number_and_price() -> None:
    text = "Ordine 10023 da 59,90 € consegnato il 22/11/2026 alle 14:30, tel. 333 1234567."
    assert redact(text) == (
        "Ordine 10023 da 59,90 € consegnato il 22/11/2026 alle 14:30, tel. [phone]."
    )


def test_two_phones_in_one_text() -> None:
    assert redact("Tel: +49 30 1234567; Fax: +49 30 7654321") == "Tel: [phone]; Fax: [phone]"


# --- Italian phone numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "+39 347 765 4321",
        "3477654321",
        "347-765 43 21",
        "0039 349 1234567",
        "+39 3477654321",
        "+393477654321",
        "(+39) 347 765 4321",
        "39 347 7654321",
        "393477654321",
        "347 7654321",
        "347.765.4321",
        "347/7654321",
        "347 123456",
        "320 12 34 567",
        "347.765.432",
    ],
)
def test_italian_mobile_is_redacted(phone: str) -> None:
    assert redact(f"il mio cell è {phone}, grazie") == "il mio cell è [phone], grazie"
    assert redact(phone) == "[phone]"


@pytest.mark.parametrize(
    "phone",
    [
        "02 1234 5678",
        "+39 06 6988 1234",
        "011-5551234",
        "081 5551234",
        "0331 123456",
        "0331/123456",
        "06.6988.1234",
        "+39 02 12345678",
        "0039 011 5551234",
        "055 234 5678",
        "0471 123456",
        "0612345678",
    ],
)
def test_italian_landline_is_redacted(phone: str) -> None:
    assert redact(f"chiamate il {phone} dopo le 9:00") == "chiamate il [phone] dopo le 9:00"
    assert redact(phone) == "[phone]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel. 06 12345", "tel. [phone]"),
        ("Tel: 0471 12345", "Tel: [phone]"),
        ("chiamami al 0331 1234", "chiamami al [phone]"),
        ("telefono fisso 0612345", "telefono fisso [phone]"),
        ("06 12345", "06 12345"),
        ("codice 0612345", "codice 0612345"),
    ],
)
def test_short_italian_landline_needs_a_phone_word(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ordine 10023 3477654321", "ordine 10023 [phone]"),
        ("3477654321 10023", "[phone] 10023"),
        ("CAP 20121 02 1234 5678", "CAP 20121 [phone]"),
        ("+39 347 765 4321 20121", "[phone] 20121"),
        ("Ordine 10023, cell 347-765 43 21, CAP 20121", "Ordine 10023, cell [phone], CAP 20121"),
        ("tel. 333 1234567 / 02 1234 5678", "tel. [phone] / [phone]"),
    ],
)
def test_italian_phone_next_to_order_number_or_postcode(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ordine 10023",
        "CAP 20121",
        "20121",
        "00186",
        "prezzo 9,90 €",
        "0,90 €",
        "totale 129,90 EUR",
        "consegna il 07/12/2026",
        "consegna il 07.12.2026",
        "consegna il 07-12-2026",
        "alle 9:00",
        "dalle 9:00 alle 13:00",
        "alle 09.30",
        "ordini 31234-31299",
        "numero 3782 822463 10006",
        "€ 3477654321",
        "ref AB3477654321",
        "3477654321abc",
        "taglia 42, 2 paia",
        "Ordine 10023 del 07/12/2026 alle 9:00, totale 9,90 €",
    ],
)
def test_not_an_italian_phone_is_kept(text: str) -> None:
    assert redact(text) == text


# --- codice fiscale -----------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "RSSMRA80A01H501U",
        "rssmra80a01h501u",
        "RssMra80a01H501u",
        "VRDGPP85M41F205X",
        "BNCLRA92E52L219N",
        "RSS MRA 80A01 H501U",
        "RSSMRA80A01H50MM",
        "RSSMRA80A01HRLMS",
        "rssmra80a01hrlms",
        "RSSMRAULALMHRLMD",
    ],
)
def test_tax_code_is_redacted(code: str) -> None:
    assert redact(f"CF: {code}, grazie") == "CF: [tax_code], grazie"
    assert redact(code) == "[tax_code]"


@pytest.mark.parametrize(
    "text",
    [
        "RSSMRAULALMHRLMA",
        "RSSMRA80A01H501",
        "RSSMRA80A01H501UX",
        "XRSSMRA80A01H501U",
        "RSSMRA80A01H501U2",
        "RSSMR80A01H501U",
        "tracking 1Z999AA10123456784",
        "tracking JJD0001234567890",
        "tracking RR123456789IT",
        "precipitevolissimevolmente",
        "SCARPEDASTRADAUOMO",
    ],
)
def test_not_a_tax_code_is_kept(text: str) -> None:
    assert redact(text) == text


# --- partita IVA --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P.IVA 12345678901", "P.IVA [vat_number]"),
        ("P. IVA 12345678901", "P. IVA [vat_number]"),
        ("p.iva: 01234567890", "p.iva: [vat_number]"),
        ("PIVA 12345678901", "PIVA [vat_number]"),
        ("P.I. 12345678901", "P.I. [vat_number]"),
        ("partita iva 01234567890", "partita iva [vat_number]"),
        ("Partita IVA: IT01234567890", "Partita IVA: [vat_number]"),
        ("la mia partita IVA è 01234567890", "la mia partita IVA è [vat_number]"),
        ("P.IVA n. 12345678901", "P.IVA n. [vat_number]"),
        ("P.IVA IT 12345678901", "P.IVA [vat_number]"),
        ("C.F./P.IVA 12345678903", "C.F./P.IVA [vat_number]"),
        ("VAT number IT12345678901", "VAT number [vat_number]"),
    ],
)
def test_labelled_vat_number_is_always_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "number",
    [
        "12345678903",
        "00743110157",
        "07643520567",
        "IT12345678903",
        "it00743110157",
        "IT 00743110157",
    ],
)
def test_vat_number_with_valid_check_digit_is_redacted(number: str) -> None:
    assert redact(f"fattura a {number}, grazie") == "fattura a [vat_number], grazie"


def test_unlabelled_vat_number_with_bad_check_digit() -> None:
    # Eleven bare digits are still a long number for the phone rule; glued to "IT"
    # they are not a number at all.
    assert redact("fattura 12345678901") == "fattura [phone]"
    assert redact("fattura IT12345678901") == "fattura IT12345678901"


@pytest.mark.parametrize(
    "text",
    [
        "IVA 22% inclusa",
        "prezzo 89,90 € IVA inclusa",
        "ordine 10023, IVA 22%",
        "€ 12345678903",
        "12345678903 €",
        "ref 12345678903X",
    ],
)
def test_not_a_vat_number_is_kept(text: str) -> None:
    assert redact(text) == text


# --- payment cards -------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555555555554444",
        "5500 0000 0000 0004",
        "2223003122003222",
        "378282246310005",
        "3782 822463 10005",
        "30569309025904",
        "6011111111111117",
        "6011 1111 1111 1117",
        "3530111333300000",
        "4222222222222",
        "6250941006528599",
        "4000 0000 0000 0000 006",
    ],
)
def test_luhn_valid_card_is_redacted(card: str) -> None:
    assert redact(f"my card is {card}, thanks") == "my card is [card], thanks"


@pytest.mark.parametrize(
    "number",
    [
        "4111111111111112",
        "4111 1111 1111 1112",
        "4111-1111-1111-1112",
        "5555555555554445",
        "1234 5678 9012 3456",
        "6938472619283746",
        "0000000000000000",
        "9400 1000 0000 0000 0000 00",
        "41111111111111111111",
    ],
)
def test_luhn_invalid_or_non_card_number_is_kept(number: str) -> None:
    text = f"number {number} here"
    assert redact(text) == text


def test_card_is_not_half_eaten_by_the_phone_rule() -> None:
    assert redact("4111 1111 1111 1111") == "[card]"
    assert redact("+ 4111 1111 1111 1111") != "+ [phone]"
    assert "[phone]" not in redact("pay with 5500-0000-0000-0004 now")


def test_card_followed_by_order_number_or_cvv() -> None:
    assert redact("4111 1111 1111 1111 10023") == "[card] 10023"
    assert redact("4111 1111 1111 1111 123") == "[card] 123"
    assert redact("order 10023 card 4111111111111111") == "order 10023 card [card]"


def test_card_glued_to_letters_is_not_a_card() -> None:
    assert redact("ref AB4111111111111111") == "ref AB4111111111111111"


# --- IBAN ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "IT60X0542811101000000123456",
        "IT60 X054 2811 1010 0000 0123 456",
        "it60 x054 2811 1010 0000 0123 456",
        "DE89370400440532013000",
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "FR1420041010050500013M02606",
        "FR14 2004 1010 0505 0001 3M02 606",
        "ES9121000418450200051332",
        "NL91ABNA0417164300",
        "CH9300762011623852957",
    ],
)
def test_valid_iban_is_redacted(iban: str) -> None:
    assert redact(f"IBAN: {iban} thanks") == "IBAN: [iban] thanks"


@pytest.mark.parametrize(
    "text",
    [
        "IT61X0542811101000000123456",
        "IT61 X054 2811 1010 0000 0123 456",
        "DE88370400440532013000",
        "GB82WEST12345698765433",
        "IT60X05428",
        "ABCD1234EFGH5678IJKL",
    ],
)
def test_iban_with_bad_check_digits_is_kept(text: str) -> None:
    assert redact(f"IBAN {text} ok") == f"IBAN {text} ok"


def test_iban_followed_by_a_word() -> None:
    assert redact("GB82WEST12345698765432 EUR") == "[iban] EUR"
    assert redact("IT60 X054 2811 1010 0000 0123 456 ABC") == "[iban] ABC"


# --- addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "Via Roma 12, 20121 Milano",
        "via roma 12, 20121 milano",
        "Viale Monza 140/A, 20127 Milano (MI)",
        "Corso Vittorio Emanuele II 15, 20122 Milano",
        "Via G. Verdi 5 - 20121 Milano",
        "Piazza del Duomo 1, I-20122 Milano",
        "Via Roma 12, Milano 20121",
        "Hauptstraße 5, 10115 Berlin",
        "Berliner Straße 12a, 10713 Berlin",
        "Karl-Marx-Allee 90, 10243 Berlin",
        "Frankfurter Straße 3, 60311 Frankfurt am Main",
        "Bahnhofstrasse 1, 8001 Zürich",
        "221B Baker Street, London NW1 6XE",
        "10 Downing Street, London SW1A 2AA",
        "1600 Amphitheatre Parkway, Mountain View, CA 94043",
        "12 rue de Rivoli 75001 Paris",
        "12, rue de Rivoli, 75001 Paris",
        "5 bis avenue des Champs-Élysées, 75008 Paris",
        "Calle Mayor 5, 28013 Madrid",
    ],
)
def test_street_address_with_postcode_is_redacted(address: str) -> None:
    assert redact(f"Ship to {address}, thanks") == "Ship to [address], thanks"


def test_address_over_two_lines() -> None:
    assert redact("Via Roma 12\n20121 Milano") == "[address]"


def test_address_keeps_following_words_and_full_stop() -> None:
    assert redact("via roma 12, 20121 milano e poi basta") == "[address] e poi basta"
    assert redact("I live at 10 Downing Street, London SW1A 2AA.") == "I live at [address]."
    assert redact("Ich wohne in der Hauptstraße 5, 10115 Berlin.") == "Ich wohne in der [address]."


def test_two_addresses_in_one_sentence() -> None:
    text = "Via Roma 12, 20121 Milano oppure Hauptstraße 5, 10115 Berlin"
    assert redact(text) == "[address] oppure [address]"


@pytest.mark.parametrize(
    "text",
    [
        "postcode 20121",
        "PLZ 10115 Berlin",
        "I live in Milano",
        "Bestellnummer: 10999",
        "shipped via DHL on 2026-11-22",
        "2 items for 59.90",
        "order 10023 to Milano",
    ],
)
def test_not_an_address_is_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "address",
    [
        "Piazza Navona 6, 00186 Roma",
        "corso buenos aires 33 20124 milano",
        "VIA ROMA 12 20121 MILANO",
        "V.le Monza 140, 20127 Milano",
        "C.so Buenos Aires 33, 20124 Milano",
        "P.za Navona 6 00186 Roma",
        "Piazzale Loreto 1, 20131 Milano",
        "P.le Loreto 1, 20131 Milano",
        "Largo Augusto 3, 20122 Milano",
        "Vicolo del Cinque 10, 00153 Roma",
        "Strada Nuova 5, 10121 Torino",
        "Lungomare Caracciolo 10, 80122 Napoli",
        "Via XX Settembre 12, 16121 Genova",
        "Via 4 Novembre 7, 20121 Milano",
        "Via Roma 12 - 50123 Firenze (FI)",
    ],
)
def test_italian_address_with_postcode_is_redacted(address: str) -> None:
    assert redact(f"Spedite in {address}, grazie") == "Spedite in [address], grazie"


@pytest.mark.parametrize(
    "address",
    [
        "Via Roma 12",
        "via roma 12",
        "Via Roma, 12",
        "Via Roma n. 12",
        "Via Garibaldi 9/B",
        "Viale Monza 140/A",
        "V.le Monza 140",
        "C.so Buenos Aires 33",
        "corso Buenos Aires 33",
        "Corso Vittorio Emanuele II 15",
        "Piazza Duomo 1",
        "P.za Navona 6",
        "Piazzale Loreto 1",
        "Largo Augusto 3",
        "Vicolo Stretto 4",
        "Strada Nuova 5",
        "Lungomare Caracciolo 10",
        "Via dell'Orso 5",
        "Via XX Settembre 12",
        "Via 4 Novembre 7",
        "Via del Corso 7",
    ],
)
def test_italian_address_without_postcode_is_redacted(address: str) -> None:
    assert redact(f"Spedite in {address}, grazie") == "Spedite in [address], grazie"
    assert redact(address) == "[address]"


def test_short_italian_address_keeps_what_follows() -> None:
    assert redact("abito in Via Roma 12 a Milano") == "abito in [address] a Milano"
    assert redact("Via Roma 12, 20121") == "[address], 20121"
    assert redact("Via Roma 12, ordine 10023") == "[address], ordine 10023"
    assert redact("via Roma 12 e via Verdi 3") == "[address] e [address]"


@pytest.mark.parametrize(
    "text",
    [
        "spedito via DHL 2 giorni fa",
        "l'ho mandato via mail 3 volte",
        "inviato via e-mail il 3 dicembre",
        "pagato via PayPal 59,90 €",
        "consegna via corriere 10023",
        "ordine in corso di spedizione 3 giorni",
        "ordine 10023 in corso",
        "il modello è largo sul collo 42",
        "la strada più corta 2 km",
        "via Roma, ordine 10023",
        "Via Roma",
        "CAP 20121 Milano",
    ],
)
def test_not_an_italian_address_is_kept(text: str) -> None:
    assert redact(text) == text


# --- mixed texts ---------------------------------------------------------------------


def test_every_kind_in_one_text() -> None:
    text = (
        "Sono Mario, mail mario.rossi@example.com, tel +39 02 1234 5678, carta "
        "4111 1111 1111 1111, IBAN IT60 X054 2811 1010 0000 0123 456, indirizzo "
        "Via Roma 12, 20121 Milano. Ordine 10023 da 59.90 del 2026-11-22, "
        "spedizione 1Z999AA10123456784."
    )
    assert redact(text) == (
        "Sono Mario, mail [email], tel [phone], carta [card], IBAN [iban], indirizzo "
        "[address]. Ordine 10023 da 59.90 del 2026-11-22, spedizione 1Z999AA10123456784."
    )


def test_every_italian_kind_in_one_text() -> None:
    text = (
        "Sono Mario Rossi, CF RSSMRA80A01H501U, P.IVA 12345678903, cell +39 347 765 4321, "
        "fisso 02 1234 5678, abito in Via Roma 12, 20121 Milano. Ordine 10023 del "
        "07/12/2026 alle 9:00, totale 9,90 €, CAP 20121."
    )
    once = redact(text)
    assert once == (
        "Sono Mario Rossi, CF [tax_code], P.IVA [vat_number], cell [phone], "
        "fisso [phone], abito in [address]. Ordine 10023 del "
        "07/12/2026 alle 9:00, totale 9,90 €, CAP 20121."
    )
    assert redact(once) == once


def test_unicode_text_around_personal_data() -> None:
    text = "Grüße aus Köln 🌍 — schreiben Sie an jürgen@beispiel.de oder 0221 123456789 ☎"
    assert redact(text) == "Grüße aus Köln 🌍 — schreiben Sie an [email] oder [phone] ☎"
    assert redact("注文 10023 の件、電話 03-1234-5678 です") == "注文 10023 の件、電話 [phone] です"


def test_text_without_personal_data_is_unchanged() -> None:
    for text in ["", "hello", "Where is my order 10042? It cost 59.90 €.", "ok 👍"]:
        assert redact(text) == text


def test_redact_is_idempotent() -> None:
    text = " ".join(PERSONAL.values()) + " order 10023"
    once = redact(text)
    assert redact(once) == once
    assert once == "[email] [phone] [card] [iban] [address] [tax_code] [vat_number] order 10023"


def test_redact_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        redact(12345678)  # type: ignore[arg-type]


def test_long_hostile_input_is_fast() -> None:
    for text in [
        "1 " * 5000,
        "a" * 20000 + "@",
        "Via Roma " * 2000,
        "IT60 " * 3000,
        "3 " * 5000,
        "RSS MRA " * 2000,
        "via mail 3 volte " * 2000,
        "P.IVA " * 3000,
        "tel 06 " * 3000,
    ]:
        assert isinstance(redact(text), str)


@pytest.mark.parametrize("kind", sorted(PERSONAL))
def test_contains_personal_data(kind: str) -> None:
    assert contains_personal_data(f"value: {PERSONAL[kind]}")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "order 10023",
        "price 59.90",
        "2026-11-22",
        "4111 1111 1111 1112",
        "[email]",
        "CAP 20121",
        "9,90 € IVA inclusa",
        "[tax_code] [vat_number]",
    ],
)
def test_contains_no_personal_data(text: str) -> None:
    assert not contains_personal_data(text)


# --- redact_mapping ------------------------------------------------------------------


def test_redact_mapping_nested() -> None:
    payload = {
        "event": "handoff",
        "order": 10023,
        "customer": {"email": "mario@rossi.it", "phones": ["+39 02 1234 5678", None]},
        "turns": [("user", "my card is 4111111111111111"), ("bot", "Thanks!")],
        "tags": {"vip", "a@b.it"},
        "frozen": frozenset({"x@y.it"}),
        "raw": b"mario@rossi.it",
        "ok": True,
        "ratio": 0.5,
    }
    assert redact_mapping(payload) == {
        "event": "handoff",
        "order": 10023,
        "customer": {"email": "[email]", "phones": ["[phone]", None]},
        "turns": [("user", "my card is [card]"), ("bot", "Thanks!")],
        "tags": {"vip", "[email]"},
        "frozen": frozenset({"[email]"}),
        "raw": b"mario@rossi.it",
        "ok": True,
        "ratio": 0.5,
    }


def test_redact_mapping_returns_new_objects_and_leaves_input_alone() -> None:
    inner = ["mario@rossi.it"]
    payload = {"list": inner, "tuple": ("a@b.it",)}
    result = redact_mapping(payload)
    assert result is not payload
    assert result["list"] is not inner
    assert payload == {"list": ["mario@rossi.it"], "tuple": ("a@b.it",)}
    assert isinstance(result["tuple"], tuple)


def test_redact_mapping_redacts_keys() -> None:
    assert redact_mapping({"mario@rossi.it": 1, "name": "x"}) == {"[email]": 1, "name": "x"}


def test_redact_mapping_keeps_named_tuples_and_order() -> None:
    turn = namedtuple("Turn", "speaker text")
    result = redact_mapping([turn("user", "call 333 1234567")])
    assert result == [turn("user", "call [phone]")]
    assert type(result[0]) is turn
    ordered = redact_mapping(OrderedDict([("b", "a@b.it"), ("a", "x")]))
    assert list(ordered) == ["b", "a"]
    assert ordered["b"] == "[email]"


def test_redact_mapping_on_plain_values() -> None:
    assert redact_mapping("a@b.it") == "[email]"
    assert redact_mapping(5) == 5
    assert redact_mapping(None) is None


def test_redact_mapping_survives_cycles() -> None:
    payload: dict[str, object] = {"email": "a@b.it"}
    payload["self"] = payload
    assert redact_mapping(payload) == {"email": "[email]", "self": "[circular]"}


def test_redact_mapping_shared_child_is_not_circular() -> None:
    shared = ["a@b.it"]
    assert redact_mapping([shared, shared]) == [["[email]"], ["[email]"]]


# --- log redaction -------------------------------------------------------------------


@pytest.fixture
def restore_logging():
    """Put back the record factory and root handlers' ``format`` after a test."""
    factory = logging.getLogRecordFactory()
    root = logging.getLogger()
    before = {handler: handler.__dict__.get("format") for handler in root.handlers}
    yield
    logging.setLogRecordFactory(factory)
    for handler in root.handlers:
        if handler.__dict__.get("format") is not before.get(handler):
            if before.get(handler) is None:
                del handler.format
            else:
                handler.format = before[handler]


def make_logger(name: str, formatter: logging.Formatter | None = None):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter or logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def raise_with_email() -> None:
    customer = "mario.rossi@example.com"
    raise ValueError(f"no account for {customer}, card 4111 1111 1111 1111")


def test_install_redacts_handlers_added_later(restore_logging) -> None:
    install_log_redaction()
    logger, stream = make_logger("nightdesk.test.later")
    email, phone, card = PERSONAL["email"], PERSONAL["phone"], PERSONAL["card"]
    logger.info("customer %s phone %s", email, phone)
    logger.warning(f"card {card} for {email}")
    logger.error("payload %r", {"iban": PERSONAL["iban"], "order": 10023})
    logger.debug("ship to %(address)s", {"address": PERSONAL["address"]})
    output = stream.getvalue()
    assert_clean(output)
    assert output.splitlines() == [
        "INFO customer [email] phone [phone]",
        "WARNING card [card] for [email]",
        "ERROR payload {'iban': '[iban]', 'order': 10023}",
        "DEBUG ship to [address]",
    ]


def test_records_carry_redacted_message_and_no_args(restore_logging, caplog) -> None:
    install_log_redaction()
    logger = logging.getLogger("nightdesk.test.caplog")
    with caplog.at_level(logging.INFO, logger="nightdesk.test.caplog"):
        logger.info("reach me at %s or %s", PERSONAL["email"], PERSONAL["phone"])
        logger.info(f"IBAN {PERSONAL['iban']}, order 10023")
    first, second = caplog.records
    assert first.msg == "reach me at [email] or [phone]"
    assert not first.args
    assert second.getMessage() == "IBAN [iban], order 10023"
    assert_clean(caplog.text)
    assert "order 10023" in caplog.text


def test_install_is_idempotent(restore_logging) -> None:
    install_log_redaction()
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    assert logging.getLogRecordFactory() is factory
    record = logging.getLogRecordFactory()(
        "x", logging.INFO, __file__, 1, "mail %s", ("a@b.it",), None
    )
    assert record.msg == "mail [email]"


def test_install_wraps_existing_factory(restore_logging) -> None:
    seen = []
    previous = logging.getLogRecordFactory()

    def custom(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.custom = "yes"
        seen.append(record)
        return record

    logging.setLogRecordFactory(custom)
    install_log_redaction()
    logger, stream = make_logger("nightdesk.test.wrapped")
    logger.info("mail %s", "a@b.it")
    assert seen and seen[0].custom == "yes"
    assert stream.getvalue() == "INFO mail [email]\n"


def test_install_wraps_existing_root_handlers(restore_logging) -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(handler)
    try:
        install_log_redaction()
        install_log_redaction()
        record = logging.LogRecord(
            "bypass", logging.ERROR, __file__, 1, "raw %s", ("a@b.it",), None
        )
        handler.handle(record)  # built without the factory: only format() redacts
        assert stream.getvalue() == "raw [email]\n"
    finally:
        root.removeHandler(handler)
        handler.__dict__.pop("format", None)


def test_unloggable_message_never_raises(restore_logging, capsys) -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("boom a@b.it")

    install_log_redaction()
    logger, stream = make_logger("nightdesk.test.broken")
    logger.info("%d items", "not a number")
    logger.info(Broken())
    logger.info("value %s", Broken())
    assert stream.getvalue().splitlines() == ["INFO [unloggable message]"] * 3
    assert "Logging error" not in capsys.readouterr().err


def test_traceback_redacted_by_redacting_formatter(restore_logging) -> None:
    logger, stream = make_logger(
        "nightdesk.test.formatter", RedactingFormatter("%(levelname)s %(message)s")
    )
    try:
        raise_with_email()
    except ValueError:
        logger.exception("lookup failed for %s", PERSONAL["email"])
    output = stream.getvalue()
    assert "Traceback (most recent call last)" in output
    assert "ValueError: no account for [email], card [card]" in output
    assert output.startswith("ERROR lookup failed for [email]")
    assert_clean(output)


def test_redacting_formatter_caches_redacted_traceback(restore_logging) -> None:
    plain_stream = io.StringIO()
    plain = logging.StreamHandler(plain_stream)
    logger, stream = make_logger("nightdesk.test.shared", RedactingFormatter())
    logger.addHandler(plain)  # formats after the redacting handler, reusing exc_text
    try:
        raise_with_email()
    except ValueError:
        logger.exception("failed")
    assert_clean(stream.getvalue())
    assert_clean(plain_stream.getvalue())


def test_redacting_formatter_stack_info(restore_logging) -> None:
    logger, stream = make_logger("nightdesk.test.stack", RedactingFormatter())

    def inner(customer: str = "mario.rossi@example.com") -> None:
        logger.info("here", stack_info=True)

    inner()
    assert "Stack (most recent call last)" in stream.getvalue()
    assert_clean(stream.getvalue())


def test_redacting_formatter_never_raises() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d", ("nan",), None)
    assert RedactingFormatter().format(record) == "[unloggable message]"


def test_install_redacts_tracebacks_for_plain_handlers(restore_logging) -> None:
    install_log_redaction()
    logger, stream = make_logger("nightdesk.test.plain_traceback")
    try:
        raise_with_email()
    except ValueError:
        logger.exception("failed")
    output = stream.getvalue()
    assert "ValueError: no account for [email], card [card]" in output
    assert_clean(output)


def test_italian_personal_data_is_redacted_in_logs(restore_logging) -> None:
    install_log_redaction()
    logger, stream = make_logger("nightdesk.test.italian")
    logger.info(
        "cliente CF %s, P.IVA %s, cell %s, indirizzo %s, ordine %s",
        "RSSMRA80A01H501U", "12345678901", "347-765 43 21", "Via Roma 12", 10023,
    )
    assert stream.getvalue() == (
        "INFO cliente CF [tax_code], P.IVA [vat_number], cell [phone], indirizzo [address], "
        "ordine 10023\n"
    )


def test_fixture_restored_logging() -> None:
    factory = logging.getLogRecordFactory()
    record = factory("x", logging.INFO, __file__, 1, "mail %s", ("a@b.it",), None)
    assert record.getMessage() == "mail a@b.it"


def test_only_card_numbers_go_from_what_the_desk_keeps() -> None:
    from bot.handoff.redaction import redact_card_numbers

    text = "card 4111 1111 1111 1111, mail anna.rossi@example.com, tel +39 347 123 4567"
    assert redact_card_numbers(text) == (
        "card [card], mail anna.rossi@example.com, tel +39 347 123 4567")
    assert redact_card_numbers("order 10023") == "order 10023"
    italian = "CF RSSMRA80A01H501U, P.IVA 12345678903, Via Roma 12"
    assert redact_card_numbers(italian) == italian
