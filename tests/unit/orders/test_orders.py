from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from bot.orders import (
    OrderStatus,
    OwnershipVerifier,
    ProofAttemptLog,
    ProofOutcome,
    normalise_order_number,
    normalise_postcode,
)
from bot.orders.seed import seed_demo_shop
from bot.orders.sql_backend import SqlOrderBackend


def test_seed_covers_every_status_with_enough_orders(engine, now):
    count = seed_demo_shop(engine, now)
    backend = SqlOrderBackend(engine)
    orders = [asyncio.run(backend.get_order(str(n))) for n in range(10001, 10001 + count)]
    assert count >= 60
    assert all(order is not None for order in orders)
    statuses = Counter(order.status for order in orders)
    assert set(statuses) == set(OrderStatus)
    for order in orders:
        assert order.email and order.postcode and order.items
        if order.status in (OrderStatus.SHIPPED, OrderStatus.DELAYED, OrderStatus.DELIVERED):
            assert order.carrier and order.tracking_number and order.tracking_url
        if order.status is OrderStatus.DELAYED:
            assert order.expected_delivery > order.original_estimate
            assert order.delay_reason
        if order.status is OrderStatus.PARTIALLY_SHIPPED:
            assert order.shipped_items and order.pending_items
        if order.status is OrderStatus.REFUNDED:
            assert order.refund_amount == order.total and order.refunded_at
        if order.status is OrderStatus.CANCELLED:
            assert order.cancelled_at


def test_seed_dates_are_relative_to_now_and_reseeding_replaces(engine, now):
    seed_demo_shop(engine, now)
    later = now + timedelta(days=30)
    seed_demo_shop(engine, later)
    order = asyncio.run(SqlOrderBackend(engine).get_order("10023"))
    assert order.status is OrderStatus.SHIPPED
    assert order.expected_delivery > later.date()
    assert order.email == "anna.rossi@example.com" and order.postcode == "20121"


def test_unknown_order_is_none(engine, now):
    seed_demo_shop(engine, now)
    assert asyncio.run(SqlOrderBackend(engine).get_order("99999")) is None


def test_normalisers():
    assert normalise_order_number("#10023") == "10023"
    assert normalise_order_number(" 10023 ") == "10023"
    assert normalise_order_number("abc") is None
    assert normalise_order_number("12") is None
    assert normalise_postcode("sw1a 1aa") == "SW1A1AA"


def _verifier(engine, now, max_failures=3):
    clock = {"now": now}
    verifier = OwnershipVerifier(
        SqlOrderBackend(engine), ProofAttemptLog(engine), max_failures, clock=lambda: clock["now"]
    )
    return verifier, clock


def test_proof_by_email_or_postcode(engine, now):
    seed_demo_shop(engine, now)
    verifier, _ = _verifier(engine, now)
    by_email = asyncio.run(verifier.verify("c1", "10023", "  Anna.Rossi@Example.com "))
    assert by_email.outcome is ProofOutcome.VERIFIED and by_email.order.number == "10023"
    by_postcode = asyncio.run(verifier.verify("c2", "10023", "20121"))
    assert by_postcode.outcome is ProofOutcome.VERIFIED
    uk = asyncio.run(verifier.verify("c3", "10050", "sw1a1aa"))  # Oliver Smith, SW1A 1AA
    assert uk.outcome is ProofOutcome.VERIFIED


def test_wrong_proof_and_unknown_order_look_the_same(engine, now):
    seed_demo_shop(engine, now)
    verifier, _ = _verifier(engine, now)
    wrong = asyncio.run(verifier.verify("c1", "10023", "someone@else.com"))
    unknown = asyncio.run(verifier.verify("c2", "99999", "someone@else.com"))
    assert wrong.outcome is unknown.outcome is ProofOutcome.MISMATCH
    assert wrong.order is None and unknown.order is None
    assert wrong.attempts_left == unknown.attempts_left == 2


def test_three_failures_in_a_conversation_lock_it(engine, now):
    seed_demo_shop(engine, now)
    verifier, _ = _verifier(engine, now)
    results = [
        asyncio.run(verifier.verify("c1", number, "x@y.z"))
        for number in ("10023", "10024", "10025")
    ]
    assert [r.outcome for r in results] == [
        ProofOutcome.MISMATCH, ProofOutcome.MISMATCH, ProofOutcome.LOCKED
    ]
    # even the right proof is no longer checked in this conversation
    assert asyncio.run(verifier.verify("c1", "10023", "20121")).outcome is ProofOutcome.LOCKED
    assert asyncio.run(verifier.is_locked("c1", "10030"))


def test_three_failures_on_one_order_lock_that_order_across_conversations(engine, now):
    seed_demo_shop(engine, now)
    verifier, clock = _verifier(engine, now)
    for conversation in ("a", "b", "c"):
        asyncio.run(verifier.verify(conversation, "10023", "guess@example.com"))
    assert asyncio.run(verifier.verify("d", "10023", "20121")).outcome is ProofOutcome.LOCKED
    assert asyncio.run(verifier.verify("d", "10024", "20121")).outcome is ProofOutcome.VERIFIED
    clock["now"] = now + timedelta(hours=25)
    assert asyncio.run(verifier.verify("d", "10023", "20121")).outcome is ProofOutcome.VERIFIED


def test_simultaneous_guesses_never_exceed_the_limit(engine, now):
    import threading

    from bot.store import ProofAttemptRow, session_scope

    seed_demo_shop(engine, now)
    verifier, _ = _verifier(engine, now)
    outcomes = []
    start = threading.Barrier(8)

    def guess(index: int) -> None:
        start.wait()
        outcomes.append(asyncio.run(verifier.verify(f"guesser-{index}", "10023", "a@b.cd")).outcome)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with session_scope(engine) as session:
        recorded = session.query(ProofAttemptRow).filter_by(order_number="10023").count()
    assert recorded == 3
    assert sorted(o.value for o in outcomes) == ["locked"] * 6 + ["mismatch"] * 2


def test_a_shop_that_cannot_be_asked_does_not_count_as_a_failure(engine, now):
    from bot.orders import OrderLookupError
    from bot.orders.backend import OrderBackend

    class DownShop(OrderBackend):
        async def get_order(self, number):
            raise OrderLookupError("down")

    attempts = ProofAttemptLog(engine)
    verifier = OwnershipVerifier(DownShop(), attempts, 3, clock=lambda: now)
    for _ in range(5):
        with pytest.raises(OrderLookupError):
            asyncio.run(verifier.verify("c1", "10023", "20121"))
    assert attempts.recent_failures("c1", "10023", now) == 0
