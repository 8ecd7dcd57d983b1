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
}
SECRETS = (
    "mario.rossi@example.com",
    "example.com",
    "1234 5678",
    "4111",
    "X054",
    "Via Roma",
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
        "Via Roma 12",
        "I live in Milano",
        "Bestellnummer: 10999",
        "shipped via DHL on 2026-11-22",
        "2 items for 59.90",
        "order 10023 to Milano",
    ],
)
def test_not_an_address_is_kept(text: str) -> None:
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
    assert once == "[email] [phone] [card] [iban] [address] order 10023"


def test_redact_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        redact(12345678)  # type: ignore[arg-type]


def test_long_hostile_input_is_fast() -> None:
    for text in ["1 " * 5000, "a" * 20000 + "@", "Via Roma " * 2000, "IT60 " * 3000]:
        assert isinstance(redact(text), str)


@pytest.mark.parametrize("kind", sorted(PERSONAL))
def test_contains_personal_data(kind: str) -> None:
    assert contains_personal_data(f"value: {PERSONAL[kind]}")


@pytest.mark.parametrize(
    "text", ["", "order 10023", "price 59.90", "2026-11-22", "4111 1111 1111 1112", "[email]"]
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
