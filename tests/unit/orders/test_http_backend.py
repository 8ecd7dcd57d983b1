from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from aiohttp.test_utils import TestServer

from bot.orders import OrderLookupError, OrderStatus
from bot.orders.http_backend import HttpOrderBackend
from tests.fakes.fake_shop import FakeShop

ORDER = {
    "number": "20001",
    "status": "shipped",
    "placed_at": "2026-11-18T10:00:00+00:00",
    "currency": "EUR",
    "total": "119.00",
    "payment_method": "card",
    "customer": {
        "first_name": "Lukas", "email": "lukas@example.de", "postcode": "10115",
        "country": "Germany",
    },
    "items": [{"sku": "NW-SNK-02", "name": "Brera leather sneakers", "quantity": 1,
               "unit_price": "119.00", "size": "42", "shipped": True}],
    "carrier": "DHL",
    "tracking_number": "1234567890",
    "tracking_url": "https://www.dhl.com/track?id=1234567890",
    "shipped_at": "2026-11-19T08:00:00Z",
    "original_estimate": "2026-11-24",
    "expected_delivery": "2026-11-24",
}


def _run(shop: FakeShop, scenario, token: str | None = None):
    async def main():
        server = TestServer(shop.app(), host="127.0.0.1")
        await server.start_server()
        backend = HttpOrderBackend(str(server.make_url("")), token or shop.token)
        try:
            return await scenario(backend)
        finally:
            await backend.close()
            await server.close()

    return asyncio.run(main())


def test_finds_an_order_through_the_api_with_the_token():
    shop = FakeShop({"20001": ORDER})
    order = _run(shop, lambda backend: backend.get_order("20001"))
    assert order.status is OrderStatus.SHIPPED and order.total == Decimal("119.00")
    assert order.email == "lukas@example.de" and order.items[0].shipped
    assert order.expected_delivery.isoformat() == "2026-11-24"
    assert shop.requests == [{"path": "/orders/20001", "authorization": "Bearer shop-token"}]


def test_unknown_order_is_none():
    assert _run(FakeShop({}), lambda backend: backend.get_order("20002")) is None


@pytest.mark.parametrize("setup", [
    {"fail_with_status": 500},
    {"fail_with_status": 429},
    {"malformed": True},
    {"token": "another-token"},
])
def test_failures_raise_a_lookup_error(setup):
    shop = FakeShop({"20001": ORDER})
    for key, value in setup.items():
        setattr(shop, key, value)
    with pytest.raises(OrderLookupError):
        _run(shop, lambda backend: backend.get_order("20001"), token="shop-token")


def test_an_order_without_email_cannot_be_proven_with_an_empty_or_none_proof():
    from bot.orders import proof_matches

    guest = {**ORDER, "customer": {**ORDER["customer"], "email": None}}
    order = _run(FakeShop({"20001": guest}), lambda backend: backend.get_order("20001"))
    assert order.email == ""
    assert not proof_matches(order, "none") and not proof_matches(order, "")
    assert proof_matches(order, "10115")


def test_a_slow_shop_is_a_lookup_error(monkeypatch):
    import aiohttp

    from bot.orders import http_backend

    monkeypatch.setattr(http_backend, "_TIMEOUT", aiohttp.ClientTimeout(total=0.3))
    shop = FakeShop({"20001": ORDER}, delay_seconds=2)
    with pytest.raises(OrderLookupError, match="unreachable"):
        _run(shop, lambda backend: backend.get_order("20001"))


def test_a_document_with_missing_fields_is_rejected():
    broken = {key: value for key, value in ORDER.items() if key != "customer"}
    with pytest.raises(OrderLookupError, match="customer"):
        _run(FakeShop({"20001": broken}), lambda backend: backend.get_order("20001"))


def test_unreachable_shop_raises_a_lookup_error():
    async def main():
        backend = HttpOrderBackend("http://127.0.0.1:9", "t")
        try:
            await backend.get_order("20001")
        finally:
            await backend.close()

    with pytest.raises(OrderLookupError, match="unreachable"):
        asyncio.run(main())
