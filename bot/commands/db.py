"""`nightdesk db upgrade|current|history`: the product database's schema migrations.

nightdesk db upgrade [REVISION]   apply the migrations up to REVISION (default: the newest)
nightdesk db current              the database's revision, and what an upgrade would apply
nightdesk db history              every revision, oldest first; the database's is marked

They work on DATABASE_URL (never printed: it can hold a password). `nightdesk up` upgrades
before it starts anything, and every process upgrades on start when its database is behind.
"""

from __future__ import annotations

import argparse
import sys

from alembic.util.exc import CommandError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import get_settings
from bot.store import create_db_engine
from bot.store.schema import current, history, upgrade


def _engine() -> Engine:
    return create_db_engine(get_settings().database_url)


def _unreachable(error: SQLAlchemyError) -> int:
    # the class, never the message: a driver's message can carry the URL with its password
    print(f"nightdesk: the database (DATABASE_URL) failed: {type(error).__name__}",
          file=sys.stderr)
    return 1


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """`nightdesk db upgrade [REVISION]`."""
    try:
        result = upgrade(_engine(), args.revision)
    except CommandError as error:
        print(f"nightdesk: {error}", file=sys.stderr)
        return 2
    except SQLAlchemyError as error:
        return _unreachable(error)
    print(result.describe())
    return 0


def cmd_db_current(_: argparse.Namespace) -> int:
    """`nightdesk db current`: exits 0 when the database is at the newest revision, else 3."""
    try:
        state = current(_engine())
    except SQLAlchemyError as error:
        return _unreachable(error)
    print(f"Database schema: {state.describe()}")
    return 0 if state.is_current else 3


def cmd_db_history(_: argparse.Namespace) -> int:
    """`nightdesk db history`: the revisions, the database's marked when it can be read."""
    try:
        at = current(_engine()).revision
    except SQLAlchemyError:
        at = None  # the list is worth having without a database
    revisions = history()
    for revision in revisions:
        marks = []
        if revision is revisions[-1]:
            marks.append("head")
        if revision.id == at:
            marks.append("current")
        suffix = f" ({', '.join(marks)})" if marks else ""
        print(f"{revision.id}{suffix}  {revision.summary}")
    return 0


def add_db_parser(sub: argparse._SubParsersAction) -> None:
    """Adds `db` with its sub-commands to the `nightdesk` parser."""
    db = sub.add_parser("db", help="the database's schema: upgrade, current, history")
    db_sub = db.add_subparsers(dest="db_command", required=True,
                               metavar="upgrade|current|history")
    up = db_sub.add_parser("upgrade", help="apply the migrations (to the newest by default)")
    up.add_argument("revision", nargs="?", default="head",
                    help="the revision to reach (default: head, the newest)")
    up.set_defaults(func=cmd_db_upgrade)
    db_sub.add_parser("current", help="the database's revision").set_defaults(
        func=cmd_db_current)
    db_sub.add_parser("history", help="every revision, oldest first").set_defaults(
        func=cmd_db_history)


def upgrade_before_start(database_url: str) -> bool:
    """`nightdesk up`'s first step: the schema at the newest revision, said in one line.

    False (with the reason on stderr) when it cannot be done; nothing should start then.
    """
    try:
        result = upgrade(create_db_engine(database_url))
    except SQLAlchemyError as error:
        _unreachable(error)
        return False
    print(result.describe())
    return True
