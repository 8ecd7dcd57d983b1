"""The product's own database: engine and sessions, table definitions, schema migrations.

One SQLite file (WAL mode) by default, PostgreSQL through `DATABASE_URL`.
"""

from bot.store.database import create_db_engine, session_scope
from bot.store.schema import ensure_schema
from bot.store.tables import (
    AgentRow,
    AuditRow,
    Base,
    DeskSessionRow,
    HandoffPacketRow,
    InboxEventRow,
    LoginFailureRow,
    MessengerOutboxRow,
    MessengerSendRow,
    MessengerThreadRow,
    ProofAttemptRow,
    ReviewDecisionRow,
    ShopCustomerRow,
    ShopOrderItemRow,
    ShopOrderRow,
    TicketClaimRow,
    TicketNoteRow,
    TicketRow,
    TrainerMarkRow,
    TranscriptDeliveryRow,
    WebChatAgentMessageRow,
)

__all__ = [
    "AgentRow",
    "AuditRow",
    "Base",
    "DeskSessionRow",
    "HandoffPacketRow",
    "InboxEventRow",
    "LoginFailureRow",
    "MessengerOutboxRow",
    "MessengerSendRow",
    "MessengerThreadRow",
    "ProofAttemptRow",
    "ReviewDecisionRow",
    "ShopCustomerRow",
    "ShopOrderItemRow",
    "ShopOrderRow",
    "TicketClaimRow",
    "TicketNoteRow",
    "TicketRow",
    "TrainerMarkRow",
    "TranscriptDeliveryRow",
    "WebChatAgentMessageRow",
    "create_db_engine",
    "ensure_schema",
    "session_scope",
]
