from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from bot.language import Phrasing
from bot.orders import OrderStatus
from bot.orders.presentation import describe_items, status_response
from bot.orders.seed import seed_demo_shop
from bot.orders.sql_backend import SqlOrderBackend


def test_human_dates(phrasing, phrasing_it):
    today = date(2026, 11, 22)
    assert phrasing.day(today, today) == "today"
    assert phrasing.day(today + timedelta(days=1), today) == "tomorrow"
    assert phrasing.day(today - timedelta(days=1), today) == "yesterday"
    assert phrasing.day(date(2026, 11, 24), today) == "on Tuesday 24 November"
    assert phrasing.day(date(2027, 1, 5), today) == "on Tuesday 5 January 2027"
    assert phrasing.day(None, today) == "soon"
    assert phrasing_it.day(today + timedelta(days=1), today) == "domani"
    assert phrasing_it.day(date(2026, 12, 7), today) == "lunedì 7 dicembre"
    assert phrasing_it.day(date(2027, 1, 5), today) == "martedì 5 gennaio 2027"


@pytest.mark.parametrize("language", ["en", "it"])
def test_every_status_has_its_response_and_values(engine, brand, now, wording, language):
    phrasing = Phrasing(wording, language, brand.timezone)
    seed_demo_shop(engine, now)
    backend = SqlOrderBackend(engine)
    seen = set()
    for number in range(10001, 10067):
        order = asyncio.run(backend.get_order(str(number)))
        response, values = status_response(order, brand, now, phrasing)
        assert response == f"utter_order_{order.status.value}"
        assert values["order_number"] == order.number
        assert all(isinstance(v, str) and "None" not in v for v in values.values())
        seen.add(order.status)
        if order.status is OrderStatus.SHIPPED:
            assert values["tracking_url"].startswith("https://")
        if order.status is OrderStatus.DELAYED:
            assert values["expected_date"] != values["original_date"]
        if order.status is OrderStatus.REFUNDED:
            assert values["refund_amount"] == phrasing.money(
                float(order.refund_amount or order.total), order.currency)
            assert "€" in values["refund_amount"]
    assert seen == set(OrderStatus)


def test_items_in_words(engine, now, phrasing, phrasing_it):
    seed_demo_shop(engine, now)
    order = asyncio.run(SqlOrderBackend(engine).get_order("10042"))
    assert order.status is OrderStatus.PARTIALLY_SHIPPED and len(order.items) >= 2
    assert " and " in describe_items(order.items, phrasing)
    assert describe_items((), phrasing) == "nothing"
    italian = describe_items(order.items, phrasing_it)
    assert " e " in italian and "size" not in italian
    assert describe_items((), phrasing_it) == "nessun articolo"


def test_the_order_card_shows_the_first_item_on_its_way(engine, brand, now, phrasing):
    seed_demo_shop(engine, now)
    order = asyncio.run(SqlOrderBackend(engine).get_order("10042"))
    on_its_way = [item for item in order.items if item.shipped]
    assert on_its_way and len(on_its_way) < len(order.items)  # partially shipped
    _, values = status_response(order, brand, now, phrasing)
    assert values["card_image_url"] == brand.messenger.order_card_image.replace(
        "{sku}", on_its_way[0].sku
    )


@pytest.mark.parametrize("language", ["en", "it"])
def test_status_sentences_read_well_for_every_order(engine, brand, now, wording, language):
    import re
    from pathlib import Path

    import yaml

    domain = yaml.safe_load((Path(__file__).resolve().parents[3] / "domain.yml").read_text())
    seed_demo_shop(engine, now)
    backend = SqlOrderBackend(engine)
    for number in range(10001, 10067):
        order = asyncio.run(backend.get_order(str(number)))
        response, values = status_response(
            order, brand, now, Phrasing(wording, language, brand.timezone))
        for variation in domain["responses"][response]:
            conditions = {c["name"]: c["value"] for c in variation.get("condition") or []}
            if conditions.get("language", "en") != language:
                continue
            sentence = variation["text"].format(**values)
            assert not re.search(r"\b(on on|since on|at on|due on on)\b", sentence), sentence
            assert "{" not in sentence and "None" not in sentence, sentence
            assert "(no tracking link yet)" not in sentence or order.status in (
                OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PROCESSING,
                OrderStatus.CANCELLED,
            ), sentence
