"""What an order is, for the bot: a plain value object that every back end returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum


class OrderStatus(str, Enum):
    """Every state an order can be in, as the shop reports it."""

    PLACED = "placed"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELAYED = "delayed"
    PARTIALLY_SHIPPED = "partially_shipped"
    RETURNED = "returned"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class OrderItem:
    """One line of an order."""

    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    size: str | None = None
    shipped: bool = False


@dataclass(frozen=True)
class Order:
    """An order with its customer's proof data and fulfilment state.

    `email` and `postcode` are only used to check ownership; they are never shown.
    """

    number: str
    status: OrderStatus
    placed_at: datetime
    currency: str
    total: Decimal
    payment_method: str
    customer_first_name: str
    email: str
    postcode: str
    country: str
    items: tuple[OrderItem, ...] = field(default_factory=tuple)
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: datetime | None = None
    original_estimate: date | None = None
    expected_delivery: date | None = None
    delivered_at: datetime | None = None
    delay_reason: str | None = None
    returned_at: datetime | None = None
    refund_amount: Decimal | None = None
    refunded_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def shipped_items(self) -> tuple[OrderItem, ...]:
        """The lines already on their way."""
        return tuple(item for item in self.items if item.shipped)

    @property
    def pending_items(self) -> tuple[OrderItem, ...]:
        """The lines still in the warehouse."""
        return tuple(item for item in self.items if not item.shipped)


def normalise_order_number(raw: str) -> str | None:
    """The digits of an order number as a customer types it ("#10023", " 10023 "), or None.

    Order numbers are 4 to 8 digits; anything else is not an order number.
    """
    cleaned = raw.strip().lstrip("#").replace(" ", "")
    if cleaned.lower().startswith("no."):
        cleaned = cleaned[3:]
    if cleaned.isdigit() and 4 <= len(cleaned) <= 8:
        return cleaned
    return None


def normalise_email(raw: str) -> str:
    """An e-mail address compared the way mail systems do in practice."""
    return raw.strip().casefold()


def normalise_postcode(raw: str) -> str:
    """A postcode without spaces or dashes, upper case ("sw1a 1aa" -> "SW1A1AA")."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())
