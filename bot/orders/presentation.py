"""How an order's state is explained: which response to use and the values it needs.

The wording itself lives in the domain's responses (`utter_order_<status>`); this module
only picks the response and puts dates, amounts and item lists in the conversation's
language through a `Phrasing`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.language import Phrasing
from bot.orders.model import Order, OrderItem
from bot.settings.brand import Brand


def _local_date(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return None if moment is None else moment.astimezone(zone).date()


def describe_items(items: tuple[OrderItem, ...], phrasing: Phrasing) -> str:
    """Item lines in words, e.g. Aria running shoes (size 42) and 2 x Merino socks."""
    names = []
    for item in items:
        name = item.name
        if item.size:
            name = phrasing.words("items.sized", name=item.name, size=item.size)
        names.append(phrasing.words("items.several", quantity=item.quantity, name=name)
                     if item.quantity > 1 else name)
    return phrasing.listing(names) or phrasing.words("items.none")


def refund_days(brand: Brand, payment_method: str) -> str:
    """Working days a refund takes for this payment method (card's figure if unknown)."""
    days = brand.refunds.days_by_payment_method
    return days.get(payment_method) or days.get("card") or max(days.values(), default="5-10")


def _card_sku(order: Order) -> str | None:
    """The product the order's card shows: the first item on its way, else the first item."""
    items = order.shipped_items or order.items
    return items[0].sku if items else None


def status_response(
    order: Order, brand: Brand, now: datetime, phrasing: Phrasing
) -> tuple[str, dict[str, str]]:
    """The response name for the order's status and every value its variations use.

    Args:
        order: a verified order (never call this before proof of ownership).
        brand: the brand's facts (time zone, refund times).
        now: an aware datetime; dates are phrased relative to it in the brand's zone.
        phrasing: the conversation's language.
    """
    zone = brand.timezone
    today = now.astimezone(zone).date()
    money = order.refund_amount if order.refund_amount is not None else order.total
    day = phrasing.day
    values = {
        "order_number": order.number,
        "carrier": order.carrier or phrasing.words("order.no_carrier"),
        "tracking_number": order.tracking_number or "",
        "tracking_url": order.tracking_url or phrasing.words("order.no_tracking"),
        "expected_date": day(order.expected_delivery, today),
        "original_date": day(order.original_estimate, today),
        "delivered_date": day(_local_date(order.delivered_at, zone), today),
        "returned_date": day(_local_date(order.returned_at, zone), today),
        "refund_date": day(_local_date(order.refunded_at, zone), today),
        "cancelled_date": day(_local_date(order.cancelled_at, zone), today),
        "delay_reason": order.delay_reason or phrasing.words("order.no_delay_reason"),
        "shipped_items": describe_items(order.shipped_items, phrasing),
        "pending_items": describe_items(order.pending_items, phrasing),
        "refund_amount": phrasing.money(float(Decimal(money)), order.currency),
        "refund_days": refund_days(brand, order.payment_method).replace("-", "–"),
        "payment_method": phrasing.payment_method(order.payment_method),
        "card_image_url": brand.messenger.order_card_image_for(_card_sku(order)),
    }
    return f"utter_order_{order.status.value}", values
