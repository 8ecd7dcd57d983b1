"""Tests for bot.settings.brand: loading brand.yml and reporting its mistakes."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.settings.brand import (
    Brand,
    BrandError,
    Express,
    Shift,
    Shipping,
    ShippingZone,
    format_money,
    load_brand,
)

REAL_BRAND = Path(__file__).resolve().parents[3] / "brand.yml"
DELETE = object()


def real_text() -> str:
    return REAL_BRAND.read_text(encoding="utf-8")


def real_data() -> dict[str, Any]:
    return yaml.safe_load(real_text())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "brand.yml"
    path.write_text(text, encoding="utf-8")
    return path


def steps(key_path: str) -> list[str | int]:
    """Split "shipping.zones[2].cost" into ["shipping", "zones", 2, "cost"]."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key_path):
        parts.append(int(index) if index else name)
    return parts


def changed(tmp_path: Path, key_path: str, value: object) -> Path:
    """Write the real brand.yml with one value replaced, added or deleted."""
    data = real_data()
    *parents, last = steps(key_path)
    target: Any = data
    for step in parents:
        target = target[step]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return write(tmp_path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def error_for(path: Path) -> BrandError:
    with pytest.raises(BrandError) as caught:
        load_brand(path)
    return caught.value


# --------------------------------------------------------------------- the real file


def test_real_brand_file_loads_and_matches_its_text() -> None:
    raw = real_data()
    brand = load_brand(REAL_BRAND)

    assert isinstance(brand, Brand)
    assert brand.name == raw["brand"]["name"]
    assert brand.bot_name == raw["brand"]["bot_name"]
    assert brand.timezone == ZoneInfo(raw["timezone"])
    assert sorted(brand.office_hours) == list(range(7))
    for shifts in brand.office_hours.values():
        assert all(isinstance(shift, Shift) and shift.start < shift.end for shift in shifts)
    assert brand.holidays == frozenset(raw["holidays"])
    assert all(isinstance(day, date) for day in brand.holidays)
    assert brand.answer_within_minutes_when_open == raw["answer_within_minutes_when_open"]
    assert brand.retention_days == raw["retention_days"]
    assert brand.languages == tuple(
        [raw["brand"]["default_language"]]
        + [code for code in raw["brand"]["languages"] if code != raw["brand"]["default_language"]]
    )
    assert brand.language == raw["brand"]["default_language"]
    assert [zone.name.by_language for zone in brand.shipping.zones] == [
        zone["name"] for zone in raw["shipping"]["zones"]
    ]
    assert isinstance(brand.shipping.express.order_before, time)
    assert brand.returns.window_days == raw["returns"]["window_days"]
    methods = raw["refunds"]["days_by_payment_method"]
    assert brand.refunds.days_by_payment_method == {k: str(v) for k, v in methods.items()}
    assert brand.contact.email == raw["contact"]["email"]


def test_every_listed_country_finds_its_own_zone() -> None:
    brand = load_brand(REAL_BRAND)
    for zone in brand.shipping.zones:
        for country in zone.countries:
            assert brand.shipping.zone_for(country) == zone
            assert brand.shipping.zone_for(f"  {country.upper()} ") == zone


def test_brand_is_frozen() -> None:
    brand = load_brand(str(REAL_BRAND))
    with pytest.raises(AttributeError):
        brand.name = "Other"  # type: ignore[misc]


def test_unquoted_times_and_dates_are_read_as_text_not_numbers(tmp_path: Path) -> None:
    text = re.sub(r"order_before:.*", "order_before: 13:05", real_text())
    text = re.sub(r"(?m)^holidays:\n", "holidays:\n  - 2030-01-02\n", text)
    brand = load_brand(write(tmp_path, text))
    assert brand.shipping.express.order_before == time(13, 5)
    assert date(2030, 1, 2) in brand.holidays


def test_shifts_written_out_of_order_are_sorted(tmp_path: Path) -> None:
    brand = load_brand(changed(tmp_path, "office_hours.monday", ["14:00-18:00", "09:00-13:00"]))
    assert [str(shift) for shift in brand.office_hours[0]] == ["09:00-13:00", "14:00-18:00"]


def test_empty_or_null_day_means_closed(tmp_path: Path) -> None:
    brand = load_brand(changed(tmp_path, "office_hours.sunday", None))
    assert brand.office_hours[6] == ()


# ------------------------------------------------------------------------- mistakes

CASES = [
    # wrong values
    ("office_hours.monday[1]", "14:00-12:00", '"14:00-12:00" ends before it starts'),
    ("office_hours.monday[0]", "09:00-09:00", "is empty"),
    ("office_hours.friday[0]", "9 to 5", 'expected a shift like "09:00-13:00"'),
    ("office_hours.friday[0]", "09:00-25:00", 'got "09:00-25:00"'),
    ("office_hours.funday", [], '"funday" is not a weekday'),
    ("office_hours.wednesday", "09:00-13:00", 'expected a list, got "09:00-13:00"'),
    ("shipping.zones[2].cost", "abc", 'expected a number, got "abc"'),
    ("shipping.zones[0].cost", -1, "must not be negative"),
    ("shipping.zones[1].delivery_days", "soon", 'like "5-10"'),
    ("shipping.zones[1].delivery_days", "5-3", "ends before it starts"),
    ("shipping.free_shipping_threshold", True, "expected a number, got true"),
    ("shipping.currency", "euro", "three-letter currency code"),
    ("shipping.carriers", "DHL", 'expected a list, got "DHL"'),
    ("shipping.express.available", "maybe", "expected true or false"),
    ("shipping.express.order_before", "1pm", 'expected a time like "13:00"'),
    ("shipping.express.countries[0]", "Narnia", '"Narnia" is not in any shipping zone'),
    ("shipping", ["a", "b"], "expected a mapping of keys, got a list"),
    ("timezone", "Europe/Rom", 'unknown time zone "Europe/Rom"'),
    ("timezone", 5, "expected text, got 5"),
    ("brand.name", 42, "expected text, got 42"),
    ("brand.bot_name", "  ", "must not be empty"),
    ("brand.avatar_url", "nora.png", "web address"),
    ("brand.languages[1]", "English language", "language code"),
    ("brand.languages[1]", "it", "listed twice"),
    ("brand.default_language", "de", "is not in brand.languages"),
    ("shipping.zones[0].name", "Italy", "give it in every brand language"),
    ("shipping.zones[0].name.fr", "Italie", "is not a brand language"),
    ("shipping.zones[0].name.en", DELETE, "every brand language needs its form"),
    ("messenger.greeting.it", "Ciao! Sono Nora.", "automated assistant"),
    ("web_chat.send.en", DELETE, "every brand language needs its form"),
    ("web_chat", DELETE, "missing"),
    ("answer_within_minutes_when_open", -5, "must not be negative"),
    ("answer_within_minutes_when_open", 7.5, "expected a whole number, got 7.5"),
    ("retention_days", 0, "must be from 1 to 3650 days, got 0"),
    ("retention_days", 40000, "must be from 1 to 3650 days"),
    ("retention_days", "a year", 'expected a whole number, got "a year"'),
    ("retention_days", DELETE, "missing"),
    ("returns.window_days", "thirty", 'expected a whole number, got "thirty"'),
    ("returns.conditions.en[1]", None, "expected text, got nothing"),
    ("refunds.days_by_payment_method.card", "a week", 'got "a week"'),
    ("contact.email", "help-at-example", "e-mail address"),
    ("holidays[1]", "2026-02-30", '"2026-02-30" is not a valid date'),
    ("holidays[0]", "next monday", 'expected a date like "2026-12-25"'),
    ("holidays[0]", "2026-13-01", "is not a valid date"),
    # unknown keys
    ("colour", "blue", "unknown key"),
    ("shipping.zones[0].price", 3, "unknown key"),
    # missing keys
    ("returns.window_days", DELETE, "missing"),
    ("brand.bot_name", DELETE, "missing"),
    ("office_hours.sunday", DELETE, "missing"),
    ("shipping.express.order_before", DELETE, "missing"),
    ("contact", DELETE, "missing"),
]


@pytest.mark.parametrize(("key_path", "value", "problem"), CASES)
def test_mistake_is_reported_with_file_and_key_path(
    tmp_path: Path, key_path: str, value: object, problem: str
) -> None:
    path = changed(tmp_path, key_path, value)
    error = error_for(path)
    assert str(error).startswith(f"{path}: {key_path}: "), str(error)
    assert problem in str(error)
    assert error.key_path == key_path
    assert error.file == str(path)
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("shifts", "message"),
    [
        (["09:00-13:00", "12:00-15:00"], '[1]: "12:00-15:00" overlaps "09:00-13:00"'),
        (["12:00-15:00", "09:00-13:00"], '[1]: "09:00-13:00" overlaps "12:00-15:00"'),
        (
            ["09:00-13:00", "14:00-18:00", "08:00-09:30"],
            '[2]: "08:00-09:30" overlaps "09:00-13:00"',
        ),
        (["09:00-13:00", "09:00-13:00"], '[1]: "09:00-13:00" overlaps "09:00-13:00"'),
    ],
)
def test_overlapping_shifts(tmp_path: Path, shifts: list[str], message: str) -> None:
    path = changed(tmp_path, "office_hours.tuesday", shifts)
    assert str(error_for(path)) == f"{path}: office_hours.tuesday{message}"


