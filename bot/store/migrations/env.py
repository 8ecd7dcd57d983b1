"""Alembic's environment: runs the migrations on the connection `bot.store.schema` hands in.

Only the product's tables are compared and migrated: Rasa's tracker store keeps its `events`
table in the same database and makes it itself.
"""

from __future__ import annotations

from alembic import context

from bot.store.schema import is_product_object
from bot.store.tables import Base


def run_migrations() -> None:
    """Migrates through the connection in `config.attributes["connection"]`."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=is_product_object,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
