"""The schema of the release of 2026-12-01, the last one made by `create_all`.

Revision ID: 0001
Revises: none
Created: 2026-12-03

A database that release made has every one of these tables already, without a version: this
migration adopts it, creating only the tables that are missing, so it can go on from here.
Tables that exist are left as they are (that release made them exactly like this).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime(timezone=True)
"""What the product's `UTCDateTime` stores (it converts to UTC in Python)."""

TABLES = (  # in the order their foreign keys allow
    "desk_agents", "desk_audit", "desk_login_failures", "handoff_tickets", "messenger_inbox",
    "messenger_outbox", "messenger_sends", "messenger_threads", "proof_attempts",
    "shop_customers", "trainer_decisions", "trainer_marks", "webchat_agent_messages",
    "webchat_sessions", "desk_claims", "desk_deliveries", "desk_notes", "desk_sessions",
    "handoff_packets", "shop_orders", "shop_order_items",
)


def upgrade() -> None:
    """Creates the release's tables and indexes that the database does not have yet."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "desk_agents" not in existing:
        op.create_table(
            "desk_agents",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("login", sa.String(length=64), nullable=False),
            sa.Column("name", sa.String(length=120), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column("password_hash", sa.String(length=255), nullable=False),
            sa.Column("active", sa.Boolean(), nullable=False),
            sa.Column("created_at", UTC_DATETIME, nullable=False),
            sa.Column("password_changed_at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("login"),
        )
    if "desk_audit" not in existing:
        op.create_table(
            "desk_audit",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("at", UTC_DATETIME, nullable=False),
            sa.Column("actor", sa.String(length=64), nullable=False),
            sa.Column("action", sa.String(length=64), nullable=False),
            sa.Column("target", sa.String(length=120), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_desk_audit_at", "desk_audit", ["at"])
    if "desk_login_failures" not in existing:
        op.create_table(
            "desk_login_failures",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("login", sa.String(length=64), nullable=False),
            sa.Column("address", sa.String(length=64), nullable=False),
            sa.Column("at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_desk_login_failures_address", "desk_login_failures", ["address"])
        op.create_index("ix_desk_login_failures_login", "desk_login_failures", ["login"])
    if "handoff_tickets" not in existing:
        op.create_table(
            "handoff_tickets",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("conversation_id", sa.String(length=200), nullable=False),
            sa.Column("channel", sa.String(length=30), nullable=False),
            sa.Column("customer_name", sa.String(length=120), nullable=True),
            sa.Column("reason", sa.String(length=40), nullable=False),
            sa.Column("priority", sa.String(length=10), nullable=False),
            sa.Column("language", sa.String(length=10), nullable=False),
            sa.Column("order_number", sa.String(length=20), nullable=True),
            sa.Column("summary", sa.Text(), nullable=False),
            sa.Column("transcript", sa.Text(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("created_at", UTC_DATETIME, nullable=False),
            sa.Column("expected_answer_at", UTC_DATETIME, nullable=False),
            sa.Column("reminder_sent", sa.Boolean(), nullable=False),
            sa.Column("handed_back_at", UTC_DATETIME, nullable=True),
            sa.Column("handed_back_by", sa.String(length=120), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_handoff_tickets_conversation_id", "handoff_tickets",
                        ["conversation_id"])
        op.create_index("ix_handoff_tickets_status", "handoff_tickets", ["status"])
    if "messenger_inbox" not in existing:
        op.create_table(
            "messenger_inbox",
            sa.Column("event_id", sa.String(length=200), nullable=False),
            sa.Column("page_id", sa.String(length=64), nullable=False),
            sa.Column("conversation_id", sa.String(length=200), nullable=False),
            sa.Column("kind", sa.String(length=30), nullable=False),
            sa.Column("timestamp", sa.BigInteger(), nullable=False),
            sa.Column("payload", sa.Text(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("received_at", UTC_DATETIME, nullable=False),
            sa.Column("claimed_at", UTC_DATETIME, nullable=True),
            sa.Column("claimed_by", sa.String(length=120), nullable=True),
            sa.Column("processed_at", UTC_DATETIME, nullable=True),
            sa.Column("error", sa.String(length=300), nullable=True),
            sa.PrimaryKeyConstraint("event_id"),
        )
        op.create_index("ix_messenger_inbox_conversation_id", "messenger_inbox",
                        ["conversation_id"])
        op.create_index("ix_messenger_inbox_status_conversation", "messenger_inbox",
                        ["status", "conversation_id", "timestamp"])
    if "messenger_outbox" not in existing:
        op.create_table(
            "messenger_outbox",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("conversation_id", sa.String(length=200), nullable=False),
            sa.Column("sender", sa.String(length=20), nullable=False),
            sa.Column("kind", sa.String(length=30), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("tag", sa.String(length=30), nullable=True),
            sa.Column("reason", sa.String(length=300), nullable=True),
            sa.Column("message_ids", sa.Text(), nullable=True),
            sa.Column("created_at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_messenger_outbox_conversation_id", "messenger_outbox",
                        ["conversation_id"])
    if "messenger_sends" not in existing:
        op.create_table(
            "messenger_sends",
            sa.Column("event_id", sa.String(length=200), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("text", sa.Text(), nullable=True),
            sa.Column("message_ids", sa.Text(), nullable=True),
            sa.Column("started_at", UTC_DATETIME, nullable=False),
            sa.Column("finished_at", UTC_DATETIME, nullable=True),
            sa.PrimaryKeyConstraint("event_id", "position"),
        )
    if "messenger_threads" not in existing:
        op.create_table(
            "messenger_threads",
            sa.Column("psid", sa.String(length=64), nullable=False),
            sa.Column("page_id", sa.String(length=64), nullable=False),
            sa.Column("last_customer_message_at", UTC_DATETIME, nullable=True),
            sa.Column("owner", sa.String(length=20), nullable=False),
            sa.Column("owner_app_id", sa.String(length=64), nullable=True),
            sa.Column("updated_at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("psid"),
        )
    if "proof_attempts" not in existing:
        op.create_table(
            "proof_attempts",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("conversation_id", sa.String(length=200), nullable=False),
            sa.Column("order_number", sa.String(length=20), nullable=False),
            sa.Column("succeeded", sa.Boolean(), nullable=False),
            sa.Column("attempted_at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_proof_attempts_conversation", "proof_attempts",
                        ["conversation_id", "attempted_at"])
        op.create_index("ix_proof_attempts_order", "proof_attempts",
                        ["order_number", "attempted_at"])
    if "shop_customers" not in existing:
        op.create_table(
            "shop_customers",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("first_name", sa.String(length=80), nullable=False),
            sa.Column("last_name", sa.String(length=80), nullable=False),
            sa.Column("email", sa.String(length=200), nullable=False),
            sa.Column("street", sa.String(length=200), nullable=False),
            sa.Column("city", sa.String(length=100), nullable=False),
            sa.Column("postcode", sa.String(length=20), nullable=False),
            sa.Column("country", sa.String(length=80), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("email"),
        )
    if "trainer_decisions" not in existing:
        op.create_table(
            "trainer_decisions",
            sa.Column("item_key", sa.String(length=260), nullable=False),
            sa.Column("decision", sa.String(length=20), nullable=False),
            sa.Column("intent", sa.String(length=100), nullable=True),
            sa.Column("decided_by", sa.String(length=120), nullable=False),
            sa.Column("decided_at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("item_key"),
        )
    if "trainer_marks" not in existing:
        op.create_table(
            "trainer_marks",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("conversation_id", sa.String(length=200), nullable=False),
            sa.Column("at", UTC_DATETIME, nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("marked_by", sa.String(length=120), nullable=False),
            sa.Column("marked_at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_trainer_marks_conversation_id", "trainer_marks", ["conversation_id"])
    if "webchat_agent_messages" not in existing:
        op.create_table(
            "webchat_agent_messages",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("conversation_id", sa.String(length=200), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_webchat_agent_messages_conversation_id", "webchat_agent_messages",
                        ["conversation_id"])
    if "webchat_sessions" not in existing:
        op.create_table(
            "webchat_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("conversation_id", sa.String(length=64), nullable=False),
            sa.Column("created_at", UTC_DATETIME, nullable=False),
            sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
            sa.PrimaryKeyConstraint("token_hash"),
            sa.UniqueConstraint("conversation_id"),
        )
    if "desk_claims" not in existing:
        op.create_table(
            "desk_claims",
            sa.Column("ticket_id", sa.Integer(), nullable=False),
            sa.Column("agent_id", sa.Integer(), nullable=False),
            sa.Column("claimed_at", UTC_DATETIME, nullable=False),
            sa.ForeignKeyConstraint(["agent_id"], ["desk_agents.id"], ),
            sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ),
            sa.PrimaryKeyConstraint("ticket_id"),
        )
        op.create_index("ix_desk_claims_agent_id", "desk_claims", ["agent_id"])
    if "desk_deliveries" not in existing:
        op.create_table(
            "desk_deliveries",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("ticket_id", sa.Integer(), nullable=False),
            sa.Column("target", sa.String(length=20), nullable=False),
            sa.Column("status", sa.String(length=20), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("last_error", sa.String(length=300), nullable=True),
            sa.Column("created_at", UTC_DATETIME, nullable=False),
            sa.Column("updated_at", UTC_DATETIME, nullable=False),
            sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_desk_deliveries_status", "desk_deliveries", ["status"])
        op.create_index("ix_desk_deliveries_ticket_id", "desk_deliveries", ["ticket_id"])
    if "desk_notes" not in existing:
        op.create_table(
            "desk_notes",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("ticket_id", sa.Integer(), nullable=False),
            sa.Column("agent_id", sa.Integer(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("at", UTC_DATETIME, nullable=False),
            sa.ForeignKeyConstraint(["agent_id"], ["desk_agents.id"], ),
            sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_desk_notes_ticket_id", "desk_notes", ["ticket_id"])
    if "desk_sessions" not in existing:
        op.create_table(
            "desk_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("agent_id", sa.Integer(), nullable=False),
            sa.Column("csrf_token", sa.String(length=64), nullable=False),
            sa.Column("created_at", UTC_DATETIME, nullable=False),
            sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
            sa.ForeignKeyConstraint(["agent_id"], ["desk_agents.id"], ),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        op.create_index("ix_desk_sessions_agent_id", "desk_sessions", ["agent_id"])
    if "handoff_packets" not in existing:
        op.create_table(
            "handoff_packets",
            sa.Column("ticket_id", sa.Integer(), nullable=False),
            sa.Column("intents_seen", sa.Text(), nullable=False),
            sa.Column("status_told", sa.Text(), nullable=True),
            sa.ForeignKeyConstraint(["ticket_id"], ["handoff_tickets.id"], ),
            sa.PrimaryKeyConstraint("ticket_id"),
        )
    if "shop_orders" not in existing:
        op.create_table(
            "shop_orders",
            sa.Column("number", sa.String(length=20), nullable=False),
            sa.Column("customer_id", sa.Integer(), nullable=False),
            sa.Column("status", sa.String(length=30), nullable=False),
            sa.Column("placed_at", UTC_DATETIME, nullable=False),
            sa.Column("currency", sa.String(length=3), nullable=False),
            sa.Column("total_cents", sa.Integer(), nullable=False),
            sa.Column("payment_method", sa.String(length=30), nullable=False),
            sa.Column("carrier", sa.String(length=40), nullable=True),
            sa.Column("tracking_number", sa.String(length=60), nullable=True),
            sa.Column("tracking_url", sa.String(length=300), nullable=True),
            sa.Column("shipped_at", UTC_DATETIME, nullable=True),
            sa.Column("original_estimate", sa.Date(), nullable=True),
            sa.Column("expected_delivery", sa.Date(), nullable=True),
            sa.Column("delivered_at", UTC_DATETIME, nullable=True),
            sa.Column("delay_reason", sa.String(length=200), nullable=True),
            sa.Column("returned_at", UTC_DATETIME, nullable=True),
            sa.Column("refund_amount_cents", sa.Integer(), nullable=True),
            sa.Column("refunded_at", UTC_DATETIME, nullable=True),
            sa.Column("cancelled_at", UTC_DATETIME, nullable=True),
            sa.ForeignKeyConstraint(["customer_id"], ["shop_customers.id"], ),
            sa.PrimaryKeyConstraint("number"),
        )
    if "shop_order_items" not in existing:
        op.create_table(
            "shop_order_items",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("order_number", sa.String(length=20), nullable=False),
            sa.Column("sku", sa.String(length=40), nullable=False),
            sa.Column("name", sa.String(length=200), nullable=False),
            sa.Column("size", sa.String(length=10), nullable=True),
            sa.Column("quantity", sa.Integer(), nullable=False),
            sa.Column("unit_price_cents", sa.Integer(), nullable=False),
            sa.Column("shipped", sa.Boolean(), nullable=False),
            sa.ForeignKeyConstraint(["order_number"], ["shop_orders.number"], ),
            sa.PrimaryKeyConstraint("id"),
        )


def downgrade() -> None:
    """Drops every table of the release (and its data)."""
    for name in reversed(TABLES):
        op.drop_table(name)
