"""Order look-up behind one interface (demo shop in SQL or a shop REST API), proof of ownership."""

from bot.orders.backend import OrderBackend, OrderLookupError
from bot.orders.model import (
    Order,
    OrderItem,
    OrderStatus,
    normalise_email,
    normalise_order_number,
    normalise_postcode,
)
from bot.orders.proof import (
    OwnershipVerifier,
    ProofAttemptLog,
    ProofOutcome,
    ProofResult,
    proof_matches,
)

__all__ = [
    "Order",
    "OrderBackend",
    "OrderItem",
    "OrderLookupError",
    "OrderStatus",
    "OwnershipVerifier",
    "ProofAttemptLog",
    "ProofOutcome",
    "ProofResult",
    "normalise_email",
    "normalise_order_number",
    "normalise_postcode",
    "proof_matches",
]
