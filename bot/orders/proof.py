"""Proof of ownership: an order is disclosed only to someone who shows it is theirs.

A proof is the order number plus the e-mail or the postcode on the order. Failed proofs
are counted per conversation and per order over a sliding window; once either count
reaches the limit the verifier refuses to check any further (and the bot hands off).
A wrong e-mail and a non-existent order fail in exactly the same way, so nothing reveals
whether an order number exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.orders.backend import OrderBackend
from bot.orders.model import Order, normalise_email, normalise_postcode
from bot.store import ProofAttemptRow, session_scope

ATTEMPT_WINDOW = timedelta(hours=24)


class ProofOutcome(str, Enum):
    """What a proof attempt led to."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LOCKED = "locked"


@dataclass(frozen=True)
class ProofResult:
    """The outcome, the order when verified, and how many tries are left otherwise."""

    outcome: ProofOutcome
    order: Order | None = None
    attempts_left: int = 0


def proof_matches(order: Order, proof: str) -> bool:
    """Whether `proof` is the order's e-mail or postcode (constant-time comparisons).

    An order without an e-mail (or postcode) can never be proven with an empty one.
    """
    given_email, known_email = normalise_email(proof), normalise_email(order.email)
    email_ok = bool(given_email and known_email) and hmac.compare_digest(
        given_email.encode(), known_email.encode()
    )
    given_postcode, known_postcode = normalise_postcode(proof), normalise_postcode(order.postcode)
    postcode_ok = bool(given_postcode and known_postcode) and hmac.compare_digest(
        given_postcode.encode(), known_postcode.encode()
    )
    return email_ok or postcode_ok


class ProofAttemptLog:
    """Records proof attempts and counts recent failures, safely under concurrency.

    An attempt is first reserved as a failure, in one serialized step with the count: two
    simultaneous guesses can never both slip under the limit. A proof that then matches
    turns its reservation into a success; a shop that cannot be asked releases it.
    Serialization: PostgreSQL transaction-scoped advisory locks on the order and the
    conversation (taken in a fixed order); SQLite has one writer process, so a process lock.
    """

    _sqlite_lock = threading.Lock()

    def __init__(self, engine: Engine) -> None:
        """Stores attempts in the product database behind `engine`."""
        self._engine = engine

    @staticmethod
    def _failures(session: Session, conversation_id: str, order_number: str, now: datetime) -> int:
        since = now - ATTEMPT_WINDOW
        failed = session.query(func.count(ProofAttemptRow.id)).filter(
            ProofAttemptRow.succeeded.is_(False), ProofAttemptRow.attempted_at >= since
        )
        by_conversation = failed.filter(ProofAttemptRow.conversation_id == conversation_id)
        by_order = failed.filter(ProofAttemptRow.order_number == order_number)
        return max(by_conversation.scalar() or 0, by_order.scalar() or 0)

    def recent_failures(self, conversation_id: str, order_number: str, now: datetime) -> int:
        """The larger of: failures in this conversation, failures on this order (in the window)."""
        with session_scope(self._engine) as session:
            return self._failures(session, conversation_id, order_number, now)

    def reserve(
        self, conversation_id: str, order_number: str, now: datetime, max_failures: int
    ) -> tuple[int, int] | None:
        """Reserves one attempt as a failure, unless the limit is reached.

        Returns:
            (attempt id, failures including this one), or None when the limit is reached.
        """
        postgres = self._engine.dialect.name == "postgresql"
        guard = contextlib.nullcontext() if postgres else self._sqlite_lock
        with guard, session_scope(self._engine) as session:
            if postgres:
                for key in sorted((f"proof-order:{order_number}", f"proof-conv:{conversation_id}")):
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key}
                    )
            failures = self._failures(session, conversation_id, order_number, now)
            if failures >= max_failures:
                return None
            row = ProofAttemptRow(
                conversation_id=conversation_id,
                order_number=order_number,
                succeeded=False,
                attempted_at=now,
            )
            session.add(row)
            session.flush()
            return row.id, failures + 1

    def settle(self, attempt_id: int, succeeded: bool) -> None:
        """Marks a reserved attempt as a success (a failure is what it already is)."""
        if succeeded:
            with session_scope(self._engine) as session:
                session.get(ProofAttemptRow, attempt_id).succeeded = True

    def release(self, attempt_id: int) -> None:
        """Forgets a reservation whose check could not happen (the shop was down)."""
        with session_scope(self._engine) as session:
            session.query(ProofAttemptRow).filter(ProofAttemptRow.id == attempt_id).delete()


class OwnershipVerifier:
    """Checks proofs against the order back end, with a failure limit."""

    def __init__(
        self,
        backend: OrderBackend,
        attempts: ProofAttemptLog,
        max_failures: int,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        """Allows `max_failures` failed proofs per conversation and per order."""
        self._backend = backend
        self._attempts = attempts
        self._max_failures = max_failures
        self._clock = clock

    async def is_locked(self, conversation_id: str, order_number: str) -> bool:
        """Whether the limit is already reached for this conversation or this order."""
        failures = await asyncio.to_thread(
            self._attempts.recent_failures, conversation_id, order_number, self._clock()
        )
        return failures >= self._max_failures

    async def verify(self, conversation_id: str, order_number: str, proof: str) -> ProofResult:
        """Checks one proof.

        Raises:
            OrderLookupError: the back end could not be asked (the attempt is not counted).
        """
        reservation = await asyncio.to_thread(
            self._attempts.reserve,
            conversation_id, order_number, self._clock(), self._max_failures,
        )
        if reservation is None:
            return ProofResult(ProofOutcome.LOCKED)
        attempt_id, failures = reservation
        try:
            order = await self._backend.get_order(order_number)
        except BaseException:
            await asyncio.to_thread(self._attempts.release, attempt_id)
            raise
        succeeded = order is not None and proof_matches(order, proof)
        await asyncio.to_thread(self._attempts.settle, attempt_id, succeeded)
        if succeeded:
            return ProofResult(ProofOutcome.VERIFIED, order=order)
        if failures >= self._max_failures:
            return ProofResult(ProofOutcome.LOCKED)
        return ProofResult(ProofOutcome.MISMATCH, attempts_left=self._max_failures - failures)
