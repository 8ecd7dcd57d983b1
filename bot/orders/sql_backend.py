"""Order look-up in the product database's demo-shop tables."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlalchemy.orm import selectinload

from bot.orders.backend import OrderBackend, OrderLookupError
from bot.orders.model import Order, OrderItem, OrderStatus
from bot.store import ShopOrderRow, session_scope


def _money(cents: int | None) -> Decimal | None:
    return None if cents is None else (Decimal(cents) / 100).quantize(Decimal("0.01"))


def order_from_row(row: ShopOrderRow) -> Order:
    """Converts a demo-shop row (with customer and items loaded) to an `Order`."""
    return Order(
        number=row.number,
        status=OrderStatus(row.status),
        placed_at=row.placed_at,
        currency=row.currency,
        total=_money(row.total_cents),
        payment_method=row.payment_method,
        customer_first_name=row.customer.first_name,
        email=row.customer.email,
        postcode=row.customer.postcode,
        country=row.customer.country,
        items=tuple(
            OrderItem(
                sku=item.sku,
                name=item.name,
                quantity=item.quantity,
                unit_price=_money(item.unit_price_cents),
                size=item.size,
                shipped=bool(item.shipped),
            )
            for item in sorted(row.items, key=lambda i: i.id)
        ),
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        tracking_url=row.tracking_url,
        shipped_at=row.shipped_at,
        original_estimate=row.original_estimate,
        expected_delivery=row.expected_delivery,
        delivered_at=row.delivered_at,
        delay_reason=row.delay_reason,
        returned_at=row.returned_at,
        refund_amount=_money(row.refund_amount_cents),
        refunded_at=row.refunded_at,
        cancelled_at=row.cancelled_at,
    )


class SqlOrderBackend(OrderBackend):
    """Reads the `shop_*` tables seeded by `nightdesk seed`."""

    def __init__(self, engine: Engine) -> None:
        """Uses `engine` for every look-up."""
        self._engine = engine

    def _get_order_sync(self, number: str) -> Order | None:
        try:
            with session_scope(self._engine) as session:
                row = (
                    session.query(ShopOrderRow)
                    .options(
                        selectinload(ShopOrderRow.items), selectinload(ShopOrderRow.customer)
                    )
                    .filter(ShopOrderRow.number == number)
                    .one_or_none()
                )
                return None if row is None else order_from_row(row)
        except Exception as error:  # noqa: BLE001 - any database failure means "cannot answer"
            raise OrderLookupError(f"order database unavailable: {type(error).__name__}") from error

    async def get_order(self, number: str) -> Order | None:
        """Looks the order up in a worker thread, so the event loop keeps serving."""
        return await asyncio.to_thread(self._get_order_sync, number)