def test_touching_shifts_do_not_overlap(tmp_path: Path) -> None:
    brand = load_brand(changed(tmp_path, "office_hours.tuesday", ["09:00-13:00", "13:00-18:00"]))
    assert len(brand.office_hours[1]) == 2


def test_example_message_reads_exactly_as_documented(tmp_path: Path) -> None:
    path = changed(tmp_path, "shipping.zones[2].cost", "abc")
    assert str(error_for(path)) == f'{path}: shipping.zones[2].cost: expected a number, got "abc"'


def test_relative_file_name_is_shown_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed(tmp_path, "returns.window_days", DELETE)
    monkeypatch.chdir(tmp_path)
    assert str(error_for(Path("brand.yml"))) == "brand.yml: returns.window_days: missing"


def test_misspelt_key_suggests_the_right_one(tmp_path: Path) -> None:
    data = real_data()
    data["returns"]["window_day"] = data["returns"].pop("window_days")
    path = write(tmp_path, yaml.safe_dump(data, sort_keys=False))
    error = error_for(path)
    assert error.key_path == "returns.window_day"
    assert "did you mean window_days?" in str(error)


def test_country_in_two_zones(tmp_path: Path) -> None:
    first = real_data()["shipping"]["zones"][0]
    path = changed(tmp_path, "shipping.zones[1].countries[0]", first["countries"][0])
    error = error_for(path)
    assert error.key_path == "shipping.zones[1].countries[0]"
    assert f'is already in zone "{first["name"]["it"]}" (shipping.zones[0])' in str(error)


