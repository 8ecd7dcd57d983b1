"""The demo shop: realistic customers and orders, with dates relative to "now".

`nightdesk seed` replaces the demo shop's rows with these, so every status is always
present and every date is fresh. Generation is deterministic for a given `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine

from bot.orders.model import OrderStatus
from bot.store import (
    ShopCustomerRow,
    ShopOrderItemRow,
    ShopOrderRow,
    ensure_schema,
    session_scope,
)

FIRST_ORDER_NUMBER = 10001
ORDER_COUNT = 66

TRACKING_URLS = {
    "BRT": "https://vas.brt.it/vas/sped_det_show.hsm?Nspediz={number}",
    "DHL": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={number}",
    "UPS": "https://www.ups.com/track?tracknum={number}",
}


@dataclass(frozen=True)
class DemoCustomer:
    """A demo customer: name, e-mail and address."""

    first_name: str
    last_name: str
    email: str
    street: str
    city: str
    postcode: str
    country: str


CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer("Anna", "Rossi", "anna.rossi@example.com", "Via Torino 14", "Milano", "20121", "Italy"),  # noqa: E501
    DemoCustomer("Lukas", "Schneider", "lukas.schneider@example.de", "Invalidenstraße 117", "Berlin", "10115", "Germany"),  # noqa: E501
    DemoCustomer("Camille", "Dubois", "camille.dubois@example.fr", "12 rue de Rivoli", "Paris", "75001", "France"),  # noqa: E501
    DemoCustomer("Oliver", "Smith", "oliver.smith@example.co.uk", "10 Downing Lane", "London", "SW1A 1AA", "United Kingdom"),  # noqa: E501
    DemoCustomer("Giulia", "Bianchi", "giulia.b@example.it", "Corso Vittorio Emanuele 45", "Torino", "10123", "Italy"),  # noqa: E501
    DemoCustomer("Marco", "Esposito", "marco.esposito@example.it", "Via Toledo 210", "Napoli", "80134", "Italy"),  # noqa: E501
    DemoCustomer("Sofia", "Romano", "sofia.romano@example.com", "Via del Corso 7", "Roma", "00186", "Italy"),  # noqa: E501
    DemoCustomer("Emma", "Müller", "emma.mueller@example.de", "Leopoldstraße 20", "München", "80802", "Germany"),  # noqa: E501
    DemoCustomer("Lucía", "García", "lucia.garcia@example.es", "Calle de Alcalá 50", "Madrid", "28014", "Spain"),  # noqa: E501
    DemoCustomer("Jan", "de Vries", "jan.devries@example.nl", "Keizersgracht 300", "Amsterdam", "1016 EZ", "Netherlands"),  # noqa: E501
    DemoCustomer("Chloé", "Martin", "chloe.martin@example.fr", "8 cours Lafayette", "Lyon", "69003", "France"),  # noqa: E501
    DemoCustomer("Noah", "Johnson", "noah.johnson@example.com", "350 Fifth Avenue", "New York", "10118", "United States"),  # noqa: E501
    DemoCustomer("Francesca", "Ricci", "francesca.ricci@example.it", "Via Indipendenza 3", "Bologna", "40121", "Italy"),  # noqa: E501
    DemoCustomer("Maximilian", "Weber", "max.weber@example.at", "Mariahilfer Straße 88", "Wien", "1070", "Austria"),  # noqa: E501
    DemoCustomer("Aoife", "Murphy", "aoife.murphy@example.ie", "22 Grafton Street", "Dublin", "D02 VF65", "Ireland"),  # noqa: E501
    DemoCustomer("Lorenzo", "Conti", "lorenzo.conti@example.it", "Via Garibaldi 9", "Genova", "16124", "Italy"),  # noqa: E501
    DemoCustomer("Ines", "Silva", "ines.silva@example.pt", "Rua Augusta 100", "Lisboa", "1100-053", "Portugal"),  # noqa: E501
    DemoCustomer("Elias", "Andersson", "elias.andersson@example.se", "Drottninggatan 55", "Stockholm", "111 21", "Sweden"),  # noqa: E501
    DemoCustomer("Chiara", "Gallo", "chiara.gallo@example.it", "Via Roma 12", "Firenze", "50123", "Italy"),  # noqa: E501
    DemoCustomer("Hannah", "Fischer", "hannah.fischer@example.de", "Königsallee 30", "Düsseldorf", "40212", "Germany"),  # noqa: E501
    DemoCustomer("Léa", "Bernard", "lea.bernard@example.be", "Rue Neuve 15", "Bruxelles", "1000", "Belgium"),  # noqa: E501
    DemoCustomer("Alessandro", "Greco", "ale.greco@example.it", "Via Etnea 150", "Catania", "95131", "Italy"),  # noqa: E501
    DemoCustomer("Zofia", "Kowalska", "zofia.kowalska@example.pl", "ul. Marszałkowska 10", "Warszawa", "00-590", "Poland"),  # noqa: E501
    DemoCustomer("Freja", "Nielsen", "freja.nielsen@example.dk", "Strøget 4", "København", "1160", "Denmark"),  # noqa: E501
    DemoCustomer("Matteo", "Marino", "matteo.marino@example.it", "Via Sparano 60", "Bari", "70121", "Italy"),  # noqa: E501
    DemoCustomer("Lena", "Huber", "lena.huber@example.ch", "Bahnhofstrasse 21", "Zürich", "8001", "Switzerland"),  # noqa: E501
    DemoCustomer("Ethan", "Brown", "ethan.brown@example.ca", "200 Queen Street W", "Toronto", "M5H 2N2", "Canada"),  # noqa: E501
    DemoCustomer("Martina", "Colombo", "martina.colombo@example.it", "Piazza Duomo 1", "Milano", "20122", "Italy"),  # noqa: E501
    DemoCustomer("Paul", "Wagner", "paul.wagner@example.de", "Neuer Wall 18", "Hamburg", "20354", "Germany"),  # noqa: E501
    DemoCustomer("Sara", "Lombardi", "sara.lombardi@example.it", "Via Dante 2", "Verona", "37121", "Italy"),  # noqa: E501
)

PRODUCTS: tuple[tuple[str, str, Decimal], ...] = (
    ("NW-RUN-01", "Aria running shoes", Decimal("89.90")),
    ("NW-SNK-02", "Brera leather sneakers", Decimal("119.00")),
    ("NW-BOT-03", "Dolomiti hiking boots", Decimal("159.00")),
    ("NW-LOA-04", "Navigli suede loafers", Decimal("129.50")),
    ("NW-SAN-05", "Amalfi sandals", Decimal("59.90")),
    ("NW-CHE-06", "Chelsea boots Nero", Decimal("139.00")),
    ("NW-SLP-07", "Cashmere slippers", Decimal("45.00")),
    ("NW-SOX-08", "Merino socks, 3 pairs", Decimal("19.90")),
    ("NW-CAR-09", "Shoe care kit", Decimal("24.50")),
    ("NW-TRL-10", "Sentiero trail runners", Decimal("109.00")),
)

SHOWCASE_STATUSES: dict[int, OrderStatus] = {
    10023: OrderStatus.SHIPPED,
    10024: OrderStatus.DELAYED,
    10025: OrderStatus.DELIVERED,
    10031: OrderStatus.OUT_FOR_DELIVERY,
    10042: OrderStatus.PARTIALLY_SHIPPED,
    10045: OrderStatus.REFUNDED,
}
"""Orders the README and the tests talk about; 10023-10025 belong to Anna Rossi (20121)."""

PAYMENT_METHODS = ("card", "paypal", "card", "bank_transfer", "card", "paypal")
SIZES = ("37", "38", "39", "40", "41", "42", "43", "44", "45")


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


FIXED_CUSTOMERS = {10023: 0, 10024: 0, 10025: 0, 10050: 3}
"""Anna Rossi (20121) owns 10023-10025; Oliver Smith (UK postcode SW1A 1AA) owns 10050."""


def _customer_for(number: int, rng: random.Random) -> int:
    customer = rng.randrange(1, len(CUSTOMERS))  # drawn always, so other orders stay stable
    return FIXED_CUSTOMERS.get(number, customer)


def _status_for(number: int) -> OrderStatus:
    if number in SHOWCASE_STATUSES:
        return SHOWCASE_STATUSES[number]
    statuses = list(OrderStatus)
    return statuses[(number - FIRST_ORDER_NUMBER) % len(statuses)]


def _tracking(carrier: str, rng: random.Random) -> tuple[str, str]:
    number = (
        f"{rng.randrange(10**9, 10**10)}"
        if carrier == "DHL"
        else f"1Z{rng.randrange(10**15, 10**16)}"
        if carrier == "UPS"
        else f"{rng.randrange(10**11, 10**12)}"
    )
    return number, TRACKING_URLS[carrier].format(number=number)


def _shipping_days(country: str) -> int:
    return 2 if country == "Italy" else 5 if country != "United States" else 9


def build_order(number: int, now: datetime, rng: random.Random, customer_id: int) -> ShopOrderRow:
    """One demo order row (with items) in the state its number calls for."""
    customer = CUSTOMERS[customer_id]
    status = _status_for(number)
    today = now.date()
    lines = rng.sample(PRODUCTS, k=rng.choice((1, 1, 2, 2, 3)))
    items = [
        ShopOrderItemRow(
            sku=sku,
            name=name,
            size=None if sku in ("NW-SOX-08", "NW-CAR-09") else rng.choice(SIZES),
            quantity=1 if price > 40 else rng.choice((1, 2)),
            unit_price_cents=_cents(price),
            shipped=status
            not in (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PROCESSING,
                    OrderStatus.CANCELLED),
        )
        for sku, name, price in lines
    ]
    if status is OrderStatus.PARTIALLY_SHIPPED and len(items) == 1:
        sku, name, price = PRODUCTS[7]
        items.append(
            ShopOrderItemRow(
                sku=sku, name=name, size=None, quantity=1, unit_price_cents=_cents(price)
            )
        )
    if status is OrderStatus.PARTIALLY_SHIPPED:
        for item in items[1:]:
            item.shipped = False
    total_cents = sum(item.unit_price_cents * item.quantity for item in items)
    carrier = "BRT" if customer.country == "Italy" else rng.choice(("DHL", "UPS"))
    transit = _shipping_days(customer.country)
    age_days = {
        OrderStatus.PLACED: 0,
        OrderStatus.PAID: 1,
        OrderStatus.PROCESSING: 2,
        OrderStatus.SHIPPED: 3,
        OrderStatus.OUT_FOR_DELIVERY: transit + 1,
        OrderStatus.DELIVERED: transit + 6,
        OrderStatus.DELAYED: transit + 5,
        OrderStatus.PARTIALLY_SHIPPED: 3,
        OrderStatus.RETURNED: transit + 20,
        OrderStatus.REFUNDED: transit + 25,
        OrderStatus.CANCELLED: 6,
    }[status]
    placed_at = now - timedelta(days=age_days, hours=rng.randrange(1, 10))
    row = ShopOrderRow(
        number=str(number),
        customer_id=customer_id + 1,
        status=status.value,
        placed_at=placed_at,
        currency="EUR",
        total_cents=total_cents,
        payment_method=PAYMENT_METHODS[number % len(PAYMENT_METHODS)],
        items=items,
    )
    shipped = status not in (
        OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.PROCESSING, OrderStatus.CANCELLED
    )
    if shipped:
        row.carrier = carrier
        row.tracking_number, row.tracking_url = _tracking(carrier, rng)
        row.shipped_at = placed_at + timedelta(days=1)
        row.original_estimate = (row.shipped_at + timedelta(days=transit)).date()
        row.expected_delivery = row.original_estimate
    if status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_SHIPPED):
        row.expected_delivery = max(row.original_estimate, today + timedelta(days=1))
    if status is OrderStatus.OUT_FOR_DELIVERY:
        row.expected_delivery = today
    if status is OrderStatus.DELAYED:
        row.original_estimate = today - timedelta(days=2)
        row.expected_delivery = today + timedelta(days=3)
        row.delay_reason = rng.choice(
            ("held up at the carrier's sorting hub", "waiting for customs clearance",
             "delayed by bad weather on the route")
        )
    if status in (OrderStatus.DELIVERED, OrderStatus.RETURNED, OrderStatus.REFUNDED):
        row.delivered_at = datetime.combine(
            row.original_estimate, datetime.min.time(), tzinfo=now.tzinfo
        ) + timedelta(hours=11)
    if status in (OrderStatus.RETURNED, OrderStatus.REFUNDED):
        row.returned_at = now - timedelta(days=3 if status is OrderStatus.RETURNED else 9)
    if status is OrderStatus.REFUNDED:
        row.refund_amount_cents = total_cents
        row.refunded_at = now - timedelta(days=4)
    if status is OrderStatus.CANCELLED:
        row.cancelled_at = placed_at + timedelta(hours=5)
    return row


def seed_demo_shop(engine: Engine, now: datetime) -> int:
    """Replaces the demo shop's rows with a fresh set; returns how many orders it wrote.

    Args:
        engine: the product database.
        now: an aware datetime; every date in the shop is relative to it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ensure_schema(engine)
    rng = random.Random(20261122)
    with session_scope(engine) as session:
        session.query(ShopOrderItemRow).delete()
        session.query(ShopOrderRow).delete()
        session.query(ShopCustomerRow).delete()
        for index, customer in enumerate(CUSTOMERS, start=1):
            session.add(ShopCustomerRow(id=index, **customer.__dict__))
        session.flush()
        for number in range(FIRST_ORDER_NUMBER, FIRST_ORDER_NUMBER + ORDER_COUNT):
            customer_id = _customer_for(number, rng)
            session.add(build_order(number, now, rng, customer_id))
    return ORDER_COUNT

