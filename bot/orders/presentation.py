"""How an order's state is explained: which response to use and the values it needs.

The wording itself lives in the domain's responses (`utter_order_<status>`); this module
only picks the response and formats dates, amounts and item lists for it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.orders.model import Order, OrderItem
from bot.settings.brand import Brand, format_money

PAYMENT_METHOD_NAMES = {
    "card": "card",
    "paypal": "PayPal account",
    "bank_transfer": "bank account",
    "gift_card": "gift card",
}


def human_date(day: date | None, today: date) -> str:
    """A date as the customer reads it: today, tomorrow, on Tuesday 24 November.

    The year is added when it is not the current one.
    """
    if day is None:
        return "soon"
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    text = f"{day.strftime('%A')} {day.day} {day.strftime('%B')}"
    if day.year != today.year:
        text += f" {day.year}"
    return f"on {text}"


def _local_date(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return None if moment is None else moment.astimezone(zone).date()


def describe_items(items: tuple[OrderItem, ...]) -> str:
    """Item lines in words, e.g. Aria running shoes (size 42) and 2 x Merino socks."""
    names = []
    for item in items:
        name = item.name + (f" (size {item.size})" if item.size else "")
        names.append(f"{item.quantity} x {name}" if item.quantity > 1 else name)
    if len(names) <= 1:
        return "".join(names) or "nothing"
    return ", ".join(names[:-1]) + " and " + names[-1]


def refund_days(brand: Brand, payment_method: str) -> str:
    """Working days a refund takes for this payment method (card's figure if unknown)."""
    days = brand.refunds.days_by_payment_method
    return days.get(payment_method) or days.get("card") or max(days.values(), default="5-10")


def _card_sku(order: Order) -> str | None:
    """The product the order's card shows: the first item on its way, else the first item."""
    items = order.shipped_items or order.items
    return items[0].sku if items else None


def status_response(order: Order, brand: Brand, now: datetime) -> tuple[str, dict[str, str]]:
    """The response name for the order's status and every value its variations use.

    Args:
        order: a verified order (never call this before proof of ownership).
        brand: the brand's facts (time zone, refund times).
        now: an aware datetime; dates are phrased relative to it in the brand's zone.
    """
    zone = brand.timezone
    today = now.astimezone(zone).date()
    money = order.refund_amount if order.refund_amount is not None else order.total
    values = {
        "order_number": order.number,
        "carrier": order.carrier or "the carrier",
        "tracking_number": order.tracking_number or "",
        "tracking_url": order.tracking_url or "(no tracking link yet)",
        "expected_date": human_date(order.expected_delivery, today),
        "original_date": human_date(order.original_estimate, today),
        "delivered_date": human_date(_local_date(order.delivered_at, zone), today),
        "returned_date": human_date(_local_date(order.returned_at, zone), today),
        "refund_date": human_date(_local_date(order.refunded_at, zone), today),
        "cancelled_date": human_date(_local_date(order.cancelled_at, zone), today),
        "delay_reason": order.delay_reason or "held up in transit",
        "shipped_items": describe_items(order.shipped_items),
        "pending_items": describe_items(order.pending_items),
        "refund_amount": format_money(float(Decimal(money)), order.currency),
        "refund_days": refund_days(brand, order.payment_method),
        "payment_method": PAYMENT_METHOD_NAMES.get(order.payment_method, order.payment_method),
        "card_image_url": brand.messenger.order_card_image_for(_card_sku(order)),
    }
    return f"utter_order_{order.status.value}", values
