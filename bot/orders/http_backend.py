"""Order look-up through a shop's REST API.

The contract (documented in README): `GET {SHOP_API_URL}/orders/{number}` with
`Authorization: Bearer {SHOP_API_TOKEN}` answers 200 with the order as JSON, or 404 when
there is no such order. Field names are those of `bot.orders.model.Order`; dates are ISO 8601.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.orders.backend import OrderBackend, OrderLookupError
from bot.orders.model import Order, OrderItem, OrderStatus

_TIMEOUT = aiohttp.ClientTimeout(total=10)


def _datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"date-time without a time zone: {value!r}")
    return parsed


def _date(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value))


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _text(value: Any) -> str:
    """A string field that may be missing or null in the shop's JSON ("" then, never "None")."""
    return "" if value is None else str(value).strip()


def order_from_json(payload: dict[str, Any]) -> Order:
    """Parses the shop API's order document.

    Raises:
        ValueError: a field is missing or has the wrong shape.
    """
    try:
        customer = payload["customer"]
        return Order(
            number=str(payload["number"]),
            status=OrderStatus(payload["status"]),
            placed_at=_datetime(payload["placed_at"]),
            currency=str(payload["currency"]),
            total=_money(payload["total"]),
            payment_method=str(payload["payment_method"]),
            customer_first_name=str(customer["first_name"]),
            email=_text(customer.get("email")),
            postcode=_text(customer.get("postcode")),
            country=str(customer["country"]),
            items=tuple(
                OrderItem(
                    sku=str(item["sku"]),
                    name=str(item["name"]),
                    quantity=int(item["quantity"]),
                    unit_price=_money(item["unit_price"]),
                    size=item.get("size"),
                    shipped=bool(item.get("shipped", False)),
                )
                for item in payload.get("items", [])
            ),
            carrier=payload.get("carrier"),
            tracking_number=payload.get("tracking_number"),
            tracking_url=payload.get("tracking_url"),
            shipped_at=_datetime(payload.get("shipped_at")),
            original_estimate=_date(payload.get("original_estimate")),
            expected_delivery=_date(payload.get("expected_delivery")),
            delivered_at=_datetime(payload.get("delivered_at")),
            delay_reason=payload.get("delay_reason"),
            returned_at=_datetime(payload.get("returned_at")),
            refund_amount=_money(payload.get("refund_amount")),
            refunded_at=_datetime(payload.get("refunded_at")),
            cancelled_at=_datetime(payload.get("cancelled_at")),
        )
    except KeyError as missing:
        raise ValueError(f"missing field {missing}") from None
    except (TypeError, AttributeError) as error:
        raise ValueError(f"malformed order document: {error}") from None


class HttpOrderBackend(OrderBackend):
    """Asks the shop's REST API; one aiohttp session per event loop, opened on first use."""

    def __init__(self, base_url: str, token: str | None) -> None:
        """Targets `base_url` (e.g. `https://shop.example/api`), sending `token` if given."""
        self._base_url = base_url.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=_TIMEOUT)
        return self._session

    async def get_order(self, number: str) -> Order | None:
        """GETs `/orders/{number}`; 404 means no such order."""
        url = f"{self._base_url}/orders/{quote(number, safe='')}"
        try:
            async with self._client().get(url) as response:
                if response.status == 404:
                    return None
                if response.status != 200:
                    raise OrderLookupError(f"shop API answered HTTP {response.status}")
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise OrderLookupError(f"shop API unreachable: {type(error).__name__}") from error
        except ValueError as error:
            raise OrderLookupError("shop API sent something that is not JSON") from error
        if not isinstance(payload, dict):
            raise OrderLookupError("shop API sent JSON that is not an order object")
        try:
            return order_from_json(payload)
        except ValueError as error:
            raise OrderLookupError(f"shop API sent a malformed order: {error}") from error

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
