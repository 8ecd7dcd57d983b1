"""Alembic migrations of the product's own tables (never Rasa's `events`, which Rasa owns).

`bot.store.schema` runs them (`nightdesk db upgrade|current|history`, and every process on
start); `versions/` holds one file per change, oldest first.
"""