def test_country_in_two_zones_under_another_name(tmp_path: Path) -> None:
    zones = [
        {"name": {"it": "Vicino", "en": "Near"}, "countries": ["Holland"],
         "delivery_days": "1-2", "cost": 5},
        {"name": {"it": "Lontano", "en": "Far"}, "countries": ["Italy", "the Netherlands"],
         "delivery_days": 3, "cost": 9},
    ]
    error = error_for(changed(tmp_path, "shipping.zones", zones))
    assert error.key_path == "shipping.zones[1].countries[1]"
    assert '"the Netherlands" is already in zone "Vicino" (shipping.zones[0])' in str(error)


def test_weekday_written_twice_in_different_case(tmp_path: Path) -> None:
    error = error_for(changed(tmp_path, "office_hours.Monday", ["09:00-10:00"]))
    assert error.key_path == "office_hours.Monday"
    assert "given twice" in str(error)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    lines = real_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("timezone:"))
    lines[number] = "timezone: Europe: Rome"
    error = error_for(write(tmp_path, "\n".join(lines) + "\n"))
    assert error.line == number + 1
    assert str(error).startswith(f"{tmp_path / 'brand.yml'}: line {number + 1}, column ")
    assert "invalid YAML" in str(error)


def test_key_written_twice_names_the_line(tmp_path: Path) -> None:
    lines = real_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("timezone:"))
    lines.insert(number + 1, "timezone: Europe/Paris")
    error = error_for(write(tmp_path, "\n".join(lines) + "\n"))
    assert error.line == number + 2
    assert 'the key "timezone" is written twice' in str(error)


