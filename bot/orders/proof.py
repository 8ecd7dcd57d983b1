"""Proof of ownership: an order is disclosed only to someone who shows it is theirs.

A proof is the order number plus the e-mail or the postcode on the order. Failed proofs
are counted per conversation and per order over a sliding window; once either count
reaches the limit the verifier refuses to check any further (and the bot hands off).
A wrong e-mail and a non-existent order fail in exactly the same way, so nothing reveals
whether an order number exists.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

from sqlalchemy import func
from sqlalchemy.engine import Engine

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
    """Records proof attempts and counts recent failures."""

    def __init__(self, engine: Engine) -> None:
        """Stores attempts in the product database behind `engine`."""
        self._engine = engine

    def record(
        self, conversation_id: str, order_number: str, succeeded: bool, at: datetime
    ) -> None:
        """Writes one attempt."""
        with session_scope(self._engine) as session:
            session.add(
                ProofAttemptRow(
                    conversation_id=conversation_id,
                    order_number=order_number,
                    succeeded=succeeded,
                    attempted_at=at,
                )
            )

    def recent_failures(self, conversation_id: str, order_number: str, now: datetime) -> int:
        """The larger of: failures in this conversation, failures on this order (in the window)."""
        since = now - ATTEMPT_WINDOW
        with session_scope(self._engine) as session:
            failed = session.query(ProofAttemptRow).filter(
                ProofAttemptRow.succeeded.is_(False), ProofAttemptRow.attempted_at >= since
            )
            by_conversation = failed.filter(
                ProofAttemptRow.conversation_id == conversation_id
            ).with_entities(func.count(ProofAttemptRow.id)).scalar()
            by_order = failed.filter(
                ProofAttemptRow.order_number == order_number
            ).with_entities(func.count(ProofAttemptRow.id)).scalar()
            return max(by_conversation or 0, by_order or 0)


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
            OrderLookupError: the back end could not be asked (nothing is recorded).
        """
        now = self._clock()
        failures = await asyncio.to_thread(
            self._attempts.recent_failures, conversation_id, order_number, now
        )
        if failures >= self._max_failures:
            return ProofResult(ProofOutcome.LOCKED)
        order = await self._backend.get_order(order_number)
        succeeded = order is not None and proof_matches(order, proof)
        await asyncio.to_thread(
            self._attempts.record, conversation_id, order_number, succeeded, now
        )
        if succeeded:
            return ProofResult(ProofOutcome.VERIFIED, order=order)
        failures += 1
        if failures >= self._max_failures:
            return ProofResult(ProofOutcome.LOCKED)
        return ProofResult(ProofOutcome.MISMATCH, attempts_left=self._max_failures - failures)
