from __future__ import annotations

import asyncio
from datetime import date, timedelta

from bot.orders import OrderStatus
from bot.orders.presentation import describe_items, human_date, status_response
from bot.orders.seed import seed_demo_shop
from bot.orders.sql_backend import SqlOrderBackend


def test_human_dates():
    today = date(2026, 11, 22)
    assert human_date(today, today) == "today"
    assert human_date(today + timedelta(days=1), today) == "tomorrow"
    assert human_date(today - timedelta(days=1), today) == "yesterday"
    assert human_date(date(2026, 11, 24), today) == "on Tuesday 24 November"
    assert human_date(date(2027, 1, 5), today) == "on Tuesday 5 January 2027"
    assert human_date(None, today) == "soon"


def test_every_status_has_its_response_and_values(engine, brand, now):
    seed_demo_shop(engine, now)
    backend = SqlOrderBackend(engine)
    seen = set()
    for number in range(10001, 10067):
        order = asyncio.run(backend.get_order(str(number)))
        response, values = status_response(order, brand, now)
        assert response == f"utter_order_{order.status.value}"
        assert values["order_number"] == order.number
        assert all(isinstance(v, str) and "None" not in v for v in values.values())
        seen.add(order.status)
        if order.status is OrderStatus.SHIPPED:
            assert values["tracking_url"].startswith("https://")
        if order.status is OrderStatus.DELAYED:
            assert values["expected_date"] != values["original_date"]
        if order.status is OrderStatus.REFUNDED:
            assert values["refund_amount"].startswith("€")
    assert seen == set(OrderStatus)


def test_items_in_words(engine, now):
    seed_demo_shop(engine, now)
    order = asyncio.run(SqlOrderBackend(engine).get_order("10042"))
    assert order.status is OrderStatus.PARTIALLY_SHIPPED and len(order.items) >= 2
    assert " and " in describe_items(order.items)
    assert describe_items(()) == "nothing"


def test_the_order_card_shows_the_first_item_on_its_way(engine, brand, now):
    seed_demo_shop(engine, now)
    order = asyncio.run(SqlOrderBackend(engine).get_order("10042"))
    on_its_way = [item for item in order.items if item.shipped]
    assert on_its_way and len(on_its_way) < len(order.items)  # partially shipped
    _, values = status_response(order, brand, now)
    assert values["card_image_url"] == brand.messenger.order_card_image.replace(
        "{sku}", on_its_way[0].sku
    )


def test_status_sentences_read_well_for_every_order(engine, brand, now):
    import re
    from pathlib import Path

    import yaml

    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text())
    seed_demo_shop(engine, now)
    backend = SqlOrderBackend(engine)
    for number in range(10001, 10067):
        order = asyncio.run(backend.get_order(str(number)))
        response, values = status_response(order, brand, now)
        for variation in domain["responses"][response]:
            sentence = variation["text"].format(**values)
            assert not re.search(r"\b(on on|since on|at on|due on on)\b", sentence), sentence
            assert "{" not in sentence and "None" not in sentence, sentence
            assert "(no tracking link yet)" not in sentence or order.status in (
                OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PROCESSING,
                OrderStatus.CANCELLED,
            ), sentence