def test_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    error = error_for(write(tmp_path, "- just\n- a list\n"))
    assert "expected a mapping of keys, got a list" in str(error)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    assert str(error_for(path)) == f"{path}: the file is empty"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yml"
    assert str(error_for(path)).startswith(f"{path}: cannot be read")


# ------------------------------------------------------------------------ countries


def make_shipping(express_available: bool = True) -> Shipping:
    return Shipping(
        currency="EUR",
        free_shipping_threshold=60.0,
        carriers=("DHL",),
        zones=(
            ShippingZone("Italy", ("Italy",), "1-2", 4.9),
            ShippingZone("EU", ("Germany", "Spain", "Netherlands", "Austria"), "3-5", 9.9),
            ShippingZone("Non-EU", ("United Kingdom", "Switzerland"), "4-7", 14.9),
            ShippingZone("World", ("United States", "Japan"), "7-12", 24.9),
        ),
        express=Express(express_available, "1", 14.9, ("Italy", "Germany"), time(13)),
    )


@pytest.mark.parametrize(
    ("written", "zone"),
    [
        ("Italy", "Italy"),
        ("  italy  ", "Italy"),
        ("ITALIA", "Italy"),
        ("UK", "Non-EU"),
        ("England", "Non-EU"),
        ("Great Britain", "Non-EU"),
        ("britain", "Non-EU"),
        ("the United Kingdom", "Non-EU"),
        ("USA", "World"),
        ("U.S.A.", "World"),
        ("us", "World"),
        ("America", "World"),
        ("United States of America", "World"),
        ("Deutschland", "EU"),
        ("España", "EU"),
        ("espana", "EU"),
        ("Holland", "EU"),
        ("The Netherlands", "EU"),
        ("Österreich", "EU"),
        ("Schweiz", "Non-EU"),
    ],
)
def test_zone_for_understands_common_variants(written: str, zone: str) -> None:
    found = make_shipping().zone_for(written)
    assert found is not None
    assert found.name == zone


@pytest.mark.parametrize("written", ["Narnia", "", "   ", "the"])
def test_zone_for_unknown_country(written: str) -> None:
    assert make_shipping().zone_for(written) is None


def test_express_for() -> None:
    shipping = make_shipping()
    assert shipping.express_for("Italy")
    assert shipping.express_for(" deutschland ")
    assert not shipping.express_for("Spain")
    assert not shipping.express_for("Narnia")
    assert not make_shipping(express_available=False).express_for("Italy")


# ---------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (9.9, "EUR", "€9.90"),
        (5, "GBP", "£5.00"),
        (3.5, "USD", "$3.50"),
        (9.9, "CHF", "9.90 CHF"),
        (0, "eur", "€0.00"),
        (14.999, "EUR", "€15.00"),
        (1234.5, "EUR", "€1,234.50"),
        (-2, "USD", "-$2.00"),
        (-0.001, "EUR", "€0.00"),
        (12, "sek", "12.00 SEK"),
    ],
)
def test_format_money(amount: float, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text
